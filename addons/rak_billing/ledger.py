"""The customer ledger: bills are debits, payments and credit notes credits; the balance is
``SUM(LedgerEntry.amount)``, never a stored total.

Services
- ``bill_issue_other``: every invoice that is not a consumption bill (frais de coupure, fraude,
  frais d'abonnement, travaux/devis, avance) — numbered, lines, ledger debit, credit applied.
- ``credit_note_issue``: an « avoir » on a bill (all or part of it): a CREDIT_NOTE bill, a ledger
  credit, allocated to the credited bill first.
- ``payment_record_staff``: a payment entered by staff (agency counter): ``payment_record`` within
  bounds (``payment_bounds_check``: positive, not in the future, at most the ceiling
  ``settings.PAYMENT_MAX_AMOUNT`` — rak.conf ``[payments] max_amount`` —, not older than five
  years (``PAYMENT_MAX_AGE``), above the customer's open
  balance only with a reason, stored on the payment). Network files (``payments_record_bulk``)
  obey the same bounds row by row.
- ``payment_reverse``: undo a payment (a cheque returned unpaid, the wrong customer): reason, who,
  when; a REVERSAL ledger entry (a debit, never a delete), negative allocations that re-open the
  bills it had settled (an online-service fee invoice it paid is cancelled by a credit note: the
  fee went back to the card too), the receipt revoked; once per payment.
- ``payment_record``: money received (agency counter, CMI, direct debit...). Idempotent on
  ``external_id``; allocated to the open bills oldest due date first; a bill whose outstanding
  reaches zero gets ``settled_at``. What is left stays as the customer's credit and is applied to
  the next bills (``ledger_apply_credit``).

Numbers: one gap-free sequence per year (``F2026-00000001``), shared by every kind of bill,
reserved inside the transaction that writes the bill (``rak_base.sequences.sequence_next``), so
a rolled-back bill leaves no hole. Billing runs reserve a block per chunk.

Hook: every transaction step that sets ``settled_at`` on one or more bills (payment, network
import, CMI, credit applied, credit note) fires ``HOOK_BILLS_SETTLED`` once, in the same
transaction, with ``bill_ids=[...]`` (the bills newly settled), ``customer_ids=[...]`` (their
customers) and ``customer_id=`` (the customer; None when one step settled bills of several
customers: a network payments file fires once per 5,000 rows, not once per customer) — higher
addons (requests whose fees are paid...) subscribe in ``AppConfig.ready()``.

« Exigible »: a bill not settled whose due date has passed — computed from ``as_of``
(``bill_is_exigible``, ``bills_exigible``), never stored.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, TypeAlias, TypedDict, cast

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import DecimalField, F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rak_base.documents import documents_revoke
from rak_base.errors import RakError
from rak_base.hooks import hook_fire
from rak_base.money import money_format, round_money
from rak_base.prepared import prepared_cursor
from rak_base.sequences import sequence_next
from rak_billing.allocation import OpenBill, allocate
from rak_billing.models import (
    Bill,
    BillLine,
    LedgerEntry,
    Payment,
    PaymentAllocation,
    PaymentReversal,
    RefundAllocation,
)
from rak_billing.tariffs import vat_rate_other
from rak_customer.models import Customer, Dossier

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    class _Paid(TypedDict):
        paid: Decimal

    #: a bill annotated by ``bills_with_outstanding`` with ``paid`` (allocated so far)
    BillWithPaid: TypeAlias = WithAnnotations[Bill, _Paid]

ZERO = Decimal("0.00")
DEFAULT_PAYMENT_MAX_AMOUNT = Decimal("1000000.00")
#: a staff-entered payment (counter, network file) dated earlier than this is a typing error
PAYMENT_MAX_AGE = datetime.timedelta(days=5 * 365 + 1)
#: fired in the transaction that settles bills: ``hook_fire(HOOK_BILLS_SETTLED, bill_ids=[...], customer_id=...)``
HOOK_BILLS_SETTLED = "billing.bills_settled"
#: fired in the transaction of a payment reversal, for the bills it re-opened (still open after the
#: customer's other credit was applied): ``hook_fire(HOOK_BILLS_REOPENED, bill_ids=[...],
#: customer_id=..., reason=..., at=...)`` — what moved on because they were paid must stop
HOOK_BILLS_REOPENED = "billing.bills_reopened"
DEFAULT_DUE_DAYS = 15
OTHER_KINDS = (
    Bill.Kind.CUT_FEE,
    Bill.Kind.FRAUD,
    Bill.Kind.SUBSCRIPTION,
    Bill.Kind.WORKS,
    Bill.Kind.ADVANCE,
)
#: what ``bill_issue_other`` issues: the kinds above (staff's « Émettre une facture ») and the
#: instalments of a payment plan (rak_collections.plans, no VAT: the debt was taxed already)
ISSUED_OTHER_KINDS = (*OTHER_KINDS, Bill.Kind.INSTALMENT)


class UnableToIssueBill(RakError):
    default_message = gettext_lazy("La facture n'a pas pu être émise.")


class CreditNoteRefused(RakError):
    default_message = gettext_lazy("L'avoir ne peut pas être émis.")


class PaymentRefused(RakError):
    default_message = gettext_lazy("Le paiement ne peut pas être enregistré.")


class ReversalRefused(RakError):
    default_message = gettext_lazy("Le paiement ne peut pas être annulé.")


# --- numbers -------------------------------------------------------------------------------------


def bill_sequence_name(year: int) -> str:
    return f"bill-{year}"


def bill_number(year: int, value: int) -> str:
    """``F2026-00000001``: the year of issue and the rank in that year's sequence."""
    return f"F{year}-{value:08d}"


