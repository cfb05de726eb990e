"""The collections desk end to end (issue 14, « done when »): a reminder plan runs through the
scheduler (``jobs_run_due`` with an advancing ``now``) — SMS at J+3, e-mail at J+10, formal notice
at J+20, cut-off order at J+30 —, the technical team cuts the supply, the customer pays at the
counter (rak_billing's payment service) and a reconnection order is issued the same day; once
done the dossier is active again and the reminders stop."""

from __future__ import annotations

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from rak_base.models import Document, Message, ScheduledJob
from rak_base.scheduler import jobs_run_due, jobs_sync
from rak_billing.api import customer_balance, payment_record_staff
from rak_billing.models import Bill, Payment
from rak_collections.cutoffs import cutoff_order_execute, reconnection_order_execute
from rak_collections.models import CutoffOrder, DunningCase, ReconnectionOrder, ReminderEvent
from rak_collections.reminders import JOB_NAME, reminder_plan_seed
from rak_customer.models import Dossier
from tests.billing_factories import bill_create
from tests.factories import DossierFactory, customer_with_account, staff_in

pytestmark = pytest.mark.django_db

CASABLANCA = ZoneInfo("Africa/Casablanca")
DUE = datetime.date(2026, 2, 1)


def at(days_after_due: int, hour: int = 9) -> datetime.datetime:
    day = DUE + datetime.timedelta(days=days_after_due)
    return datetime.datetime(day.year, day.month, day.day, hour, 0, tzinfo=CASABLANCA)


def run_scheduler(now: datetime.datetime) -> list[str]:
    """The scheduler as a worker runs it, only the reminders' job enabled (the other addons' jobs
    have their own tests)."""
    jobs_sync(now=now)
    ScheduledJob.objects.exclude(name=JOB_NAME).update(enabled=False)
    return jobs_run_due(now=now, worker="test")


def test_reminder_plan_to_cutoff_and_back_to_reconnection_on_payment(run_worker):
    reminder_plan_seed()
    customer, user = customer_with_account(phone="+212661000301", email="samira@example.ma", first_name="Samira")
    dossier = DossierFactory(customer=customer)
    bill = bill_create(dossier=dossier, issue_date=DUE - datetime.timedelta(days=15), due_date=DUE, total_ht="400.00")
    technician = staff_in("technique", username="tech1")
    cashier = staff_in("recouvrement", username="caisse1")

    # J+1: the case opens, nothing is sent yet
    assert run_scheduler(at(1)) == [JOB_NAME]
    case = DunningCase.objects.get(customer=customer)
    assert case.status == DunningCase.Status.OPEN
    assert case.amount_due == bill.total_ttc
    assert not ReminderEvent.objects.exists()

    # J+3: SMS (and the bell); the same day again: nothing twice
    run_scheduler(at(3))
    run_scheduler(at(3, hour=16))
    assert list(case.events.values_list("action", flat=True)) == ["SMS"]
    sms = Message.objects.filter(channel=Message.Channel.SMS, kind__startswith="cutoff:reminder")
    assert sms.count() == 1
    assert "472,00 DH" in sms.get().body

    # J+10: e-mail; J+20: formal notice (PDF letter in the document registry, e-mail + bell + SMS)
    run_scheduler(at(10))
    run_scheduler(at(20))
    run_worker()  # the letter is rendered by a background task
    assert list(case.events.order_by("at").values_list("action", flat=True)) == ["SMS", "EMAIL", "FORMAL_NOTICE"]
    notice = case.events.get(action="FORMAL_NOTICE")
    letter = Document.objects.get(kind=Document.Kind.OTHER, subject_id=str(notice.pk))
    assert letter.owner == user
    assert letter.file.read()[:4] == b"%PDF"
    assert Message.objects.filter(channel=Message.Channel.EMAIL, subject__startswith="Mise en demeure").count() == 1

    # J+30: the cut-off order, the « avis de coupure » sent
    run_scheduler(at(30))
    order = CutoffOrder.objects.get(customer=customer)
    assert order.status == CutoffOrder.Status.ISSUED
    assert order.case == case and order.dossier == dossier and order.amount_due == bill.total_ttc
    assert case.events.get(action="CUTOFF").detail == order.number
    assert Message.objects.filter(kind=f"cutoff:order:{order.pk}", channel=Message.Channel.SMS).exists()
    run_scheduler(at(31, hour=7))  # nothing twice
    assert CutoffOrder.objects.filter(customer=customer).count() == 1 and case.events.count() == 4

    # J+31: the technical team cut the supply: dossier suspended, « frais de coupure » billed
    cutoff_order_execute(order=order, now=at(31, hour=11), by=technician, meter_index=Decimal("1234.5"))
    order.refresh_from_db()
    dossier.refresh_from_db()
    assert dossier.status == Dossier.Status.SUSPENDED
    fee = order.fee_bill
    assert fee.kind == Bill.Kind.CUT_FEE and fee.total_ht == Decimal("100.00") and fee.total_ttc > fee.total_ht
    assert customer_balance(customer) == bill.total_ttc + fee.total_ttc

    # J+32: the customer pays everything at the counter: reconnection order, due the same day
    paid_at = at(32, hour=10)
    payment_record_staff(
        customer=customer,
        amount=customer_balance(customer),
        method=Payment.Method.CASH,
        paid_at=paid_at,
        now=paid_at,
        received_by=cashier,
    )
    reconnection = ReconnectionOrder.objects.get(cutoff=order)
    assert reconnection.status == ReconnectionOrder.Status.ISSUED
    assert reconnection.due_at.astimezone(CASABLANCA).date() == paid_at.date()
    assert reconnection.due_at - paid_at < datetime.timedelta(hours=14)
    case.refresh_from_db()
    assert case.status == DunningCase.Status.PAID
    assert Message.objects.filter(kind=f"cutoff:reconnection:{reconnection.pk}", channel="SMS").exists()

    reconnection_order_execute(order=reconnection, now=at(32, hour=15), by=technician)
    dossier.refresh_from_db()
    assert dossier.status == Dossier.Status.ACTIVE
    operations = list(dossier.history.order_by("history_date").values_list("status", flat=True))
    assert operations[-2:] == ["SUSPENDED", "ACTIVE"]

    # the reminders stopped: later runs send nothing more
    before = Message.objects.count()
    run_scheduler(at(45))
    assert Message.objects.count() == before
    assert DunningCase.objects.filter(customer=customer, status="OPEN").count() == 0
