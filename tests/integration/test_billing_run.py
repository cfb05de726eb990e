"""Billing runs, as an operator sees them: a run bills every dossier of the month once (running it
again bills nothing twice), survives a crash and continues where it stopped, numbers bills without
a gap per year, bills estimated consumption when a meter was not read, leaves a dossier whose
reading is held for review unbilled, bills sanitation on the water meter, posts each bill to the
customer's account and tells the customer their bill is available."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from rak_base.models import Message
from rak_billing import billing
from rak_billing.billing import BillingRunRefused, billing_run_create, billing_run_process, billing_run_resume
from rak_billing.ledger import customer_balance
from rak_billing.models import Bill, BillingRun, BillLine, LedgerEntry, MeterReading
from rak_billing.tariffs import tariff_book
from rak_customer.models import Dossier, Service
from tests.factories import (
    DossierFactory,
    EmailFactory,
    MeterFactory,
    PhoneFactory,
    PremisesFactory,
    customer_with_account,
)

pytestmark = pytest.mark.django_db

FEB = datetime.date(2026, 2, 1)
MAR = datetime.date(2026, 3, 1)


def read(dossier, day: datetime.date, index, *, status=MeterReading.Status.ACCEPTED, **kwargs) -> MeterReading:
    """A reading as the readings services store it (previous index and consumption filled)."""
    previous = (
        MeterReading.objects.filter(dossier=dossier, status=MeterReading.Status.ACCEPTED, reading_date__lt=day)
        .order_by("-reading_date")
        .first()
    )
    index = Decimal(index)
    return MeterReading.objects.create(
        dossier=dossier,
        meter=dossier.meter,
        reading_date=day,
        index=index,
        previous_index=previous.index if previous else None,
        consumption=index - previous.index if previous else None,
        source=kwargs.pop("source", MeterReading.Source.AGENT),
        status=status,
        **kwargs,
    )


def electricity(**kwargs):
    meter = MeterFactory(service=Service.ELECTRICITE, caliber="10 A")
    return DossierFactory(service=Service.ELECTRICITE, meter=meter, **kwargs)


def water(**kwargs):
    return DossierFactory(service=Service.EAU, **kwargs)


def run_month(period=FEB, **kwargs) -> BillingRun:
    run = billing_run_create(
        period_start=period,
        issue_date=kwargs.pop("issue_date", billing.month_after(period) + datetime.timedelta(days=2)),
        due_date=kwargs.pop("due_date", billing.month_after(period) + datetime.timedelta(days=17)),
        enqueue=False,
        **kwargs,
    )
    return billing_run_process(run_id=run.pk)


def test_run_bills_a_read_dossier_with_the_engine_amounts_and_posts_the_ledger():
    dossier = electricity()
    read(dossier, datetime.date(2026, 1, 20), 1000)
    read(dossier, datetime.date(2026, 2, 20), 1120)

    run = run_month()

    assert run.status == BillingRun.Status.DONE
    assert run.bills_created == 1 and run.dossiers_total == 1
    bill = Bill.objects.get(dossier=dossier)
    assert (bill.previous_index, bill.current_index, bill.consumption) == (1000, 1120, 120)
    assert not bill.estimated
    expected = tariff_book(FEB).compute(Service.ELECTRICITE, dossier.tariff_category, consumption=Decimal(120), days=31)
    assert bill.total_ttc == expected.total_ttc and bill.total_ht == expected.total_ht
    lines = list(bill.lines.order_by("position"))
    assert [line.label for line in lines] == [line.label for line in expected.lines]
    assert sum(line.amount_ttc for line in lines) == bill.total_ttc
    assert bill.number.startswith("F2026-")
    entry = LedgerEntry.objects.get(bill=bill)
    assert entry.amount == bill.total_ttc and entry.kind == LedgerEntry.Kind.BILL
    assert customer_balance(dossier.customer) == bill.total_ttc
    # every column the run writes with COPY (rendered while the chunk is prepared)
    assert (bill.kind, bill.customer_id, bill.period_start, bill.period_end) == (
        Bill.Kind.CONSUMPTION,
        dossier.customer_id,
        FEB,
        MAR,
    )
    assert bill.reading == MeterReading.objects.get(dossier=dossier, reading_date=datetime.date(2026, 2, 20))
    assert (bill.issue_date, bill.due_date, bill.run_id) == (run.issue_date, run.due_date, run.pk)
    assert bill.settled_at is None and bill.created_at is not None
    assert (entry.customer_id, entry.dossier_id, entry.entry_date) == (dossier.customer_id, dossier.pk, run.issue_date)
    assert entry.label == f"Facture {bill.number} — électricité 02/2026"
    assert entry.created_at == bill.created_at


def test_running_the_same_month_again_bills_nothing_twice():
    dossiers = [electricity() for _ in range(3)]
    for dossier in dossiers:
        read(dossier, datetime.date(2026, 1, 21), 500)
        read(dossier, datetime.date(2026, 2, 21), 560)
    first = run_month()
    numbers = sorted(Bill.objects.values_list("number", flat=True))

    second = run_month()

    assert first.bills_created == 3
    assert second.bills_created == 0 and second.dossiers_skipped == 3
    assert sorted(Bill.objects.values_list("number", flat=True)) == numbers
    assert LedgerEntry.objects.count() == 3


def test_a_run_that_crashed_mid_way_continues_where_it_stopped(monkeypatch):
    dossiers = [electricity() for _ in range(5)]
    for dossier in dossiers:
        read(dossier, datetime.date(2026, 2, 22), 100)
    run = billing_run_create(
        period_start=FEB, issue_date=datetime.date(2026, 3, 3), due_date=datetime.date(2026, 3, 18), enqueue=False
    )
    real_write = billing._write_bills
    calls = {"n": 0}

    def crash_on_second_chunk(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker killed")
        return real_write(*args, **kwargs)

    monkeypatch.setattr(billing, "_write_bills", crash_on_second_chunk)
    with pytest.raises(RuntimeError):
        billing_run_process(run_id=run.pk, chunk_size=2)
    run.refresh_from_db()
    assert run.status == BillingRun.Status.RUNNING and run.bills_created == 2
    assert Bill.objects.count() == 2  # the crashed chunk left nothing

    monkeypatch.setattr(billing, "_write_bills", real_write)
    run = billing_run_process(run_id=run.pk, chunk_size=2)

    assert run.status == BillingRun.Status.DONE and run.bills_created == 5
    assert sorted(Bill.objects.values_list("dossier_id", flat=True)) == sorted(d.pk for d in dossiers)
    numbers = sorted(Bill.objects.values_list("number", flat=True))
    assert numbers == [f"F2026-{i:08d}" for i in range(1, 6)]  # no gap left by the rolled-back chunk


def test_numbers_are_gap_free_and_restart_each_year():
    dec, jan = datetime.date(2025, 12, 1), datetime.date(2026, 1, 1)
    dossiers = [electricity() for _ in range(3)]
    for dossier in dossiers:
        read(dossier, datetime.date(2025, 12, 20), 10)
        read(dossier, datetime.date(2026, 1, 20), 50)
    run_month(dec, issue_date=datetime.date(2025, 12, 31), due_date=datetime.date(2026, 1, 15))
    run_month(jan)

    assert sorted(Bill.objects.filter(period_start=dec).values_list("number", flat=True)) == [
        "F2025-00000001",
        "F2025-00000002",
        "F2025-00000003",
    ]
    assert sorted(Bill.objects.filter(period_start=jan).values_list("number", flat=True)) == [
        "F2026-00000001",
        "F2026-00000002",
        "F2026-00000003",
    ]


def test_a_meter_not_read_gets_an_estimated_bill_that_the_next_reading_regularises():
    dossier = electricity()
    for month, index in ((9, 1000), (10, 1100), (11, 1200), (12, 1300)):
        read(dossier, datetime.date(2025, month, 20), index)

    run_month(datetime.date(2026, 1, 1))  # no reading in January

    bill = Bill.objects.get(dossier=dossier)
    assert bill.estimated
    assert bill.consumption > 0
    assert bill.reading.source == MeterReading.Source.ESTIMATED  # saved when the chunk was written
    assert bill.reading.reading_date <= bill.period_end and bill.current_index == bill.reading.index
    estimated_index = bill.current_index

    read(dossier, datetime.date(2026, 2, 20), 1500)
    run_month(FEB)
    february = Bill.objects.get(dossier=dossier, period_start=FEB)
    assert not february.estimated
    assert february.previous_index == estimated_index
    assert february.consumption == 1500 - estimated_index
    assert customer_balance(dossier.customer) == bill.total_ttc + february.total_ttc


def test_an_over_estimate_is_not_billed_twice():
    dossier = electricity()
    read(dossier, datetime.date(2025, 12, 20), 1000)  # no history: the default monthly consumption is used
    run_month(datetime.date(2026, 1, 1))
    january = Bill.objects.get(dossier=dossier)
    assert january.estimated and january.current_index > 1001

    read(dossier, datetime.date(2026, 2, 20), 1001)
    run_month(FEB)
    february = Bill.objects.get(dossier=dossier, period_start=FEB)
    assert february.consumption == 0
    assert february.current_index == january.current_index  # the overbilled units stay credited


def test_a_reading_held_for_review_is_not_billed_until_accepted():
    dossier = electricity()
    read(dossier, datetime.date(2026, 1, 20), 100)
    held = read(dossier, datetime.date(2026, 2, 20), 5000, status=MeterReading.Status.HELD)

    run = run_month()

    assert run.bills_created == 0 and run.dossiers_skipped == 1
    assert not Bill.objects.filter(dossier=dossier).exists()

    MeterReading.objects.filter(pk=held.pk).update(status=MeterReading.Status.ACCEPTED)
    run = run_month()
    assert run.bills_created == 1
    assert Bill.objects.get(dossier=dossier).consumption == 4900


def test_sanitation_is_billed_on_the_water_meter_of_the_same_premises():
    premises = PremisesFactory()
    eau = water(premises=premises)
    customer = eau.customer
    sanitation = DossierFactory(service=Service.ASSAINISSEMENT, meter=None, premises=premises, customer=customer)
    read(eau, datetime.date(2026, 1, 20), 300)
    read(eau, datetime.date(2026, 2, 20), 318)

    run_month()

    water_bill = Bill.objects.get(dossier=eau)
    sanitation_bill = Bill.objects.get(dossier=sanitation)
    assert water_bill.consumption == sanitation_bill.consumption == 18
    assert sanitation_bill.lines.exists()
    assert sanitation_bill.total_ttc != water_bill.total_ttc


def test_round_filter_bills_only_the_premises_of_that_round():
    in_round = electricity(premises=PremisesFactory(round_code="T01"))
    other = electricity(premises=PremisesFactory(round_code="T02"))
    for dossier in (in_round, other):
        read(dossier, datetime.date(2026, 2, 20), 40)

    run = run_month(round_code="t01")

    assert run.round_code == "T01"
    assert list(Bill.objects.values_list("dossier_id", flat=True)) == [in_round.pk]


def test_terminated_or_future_dossiers_are_not_billed():
    gone = electricity(status=Dossier.Status.TERMINATED, end_date=datetime.date(2025, 6, 30))
    future = electricity(start_date=datetime.date(2026, 4, 1))
    for dossier in (gone, future):
        read(dossier, datetime.date(2026, 2, 20), 40)

    run = run_month()

    assert run.dossiers_total == 0 and not Bill.objects.exists()


def test_a_second_pending_run_of_the_same_period_is_refused():
    billing_run_create(
        period_start=FEB, issue_date=datetime.date(2026, 3, 3), due_date=datetime.date(2026, 3, 18), enqueue=False
    )
    with pytest.raises(BillingRunRefused):
        billing_run_create(
            period_start=FEB, issue_date=datetime.date(2026, 3, 3), due_date=datetime.date(2026, 3, 18), enqueue=False
        )


def test_the_worker_runs_the_chunks_and_customers_are_told_their_bill_is_available(run_worker, monkeypatch):
    monkeypatch.setattr(billing, "CHUNK_SIZE", 2)
    customer, user = customer_with_account(phone="+212661000001", email="client@example.ma")
    dossiers = [electricity(customer=customer), water(customer=customer)]
    lonely = electricity()
    PhoneFactory(customer=lonely.customer, value="+212661000002")
    EmailFactory(customer=lonely.customer, value="seul@example.ma")
    for dossier in [*dossiers, lonely]:
        read(dossier, datetime.date(2026, 1, 20), 10)
        read(dossier, datetime.date(2026, 2, 20), 30)

    run = billing_run_create(
        period_start=FEB, issue_date=datetime.date(2026, 3, 3), due_date=datetime.date(2026, 3, 18)
    )
    run_worker()

    run.refresh_from_db()
    assert run.status == BillingRun.Status.DONE and run.bills_created == 3
    sms = Message.objects.filter(channel=Message.Channel.SMS, recipient="+212661000001")
    assert sms.count() == 1  # one message per customer, not per dossier
    assert "Vos 2 factures de février 2026 sont disponibles" in sms.get().body
    assert Message.objects.filter(channel=Message.Channel.BELL, user=user).count() == 1
    assert Message.objects.filter(channel=Message.Channel.EMAIL, recipient="seul@example.ma").count() == 1
    assert not Message.objects.filter(channel=Message.Channel.BELL, user__isnull=True).exists()
    assert Message.objects.filter(channel=Message.Channel.SMS, status=Message.Status.SENT).count() == 2


def test_resume_requeues_a_failed_run():
    electricity()
    run = billing_run_create(
        period_start=FEB, issue_date=datetime.date(2026, 3, 3), due_date=datetime.date(2026, 3, 18), enqueue=False
    )
    billing.billing_run_fail(run_id=run.pk, error="boom")
    run = billing_run_resume(run=run)
    assert run.status == BillingRun.Status.PENDING
    run = billing_run_process(run_id=run.pk)
    assert run.status == BillingRun.Status.DONE


def test_lines_total_the_bill_for_every_bill_of_a_run():
    for i in range(6):
        dossier = electricity() if i % 2 else water()
        read(dossier, datetime.date(2026, 1, 20), 100)
        read(dossier, datetime.date(2026, 2, 20), 100 + 37 * i)
    run_month()
    for bill in Bill.objects.all():
        lines = BillLine.objects.filter(bill=bill)
        assert sum(line.amount_ttc for line in lines) == bill.total_ttc
        assert sum(line.amount_tva for line in lines) == bill.total_tva


def test_demo_billing_bills_twelve_months_with_varied_balances(now):
    from django.core.management import call_command

    from rak_billing.demo import demo_billing_generate
    from rak_customer.demo import demo_data_load

    demo_data_load(count=40, now=now)
    result = demo_billing_generate(months=12, as_of=now.date(), now=now)

    assert result.runs == 12 and result.bills > 12 * 60 and result.payments > 100
    assert BillingRun.objects.filter(status=BillingRun.Status.DONE).count() == 12
    assert Bill.objects.filter(estimated=True).exists()
    open_periods: dict[int, set] = {}
    for customer_id, period in Bill.objects.filter(settled_at__isnull=True).values_list("customer_id", "period_start"):
        open_periods.setdefault(customer_id, set()).add(period)
    customers = set(Bill.objects.values_list("customer_id", flat=True))
    latest_period = max(p for periods in open_periods.values() for p in periods)
    up_to_date = [c for c in customers if open_periods.get(c, set()) <= {latest_period}]
    arrears = [c for c in customers if len(open_periods.get(c, ())) >= 2]
    assert up_to_date and arrears  # some pay each bill, some have impayés
    assert all(customer_balance(c) > 0 for c in arrears)
    latest = BillingRun.objects.order_by("-period_start").first()
    assert Message.objects.filter(kind=f"bill_available:{latest.pk}").exists()  # only the latest month announced
    assert Message.objects.filter(kind__startswith="bill_available:").values("kind").distinct().count() == 1

    bills = Bill.objects.count()
    call_command("demo_billing", if_empty=True, verbosity=0)
    again = demo_billing_generate(months=12, as_of=now.date(), now=now)
    assert again.runs == 0 and Bill.objects.count() == bills


@pytest.mark.django_db(transaction=True)
def test_pipelined_run_writes_on_a_second_connection_and_resumes(monkeypatch):
    """Outside a transaction, a second thread writes chunk n while chunk n + 1 is priced: same
    bills, same gap-free numbers, and a crash in the writer leaves a resumable run."""
    dossiers = [electricity() for _ in range(7)]
    for dossier in dossiers:
        read(dossier, datetime.date(2026, 1, 20), 10)
        read(dossier, datetime.date(2026, 2, 20), 70)
    run = billing_run_create(
        period_start=FEB, issue_date=datetime.date(2026, 3, 3), due_date=datetime.date(2026, 3, 18), enqueue=False
    )
    real_write = billing._write_bills
    calls = {"n": 0}

    def crash_on_third_chunk(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("writer killed")
        return real_write(*args, **kwargs)

    monkeypatch.setattr(billing, "_write_bills", crash_on_third_chunk)
    with pytest.raises(RuntimeError):
        billing_run_process(run_id=run.pk, chunk_size=2, pipeline=True)
    assert Bill.objects.count() == 4

    monkeypatch.setattr(billing, "_write_bills", real_write)
    run = billing_run_process(run_id=run.pk, chunk_size=2, pipeline=True)

    assert run.status == BillingRun.Status.DONE and run.bills_created == 7
    assert sorted(Bill.objects.values_list("number", flat=True)) == [f"F2026-{i:08d}" for i in range(1, 8)]
    assert LedgerEntry.objects.count() == 7
