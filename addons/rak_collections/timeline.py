"""The collections desk in the customer 360's timeline (rak_customer.timeline): payment plans,
reminder steps done (SMS, e-mail, formal notice, cut-off), cut-off and reconnection orders. One
query per kind and page on an index that starts with the customer (the customer foreign keys'
indexes; reminderevent_customer_recent). ``register`` is called by rak_collections.registry."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from rak_base.hooks import hook_subscribe
from rak_base.money import money_format
from rak_collections.models import CutoffOrder, DunningCase, PaymentPlan, ReconnectionOrder, ReminderEvent
from rak_customer.timeline import (
    HOOK_CUSTOMER_TIMELINE,
    TimelineEvent,
    TimelineKind,
    TimelinePart,
    admin_url,
    page_of,
    wanted,
)

PLAN, REMINDER, CUTOFF, RECONNECTION = "plan", "reminder", "cutoff", "reconnection"
PLAN_VARIANTS = {"ACTIVE": "info", "COMPLETED": "success", "BROKEN": "danger", "CANCELLED": ""}
REMINDER_VARIANTS = {"SENT": "info", "NO_CONTACT": "warning", "ORDER_ISSUED": "danger", "SUSPENDED": "", "SKIPPED": ""}
CUTOFF_VARIANTS = {"ISSUED": "warning", "EXECUTED": "danger", "CANCELLED": "", "NOT_DONE": ""}


def _plans(customer_id, before, limit) -> list[TimelineEvent]:
    rows = page_of(
        PaymentPlan.objects.filter(customer_id=customer_id),
        field_name="created_at",
        kind=PLAN,
        before=before,
        limit=limit,
    )
    return [
        TimelineEvent(
            at=plan.created_at,
            kind=PLAN,
            pk=plan.pk,
            label=_("Échéancier %(number)s — %(count)d échéances dès le %(first)s")
            % {
                "number": plan.number,
                "count": plan.instalments_count,
                "first": plan.first_due_date.strftime("%d/%m/%Y"),
            },
            amount=plan.total_amount,
            status=plan.get_status_display(),
            variant=PLAN_VARIANTS.get(plan.status, ""),
            url=admin_url(PaymentPlan, plan.pk),
        )
        for plan in rows
    ]


def _reminders(customer_id, before, limit) -> list[TimelineEvent]:
    rows = page_of(
        ReminderEvent.objects.filter(customer_id=customer_id),
        field_name="at",
        kind=REMINDER,
        before=before,
        limit=limit,
    )
    return [
        TimelineEvent(
            at=event.at,
            kind=REMINDER,
            pk=event.pk,
            label=_("Relance : %(action)s") % {"action": event.get_action_display()}
            + (f" — {event.detail}" if event.detail else ""),
            amount=event.amount_due,
            status=event.get_outcome_display(),
            variant=REMINDER_VARIANTS.get(event.outcome, ""),
            url=admin_url(DunningCase, event.case_id),
        )
        for event in rows
    ]


def _cutoffs(customer_id, before, limit) -> list[TimelineEvent]:
    rows = page_of(
        CutoffOrder.objects.filter(customer_id=customer_id).select_related("dossier"),
        field_name="issued_at",
        kind=CUTOFF,
        before=before,
        limit=limit,
    )
    return [
        TimelineEvent(
            at=order.issued_at,
            kind=CUTOFF,
            pk=order.pk,
            label=_("Ordre de coupure %(number)s — dossier %(dossier)s (échu : %(due)s)")
            % {"number": order.number, "dossier": order.dossier.number, "due": money_format(order.amount_due)},
            amount=order.amount_due,
            status=order.get_status_display(),
            variant=CUTOFF_VARIANTS.get(order.status, ""),
            url=admin_url(CutoffOrder, order.pk),
        )
        for order in rows
    ]


def _reconnections(customer_id, before, limit) -> list[TimelineEvent]:
    rows = page_of(
        ReconnectionOrder.objects.filter(customer_id=customer_id).select_related("dossier"),
        field_name="issued_at",
        kind=RECONNECTION,
        before=before,
        limit=limit,
    )
    return [
        TimelineEvent(
            at=order.issued_at,
            kind=RECONNECTION,
            pk=order.pk,
            label=_("Ordre de rétablissement %(number)s — dossier %(dossier)s")
            % {"number": order.number, "dossier": order.dossier.number},
            status=order.get_status_display(),
            variant="success" if order.status == ReconnectionOrder.Status.EXECUTED else "warning",
            url=admin_url(ReconnectionOrder, order.pk),
        )
        for order in rows
    ]


SOURCES = (
    (PLAN, _("Échéanciers"), "rak_collections.view_paymentplan", _plans),
    (REMINDER, _("Relances"), "rak_collections.view_reminderevent", _reminders),
    (CUTOFF, _("Ordres de coupure"), "rak_collections.view_cutofforder", _cutoffs),
    (RECONNECTION, _("Ordres de rétablissement"), "rak_collections.view_reconnectionorder", _reconnections),
)


def collections_part(*, user, customer_id: int, before, limit: int, kinds) -> TimelinePart:
    part = TimelinePart()
    for code, label, permission, source in SOURCES:
        if user.has_perm(permission):
            part.kinds.append(TimelineKind(code, label))
            if wanted(kinds, code):
                part.events.extend(source(customer_id, before, limit))
    return part


def register() -> None:
    hook_subscribe(HOOK_CUSTOMER_TIMELINE, collections_part)
