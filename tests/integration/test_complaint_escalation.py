"""SLA escalation of complaints (rak_requests.complaints.escalation): once per breach (first answer,
then closure), reopening allows a new one, the supervisors and the agent in charge alerted once,
failures isolated per complaint — and the job run by a real ``manage.py rak_worker`` process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import Q

from rak_base import clock, scheduler
from rak_base.models import Message, ScheduledJob
from rak_requests.complaint_models import Complaint, ComplaintCategory, ComplaintEntry
from rak_requests.complaints import services
from rak_requests.complaints.escalation import JOB_NAME, complaints_escalate_overdue
from tests.factories import StaffFactory, customer_with_account
from tests.integration.test_scheduler import ROOT, _database_url, wait_for


def supervisor(**kwargs):
    user = StaffFactory(**kwargs)
    user.groups.set(Group.objects.filter(name="superviseur"))
    return user


def _file(now, *, customer=None, user=None, category="facturation"):
    filing = services.ComplaintFiling(
        category=ComplaintCategory.objects.get(code=category),
        name="Amina Alaoui",
        phone="",
        message="Facture trop élevée.",
    )
    staff = None if customer is not None else StaffFactory()  # filed at the counter
    return services.complaint_file(filing=filing, customer=customer, user=user, staff_user=staff, now=now)


def _escalations(complaint):
    return list(complaint.entries.filter(kind=ComplaintEntry.Kind.ESCALATED).order_by("at", "id"))


def _alerts(user, complaint, channel="BELL"):
    """The escalation alerts ``user`` got about ``complaint`` (not the assignment's or reopening's)."""
    rows = Message.objects.filter(channel=channel, user=user, subject__contains=complaint.number)
    return rows.filter(Q(subject__contains="en retard") | Q(subject__contains="sans première réponse")).count()


@pytest.mark.django_db
def test_each_breach_is_escalated_once_and_alerts_once(now):
    chief = supervisor(email="chef@rak.ma")
    agent = StaffFactory()
    customer, _user = customer_with_account()
    complaint = _file(now, customer=customer)
    services.complaint_assign(complaint_id=complaint.pk, staff_user=chief, assignee=agent, now=now)
    Complaint.objects.filter(pk=complaint.pk).update(first_answered_at=None)  # assigned, never answered
    complaint.refresh_from_db()
    on_time = _file(now, customer=customer)

    # before the first-answer deadline: nothing
    assert complaints_escalate_overdue(now=complaint.first_answer_due_at - timedelta(minutes=1)) == 0

    # first breach: no answer in time
    first = complaint.first_answer_due_at + timedelta(minutes=5)
    services.complaint_reply(
        complaint_id=on_time.pk, staff_user=agent, body="Nous étudions votre facture.", now=first - timedelta(hours=1)
    )
    assert complaints_escalate_overdue(now=first) == 1
    complaint.refresh_from_db()
    assert complaint.escalated_at == first
    (entry,) = _escalations(complaint)
    assert entry.internal and entry.actor_kind == "SYSTEM" and "première réponse" in entry.body
    assert entry.data["breach"] == "first_answer"
    assert _alerts(chief, complaint) == 1 and _alerts(agent, complaint) == 1
    assert (
        Message.objects.filter(channel="EMAIL", recipient="chef@rak.ma", subject__contains=complaint.number).count()
        == 1
    )
    assert not _escalations(on_time)  # answered in time, not overdue yet

    # run again: nothing new
    assert complaints_escalate_overdue(now=first + timedelta(minutes=15)) == 0
    assert len(_escalations(complaint)) == 1 and _alerts(chief, complaint) == 1

    # second breach: the closure deadline passes
    late = complaint.due_at + timedelta(minutes=1)
    escalated = complaints_escalate_overdue(now=late)
    assert escalated == 2  # this one again, and the one answered but not closed in time
    complaint.refresh_from_db()
    assert complaint.escalated_at == late
    assert [e.data["breach"] for e in _escalations(complaint)] == ["first_answer", "due"]
    assert "Délai de traitement dépassé" in _escalations(complaint)[1].body
    assert _alerts(chief, complaint) == 2 and _alerts(agent, complaint) == 2
    assert complaints_escalate_overdue(now=late + timedelta(hours=1)) == 0


@pytest.mark.django_db
def test_reopened_complaint_can_be_escalated_again(now):
    chief = supervisor()
    customer, user = customer_with_account()
    complaint = _file(now, customer=customer, user=user)
    late = complaint.due_at + timedelta(hours=1)
    assert complaints_escalate_overdue(now=late) == 1
    services.complaint_close(complaint_id=complaint.pk, staff_user=chief, result="Facture corrigée.", now=late)
    assert complaints_escalate_overdue(now=late + timedelta(days=30)) == 0  # closed: never
    reopened_at = late + timedelta(days=2)
    services.complaint_reopen(
        complaint_id=complaint.pk, customer=customer, user=user, reason="Toujours faux.", now=reopened_at
    )
    complaint.refresh_from_db()
    assert complaint.escalated_at is None and complaint.due_at > reopened_at
    assert complaints_escalate_overdue(now=reopened_at + timedelta(minutes=1)) == 0  # new deadlines
    assert complaints_escalate_overdue(now=complaint.due_at + timedelta(minutes=1)) == 1
    assert [e.data["breach"] for e in _escalations(complaint)] == ["due", "due"]
    assert _alerts(chief, complaint) == 2


@pytest.mark.django_db(transaction=True)
def test_one_failing_complaint_does_not_stop_the_others(now):
    supervisor()
    broken = _file(now)
    fine = _file(now)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_refuse_complaint() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'ligne refusée'; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER test_refuse_complaint BEFORE UPDATE ON rak_requests_complaint "
            f"FOR EACH ROW WHEN (OLD.id = {int(broken.pk)}) EXECUTE FUNCTION test_refuse_complaint()"
        )
    try:
        assert complaints_escalate_overdue(now=fine.due_at + timedelta(hours=1)) == 1
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER test_refuse_complaint ON rak_requests_complaint")
            cursor.execute("DROP FUNCTION test_refuse_complaint()")
    fine.refresh_from_db()
    broken.refresh_from_db()
    assert fine.escalated_at is not None and broken.escalated_at is None
    assert not _escalations(broken)  # rolled back alone


def test_the_job_is_registered_every_15_minutes():
    job = scheduler.jobs_registered()[JOB_NAME]
    assert job.every == timedelta(minutes=15)
    assert "Réclamations" in str(job.label)


@pytest.mark.django_db(transaction=True)
def test_sla_escalation_in_a_running_worker(tmp_path):
    """``manage.py rak_worker`` started as a process on the test database: the complaint
    escalation job runs by itself, escalates the overdue complaint and queues the supervisors'
    bell and e-mail and the agent's bell; its run is recorded on the job's row."""
    now = clock.now()
    chief = supervisor(email="chef.reclamations@rak.ma")
    agent = StaffFactory()
    complaint = _file(now - timedelta(days=30))
    Complaint.objects.filter(pk=complaint.pk).update(assigned_to=agent)
    fresh = _file(now)
    scheduler.jobs_sync(now=now)
    ScheduledJob.objects.exclude(name=JOB_NAME).update(enabled=False)  # only the job under test

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "DATABASE_URL": _database_url(),
        "PYTHONPATH": f"{ROOT}:{ROOT / 'addons'}",
        "RAK_SMS_DEV_FILE": str(tmp_path / "sms.log"),
    }
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "rak_worker", "--scheduler-tick", "0.2", "--interval", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        row = wait_for(lambda: ScheduledJob.objects.filter(name=JOB_NAME, last_finished_at__isnull=False).first())
        assert row is not None, (tmp_path / "worker.log").read_text()
        assert row.last_outcome == ScheduledJob.Outcome.OK, row.last_error
        assert row.last_result == "1 réclamation escaladée"
        complaint.refresh_from_db()
        fresh.refresh_from_db()
        assert complaint.escalated_at is not None and fresh.escalated_at is None
        assert len(_escalations(complaint)) == 1
        assert Message.objects.filter(channel="BELL", user=chief, subject__contains=complaint.number).exists()
        assert Message.objects.filter(
            channel="EMAIL", recipient="chef.reclamations@rak.ma", subject__contains=complaint.number
        ).exists()
        assert Message.objects.filter(channel="BELL", user=agent, subject__contains=complaint.number).exists()
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            code = worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            code = worker.wait()
        log.close()
    assert code == 0, (tmp_path / "worker.log").read_text()