def bill_numbers_reserve(*, year: int, count: int) -> list[str]:
    """Reserve ``count`` consecutive numbers of ``year`` in the caller's transaction."""
    if count <= 0:
        return []
    first = sequence_next(name=bill_sequence_name(year), count=count)
    return [bill_number(year, first + i) for i in range(count)]


# --- reads ----------------------------------------------------------------------------------------


def customer_balance(customer: Customer | int) -> Decimal:
    """What the customer owes (positive) or has in credit (negative): the sum of the ledger."""
    customer_id = customer if isinstance(customer, int) else customer.pk
    total = LedgerEntry.objects.filter(customer_id=customer_id).aggregate(total=Sum("amount"))["total"]
    return round_money(total) if total is not None else ZERO


def _sum_per_source(model, field: str):
    """The sum of ``model.amount`` per payment / credit note (``field``), 0 when none, as a subquery."""
    return Coalesce(
        Subquery(
            model.objects.filter(**{field: OuterRef("pk")})
            .order_by()
            .values(field)
            .annotate(total=Sum("amount"))
            .values("total")
        ),
        Value(ZERO),
        output_field=DecimalField(max_digits=14, decimal_places=2),
    )


def _allocated_subquery(field: str):
    """What each payment / credit note settled on bills (reversals' negative rows included)."""
    return _sum_per_source(PaymentAllocation, field)


def _refunded_subquery(field: str):
    """What refunds paid out of each payment / credit note (cancellations' negative rows included)."""
    return _sum_per_source(RefundAllocation, field)


def _used_subquery(field: str):
    """What a payment / credit note no longer holds as credit: allocated to bills or refunded."""
    return _allocated_subquery(field) + _refunded_subquery(field)


def bills_with_outstanding(queryset: QuerySet[Bill] | None = None) -> QuerySet[BillWithPaid]:
    """Bills annotated with ``paid`` (allocated so far) — ``outstanding = total_ttc - paid``."""
    queryset = Bill.objects.all() if queryset is None else queryset
    return queryset.annotate(paid=_allocated_subquery("bill"))


def bill_outstanding(bill: Bill) -> Decimal:
    if bill.kind == Bill.Kind.CREDIT_NOTE:
        return ZERO
    paid = bill.allocations.aggregate(total=Sum("amount"))["total"] or ZERO
    return round_money(bill.total_ttc - paid)


def bills_open(customer: Customer | int) -> QuerySet[Bill]:
    """The customer's bills not yet settled (credit notes excluded), oldest due date first."""
    customer_id = customer if isinstance(customer, int) else customer.pk
    return (
        Bill.objects.filter(customer_id=customer_id, settled_at__isnull=True)
        .exclude(kind=Bill.Kind.CREDIT_NOTE)
        .order_by("due_date", "issue_date", "id")
    )


def bill_is_exigible(bill: Bill, *, as_of: datetime.date) -> bool:
    """« Exigible »: not settled and its due date is past."""
    return bill.kind != Bill.Kind.CREDIT_NOTE and bill.settled_at is None and as_of > bill.due_date


def bills_exigible(queryset: QuerySet[Bill], *, as_of: datetime.date) -> QuerySet[Bill]:
    return queryset.filter(settled_at__isnull=True, due_date__lt=as_of).exclude(kind=Bill.Kind.CREDIT_NOTE)


# --- allocation -------------------------------------------------------------------------------------


def _local_date(at: datetime.datetime) -> datetime.date:
    return timezone.localdate(at) if timezone.is_aware(at) else at.date()


def _settle(bill_ids: Iterable[int], *, at: datetime.datetime) -> list[int]:
    """Set ``settled_at`` on those of ``bill_ids`` not settled yet; returns the ids newly settled
    (one ``UPDATE … RETURNING``)."""
    bill_ids = list(bill_ids)
    if not bill_ids:
        return []
    with connection.cursor() as cursor:  # values inlined: the partitions are pruned when planned
        cursor.execute(
            "UPDATE rak_billing_bill SET settled_at = %s WHERE id = ANY(%s) AND settled_at IS NULL RETURNING id",
            [at, bill_ids],
        )
        return sorted(pk for (pk,) in cursor.fetchall())


def _announce_settled(*, customer_id: int, bill_ids: Iterable[int]) -> None:
    """One ``HOOK_BILLS_SETTLED`` call for what a transaction step settled (nothing: no call)."""
    bill_ids = sorted(set(bill_ids))
    if bill_ids:
        hook_fire(HOOK_BILLS_SETTLED, bill_ids=bill_ids, customer_id=customer_id, customer_ids=[customer_id])


def _open_bill(bill: BillWithPaid) -> OpenBill:
    """``bill`` annotated with ``paid`` (``bills_with_outstanding``) as the allocation rule sees it."""
    return OpenBill(bill.pk, round_money(bill.total_ttc - bill.paid), bill.due_date, bill.issue_date)


#: The customer's open bills (``bills_open``: not settled, credit notes aside) as the allocation rule
#: sees them — what is owed on each (``bills_with_outstanding``) — locked, oldest due date first: one
#: prepared statement (``rak_base.prepared``: the customer's bills span every partition).
_OPEN_BILLS_SQL = """
SELECT b.id,
       b.total_ttc - COALESCE((SELECT SUM(a.amount) FROM rak_billing_paymentallocation a WHERE a.bill_id = b.id), 0),
       b.due_date, b.issue_date
FROM rak_billing_bill b
WHERE b.customer_id = %(customer)s AND b.settled_at IS NULL AND b.kind <> 'CREDIT_NOTE'{named}
ORDER BY b.due_date, b.issue_date, b.id
FOR UPDATE OF b
"""
#: the same, among the ``named`` bills only
_OPEN_BILLS_NAMED_SQL = _OPEN_BILLS_SQL.format(named=" AND b.id = ANY(%(named)s)")
_OPEN_BILLS_SQL = _OPEN_BILLS_SQL.format(named="")


