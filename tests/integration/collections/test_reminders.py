"""Reminders (issue 14): the job opens one case per customer from the plan's minimum, does each
step once (idempotent, spaced as the plan says), skips customers under a payment plan, drops the
customers who pay; the back office edits plans (hostile input refused in French, never a 500) and
lists the dunning cases with their events."""

from __future__ import annotations

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from rak_base.models import Message
from rak_billing.api import payment_record_staff
from rak_billing.models import Payment
from rak_collections.models import DunningCase, PaymentPlan, ReminderEvent, ReminderPlan, ReminderStep
from rak_collections.reminders import reminder_plan_seed, reminders_run
from tests.billing_factories import bill_create
from tests.factories import CompanyFactory, DossierFactory, customer_with_account, staff_in

pytestmark = pytest.mark.django_db

CASABLANCA = ZoneInfo("Africa/Casablanca")
DUE = datetime.date(2026, 2, 1)


def at(days: int, hour: int = 9) -> datetime.datetime:
    day = DUE + datetime.timedelta(days=days)
    return datetime.datetime(day.year, day.month, day.day, hour, tzinfo=CASABLANCA)


@pytest.fixture
def plan() -> ReminderPlan:
    reminder_plan_seed()
    return ReminderPlan.objects.get(name="Plan de relance standard")


def debtor(phone: str, *, total_ht: str = "400.00", due: datetime.date = DUE, **kwargs):
    customer, user = customer_with_account(phone=phone, **kwargs)
    dossier = DossierFactory(customer=customer)
    bill = bill_create(dossier=dossier, issue_date=due - datetime.timedelta(days=15), due_date=due, total_ht=total_ht)
    return customer, bill


def test_seed_is_idempotent_and_matches_the_default_plan(plan):
    assert reminder_plan_seed() is None
    assert ReminderPlan.objects.count() == 1
    steps = list(plan.steps.values_list("days_after_due", "action"))
    assert steps == [(3, "SMS"), (10, "EMAIL"), (20, "FORMAL_NOTICE"), (30, "CUTOFF")]
    assert plan.min_amount == Decimal("50.00")
    assert plan.cut_fee == Decimal("100.00")  # rak.conf [collections] cut_fee


def test_job_opens_one_case_from_the_minimum_and_sends_each_step_once(plan):
    customer, bill = debtor("+212661000401")
    small, _bill = debtor("+212661000402", total_ht="30.00")  # 35,40 DH: under 50 DH
    not_yet, _bill = debtor("+212661000403", due=DUE + datetime.timedelta(days=5))

    report = reminders_run(now=at(3))
    assert "1 ouverts, 1 relances" in report
    case = DunningCase.objects.get()
    assert case.customer == customer and case.oldest_due_date == DUE and case.amount_due == bill.total_ttc
    event = case.events.get()
    assert (event.action, event.outcome, event.customer) == ("SMS", "SENT", customer)
    assert Message.objects.filter(recipient="+212661000401", kind=f"cutoff:reminder:{case.pk}").count() == 1

    # twice the same day, and again later the same day: nothing twice
    reminders_run(now=at(3, hour=10))
    reminders_run(now=at(4))
    assert ReminderEvent.objects.count() == 1
    assert DunningCase.objects.count() == 1
    assert Message.objects.filter(channel="SMS", kind__startswith="cutoff:reminder").count() == 1


def test_a_case_opened_on_an_old_debt_starts_with_the_first_step(plan):
    debtor("+212661000404", due=DUE - datetime.timedelta(days=60))
    reminders_run(now=at(0))
    case = DunningCase.objects.get()
    assert list(case.events.values_list("action", flat=True)) == ["SMS"]  # not a cut-off at once
    reminders_run(now=at(6))  # 6 days after the SMS: too soon (the plan spaces them by 7)
    assert case.events.count() == 1
    reminders_run(now=at(7))  # 7 days after the SMS: the e-mail
    assert sorted(case.events.values_list("action", flat=True)) == ["EMAIL", "SMS"]
    reminders_run(now=at(12))  # only 5 days after the e-mail: nothing more
    assert case.events.count() == 2


def test_paying_drops_out_at_once(plan):
    customer, bill = debtor("+212661000405")
    staff = staff_in("recouvrement")
    reminders_run(now=at(3))
    case = DunningCase.objects.get()
    payment_record_staff(
        customer=customer,
        amount=bill.total_ttc,
        method=Payment.Method.CASH,
        paid_at=at(5),
        now=at(5),
        received_by=staff,
    )
    case.refresh_from_db()
    assert case.status == DunningCase.Status.PAID and case.close_reason
    reminders_run(now=at(12))
    assert case.events.count() == 1
    assert not DunningCase.objects.filter(status="OPEN").exists()


