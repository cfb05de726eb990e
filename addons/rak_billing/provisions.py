"""Provisions (« carte congé », seed « Mes provisions »): « Les factures du client sont déduites
automatiquement du montant de la provision ».

How an advance works
- « Alimentation des avances sur consommation » (``rak_payment_cmi.paying.advance_order_create``)
  issues an ADVANCE invoice (no VAT) for a dossier billed by advance and the customer pays it (card,
  counter, network): the money paid on that invoice is the customer's **provision**.
- Before this module, that was all: the payment settled the advance invoice and stopped there, the
  consumption bills stayed open (« Mes impayés », exigible) and the provision was never used.
- Now each consumption bill of a dossier billed by advance (``Dossier.BillingMode.ADVANCE``) is
  deducted from the provision, oldest due date first (the ledger's one allocation rule,
  ``allocation.allocate``): an **imputation** — a credit note on the advance invoice
  (``credited_bill``; « Imputation de l'avance F… sur la facture F… », no VAT, a ledger credit)
  allocated to the consumption bill(s) it pays. The advance invoice stays paid; nothing is updated
  or deleted; the books say which advance paid which bill.

  provision of an advance invoice = what payments allocated to it (a reversed payment's negative
  allocations included) − what its imputations allocated to other bills.

At a termination (``provision_release``, called by ``closing.dossier_accounts_close`` when the
customer's last dossier billed by advance closes) the last bills are deducted, then what is left
becomes the customer's credit (a credit note « Restitution de la provision »), refundable.

When: at the end of every billing run (``notifications.billing_run_finalize``, before the
customers' other credit), and as soon as an advance invoice is settled (the ledger's « facture
réglée » hook, subscribed in ``RakBillingConfig.ready``: a newly paid advance pays the bills already
open). ``provisions_apply`` is set-based: a fixed number of queries for any number of customers
(one block of bill numbers, bulk inserts, one UPDATE for the settled bills), under the customers'
row locks (lock order: customer rows → bills), idempotent (a second call finds nothing to do).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import DecimalField, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from rak_base import clock
from rak_base.hooks import hook_fire
from rak_base.money import round_money
from rak_billing.allocation import OpenBill, allocate
from rak_billing.ledger import (
    HOOK_BILLS_SETTLED,
    _settle_many,
    bill_numbers_reserve,
    bills_with_outstanding,
)
from rak_billing.models import MONEY, Bill, BillLine, LedgerEntry, PaymentAllocation
from rak_customer.models import Customer, Dossier

ZERO = Decimal("0.00")
MONEY_FIELD = DecimalField(**MONEY)


def _sum_subquery(queryset, field: str = "amount"):
    return Coalesce(
        Subquery(queryset.order_by().values("bill_id").annotate(total=Sum(field)).values("total")[:1]),
        Value(ZERO),
        output_field=MONEY_FIELD,
    )


def advance_bills_with_provision(customer_ids: Iterable[int] | None = None):
    """ADVANCE invoices annotated with ``deposited`` (what payments put on them, reversals netted)
    and ``imputed`` (what left the provision through their credit notes: each note's amount minus
    what it allocated to the advance invoice itself — a note cancelling an unpaid advance invoice
    takes nothing from the provision, an imputation or a release takes all of it); one query."""
    deposited = PaymentAllocation.objects.filter(bill_id=OuterRef("pk"), payment__isnull=False)
    notes = (
        Bill.objects.filter(kind=Bill.Kind.CREDIT_NOTE, credited_bill_id=OuterRef("pk"))
        .order_by()
        .values("credited_bill_id")
        .annotate(total=Sum("total_ttc"))
        .values("total")[:1]
    )
    on_itself = PaymentAllocation.objects.filter(bill_id=OuterRef("pk"), credit_note__credited_bill_id=OuterRef("pk"))
    queryset = Bill.objects.filter(kind=Bill.Kind.ADVANCE)
    if customer_ids is not None:
        queryset = queryset.filter(customer_id__in=customer_ids)
    return queryset.annotate(
        deposited=_sum_subquery(deposited),
        imputed=Coalesce(Subquery(notes), Value(ZERO), output_field=MONEY_FIELD) - _sum_subquery(on_itself),
    )


def _targets(customer_ids: list[int]):
    """Open consumption bills of the dossiers billed by advance of ``customer_ids``."""
    return bills_with_outstanding(
        Bill.objects.filter(
            customer_id__in=customer_ids,
            kind=Bill.Kind.CONSUMPTION,
            settled_at__isnull=True,
            dossier__billing_mode=Dossier.BillingMode.ADVANCE,
        )
    )


def customers_with_provision_due(customer_ids: Iterable[int] | None = None) -> list[int]:
    """Customers (among ``customer_ids``) holding a provision and an open bill it may pay (two
    queries, no lock)."""
    holding = (
        advance_bills_with_provision(customer_ids)
        .filter(deposited__gt=F("imputed"))
        .values_list("customer_id", flat=True)
        .distinct()
    )
    holding = sorted(set(holding))
    if not holding:
        return []
    owing = Bill.objects.filter(
        customer_id__in=holding,
        kind=Bill.Kind.CONSUMPTION,
        settled_at__isnull=True,
        dossier__billing_mode=Dossier.BillingMode.ADVANCE,
    )
    return sorted(set(owing.values_list("customer_id", flat=True).distinct()))


def _note_label(advance: Bill, numbers: list[str]) -> str:
    return (
        _("Imputation de l'avance %(advance)s sur la facture %(bills)s")
        if len(numbers) == 1
        else _("Imputation de l'avance %(advance)s sur les factures %(bills)s")
    ) % {"advance": advance.number, "bills": ", ".join(numbers)}


@transaction.atomic
def provisions_apply(*, customer_ids: Iterable[int] | None = None, at: datetime.datetime) -> int:
    """Deduct the open consumption bills of the dossiers billed by advance from the customers'
    provisions (all customers when ``customer_ids`` is None). Returns the number of imputations
    (credit notes) written; bills paid in full are settled and announced (« facture réglée »)."""
    candidates = customers_with_provision_due(customer_ids)  # a list, or a queryset of ids (subquery)
    if not candidates:
        return 0
    list(Customer.objects.select_for_update().filter(pk__in=candidates).order_by("pk").values_list("pk"))
    # under the locks: what each advance still holds, and what each customer owes
    advances: dict[int, list[tuple[Bill, Decimal]]] = defaultdict(list)
    for advance in (
        advance_bills_with_provision(candidates)
        .filter(deposited__gt=F("imputed"))
        .only("pk", "number", "customer_id", "dossier_id", "issue_date")
        .order_by("customer_id", "issue_date", "pk")
    ):
        advances[advance.customer_id].append((advance, round_money(advance.deposited - advance.imputed)))
    targets: dict[int, dict[int, OpenBill]] = defaultdict(dict)
    numbers: dict[int, str] = {}
    for bill in (
        _targets(list(advances))
        .select_for_update(of=("self",))
        .only("pk", "number", "customer_id", "total_ttc", "due_date", "issue_date")
        .order_by("customer_id", "due_date", "issue_date", "pk")
    ):
        targets[bill.customer_id][bill.pk] = OpenBill(
            bill.pk, round_money(bill.total_ttc - bill.paid), bill.due_date, bill.issue_date
        )
        numbers[bill.pk] = bill.number

    plans: list[tuple[Bill, list[tuple[int, Decimal]]]] = []
    settled: dict[int, datetime.datetime] = {}
    for customer_id, held in advances.items():
        bills = targets.get(customer_id, {})
        for advance, available in held:
            open_now = [b for b in bills.values() if b.outstanding > ZERO]
            if not open_now:
                break
            plan = allocate(available, open_now)
            if not plan.allocations:
                continue
            plans.append((advance, [(a.bill_id, a.amount) for a in plan.allocations]))
            for part in plan.allocations:
                bill = bills[part.bill_id]
                bills[part.bill_id] = OpenBill(
                    bill.bill_id, bill.outstanding - part.amount, bill.due_date, bill.issue_date
                )
            for bill_id in plan.settled:
                settled.setdefault(bill_id, at)
    if not plans:
        return 0

    issue_date = timezone.localdate(at) if timezone.is_aware(at) else at.date()
    note_numbers = bill_numbers_reserve(year=issue_date.year, count=len(plans))
    notes = Bill.objects.bulk_create(
        Bill(
            number=number,
            kind=Bill.Kind.CREDIT_NOTE,
            customer_id=advance.customer_id,
            dossier_id=advance.dossier_id,
            issue_date=issue_date,
            due_date=issue_date,
            total_ht=sum((amount for _bill, amount in parts), ZERO),
            total_tva=ZERO,
            total_ttc=sum((amount for _bill, amount in parts), ZERO),
            credited_bill_id=advance.pk,
            settled_at=at,
        )
        for number, (advance, parts) in zip(note_numbers, plans, strict=True)
    )
    BillLine.objects.bulk_create(
        BillLine(
            bill=note,
            position=1,
            kind=BillLine.Kind.OTHER,
            label=_note_label(advance, [numbers[bill_id] for bill_id, _amount in parts])[:160],
            quantity=Decimal("1"),
            unit_price=note.total_ttc,
            amount_ht=note.total_ttc,
            vat_rate=ZERO,
            amount_tva=ZERO,
            amount_ttc=note.total_ttc,
        )
        for note, (advance, parts) in zip(notes, plans, strict=True)
    )
    LedgerEntry.objects.bulk_create(
        LedgerEntry(
            customer_id=note.customer_id,
            dossier_id=note.dossier_id,
            kind=LedgerEntry.Kind.CREDIT,
            entry_date=issue_date,
            amount=-note.total_ttc,
            bill=note,
            label=_note_label(advance, [numbers[bill_id] for bill_id, _amount in parts])[:160],
        )
        for note, (advance, parts) in zip(notes, plans, strict=True)
    )
    PaymentAllocation.objects.bulk_create(
        PaymentAllocation(bill_id=bill_id, credit_note=note, amount=amount)
        for note, (_advance, parts) in zip(notes, plans, strict=True)
        for bill_id, amount in parts
    )
    done = _settle_many(settled)
    if done:
        customers = sorted({customer_id for _bill_id, customer_id in done})
        hook_fire(
            HOOK_BILLS_SETTLED,
            bill_ids=sorted(bill_id for bill_id, _customer_id in done),
            customer_id=customers[0] if len(customers) == 1 else None,
            customer_ids=customers,
        )
    return len(notes)


@transaction.atomic
def provision_release(*, customer_id: int, at: datetime.datetime, reason: str) -> list[Bill]:
    """Give the customer's remaining provision back as credit (a termination: « au moment de la
    résiliation, les factures de votre dernière consommation sont déduites de votre dépôt de
    garantie (provision) »): the open bills of dossiers billed by advance are deducted first
    (``provisions_apply``), then each advance invoice still holding money gets a credit note
    « Restitution de la provision » for it — applied to the customer's other open bills, oldest
    first, the rest kept as credit, which « Mes remboursements » pays out. Returns the notes;
    a second call finds nothing left."""
    from rak_billing.ledger import credit_note_issue

    list(Customer.objects.select_for_update().filter(pk=customer_id).values_list("pk"))
    provisions_apply(customer_ids=[customer_id], at=at)
    issue_date = timezone.localdate(at) if timezone.is_aware(at) else at.date()
    notes = []
    for advance in (
        advance_bills_with_provision([customer_id]).filter(deposited__gt=F("imputed")).order_by("issue_date", "pk")
    ):
        notes.append(
            credit_note_issue(
                bill=advance,
                reason=_("Restitution de la provision — %(reason)s") % {"reason": reason},
                issue_date=issue_date,
                now=at,
                amount=round_money(advance.deposited - advance.imputed),
            )
        )
    return notes


def on_bills_settled(*, bill_ids: Iterable[int] = (), **_payload) -> None:
    """« Facture réglée »: when advance invoices are among the bills settled, their provision
    pays the open bills of their customers at once (one query when none is)."""
    bill_ids = list(bill_ids)
    if not bill_ids:
        return
    with connection.cursor() as cursor:  # values inlined: the partitions are pruned when planned (issue 15)
        cursor.execute(
            "SELECT DISTINCT customer_id FROM rak_billing_bill WHERE id = ANY(%s) AND kind = %s",
            [bill_ids, Bill.Kind.ADVANCE],
        )
        paid = sorted(customer_id for (customer_id,) in cursor.fetchall())
    if paid:
        provisions_apply(customer_ids=paid, at=clock.now())