def _allocate(
    *,
    customer_id: int,
    amount: Decimal,
    at: datetime.datetime,
    payment=None,
    credit_note=None,
    named: Iterable[int] = (),
    only_named: bool = False,
) -> tuple[Decimal, list[int]]:
    """Spread ``amount`` over the customer's open bills with the allocation rule
    (``rak_billing.allocation.allocate``: the ``named`` bills first, then the oldest due date
    first; ``only_named``: the named bills and no other); settle the bills paid in full. Returns
    what is left and the ids of the bills newly settled (the caller announces them). The caller
    holds the customer's row lock."""
    named = list(named)
    with prepared_cursor() as cursor:
        if only_named:
            cursor.execute(_OPEN_BILLS_NAMED_SQL, {"customer": customer_id, "named": named})
        else:
            cursor.execute(_OPEN_BILLS_SQL, {"customer": customer_id})
        bills = [OpenBill(pk, round_money(owed), due_date, issue_date) for pk, owed, due_date, issue_date in cursor]
    plan = allocate(amount, bills, named)
    PaymentAllocation.objects.bulk_create(
        PaymentAllocation(bill_id=a.bill_id, payment=payment, credit_note=credit_note, amount=a.amount)
        for a in plan.allocations
    )
    return plan.remaining, _settle(plan.settled, at=at)


#: What the customer still holds as credit: payments not reversed and credit notes, each with what
#: is left on it (its amount minus what was allocated to bills and refunded), the credit notes first
#: (issue date), then the payments (payment date). One prepared statement (``rak_base.prepared``):
#: the credit notes are found in the partitioned bill table by customer, which PostgreSQL would
#: otherwise plan partition by partition on every payment (2–4 ms of its CPU for a 0.1 ms query).
_UNALLOCATED_SQL = """
SELECT source, id, rest FROM (
    SELECT 0 AS source, b.id, b.total_ttc
        - COALESCE((SELECT SUM(a.amount) FROM rak_billing_paymentallocation a WHERE a.credit_note_id = b.id), 0)
        - COALESCE((SELECT SUM(r.amount) FROM rak_billing_refundallocation r WHERE r.credit_note_id = b.id), 0)
        AS rest
    FROM rak_billing_bill b
    WHERE b.customer_id = %(customer)s AND b.kind = 'CREDIT_NOTE'
    UNION ALL
    SELECT 1, p.id, p.amount
        - COALESCE((SELECT SUM(a.amount) FROM rak_billing_paymentallocation a WHERE a.payment_id = p.id), 0)
        - COALESCE((SELECT SUM(r.amount) FROM rak_billing_refundallocation r WHERE r.payment_id = p.id), 0)
    FROM rak_billing_payment p
    WHERE p.customer_id = %(customer)s
      AND NOT EXISTS (SELECT 1 FROM rak_billing_paymentreversal v WHERE v.payment_id = p.id)
) AS credit
WHERE rest > 0
"""


def _unallocated(customer_id: int) -> tuple[list[tuple[Payment, Decimal]], list[tuple[Bill, Decimal]]]:
    """The customer's payments (by payment date) and credit notes (by issue date) with what is left
    on each, those with something left only. One statement when there is none (the usual case);
    the payments and credit notes found are then read as models."""
    with prepared_cursor() as cursor:
        cursor.execute(_UNALLOCATED_SQL, {"customer": customer_id})
        rows = cursor.fetchall()
    if not rows:
        return [], []
    rests = {(source, pk): rest for source, pk, rest in rows}
    payments: list[tuple[Payment, Decimal]] = [
        (p, round_money(rests[1, p.pk]))
        for p in Payment.objects.filter(pk__in=[pk for source, pk in rests if source == 1]).order_by("paid_at", "id")
    ]
    credits: list[tuple[Bill, Decimal]] = [
        (c, round_money(rests[0, c.pk]))
        for c in Bill.objects.filter(pk__in=[pk for source, pk in rests if source == 0]).order_by("issue_date", "id")
    ]
    return payments, credits


_LOCK_CUSTOMER_SQL = "SELECT id FROM rak_customer_customer WHERE id = %s FOR UPDATE"


def _lock_customer(customer_id: int) -> None:
    """The customer's row lock, taken before every ledger write (one prepared statement)."""
    with prepared_cursor() as cursor:
        cursor.execute(_LOCK_CUSTOMER_SQL, [customer_id])


@transaction.atomic
def ledger_apply_credit(*, customer: Customer | int, at: datetime.datetime) -> Decimal:
    """Apply what the customer has in credit (payment remainders, credit-note remainders) to
    their open bills. Returns the credit still unused."""
    customer_id = customer if isinstance(customer, int) else customer.pk
    left, settled = _apply_credit(customer_id, at=at)
    _announce_settled(customer_id=customer_id, bill_ids=settled)
    return left


