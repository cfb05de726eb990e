"""Models of the collections desk, one module per part (each part's helper owns its module)."""

from rak_collections.models.cash import CashClosing, CashClosingLine, CounterPost
from rak_collections.models.cutoffs import CutoffOrder, ReconnectionOrder
from rak_collections.models.plans import Instalment, PaymentPlan, PaymentPlanBill
from rak_collections.models.reminders import DunningCase, ReminderEvent, ReminderPlan, ReminderStep

__all__ = [
    "CashClosing",
    "CashClosingLine",
    "CounterPost",
    "CutoffOrder",
    "DunningCase",
    "Instalment",
    "PaymentPlan",
    "PaymentPlanBill",
    "ReconnectionOrder",
    "ReminderEvent",
    "ReminderPlan",
    "ReminderStep",
]
