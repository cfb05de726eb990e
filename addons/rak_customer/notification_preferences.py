"""« Mes notifications » (issue 13): the customer's preferences as one matrix category × channel,
the cell « Coupures et travaux × SMS » being the customer's own flag ``Customer.sms_service_notices``
(issue 11: recorded at the counter too, read set-based by the outage notices, in the customer's
history) and the others the account's rows (``rak_base.notification_preferences``). Used by the
portal's page and the API, so both show and change the same thing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from rak_base.notification_kinds import CUSTOMER_FLAG_CELL, CategorySpec, Channel, can_turn_off, customer_categories
from rak_base.notification_preferences import cell_check, notification_preferences_of, notification_preferences_set
from rak_customer.models import Customer
from rak_customer.services import customer_notice_preferences_set


@dataclass(frozen=True)
class PreferenceCell:
    channel: str
    label: str
    enabled: bool
    locked: bool  # « toujours envoyé »


@dataclass(frozen=True)
class PreferenceRow:
    spec: CategorySpec
    cells: list[PreferenceCell]

    @property
    def code(self) -> str:
        return self.spec.code

    @property
    def label(self) -> str:
        return self.spec.label

    @property
    def always(self) -> bool:
        return self.spec.always


def customer_notification_matrix(*, user, customer: Customer) -> list[PreferenceRow]:
    """The rows of « Mes notifications », in the page's order (one query, plus the customer)."""
    values = notification_preferences_of(user)
    values[CUSTOMER_FLAG_CELL] = bool(customer.sms_service_notices)
    labels = dict(Channel.choices)
    return [
        PreferenceRow(
            spec=spec,
            cells=[
                PreferenceCell(
                    channel=channel,
                    label=str(labels[channel]),
                    enabled=values[(spec.code, channel)],
                    locked=not can_turn_off(spec.code, channel),
                )
                for channel in Channel.values
            ],
        )
        for spec in customer_categories()
    ]


@transaction.atomic
def customer_notification_preferences_set(
    *, user, customer: Customer, choices: Mapping[tuple[str, str], bool], now: datetime
) -> int:
    """Store the choices (cells not given unchanged); « Coupures et travaux × SMS » goes to the
    customer's flag (with its history row). Raises NotificationPreferenceLocked / Unknown."""
    for (category, channel), enabled in choices.items():
        cell_check(category, channel, bool(enabled))
    changed = notification_preferences_set(user=user, choices=choices, now=now)
    if CUSTOMER_FLAG_CELL in choices:
        wanted = bool(choices[CUSTOMER_FLAG_CELL])
        if wanted != customer.sms_service_notices:
            customer_notice_preferences_set(customer_id=customer.pk, sms_service_notices=wanted, user=user, now=now)
            customer.sms_service_notices = wanted
            changed += 1
    return changed