def _apply_credit(customer_id: int, *, at: datetime.datetime, locked: bool = False) -> tuple[Decimal, list[int]]:
    """Apply the customer's credit to their open bills. ``locked``: the caller took the customer's
    row lock in this transaction (not taken again)."""
    if not locked:
        _lock_customer(customer_id)
    left = ZERO
    settled: list[int] = []
    payments, credits = _unallocated(customer_id)
    for credit_note, amount in credits:
        rest, newly = _allocate(customer_id=customer_id, amount=amount, at=at, credit_note=credit_note)
        left, settled = left + rest, settled + newly
    for payment, amount in payments:
        rest, newly = _allocate(customer_id=customer_id, amount=amount, at=at, payment=payment)
        left, settled = left + rest, settled + newly
    return left, settled


def customers_with_credit(customer_ids: Iterable[int] | QuerySet | None = None) -> list[int]:
    """Customers (among ``customer_ids``) holding an unallocated payment or credit-note amount."""
    payments = (
        Payment.objects.filter(reversal__isnull=True)
        .annotate(used=_used_subquery("payment"))
        .filter(amount__gt=F("used"))
    )
    credits = Bill.objects.filter(kind=Bill.Kind.CREDIT_NOTE).annotate(used=_used_subquery("credit_note"))
    credits = credits.filter(total_ttc__gt=F("used"))
    if customer_ids is not None:  # a list, or a queryset of ids used as a subquery
        payments = payments.filter(customer_id__in=customer_ids)
        credits = credits.filter(customer_id__in=customer_ids)
    found = set(payments.values_list("customer_id", flat=True)) | set(credits.values_list("customer_id", flat=True))
    return sorted(found)


# --- other invoices ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OtherLine:
    """A line of a non-consumption invoice, prices excluding tax. ``vat_rate`` None: the rate of
    the VAT table (``FRAIS``) in force on the invoice's issue date."""

    label: str
    unit_price: Decimal
    quantity: Decimal = Decimal("1")
    vat_rate: Decimal | None = None


def _ledger_label(bill: Bill) -> str:
    label = f"{bill.get_kind_display()} {bill.number}"
    if bill.period_start:
        label += f" ({bill.period_start:%m/%Y})"
    return label[:160]


@transaction.atomic
def bill_issue_other(
    *,
    kind: str,
    customer: Customer,
    lines: list[OtherLine],
    issue_date: datetime.date,
    due_date: datetime.date | None = None,
    dossier: Dossier | None = None,
    now: datetime.datetime,
) -> Bill:
    """Issue a non-consumption invoice (frais de coupure, fraude, abonnement, travaux/devis,
    avance): numbered, lines with VAT, ledger debit; the customer's credit is applied to it."""
    if kind not in ISSUED_OTHER_KINDS:
        raise UnableToIssueBill(_("Ce type de facture ne s'émet pas ici (consommation : campagne de facturation)."))
    if not lines:
        raise UnableToIssueBill(_("Une facture doit comporter au moins une ligne."))
    if dossier is not None and dossier.customer_id != customer.pk:
        raise UnableToIssueBill(_("Ce dossier n'appartient pas à ce client."))
    due_date = due_date or issue_date + datetime.timedelta(days=DEFAULT_DUE_DAYS)
    if due_date < issue_date:
        raise UnableToIssueBill(_("La date d'échéance ne peut pas précéder la date d'émission."))
    rows = []
    standard = None
    for position, line in enumerate(lines, start=1):
        if line.unit_price < 0 or line.quantity <= 0:
            raise UnableToIssueBill(_("Montants et quantités doivent être positifs (un avoir s'émet à part)."))
        vat_rate = line.vat_rate
        if vat_rate is None:
            standard = vat_rate_other(on_date=issue_date) if standard is None else standard
            vat_rate = standard
        ht = round_money(line.quantity * line.unit_price)
        tva = round_money(ht * vat_rate)
        rows.append((position, line, vat_rate, ht, tva, ht + tva))
    _lock_customer(customer.pk)
    (number,) = bill_numbers_reserve(year=issue_date.year, count=1)
    bill = Bill.objects.create(
        number=number,
        kind=kind,
        customer=customer,
        dossier=dossier,
        issue_date=issue_date,
        due_date=due_date,
        total_ht=sum((r[3] for r in rows), ZERO),
        total_tva=sum((r[4] for r in rows), ZERO),
        total_ttc=sum((r[5] for r in rows), ZERO),
    )
    BillLine.objects.bulk_create(
        BillLine(
            bill=bill,
            position=position,
            kind=BillLine.Kind.OTHER,
            label=line.label[:160],
            quantity=line.quantity,
            unit_price=line.unit_price,
            amount_ht=ht,
            vat_rate=vat_rate,
            amount_tva=tva,
            amount_ttc=ttc,
        )
        for position, line, vat_rate, ht, tva, ttc in rows
    )
    LedgerEntry.objects.create(
        customer=customer,
        dossier=dossier,
        kind=LedgerEntry.Kind.BILL,
        entry_date=issue_date,
        amount=bill.total_ttc,
        bill=bill,
        label=_ledger_label(bill),
    )
    ledger_apply_credit(customer=customer.pk, at=now)
    bill.refresh_from_db(fields=["settled_at"])
    return bill


# --- credit notes ------------------------------------------------------------------------------------