def test_partial_payment_under_the_minimum_closes_the_case_in_the_job(plan):
    customer, bill = debtor("+212661000406")
    reminders_run(now=at(3))
    payment_record_staff(
        customer=customer,
        amount=bill.total_ttc - Decimal("20.00"),
        method=Payment.Method.CASH,
        paid_at=at(4),
        now=at(4),
        received_by=staff_in("recouvrement"),
    )
    assert DunningCase.objects.get().status == DunningCase.Status.OPEN  # no bill settled: no hook
    reminders_run(now=at(5))
    case = DunningCase.objects.get()
    assert case.status == DunningCase.Status.PAID  # 20 DH left, under the 50 DH minimum
    assert case.events.count() == 1


def test_customers_under_an_active_payment_plan_are_skipped(plan):
    customer, _bill = debtor("+212661000407")
    other, _bill2 = debtor("+212661000408")
    reminders_run(now=at(3))
    staff = staff_in("recouvrement")
    PaymentPlan.objects.create(
        number="ECH-T-1",
        customer=customer,
        total_amount=Decimal("472.00"),
        instalments_count=3,
        first_due_date=DUE + datetime.timedelta(days=30),
        created_at=at(4),
        created_by=staff,
    )
    reminders_run(now=at(10))
    case = DunningCase.objects.get(customer=customer)
    assert case.status == DunningCase.Status.PLAN
    assert case.events.count() == 1  # the SMS before the plan, nothing after
    assert DunningCase.objects.get(customer=other).events.count() == 2
    reminders_run(now=at(11))
    assert DunningCase.objects.filter(customer=customer).count() == 1  # no new case while the plan holds


def test_a_plan_per_customer_kind_and_its_own_minimum(plan):
    company_plan = ReminderPlan.objects.create(name="Entreprises", customer_kind="ENTREPRISE", min_amount=1000)
    ReminderStep.objects.create(plan=company_plan, position=1, days_after_due=1, action="EMAIL")
    company = CompanyFactory()
    bill_create(dossier=DossierFactory(customer=company), issue_date=DUE, due_date=DUE, total_ht="500.00")
    reminders_run(now=at(5))
    assert not DunningCase.objects.filter(customer=company).exists()  # 590 DH < 1 000 DH


def test_no_contact_is_logged(plan):
    customer = DossierFactory().customer  # no phone, no e-mail, no portal account
    bill_create(dossier=customer.dossiers.get(), issue_date=DUE, due_date=DUE, total_ht="400.00")
    reminders_run(now=at(3))
    event = ReminderEvent.objects.get()
    assert (event.customer, event.outcome) == (customer, "NO_CONTACT")


# --- back office ---------------------------------------------------------------------------------------


def test_recouvrement_lists_cases_with_their_events(client, plan, django_assert_max_num_queries):
    for i in range(5):
        debtor(f"+21266100041{i}")
    reminders_run(now=at(3))
    staff_in("recouvrement", client=client)
    url = reverse("admin:rak_collections_dunningcase_changelist")
    with django_assert_max_num_queries(30):
        response = client.get(url, {"status": "OPEN", "plan__id__exact": plan.pk})
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("SMS de rappel") >= 5
    case = DunningCase.objects.first()
    response = client.get(reverse("admin:rak_collections_dunningcase_change", args=[case.pk]))
    assert response.status_code == 200
    assert case.customer.code in response.content.decode()
    # hostile filters and search never make a 500
    for params in ({"status": "<script>"}, {"plan__id__exact": "abc"}, {"q": "' OR 1=1 --" * 5}):
        assert client.get(url, params).status_code in (200, 302)
    assert client.get(reverse("admin:rak_collections_dunningcase_change", args=["abc"])).status_code in (302, 404)


def test_events_are_read_only_and_cases_cannot_be_added(client, plan):
    staff_in("recouvrement", client=client)
    assert client.get(reverse("admin:rak_collections_dunningcase_add")).status_code == 403


def _plan_post(plan, **overrides):
    data = {
        "name": plan.name,
        "customer_kind": "",
        "min_amount": "50.00",
        "cut_fee": "100.00",
        "is_active": "on",
        "steps-TOTAL_FORMS": "4",
        "steps-INITIAL_FORMS": "4",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
    }
    for i, step in enumerate(plan.steps.order_by("position")):
        data.update(
            {
                f"steps-{i}-id": str(step.pk),
                f"steps-{i}-plan": str(plan.pk),
                f"steps-{i}-position": str(step.position),
                f"steps-{i}-days_after_due": str(step.days_after_due),
                f"steps-{i}-action": step.action,
                f"steps-{i}-label": step.label,
            }
        )
    data.update(overrides)
    return data


