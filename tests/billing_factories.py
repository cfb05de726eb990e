"""Small factories for bills, lines, payments and the ledger, written straight to the database
(no billing run, no tariff engine): enough to test the pages that read them.

``bill_create`` writes a bill with its lines and its ledger debit, the way a billing run leaves
them; ``bill_pay`` records a payment, its allocation and its ledger credit; ``bill_history``
writes one consumption bill a month for a dossier. Other test modules may import them.
"""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal

import factory

from rak_base.money import round_money
from rak_billing.models import Bill, BillLine, LedgerEntry, Payment, PaymentAllocation
from rak_customer.models import Dossier
from tests.factories import DossierFactory

_numbers = itertools.count(1)
VAT = Decimal("0.1800")


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The first of the month ``months`` after (or before) ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


class BillFactory(factory.django.DjangoModelFactory):
    """A bare bill (no lines, no ledger entry): prefer ``bill_create`` in page tests."""

    class Meta:
        model = Bill

    number = factory.LazyFunction(lambda: f"TF{next(_numbers):010d}")
    kind = Bill.Kind.CONSUMPTION
    dossier = factory.SubFactory(DossierFactory)
    customer = factory.SelfAttribute("dossier.customer")
    period_start = datetime.date(2026, 1, 1)
    period_end = factory.LazyAttribute(lambda o: add_months(o.period_start, 1) if o.period_start else None)
    consumption = Decimal("12.000")
    issue_date = factory.LazyAttribute(lambda o: o.period_end or datetime.date(2026, 2, 1))
    due_date = factory.LazyAttribute(lambda o: o.issue_date + datetime.timedelta(days=15))
    total_ht = Decimal("100.00")
    total_tva = Decimal("18.00")
    total_ttc = Decimal("118.00")


def bill_create(
    *,
    dossier: Dossier | None = None,
    customer=None,
    kind: str = Bill.Kind.CONSUMPTION,
    period_start: datetime.date | None = datetime.date(2026, 1, 1),
    consumption: Decimal | int | str = 120,
    total_ht: Decimal | str | None = None,
    previous_index: Decimal | int | None = None,
    issue_date: datetime.date | None = None,
    due_date: datetime.date | None = None,
    estimated: bool = False,
    tranche_notice: str = "",
    number: str | None = None,
    with_lines: bool = True,
) -> Bill:
    """A bill with its lines (one tranche line, one fixed charge) and its ledger debit.

    Consumption bills cover the month starting at ``period_start`` and are issued on the first
    of the next month, due 15 days later; other kinds have no period unless one is given."""
    if dossier is None and customer is None:
        dossier = DossierFactory()
    customer = customer or dossier.customer
    consumption = Decimal(consumption)
    if kind != Bill.Kind.CONSUMPTION and period_start == datetime.date(2026, 1, 1):
        period_start = None
    period_end = add_months(period_start, 1) if period_start else None
    issue_date = issue_date or period_end or datetime.date(2026, 2, 1)
    due_date = due_date or issue_date + datetime.timedelta(days=15)
    if total_ht is None:
        total_ht = round_money(consumption * Decimal("0.85") + Decimal("20"))
    total_ht = Decimal(total_ht)
    total_tva = round_money(total_ht * VAT)
    total_ttc = total_ht + total_tva
    if previous_index is None:
        previous_index = Decimal("1000")
    bill = Bill.objects.create(
        number=number or f"TF{next(_numbers):010d}",
        kind=kind,
        customer=customer,
        dossier=dossier,
        period_start=period_start,
        period_end=period_end,
        previous_index=previous_index if kind == Bill.Kind.CONSUMPTION else None,
        current_index=previous_index + consumption if kind == Bill.Kind.CONSUMPTION else None,
        consumption=consumption if kind == Bill.Kind.CONSUMPTION else Decimal("0"),
        estimated=estimated,
        issue_date=issue_date,
        due_date=due_date,
        total_ht=total_ht,
        total_tva=total_tva,
        total_ttc=total_ttc,
        tranche_notice=tranche_notice,
    )
    if with_lines:
        fixed = Decimal("20.00") if total_ht >= Decimal("20") else Decimal("0.00")
        energy = total_ht - fixed
        lines = [
            ("TRANCHE", "Consommation" if kind == Bill.Kind.CONSUMPTION else bill.get_kind_display(), energy),
            ("FIXED", "Redevance fixe", fixed),
        ]
        BillLine.objects.bulk_create(
            BillLine(
                bill=bill,
                position=position,
                kind=line_kind,
                label=label,
                quantity=consumption if line_kind == "TRANCHE" and consumption else Decimal("1"),
                unit_price=round_money(amount / consumption) if line_kind == "TRANCHE" and consumption else amount,
                amount_ht=amount,
                vat_rate=VAT,
                amount_tva=round_money(amount * VAT),
                amount_ttc=amount + round_money(amount * VAT),
            )
            for position, (line_kind, label, amount) in enumerate(lines, start=1)
        )
    credit = kind == Bill.Kind.CREDIT_NOTE
    LedgerEntry.objects.create(
        customer=customer,
        dossier=dossier,
        kind=LedgerEntry.Kind.CREDIT if credit else LedgerEntry.Kind.BILL,
        entry_date=issue_date,
        amount=-total_ttc if credit else total_ttc,
        bill=bill,
        label=f"{bill.get_kind_display()} {bill.number}",
    )
    return bill


def bill_pay(
    bill: Bill,
    amount: Decimal | str | None = None,
    *,
    paid_at: datetime.datetime | None = None,
    method: str = Payment.Method.CASH,
) -> Payment:
    """A payment of ``amount`` (default: the whole bill) allocated to ``bill``, with its ledger
    credit; the bill is marked settled when nothing is left to pay."""
    amount = Decimal(amount) if amount is not None else bill.total_ttc
    paid_at = paid_at or datetime.datetime.combine(bill.issue_date, datetime.time(10), tzinfo=datetime.UTC)
    payment = Payment.objects.create(customer=bill.customer, amount=amount, method=method, paid_at=paid_at)
    PaymentAllocation.objects.create(bill=bill, payment=payment, amount=amount)
    LedgerEntry.objects.create(
        customer=bill.customer,
        dossier=bill.dossier,
        kind=LedgerEntry.Kind.PAYMENT,
        entry_date=paid_at.date(),
        amount=-amount,
        payment=payment,
        label=f"Paiement {bill.number}",
    )
    allocated = sum(a.amount for a in bill.allocations.all())
    if allocated >= bill.total_ttc:
        bill.settled_at = paid_at
        bill.save(update_fields=["settled_at"])
    return payment


def bill_history(
    dossier: Dossier,
    *,
    months: int,
    last_period: datetime.date = datetime.date(2026, 1, 1),
    paid: bool = True,
    consumption: int | None = None,
) -> list[Bill]:
    """``months`` monthly consumption bills ending with the period starting ``last_period``,
    oldest first, indexes following each other; paid unless ``paid=False``."""
    bills = []
    index = Decimal("1000")
    for offset in range(months - 1, -1, -1):
        start = add_months(last_period, -offset)
        used = Decimal(consumption if consumption is not None else 80 + (start.month * 7) % 60)
        bill = bill_create(dossier=dossier, period_start=start, consumption=used, previous_index=index)
        index += used
        if paid:
            bill_pay(bill)
        bills.append(bill)
    return bills
