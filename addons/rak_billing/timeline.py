"""rak_billing's answers to the customer 360 (rak_customer.timeline): bills, payments, payment
reversals, refunds and meter readings as timeline events, and the balance above the timeline.

One query per kind and page, each on an index that starts with the customer (bill_customer_recent,
payment_customer_recent, refund_customer_recent; reversals through the payment's, readings through
the dossier's reading_dossier_recent). Subscribed in ``RakBillingConfig.ready`` (``register``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rak_base.hooks import hook_subscribe
from rak_base.money import money_format
from rak_billing.ledger import customer_balance
from rak_billing.models import Bill, MeterReading, Payment, PaymentReversal, Refund
from rak_billing.selectors import unpaid_bills
from rak_customer.timeline import (
    HOOK_CUSTOMER_SUMMARY,
    HOOK_CUSTOMER_TIMELINE,
    TimelineEvent,
    TimelineKind,
    TimelinePart,
    admin_url,
    day_start,
    page_of,
    wanted,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

BILL, PAYMENT, REVERSAL, REFUND, READING = "bill", "payment", "payment_reversal", "refund", "reading"


def _bills(customer_id, before, limit) -> list[TimelineEvent]:
    rows = page_of(
        Bill.objects.filter(customer_id=customer_id).only(
            "number", "kind", "issue_date", "due_date", "total_ttc", "settled_at", "customer_id"
        ),
        field_name="issue_date",
        kind=BILL,
        before=before,
        limit=limit,
        dates=True,
    )
    events = []
    for bill in rows:
        status: StrOrPromise  # made a str below
        if bill.kind == Bill.Kind.CREDIT_NOTE:
            status, variant = _("Avoir"), "info"
        elif bill.settled_at is not None:
            status, variant = _("Soldée"), "success"
        else:
            status, variant = _("À payer avant le %(date)s") % {"date": bill.due_date.strftime("%d/%m/%Y")}, "warning"
        events.append(
            TimelineEvent(
                at=day_start(bill.issue_date),
                kind=BILL,
                pk=bill.pk,
                label=f"{bill.get_kind_display()} {bill.number}",
                amount=-bill.total_ttc if bill.kind == Bill.Kind.CREDIT_NOTE else bill.total_ttc,
                status=str(status),
                variant=variant,
                url=admin_url(Bill, bill.pk),
                all_day=True,
            )
        )
    return events


def _payments(customer_id, before, limit) -> list[TimelineEvent]:
    rows = page_of(
        Payment.objects.filter(customer_id=customer_id).annotate(reversed_at=F("reversal__reversed_at")),
        field_name="paid_at",
        kind=PAYMENT,
        before=before,
        limit=limit,
    )
    return [
        TimelineEvent(
            at=payment.paid_at,
            kind=PAYMENT,
            pk=payment.pk,
            label=_("Paiement — %(method)s") % {"method": payment.get_method_display()}
            + (f" ({payment.reference})" if payment.reference else ""),
            amount=payment.amount,
            status=str(_("Annulé") if payment.reversed_at else _("Encaissé")),
            variant="danger" if payment.reversed_at else "success",
            url=admin_url(Payment, payment.pk),
        )
        for payment in rows
    ]


def _reversals(customer_id, before, limit) -> list[TimelineEvent]:
    rows = page_of(
        PaymentReversal.objects.filter(payment__customer_id=customer_id).select_related("payment"),
        field_name="reversed_at",
        kind=REVERSAL,
        before=before,
        limit=limit,
    )
    return [
        TimelineEvent(
            at=reversal.reversed_at,
            kind=REVERSAL,
            pk=reversal.pk,
            label=_("Annulation du paiement du %(date)s — %(reason)s")
            % {"date": reversal.payment.paid_at.strftime("%d/%m/%Y"), "reason": reversal.reason[:80]},
            amount=reversal.payment.amount,
            status=str(_("Annulé")),
            variant="danger",
            url=admin_url(PaymentReversal, reversal.pk),
        )
        for reversal in rows
    ]


def _refunds(customer_id, before, limit) -> list[TimelineEvent]:
    rows = page_of(
        Refund.objects.filter(customer_id=customer_id).annotate(cancelled_at=F("cancellation__cancelled_at")),
        field_name="paid_at",
        kind=REFUND,
        before=before,
        limit=limit,
    )
    return [
        TimelineEvent(
            at=refund.paid_at,
            kind=REFUND,
            pk=refund.pk,
            label=_("Remboursement — %(method)s") % {"method": refund.get_method_display()},
            amount=refund.amount,
            status=str(_("Annulé") if refund.cancelled_at else _("Versé")),
            variant="danger" if refund.cancelled_at else "success",
            url=admin_url(Refund, refund.pk),
        )
        for refund in rows
    ]


def _readings(customer_id, before, limit) -> list[TimelineEvent]:
    rows = page_of(
        MeterReading.objects.filter(dossier__customer_id=customer_id).select_related("dossier"),
        field_name="reading_date",
        kind=READING,
        before=before,
        limit=limit,
        dates=True,
    )
    variants = {"ACCEPTED": "success", "HELD": "warning", "CONTESTED": "warning", "REJECTED": "danger"}
    return [
        TimelineEvent(
            at=day_start(reading.reading_date),
            kind=READING,
            pk=reading.pk,
            label=_("Relevé %(source)s — dossier %(dossier)s : index %(index)s")
            % {"source": reading.get_source_display(), "dossier": reading.dossier.number, "index": reading.index},
            status=reading.get_status_display(),
            variant=variants.get(reading.status, ""),
            url=admin_url(MeterReading, reading.pk),
            all_day=True,
        )
        for reading in rows
    ]


SOURCES = (
    (BILL, _("Factures"), "rak_billing.view_bill", _bills),
    (PAYMENT, _("Paiements"), "rak_billing.view_payment", _payments),
    (REVERSAL, _("Annulations de paiement"), "rak_billing.view_paymentreversal", _reversals),
    (REFUND, _("Remboursements"), "rak_billing.view_refund", _refunds),
    (READING, _("Relevés d'index"), "rak_billing.view_meterreading", _readings),
)


def billing_part(*, user, customer_id: int, before, limit: int, kinds) -> TimelinePart:
    part = TimelinePart()
    for code, label, permission, source in SOURCES:
        if not user.has_perm(permission):
            continue
        part.kinds.append(TimelineKind(code, label))
        if wanted(kinds, code):
            part.events.extend(source(customer_id, before, limit))
    return part


def billing_summary(*, user, customer_id: int, now) -> list[dict] | None:
    """The balance (the ledger's sum) and what is overdue (open amount of the bills past their due
    date): two queries."""
    if not user.has_perm("rak_billing.view_bill"):
        return None
    balance = customer_balance(customer_id)
    # « exigible » as the portal's « Mes impayés » counts it: open amount of the bills past due
    overdue = unpaid_bills(customer_id, as_of=timezone.localdate(now)).exigible_total
    return [
        {
            "key": "balance",
            "label": _("Solde du compte"),
            "value": money_format(balance),
            "variant": "danger" if balance > 0 else "success",
        },
        {
            "key": "overdue",
            "label": _("Dont échu impayé"),
            "value": money_format(overdue),
            "variant": "danger" if overdue > 0 else "success",
        },
    ]


def register() -> None:
    hook_subscribe(HOOK_CUSTOMER_TIMELINE, billing_part)
    hook_subscribe(HOOK_CUSTOMER_SUMMARY, billing_summary)