def test_recouvrement_edits_a_plan_and_hostile_input_is_refused(client, plan):
    staff_in("recouvrement", client=client)
    url = reverse("admin:rak_collections_reminderplan_change", args=[plan.pk])
    response = client.post(url, _plan_post(plan, min_amount="80.00", **{"steps-0-days_after_due": "5"}))
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.min_amount == Decimal("80.00")
    assert plan.steps.get(position=1).days_after_due == 5

    hostile = [
        {"min_amount": "-10"},
        {"min_amount": "abc"},
        {"cut_fee": "-1"},
        {"min_amount": "1" * 40},
        {"steps-0-days_after_due": "-3"},
        {"steps-0-days_after_due": "99999999"},
        {"steps-1-action": "DELETE_ALL"},
        {"steps-1-position": "1"},  # two steps at position 1
        {"customer_kind": "<script>alert(1)</script>"},
        {"steps-TOTAL_FORMS": "abc"},
    ]
    for overrides in hostile:
        response = client.post(url, _plan_post(plan, **overrides))
        assert response.status_code in (200, 400), overrides
    plan.refresh_from_db()
    assert plan.min_amount == Decimal("80.00")
    assert sorted(plan.steps.values_list("position", flat=True)) == [1, 2, 3, 4]
    assert plan.steps.get(position=2).action == "EMAIL"


def test_accueil_cannot_edit_plans(client, plan):
    staff_in("accueil", client=client)
    response = client.get(reverse("admin:rak_collections_reminderplan_change", args=[plan.pk]))
    assert response.status_code in (302, 403)


def test_a_payment_plan_settling_the_bills_marks_the_case_plan_not_paid(plan):
    from rak_billing.api import credit_note_issue

    customer, bill = debtor("+212661000420")
    reminders_run(now=at(3))
    PaymentPlan.objects.create(
        number="ECH-T-2",
        customer=customer,
        total_amount=bill.total_ttc,
        instalments_count=2,
        first_due_date=DUE + datetime.timedelta(days=30),
        created_at=at(4),
        created_by=staff_in("recouvrement"),
    )
    # the plan covers the overdue bill with a credit note (rak_collections.plans): « facture réglée »
    credit_note_issue(bill=bill, reason="Échéancier ECH-T-2", issue_date=at(4).date(), now=at(4))
    case = DunningCase.objects.get(customer=customer)
    assert case.status == DunningCase.Status.PLAN


def test_a_run_with_nothing_due_costs_a_fixed_number_of_queries(plan, django_assert_max_num_queries):
    for i in range(6):
        debtor(f"+21266100043{i}", due=DUE - datetime.timedelta(days=60))  # every step's day has come
    reminders_run(now=at(0))
    assert ReminderEvent.objects.count() == 6  # the SMS each, the e-mail waits for the plan's spacing
    with django_assert_max_num_queries(12):
        reminders_run(now=at(3))
    assert ReminderEvent.objects.count() == 6


def test_formal_notice_letter_in_the_customers_language_and_in_the_back_office(client, plan, run_worker):
    customer, _bill = debtor("+212661000440", email="nadia@example.ma", language="ar")
    for day in (3, 10, 20):
        reminders_run(now=at(day))
    case = DunningCase.objects.get(customer=customer)
    notice = case.events.get(action="FORMAL_NOTICE")
    assert notice.outcome == "SENT" and notice.detail.startswith("Lettre ")
    staff_in("recouvrement", client=client)
    # the letter is rendered by a background task: not there before the worker ran
    assert client.get(reverse("admin:rak_collections_dunningcase_notice_pdf", args=[case.pk])).status_code == 404
    run_worker()
    response = client.get(reverse("admin:rak_collections_dunningcase_notice_pdf", args=[case.pk]))
    assert response.status_code == 200
    pdf = b"".join(response.streaming_content) if response.streaming else response.content
    assert pdf[:4] == b"%PDF"
    # a case without a letter: 404, not a 500
    other, _bill2 = debtor("+212661000441")
    reminders_run(now=at(21))
    other_case = DunningCase.objects.get(customer=other)
    assert client.get(reverse("admin:rak_collections_dunningcase_notice_pdf", args=[other_case.pk])).status_code == 404