@transaction.atomic
def credit_note_issue(
    *,
    bill: Bill,
    reason: str,
    issue_date: datetime.date,
    now: datetime.datetime,
    amount: Decimal | None = None,
) -> Bill:
    """An « avoir » on ``bill`` for ``amount`` TTC (default: what has not been credited yet).
    The credit goes to ``bill`` first, then to the customer's other open bills; what is left is
    the customer's credit."""
    _lock_customer(bill.customer_id)
    bill = Bill.objects.select_for_update().get(pk=bill.pk)
    if bill.kind == Bill.Kind.CREDIT_NOTE:
        raise CreditNoteRefused(_("Un avoir ne peut pas porter sur un autre avoir."))
    if not reason.strip():
        raise CreditNoteRefused(_("Indiquez le motif de l'avoir."))
    credited = bill.credit_notes.aggregate(total=Sum("total_ttc"))["total"] or ZERO
    creditable = round_money(bill.total_ttc - credited)
    amount = creditable if amount is None else round_money(amount)
    if amount <= ZERO:
        raise CreditNoteRefused(_("Cette facture a déjà été entièrement créditée."))
    if amount > creditable:
        raise CreditNoteRefused(
            _("L'avoir ne peut pas dépasser %(amount)s (montant restant à créditer).")
            % {"amount": money_format(creditable, plain_space=True)}
        )
    # HT and TVA in the bill's proportions (the last centime goes to the TVA).
    ratio = amount / bill.total_ttc if bill.total_ttc else Decimal("1")
    ht = round_money(bill.total_ht * ratio)
    tva = amount - ht
    (number,) = bill_numbers_reserve(year=issue_date.year, count=1)
    note = Bill.objects.create(
        number=number,
        kind=Bill.Kind.CREDIT_NOTE,
        customer_id=bill.customer_id,
        dossier_id=bill.dossier_id,
        period_start=bill.period_start,
        period_end=bill.period_end,
        issue_date=issue_date,
        due_date=issue_date,
        total_ht=ht,
        total_tva=tva,
        total_ttc=amount,
        credited_bill=bill,
        settled_at=now,
    )
    BillLine.objects.create(
        bill=note,
        position=1,
        kind=BillLine.Kind.OTHER,
        label=(_("Avoir sur la facture %(number)s — %(reason)s") % {"number": bill.number, "reason": reason.strip()})[
            :160
        ],
        quantity=Decimal("1"),
        unit_price=ht,
        amount_ht=ht,
        vat_rate=(tva / ht).quantize(Decimal("0.0001")) if ht else ZERO,
        amount_tva=tva,
        amount_ttc=amount,
    )
    LedgerEntry.objects.create(
        customer_id=bill.customer_id,
        dossier_id=bill.dossier_id,
        kind=LedgerEntry.Kind.CREDIT,
        entry_date=issue_date,
        amount=-amount,
        bill=note,
        label=(_("Avoir %(note)s sur la facture %(number)s") % {"note": note.number, "number": bill.number})[:160],
    )
    _rest, settled = _allocate(customer_id=bill.customer_id, amount=amount, at=now, credit_note=note, named=[bill.pk])
    _announce_settled(customer_id=bill.customer_id, bill_ids=settled)
    return note


# --- payments -----------------------------------------------------------------------------------------


def _payment_label(payment: Payment) -> str:
    label = f"Paiement — {payment.get_method_display()}"
    if payment.reference:
        label += f" ({payment.reference})"
    return label[:160]


def payment_max_amount() -> Decimal:
    """The ceiling of one payment entered by staff (rak.conf ``[payments] max_amount``)."""
    return Decimal(str(getattr(settings, "PAYMENT_MAX_AMOUNT", DEFAULT_PAYMENT_MAX_AMOUNT)))


def _money_fr(value: Decimal) -> str:
    return money_format(value, plain_space=True)  # staff error messages: as asserted by their tests


