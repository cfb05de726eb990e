"""Bills, lines and ledger entries partitioned by month (``rak_billing.partitions``, migration 0022):
each row lands in its month's partition, and no guarantee on money is lost on the way — one
consumption bill per dossier and period, one number per bill, one ledger entry per bill or
payment — although PostgreSQL cannot enforce a unique constraint across partitions by itself."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from rak_billing.models import Bill, BillLine, BillNumber, LedgerEntry, Payment
from rak_billing.partitions import (
    add_months,
    bill_ids_reserve,
    bill_month,
    consumption_ids,
    month_key,
    partition_floor,
    partitions_ensure,
)
from tests.billing_factories import BillFactory, bill_create, bill_pay
from tests.factories import DossierFactory

pytestmark = pytest.mark.django_db


def _partition_of(table: str, **where) -> str:
    column, value = next(iter(where.items()))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {table} WHERE {column} = %s", [value])  # noqa: S608
        (name,) = {row[0] for row in cursor.fetchall()}
    return name


def _this_month() -> datetime.date:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_date")
        return cursor.fetchone()[0].replace(day=1)


def test_a_consumption_bill_its_lines_and_its_ledger_entry_live_in_the_period_month():
    period = add_months(_this_month(), -2)
    bill = bill_create(period_start=period)
    assert bill_month(bill.pk) == period
    suffix = f"y{period:%Y}m{period:%m}"
    assert _partition_of("rak_billing_bill", id=bill.pk) == f"rak_billing_bill_{suffix}"
    assert _partition_of("rak_billing_billline", bill_id=bill.pk) == f"rak_billing_billline_{suffix}"
    assert _partition_of("rak_billing_ledgerentry", bill_id=bill.pk) == f"rak_billing_ledgerentry_{suffix}"
    # a query on the period's consumption bills reads that partition only
    assert Bill.objects.filter(consumption_ids(period), period_start=period).get() == bill


def test_other_bills_take_the_month_they_are_created_in_and_payments_the_default_partition():
    bill = bill_create(kind=Bill.Kind.CUT_FEE, total_ht="100.00")
    assert bill_month(bill.pk) == _this_month()
    payment = bill_pay(bill)
    assert _partition_of("rak_billing_ledgerentry", payment_id=payment.pk) == "rak_billing_ledgerentry_legacy"
    assert payment.ledger_entry.amount == -bill.total_ttc  # the one-to-one still reads back


def test_a_month_without_partition_gets_one_when_a_consumption_bill_needs_it():
    far = add_months(_this_month(), 40)
    assert partitions_ensure(first=far, last=far) == 1
    assert partitions_ensure(first=far, last=far) == 0  # there already
    later = add_months(far, 1)
    bill = bill_create(period_start=later)  # the ORM path takes the id and creates the partition
    assert _partition_of("rak_billing_bill", id=bill.pk) == f"rak_billing_bill_y{later:%Y}m{later:%m}"


def test_one_consumption_bill_per_dossier_and_period_whenever_it_is_written():
    period = add_months(_this_month(), -1)
    first = bill_create(period_start=period)
    # the same dossier and period again, through the ORM and through a raw insert with an id of
    # another month: refused either way (same partition's unique index; the month check)
    with pytest.raises(IntegrityError), transaction.atomic():
        BillFactory(dossier=first.dossier, customer=first.customer, period_start=period)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO rak_billing_bill (id, number, kind, customer_id, dossier_id, period_start, period_end, "
            "consumption, estimated, issue_date, due_date, total_ht, total_tva, total_ttc, tranche_notice, created_at) "
            "SELECT rak_billing_bill_id(%s), 'DUP1', kind, customer_id, dossier_id, period_start, period_end, "
            "consumption, estimated, issue_date, due_date, total_ht, total_tva, total_ttc, '', now() "
            "FROM rak_billing_bill WHERE id = %s",
            [add_months(period, 1), first.pk],
        )
    assert Bill.objects.filter(dossier=first.dossier, period_start=period).count() == 1


def test_a_bill_number_is_used_once_across_all_months():
    period = add_months(_this_month(), -3)
    bill = bill_create(period_start=period, number="F2026-00000077")
    assert BillNumber.objects.filter(number="F2026-00000077").exists()
    with pytest.raises(IntegrityError), transaction.atomic():
        bill_create(kind=Bill.Kind.FRAUD, number="F2026-00000077")  # another month's partition
    # renumbered: the old number is free, the new one taken; deleted: free again
    Bill.objects.filter(pk=bill.pk).update(number="F2026-00000078")
    assert set(BillNumber.objects.filter(number__startswith="F2026-000000").values_list("number", flat=True)) == {
        "F2026-00000078"
    }
    BillLine.objects.filter(bill=bill).delete()
    LedgerEntry.objects.filter(bill=bill).delete()
    bill.delete()
    assert not BillNumber.objects.filter(number__startswith="F2026-000000").exists()


def test_a_bill_or_a_payment_is_counted_once_in_the_ledger():
    bill = bill_create(period_start=add_months(_this_month(), -1))
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            customer=bill.customer, kind="BILL", entry_date=bill.issue_date, amount=bill.total_ttc, bill=bill, label="x"
        )
    payment = bill_pay(bill)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            customer=bill.customer, kind="PAYMENT", entry_date=bill.issue_date, amount=-1, payment=payment, label="x"
        )
    # an entry with two sources (it would land in a bill's partition, out of reach of the
    # payment's unique index) is refused
    other = Payment.objects.create(
        customer=bill.customer, amount=Decimal("5.00"), method=Payment.Method.CASH, paid_at=payment.paid_at
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            customer=bill.customer,
            kind="PAYMENT",
            entry_date=bill.issue_date,
            amount=-5,
            payment=other,
            bill=BillFactory(kind=Bill.Kind.CUT_FEE, period_start=None, dossier=bill.dossier),
            label="x",
        )


def test_ids_of_a_month_are_reserved_in_its_range():
    period = add_months(_this_month(), -5)
    ids = bill_ids_reserve(period=period, count=3)
    assert len(set(ids)) == 3
    assert all(month_key(period) <= pk < month_key(add_months(period, 1)) for pk in ids)
    assert partition_floor() <= month_key(add_months(_this_month(), -24))


def test_a_dossier_s_bills_over_many_months_read_back_in_order():
    dossier = DossierFactory()
    start = add_months(_this_month(), -30)  # the first six months before the floor: legacy partition
    for offset in range(30):
        bill_create(dossier=dossier, period_start=add_months(start, offset), with_lines=offset % 2 == 0)
    periods = list(
        Bill.objects.filter(dossier=dossier, kind=Bill.Kind.CONSUMPTION)
        .order_by("-period_start")
        .values_list("period_start", flat=True)
    )
    assert periods == [add_months(start, offset) for offset in range(29, -1, -1)]
    assert BillLine.objects.filter(bill__dossier=dossier).count() == 15 * 2
