"""The reminders' job at scale (issue 14): set-based steps — the queries of a run do not grow with
the number of cases, a case × step is done once (ON CONFLICT DO NOTHING, only the rows inserted are
messaged), a failing chunk is rolled back alone, the formal notice letter is rendered by a
background task and registered in the document registry, the job's lease covers a long run."""

from __future__ import annotations

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rak_base.documents import document_read, document_verify, reference_display
from rak_base.models import Document, Message
from rak_base.scheduler import jobs_registered
from rak_collections import reminders
from rak_collections.models import DunningCase, ReminderEvent, ReminderPlan, ReminderStep
from rak_collections.reminders import JOB_NAME, reminder_plan_seed, reminders_run
from tests.billing_factories import bill_create
from tests.factories import DossierFactory, customer_with_account

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


def debtors(count: int, *, start: int, email: bool = False) -> list:
    customers = []
    for i in range(count):
        customer, _user = customer_with_account(
            phone=f"+2126620{start + i:05d}", email=f"client{start + i}@example.ma" if email else None
        )
        dossier = DossierFactory(customer=customer)
        bill_create(dossier=dossier, issue_date=DUE - datetime.timedelta(days=15), due_date=DUE, total_ht="400.00")
        customers.append(customer)
    return customers


def queries_of_a_run(now: datetime.datetime) -> int:
    with CaptureQueriesContext(connection) as context:
        reminders_run(now=now)
    return len(context.captured_queries)


def test_the_queries_of_a_run_do_not_grow_with_the_number_of_cases(plan):
    debtors(5, start=0)
    few = queries_of_a_run(at(3))
    assert ReminderEvent.objects.filter(action="SMS", outcome="SENT").count() == 5
    DunningCase.objects.all().delete()
    Message.objects.all().delete()

    debtors(40, start=100)
    many = queries_of_a_run(at(3))
    assert ReminderEvent.objects.filter(action="SMS", outcome="SENT").count() == 45
    assert few == many, (few, many)
    sms = Message.objects.filter(channel="SMS", kind__startswith="cutoff:reminder")
    assert sms.count() == 45 and sms.filter(status="QUEUED").count() == 45
    assert "472,00 DH" in sms.first().body
    assert Message.objects.filter(channel="BELL", kind__startswith="cutoff:reminder").count() == 45


def test_a_step_already_done_is_not_done_nor_sent_twice(plan):
    (customer,) = debtors(1, start=200)
    reminders_run(now=at(3))
    case = DunningCase.objects.get(customer=customer)
    step = plan.steps.get(position=1)
    row = (case.pk, step.pk, customer.pk, at(3), "SMS", Decimal("472.00"), "SENT", "")
    assert reminders._events_insert([row]) == {}  # the unique case × step: nothing inserted
    reminders_run(now=at(3, hour=15))
    assert ReminderEvent.objects.count() == 1
    assert Message.objects.filter(channel="SMS", kind__startswith="cutoff:reminder").count() == 1


def test_a_failing_chunk_is_rolled_back_alone(plan, monkeypatch):
    customers = debtors(5, start=300)
    monkeypatch.setattr(reminders, "CHUNK_SIZE", 2)
    broken = customers[2].pk
    context = reminders._context

    def failing(case, language):
        if case.customer_id == broken:
            raise RuntimeError("boom")
        return context(case, language)

    monkeypatch.setattr(reminders, "_context", failing)
    report = reminders_run(now=at(3))
    assert "3 relances" in report  # 5 cases in chunks of 2: the chunk of the broken one is lost
    done = set(ReminderEvent.objects.values_list("customer_id", flat=True))
    assert broken not in done and len(done) == 3
    assert not Message.objects.filter(user__portal_account__customer_id=broken).exists()
    monkeypatch.setattr(reminders, "_context", context)
    reminders_run(now=at(3, hour=15))  # the next run does the chunk that failed
    assert ReminderEvent.objects.count() == 5


def test_steps_a_plan_puts_on_the_same_day_are_done_in_one_run(plan):
    ReminderStep.objects.filter(plan=plan, position=2).update(days_after_due=3)
    (customer,) = debtors(1, start=400, email=True)
    reminders_run(now=at(3))
    case = DunningCase.objects.get(customer=customer)
    assert sorted(case.events.values_list("action", flat=True)) == ["EMAIL", "SMS"]


def test_the_formal_notice_letter_is_rendered_by_the_task_and_registered(plan, run_worker):
    customers = debtors(3, start=500, email=True)
    for day in (3, 10, 20):
        reminders_run(now=at(day))
    notices = list(ReminderEvent.objects.filter(action="FORMAL_NOTICE").select_related("case"))
    assert len(notices) == 3 and all(event.outcome == "SENT" for event in notices)
    # the messages carry the letter's reference at once; the letter comes with the worker
    for event in notices:
        reference = event.detail.removeprefix("Lettre ")
        email = Message.objects.get(
            channel="EMAIL", kind=f"cutoff:reminder:{event.case_id}", subject__startswith="Mise"
        )
        assert reference in email.body
    assert not Document.objects.filter(kind=Document.Kind.OTHER).exists()

    run_worker()
    for event, customer in zip(sorted(notices, key=lambda e: e.customer_id), customers, strict=True):
        letter = Document.objects.get(kind=Document.Kind.OTHER, subject_id=str(event.pk))
        assert reference_display(letter.reference) == event.detail.removeprefix("Lettre ")
        assert letter.owner.portal_account.customer == customer
        assert document_read(letter)[:4] == b"%PDF"
        assert document_verify(letter.reference).authentic
    # the task again (a duplicate): nothing registered twice
    event = notices[0]
    assert not reminders.formal_notice_letter_make(event_id=event.pk, reference="0" * 12, deadline=DUE, language="fr")
    assert Document.objects.filter(kind=Document.Kind.OTHER).count() == 3


def test_the_job_lease_covers_a_long_run():
    assert jobs_registered()[JOB_NAME].lease >= datetime.timedelta(hours=3)


def test_a_letter_whose_task_was_lost_is_rendered_again_by_a_later_run(plan, run_worker, monkeypatch):
    """A worker killed with the letters' task (or the task failed): an hour later the job gives the
    missing letters to the worker again, from what the event kept; never twice."""
    debtors(2, start=600, email=True)
    lost = []

    class LostTask:  # the worker that took the task died with it
        @staticmethod
        def enqueue(letters):
            lost.append(letters)

    real_task = reminders.formal_notice_letters_task
    monkeypatch.setattr(reminders, "formal_notice_letters_task", LostTask)
    for day in (3, 10, 20):
        reminders_run(now=at(day))
    assert len(lost) == 1 and len(lost[0]) == 2  # given to a worker that never ran it
    events = ReminderEvent.objects.filter(action="FORMAL_NOTICE")
    assert all(event.letter and event.letter[0] for event in events)
    monkeypatch.setattr(reminders, "formal_notice_letters_task", real_task)

    reminders_run(now=at(20) + datetime.timedelta(minutes=30))  # within the hour: not yet
    run_worker()
    assert not Document.objects.filter(kind=Document.Kind.OTHER).exists()
    reminders_run(now=at(20, hour=12))
    run_worker()
    letters = Document.objects.filter(kind=Document.Kind.OTHER)
    assert sorted(letters.values_list("subject_id", flat=True)) == sorted(str(e.pk) for e in events)
    reminders_run(now=at(21))  # once registered, never again
    run_worker()
    assert Document.objects.filter(kind=Document.Kind.OTHER).count() == 2