def payment_bounds_check(
    *,
    amount: Decimal,
    paid_at: datetime.datetime,
    now: datetime.datetime,
    open_balance: Decimal,
    reason: str = "",
    ceiling: Decimal | None = None,
) -> None:
    """The bounds of a payment entered by staff (counter, network file); raises ``PaymentRefused``
    with the French message to show. ``open_balance``: what the customer owes before it (≤ 0:
    nothing owed)."""
    ceiling = payment_max_amount() if ceiling is None else ceiling
    if amount is None or amount <= ZERO:
        raise PaymentRefused(_("Le montant payé doit être positif."), field="amount")
    if paid_at > now:
        raise PaymentRefused(_("La date du paiement ne peut pas être dans le futur."), field="paid_at")
    if paid_at < now - PAYMENT_MAX_AGE:  # 01/01/0001, 1900, a year typed 2016 for 2026
        raise PaymentRefused(
            _("La date du paiement est trop ancienne (plus de %(years)s ans) : vérifiez la saisie.")
            % {"years": PAYMENT_MAX_AGE.days // 365},
            field="paid_at",
        )
    if amount > ceiling:
        raise PaymentRefused(
            _("Le montant dépasse le plafond d'un paiement (%(ceiling)s) : vérifiez la saisie.")
            % {"ceiling": _money_fr(ceiling)},
            field="amount",
        )
    owed = max(open_balance, ZERO)
    if amount > owed and not reason.strip():
        raise PaymentRefused(
            _(
                "Le montant (%(amount)s) dépasse le solde dû par le client (%(owed)s) : indiquez le motif "
                "(avance, régularisation…) pour l'enregistrer."
            )
            % {"amount": _money_fr(amount), "owed": _money_fr(owed)},
            field="reason",
        )


@transaction.atomic
def payment_record_staff(
    *,
    customer: Customer,
    amount: Decimal,
    method: str,
    paid_at: datetime.datetime,
    now: datetime.datetime,
    received_by,
    reference: str = "",
    reason: str = "",
    bills: list[Bill] | None = None,
) -> Payment:
    """A payment entered by staff at the agency counter: ``payment_record`` within the bounds of
    ``payment_bounds_check`` (checked under the customer's row lock)."""
    _lock_customer(customer.pk)
    payment_bounds_check(
        amount=round_money(amount) if amount is not None else amount,
        paid_at=paid_at,
        now=now,
        open_balance=customer_balance(customer.pk),
        reason=reason,
    )
    return payment_record(
        customer=customer,
        amount=amount,
        method=method,
        paid_at=paid_at,
        reference=reference,
        received_by=received_by,
        reason=reason,
        bills=bills,
    )


def _payment_insert(payment: Payment) -> bool:
    """``INSERT … ON CONFLICT (external_id) DO NOTHING RETURNING id``: one statement (no lookup before,
    no savepoint around it) that records ``payment`` (its ``pk`` set) — or nothing, returning False,
    when its external id is already recorded (a replay, or the same id recorded concurrently: the
    unique index decides, whatever the locks)."""
    meta = Payment._meta
    quote = connection.ops.quote_name
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    values = [field.get_db_prep_save(field.pre_save(payment, True), connection) for field in fields]
    # a concrete field always has a column (django-stubs types Field.column as str | None)
    columns = [cast(str, field.column) for field in fields]
    external_id_column = cast(str, meta.get_field("external_id").column)
    pk_column = cast(str, meta.pk.column)
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(column) for column in columns)}) "  # noqa: S608 - names from the model
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT ({quote(external_id_column)}) DO NOTHING RETURNING {quote(pk_column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        return False
    payment.pk = row[0]
    payment._state.adding = False
    payment._state.db = connection.alias
    return True


def payment_record(
    *,
    customer: Customer,
    amount: Decimal,
    method: str,
    paid_at: datetime.datetime,
    reference: str = "",
    external_id: str | None = None,
    received_by=None,
    bills: list[Bill] | None = None,
    reason: str = "",
) -> Payment:
    """Record money received from ``customer`` and settle their bills, oldest due date first —
    or ``bills`` first when the payer chose them (online payment of selected bills, a network
    payment of one bill), then the others. Recording the same ``external_id`` again returns the
    first payment and changes nothing.

    Cost (issue 15, the CMI callback's share): the checks are made before any statement; the
    payment is one ``INSERT … ON CONFLICT DO NOTHING RETURNING`` (no lookup of the external id
    first, no savepoint); the body runs in the caller's transaction when there is one (no savepoint
    of its own: an error inside aborts the caller's transaction, as nothing here is meant to be
    caught and continued from), else in its own."""
    amount = round_money(amount)
    if amount <= ZERO:
        raise PaymentRefused(_("Le montant payé doit être positif."))
    if method not in Payment.Method.values:
        raise PaymentRefused(_("Mode de paiement inconnu."))
    if bills and any(bill.customer_id != customer.pk for bill in bills):
        raise PaymentRefused(_("Une facture désignée n'appartient pas à ce client."))
    payment = Payment(
        customer=customer,
        amount=amount,
        method=method,
        paid_at=paid_at,
        reference=reference[:64],
        external_id=external_id or None,
        received_by=received_by,
        reason=reason.strip(),
    )
    with transaction.atomic(savepoint=False):
        _lock_customer(customer.pk)
        recorded = _payment_insert(payment)
        if recorded:
            LedgerEntry.objects.create(
                customer=customer,
                kind=LedgerEntry.Kind.PAYMENT,
                entry_date=_local_date(paid_at),
                amount=-amount,
                payment=payment,
                label=_payment_label(payment),
            )
            settled: list[int] = []
            if bills:
                _rest, settled = _allocate(
                    customer_id=customer.pk,
                    amount=amount,
                    at=paid_at,
                    payment=payment,
                    named=[bill.pk for bill in bills],
                    only_named=True,  # the chosen bills from this payment; its rest after older credit
                )
            # older remainders first, then this one (the customer's row is locked above)
            _rest, more = _apply_credit(customer.pk, at=paid_at, locked=True)
            _announce_settled(customer_id=customer.pk, bill_ids=settled + more)
        else:
            existing = Payment.objects.get(external_id=external_id)
    if not recorded:  # outside the block: a refusal leaves the caller's transaction usable
        return _same_payment(existing, customer=customer, amount=amount)
    return payment


@transaction.atomic
def payment_reverse(*, payment: Payment | int, reason: str, by, at: datetime.datetime) -> PaymentReversal:
    """Undo ``payment`` (a cheque returned unpaid, a payment entered on the wrong customer): the
    reason, who and when are kept (``PaymentReversal``); a REVERSAL ledger entry debits the amount
    back (nothing is deleted); negative allocations cancel what it had paid, so the bills it had
    settled re-open (``settled_at`` cleared) and the customer's remaining credit is applied again;
    its receipt is revoked (« Vérifier des documents » answers « annulé »). A payment is reversed
    once: a second attempt, even concurrent, is refused."""
    reason = (reason or "").strip()
    if not reason:
        raise ReversalRefused(_("Indiquez le motif de l'annulation."))
    if by is None:
        raise ReversalRefused(_("L'annulation doit être faite par un agent identifié."))
    pk = payment if isinstance(payment, int) else payment.pk
    customer_id = Payment.objects.filter(pk=pk).values_list("customer_id", flat=True).first()
    if customer_id is None:
        raise ReversalRefused(_("Paiement introuvable."))
    _lock_customer(customer_id)  # serialises reversals and payments of this customer
    payment = Payment.objects.select_for_update().get(pk=pk)
    done = PaymentReversal.objects.filter(payment=payment).select_related("reversed_by").first()
    if done is not None:
        raise ReversalRefused(
            _("Ce paiement a déjà été annulé le %(date)s par %(who)s.")
            % {
                "date": f"{timezone.localtime(done.reversed_at):%d/%m/%Y %H:%M}",
                "who": done.reversed_by.get_full_name() or done.reversed_by.get_username(),
            }
        )
    refunded = payment.refund_allocations.aggregate(total=Sum("amount"))["total"] or ZERO
    if refunded > ZERO:  # the money went back to the customer: undo the refund first
        raise ReversalRefused(
            _(
                "Ce paiement a été remboursé au client (%(amount)s) : annulez d'abord le remboursement "
                "(« Annuler le remboursement »), puis le paiement."
            )
            % {"amount": _money_fr(refunded)}
        )
    try:
        with transaction.atomic():
            reversal = PaymentReversal.objects.create(payment=payment, reason=reason, reversed_by=by, reversed_at=at)
    except IntegrityError as exc:  # reversed by a concurrent transaction (unique payment)
        raise ReversalRefused(_("Ce paiement a déjà été annulé.")) from exc
    paid = {
        bill_id: total
        for bill_id, total in payment.allocations.order_by()
        .values("bill_id")
        .annotate(total=Sum("amount"))
        .values_list("bill_id", "total")
        if total > ZERO
    }
    PaymentAllocation.objects.bulk_create(
        PaymentAllocation(bill_id=bill_id, payment=payment, reversal=reversal, amount=-total)
        for bill_id, total in sorted(paid.items())
    )
    Bill.objects.filter(pk__in=list(paid), settled_at__isnull=False).update(settled_at=None)
    LedgerEntry.objects.create(
        customer_id=customer_id,
        kind=LedgerEntry.Kind.REVERSAL,
        entry_date=_local_date(at),
        amount=payment.amount,
        reversal=reversal,
        label=(
            _("Annulation du paiement du %(date)s — %(reason)s")
            % {
                "date": f"{_local_date(payment.paid_at):%d/%m/%Y}",
                "reason": reason,
            }
        )[:160],
    )
    # The online-service fee a card payment paid goes back to the card with it: its invoice is
    # cancelled by a credit note (never owed for a payment that did not happen, never paid from
    # the customer's other credit).
    for fee_bill in Bill.objects.filter(pk__in=list(paid), kind=Bill.Kind.ONLINE_FEE).order_by("pk"):
        credited = fee_bill.credit_notes.aggregate(total=Sum("total_ttc"))["total"] or ZERO
        amount = min(paid[fee_bill.pk], round_money(fee_bill.total_ttc - credited))
        if amount > ZERO:  # an avoir already given on the fee (geste commercial) covers it
            credit_note_issue(
                bill=fee_bill,
                reason=_("paiement par carte annulé — %(reason)s") % {"reason": reason},
                issue_date=_local_date(at),
                now=at,
                amount=amount,
            )
    _rest, settled = _apply_credit(customer_id, at=at)  # the customer's other credit, if any
    _announce_settled(customer_id=customer_id, bill_ids=settled)
    reopened = sorted(Bill.objects.filter(pk__in=list(paid), settled_at__isnull=True).values_list("pk", flat=True))
    if reopened:
        hook_fire(HOOK_BILLS_REOPENED, bill_ids=reopened, customer_id=customer_id, reason=reason, at=at)
    documents_revoke(kind="RECEIPT", subject=payment, at=at)
    return reversal


def _same_payment(existing: Payment, *, customer: Customer, amount: Decimal) -> Payment:
    if existing.customer_id != customer.pk or existing.amount != round_money(amount):
        raise PaymentRefused(
            _(
                "La référence externe %(reference)s est déjà enregistrée pour un autre paiement "
                "(%(amount)s DH, client %(customer)s)."
            )
            % {"reference": existing.external_id, "amount": existing.amount, "customer": existing.customer_id}
        )
    return existing


# --- many payments at once -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentRow:
    customer_id: int
    amount: Decimal
    method: str
    paid_at: datetime.datetime
    reference: str = ""
    external_id: str | None = None
    bill_ids: tuple[int, ...] = ()  # the bills the payer named: paid first
    reason: str = ""  # why more than the customer owes (else refused)


BULK_CHUNK = 5000


@transaction.atomic
def payments_record_bulk(rows: list[PaymentRow], *, now: datetime.datetime, received_by=None) -> int:
    """Record many payments (an agents' network daily file, the demo history) under the rules of
    ``payment_record`` — idempotent on ``external_id``, each customer's older credit first, then
    its payments in date order over its open bills (the bills a row names first, then the oldest
    due date first), ``settled_at`` set — in a fixed number of queries per 5,000 payments, each
    new row within the bounds of ``payment_bounds_check`` (``PaymentRefused`` naming the row
    otherwise: the caller checks rows first to report them one by one). Returns how many
    payments were new."""
    created = 0
    for start in range(0, len(rows), BULK_CHUNK):
        created += _payments_record_chunk(rows[start : start + BULK_CHUNK], received_by=received_by, now=now)
    return created


def customer_balances(customer_ids: Iterable[int]) -> dict[int, Decimal]:
    """What each customer owes (positive) or has in credit (negative), one query."""
    rows = (
        LedgerEntry.objects.filter(customer_id__in=list(customer_ids))
        .order_by()
        .values("customer_id")
        .annotate(total=Sum("amount"))
        .values_list("customer_id", "total")
    )
    return {customer_id: round_money(total) for customer_id, total in rows}


def _payments_record_chunk(rows: list[PaymentRow], *, received_by, now: datetime.datetime) -> int:
    seen: set[str | None] = set(
        Payment.objects.filter(external_id__in=[r.external_id for r in rows if r.external_id]).values_list(
            "external_id", flat=True
        )
    )
    fresh = []
    for row in rows:
        if row.external_id:
            if row.external_id in seen:
                continue
            seen.add(row.external_id)
        amount = round_money(row.amount)
        if amount <= ZERO or row.method not in Payment.Method.values:
            raise PaymentRefused(
                f"Paiement invalide pour le client {row.customer_id} : {row.amount} ({row.method})."
            )  # i18n: not for customers
        fresh.append((row, amount))
    if not fresh:
        return 0
    fresh.sort(key=lambda item: (item[0].customer_id, item[0].paid_at))
    customer_ids = sorted({row.customer_id for row, _ in fresh})
    list(Customer.objects.select_for_update().filter(pk__in=customer_ids).order_by("pk").values_list("pk"))
    balances = customer_balances(customer_ids)
    for row, amount in fresh:  # in date order per customer: each row against what is still owed
        try:
            payment_bounds_check(
                amount=amount,
                paid_at=row.paid_at,
                now=now,
                open_balance=balances.get(row.customer_id, ZERO),
                reason=row.reason,
            )
        except PaymentRefused as exc:
            raise PaymentRefused(
                _("Paiement %(ref)s (client %(customer)s) : %(error)s")
                % {"ref": row.external_id or row.reference, "customer": row.customer_id, "error": exc.message}
            ) from exc
        balances[row.customer_id] = balances.get(row.customer_id, ZERO) - amount
    holding_credit = customers_with_credit(customer_ids)  # rare: their earlier remainder goes first

    payments = Payment.objects.bulk_create(
        Payment(
            customer_id=row.customer_id,
            amount=amount,
            method=row.method,
            paid_at=row.paid_at,
            reference=row.reference[:64],
            external_id=row.external_id or None,
            received_by=received_by,
            reason=row.reason.strip(),
        )
        for row, amount in fresh
    )
    LedgerEntry.objects.bulk_create(
        LedgerEntry(
            customer_id=payment.customer_id,
            kind=LedgerEntry.Kind.PAYMENT,
            entry_date=_local_date(payment.paid_at),
            amount=-payment.amount,
            payment=payment,
            label=_payment_label(payment),
        )
        for payment in payments
    )

    open_bills: dict[int, dict[int, OpenBill]] = {}
    for bill in (
        bills_with_outstanding(
            Bill.objects.filter(customer_id__in=customer_ids, settled_at__isnull=True).exclude(
                kind=Bill.Kind.CREDIT_NOTE
            )
        )
        .only("pk", "customer_id", "total_ttc", "due_date", "issue_date")
        .order_by("customer_id", "due_date", "issue_date", "id")
    ):
        open_bills.setdefault(bill.customer_id, {})[bill.pk] = _open_bill(bill)
    sources: dict[int, list[tuple]] = {}
    new_ids = {p.pk for p in payments}
    for customer_id in holding_credit:
        older_payments, older_credits = _unallocated(customer_id)
        sources[customer_id] = [(None, c, a, c.settled_at or c.created_at, ()) for c, a in older_credits] + [
            (p, None, a, p.paid_at, ()) for p, a in older_payments if p.pk not in new_ids
        ]
    for payment, (row, _amount) in zip(payments, fresh, strict=True):
        sources.setdefault(payment.customer_id, []).append(
            (payment, None, payment.amount, payment.paid_at, row.bill_ids)
        )

    allocations: list[PaymentAllocation] = []
    settled: dict[int, datetime.datetime] = {}
    for customer_id, queue in sources.items():
        bills = open_bills.get(customer_id, {})
        for payment, credit_note, amount, at, named in queue:
            plan = allocate(amount, [b for b in bills.values() if b.bill_id not in settled], named)
            for part in plan.allocations:
                allocations.append(
                    PaymentAllocation(
                        bill_id=part.bill_id, payment=payment, credit_note=credit_note, amount=part.amount
                    )
                )
                open_bill = bills[part.bill_id]
                bills[part.bill_id] = OpenBill(
                    open_bill.bill_id, open_bill.outstanding - part.amount, open_bill.due_date, open_bill.issue_date
                )
            for bill_id in plan.settled:
                settled.setdefault(bill_id, at)
    PaymentAllocation.objects.bulk_create(allocations, batch_size=1000)
    done = _settle_many(settled)
    if done:  # one call for the chunk (a subscriber's query per customer would cost a query per row)
        customers = sorted({customer_id for _bill_id, customer_id in done})
        hook_fire(
            HOOK_BILLS_SETTLED,
            bill_ids=sorted(bill_id for bill_id, _customer_id in done),
            customer_id=customers[0] if len(customers) == 1 else None,
            customer_ids=customers,
        )
    return len(payments)


def _settle_many(settled: dict[int, datetime.datetime]) -> list[tuple[int, int]]:
    """``settled_at`` of many bills, each its own date: one UPDATE … FROM (VALUES …) per 2,000.
    Returns ``(bill_id, customer_id)`` of the bills newly settled."""
    if not settled:
        return []
    done: list[tuple[int, int]] = []
    table = connection.ops.quote_name(Bill._meta.db_table)
    items = list(settled.items())
    for start in range(0, len(items), 2000):
        part = items[start : start + 2000]
        values = ", ".join(["(%s::bigint, %s::timestamptz)"] * len(part))
        params = [value for pair in part for value in pair]
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} b SET settled_at = v.at FROM (VALUES {values}) AS v(id, at) "  # noqa: S608 - placeholders only
                "WHERE b.id = v.id AND b.settled_at IS NULL RETURNING b.id, b.customer_id",
                params,
            )
            done.extend(cursor.fetchall())
    return done
