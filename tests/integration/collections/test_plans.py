"""Payment plans (échéanciers): grant (credit notes + instalment bills, ledger unchanged), completion
through the « facture réglée » hook, broken plans by the scheduler, cancellation, hostile input."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db.models import Sum

from rak_base.hooks import hook_fire
from rak_base.models import Message
from rak_billing.api import HOOK_BILLS_SETTLED, customer_balance, payment_record, payment_reverse
from rak_billing.models import Bill, LedgerEntry, Payment
from rak_collections.models import Instalment, PaymentPlan
from rak_collections.plans import (
    PlanActionRefused,
    PlanRefused,
    add_months,
    payment_plan_cancel,
    payment_plan_grant,
    plans_break_overdue,
    split_amount,
)
from tests.billing_factories import bill_create
from tests.factories import DossierFactory, EmailFactory, PhoneFactory, staff_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(db):
    return staff_in("recouvrement", first_name="Samira", last_name="Alaoui")


@pytest.fixture
def debtor(db):
    dossier = DossierFactory()
    customer = dossier.customer
    PhoneFactory(customer=customer, value="+212612000111")
    EmailFactory(customer=customer, value="debiteur@example.ma")
    bills = [
        bill_create(dossier=dossier, period_start=datetime.date(2025, month, 1), total_ht="1000.00")
        for month in (9, 10, 11)
    ]  # 1180.00 TTC each, all overdue on 2 March 2026
    return customer, bills


def grant(customer, bills, agent, now, **kwargs):
    values = {
        "instalments": 6,
        "first_due_date": datetime.date(2026, 3, 31),
        "down_payment": Decimal("0"),
        "reason": "accord au guichet",
    }
    values.update(kwargs)
    return payment_plan_grant(customer=customer, bills=bills, by=agent, now=now, **values)


def test_split_to_the_centime_last_takes_the_remainder():
    assert split_amount(Decimal("100.00"), 3) == [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")]
    assert sum(split_amount(Decimal("3540.01"), 24)) == Decimal("3540.01")
    assert add_months(datetime.date(2026, 1, 31), 1) == datetime.date(2026, 2, 28)


def test_grant_closes_the_bills_by_credit_notes_and_bills_instalments(debtor, agent, now):
    customer, bills = debtor
    bill_create(customer=customer, dossier=bills[0].dossier, period_start=datetime.date(2026, 2, 1))  # not covered
    before = customer_balance(customer)
    entries_before = LedgerEntry.objects.filter(customer=customer).count()

    plan = grant(customer, bills, agent, now, instalments=7, down_payment=Decimal("540.00"))

    assert plan.status == PaymentPlan.Status.ACTIVE
    assert plan.total_amount == Decimal("3540.00")
    assert plan.number.startswith("ECH2026-")
    # the ledger's sum is unchanged: credit notes (−3540) and instalments (+3540)
    assert customer_balance(customer) == before
    assert LedgerEntry.objects.filter(customer=customer).count() == entries_before + 3 + 8
    for bill in bills:
        bill.refresh_from_db()
        assert bill.settled_at is not None  # closed by its credit note, amount untouched
        assert bill.total_ttc == Decimal("1180.00")
        assert bill.credit_notes.get().total_ttc == Decimal("1180.00")
    instalments = list(plan.instalments.select_related("bill").order_by("position"))
    assert [i.position for i in instalments] == list(range(8))
    assert instalments[0].amount == Decimal("540.00") and instalments[0].due_date == datetime.date(2026, 3, 2)
    assert [i.amount for i in instalments[1:]] == [Decimal("428.57")] * 6 + [Decimal("428.58")]
    assert [i.due_date for i in instalments[1:3]] == [datetime.date(2026, 3, 31), datetime.date(2026, 4, 30)]
    for instalment in instalments:
        assert instalment.bill.kind == Bill.Kind.INSTALMENT
        assert instalment.bill.total_tva == 0 and instalment.bill.total_ttc == instalment.amount
        assert instalment.bill.due_date == instalment.due_date
        assert instalment.bill.number.startswith("F2026-")
    assert sum(i.amount for i in instalments) == plan.total_amount
    # the customer hears of the schedule (SMS, e-mail, bell)
    sms = Message.objects.get(kind="payment_plan", channel="SMS")
    assert plan.number in sms.body and "7 echeances" in sms.body
    email = Message.objects.get(kind="payment_plan", channel="EMAIL")
    assert "31/03/2026" in email.body and "428,58" in email.body


def test_grant_in_the_customers_language(debtor, agent, now):
    customer, bills = debtor
    customer.language = "en"
    customer.save(update_fields=["language"])
    grant(customer, bills, agent, now)
    email = Message.objects.get(kind="payment_plan", channel="EMAIL")
    assert email.body  # translated once the catalogues are merged; the schedule is in it anyway
    assert "ECH2026-" in email.subject


def test_completed_when_every_instalment_is_paid_and_hook_is_idempotent(debtor, agent, now):
    customer, bills = debtor
    plan = grant(customer, bills, agent, now, instalments=2)
    paid_at = now + datetime.timedelta(days=1)
    payment_record(customer=customer, amount=Decimal("1770.00"), method="CASH", paid_at=paid_at)
    plan.refresh_from_db()
    assert plan.status == PaymentPlan.Status.ACTIVE
    payment_record(customer=customer, amount=Decimal("1770.00"), method="CASH", paid_at=paid_at)
    plan.refresh_from_db()
    assert plan.status == PaymentPlan.Status.COMPLETED
    assert plan.closed_at == paid_at
    assert customer_balance(customer) == 0
    ids = list(Instalment.objects.filter(plan=plan).values_list("bill_id", flat=True))
    hook_fire(HOOK_BILLS_SETTLED, bill_ids=ids, customer_id=customer.pk, customer_ids=[customer.pk])
    plan.refresh_from_db()
    assert plan.status == PaymentPlan.Status.COMPLETED and plan.closed_at == paid_at


def test_reversed_payment_reopens_a_completed_plan(debtor, agent, now):
    customer, bills = debtor
    plan = grant(customer, bills, agent, now, instalments=2)
    payment = payment_record(customer=customer, amount=Decimal("3540.00"), method="CHEQUE", paid_at=now)
    plan.refresh_from_db()
    assert plan.status == PaymentPlan.Status.COMPLETED
    payment_reverse(payment=payment, reason="chèque impayé", by=agent, at=now + datetime.timedelta(hours=2))
    plan.refresh_from_db()
    assert plan.status == PaymentPlan.Status.ACTIVE and plan.closed_at is None


def test_broken_by_the_scheduler_after_the_grace_days(debtor, agent, now, settings):
    settings.COLLECTIONS_PLAN_BROKEN_AFTER_DAYS = 10
    customer, bills = debtor
    recouvrement = staff_in("recouvrement", email="recouvrement@rak.ma")
    plan = grant(customer, bills, agent, now, instalments=3)
    first_due = datetime.date(2026, 3, 31)
    on_time = datetime.datetime(2026, 4, 10, 8, tzinfo=now.tzinfo)  # due + 10 days: not yet
    assert "0 échéancier(s) rompu(s)" in plans_break_overdue(now=on_time)
    plan.refresh_from_db()
    assert plan.status == PaymentPlan.Status.ACTIVE
    late = datetime.datetime(2026, 4, 11, 8, tzinfo=now.tzinfo)
    assert "1 échéancier(s) rompu(s)" in plans_break_overdue(now=late)
    plan.refresh_from_db()
    assert plan.status == PaymentPlan.Status.BROKEN and plan.broken_at == late
    assert f"{first_due:%d/%m/%Y}" in plan.close_reason
    assert Message.objects.filter(user=recouvrement, channel="BELL", kind="payment_plan").exists()
    assert Message.objects.filter(recipient="recouvrement@rak.ma", channel="EMAIL").exists()
    assert Message.objects.filter(recipient="+212612000111", body__contains="rompu").exists()
    # once only
    assert "0 échéancier(s) rompu(s) sur 0" in plans_break_overdue(now=late + datetime.timedelta(days=1))
    assert Message.objects.filter(recipient="+212612000111", body__contains="rompu").count() == 1


def test_cancel_needs_a_reason_and_keeps_the_instalments(debtor, agent, now):
    customer, bills = debtor
    plan = grant(customer, bills, agent, now)
    with pytest.raises(PlanActionRefused, match="motif"):
        payment_plan_cancel(plan=plan, reason="  ", by=agent, now=now)
    balance = customer_balance(customer)
    payment_plan_cancel(plan=plan, reason="client parti", by=agent, now=now)
    plan.refresh_from_db()
    assert plan.status == PaymentPlan.Status.CANCELLED and "client parti" in plan.close_reason
    assert customer_balance(customer) == balance
    with pytest.raises(PlanActionRefused):
        payment_plan_cancel(plan=plan, reason="encore", by=agent, now=now)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"instalments": 0}, "entre 2 et 24"),
        ({"instalments": 1}, "entre 2 et 24"),
        ({"instalments": 25}, "entre 2 et 24"),
        ({"instalments": "abc"}, "nombre entier"),
        ({"instalments": None}, "nombre entier"),
        ({"first_due_date": datetime.date(2026, 3, 1)}, "dans le passé"),
        ({"first_due_date": datetime.date(2031, 1, 1)}, "au plus tard"),
        ({"first_due_date": None}, "date de la première échéance"),
        ({"down_payment": Decimal("-5")}, "négatif"),
        ({"down_payment": Decimal("3540.00")}, "inférieur à la dette"),
        ({"down_payment": Decimal("1e30")}, "trop élevé"),
        ({"down_payment": "NaN"}, "Montant invalide"),
        ({"down_payment": "douze"}, "Montant invalide"),
        ({"down_payment": "Infinity"}, "Montant invalide"),
    ],
)
def test_hostile_terms_are_refused_with_a_message(debtor, agent, now, kwargs, message):
    customer, bills = debtor
    balance = customer_balance(customer)
    with pytest.raises(PlanRefused, match=message):
        grant(customer, bills, agent, now, **kwargs)
    assert not PaymentPlan.objects.exists()
    assert customer_balance(customer) == balance
    assert not Bill.objects.filter(kind__in=["CREDIT_NOTE", "INSTALMENT"]).exists()


def test_refused_bills(debtor, agent, now, settings):
    customer, bills = debtor
    other = bill_create(period_start=datetime.date(2025, 9, 1))
    with pytest.raises(PlanRefused, match="n'appartient pas"):
        grant(customer, [*bills, other], agent, now)
    with pytest.raises(PlanRefused, match="au moins une facture"):
        grant(customer, [], agent, now)
    with pytest.raises(PlanRefused, match="n'appartient pas"):
        grant(customer, [999999999], agent, now)
    settings.COLLECTIONS_PLAN_MIN_DEBT = Decimal("2000")
    with pytest.raises(PlanRefused, match="au moins 2"):
        grant(customer, bills[:1], agent, now)
    payment_record(customer=customer, amount=Decimal("1180.00"), method="CASH", paid_at=now)  # pays bills[0]
    with pytest.raises(PlanRefused, match="déjà réglée"):
        grant(customer, bills, agent, now)
    grant(customer, bills[1:], agent, now)
    with pytest.raises(PlanRefused, match="déjà un échéancier en cours"):
        grant(customer, bills[1:], agent, now)


def test_partly_paid_bill_covers_its_open_amount(debtor, agent, now):
    customer, bills = debtor
    payment_record(customer=customer, amount=Decimal("180.00"), method="CASH", paid_at=now)  # on bills[0]
    before = customer_balance(customer)
    plan = grant(customer, bills, agent, now)
    assert plan.total_amount == Decimal("3360.00")
    assert plan.covered.get(bill=bills[0]).amount == Decimal("1000.00")
    assert customer_balance(customer) == before
    assert LedgerEntry.objects.filter(customer=customer).aggregate(s=Sum("amount"))["s"] == before
    assert Payment.objects.count() == 1


def test_wired_at_start_up_and_the_hook_costs_one_query_for_other_bills(debtor, django_assert_num_queries):
    from rak_base.scheduler import jobs_registered
    from rak_collections.plans import plans_complete_settled

    assert "collections_plans_broken" in jobs_registered()
    _customer, bills = debtor
    with django_assert_num_queries(1):
        assert plans_complete_settled(bill_ids=[b.pk for b in bills] * 2000) == []
