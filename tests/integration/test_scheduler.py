"""The scheduler (rak_base.scheduler): periodic jobs run by the worker, one at a time whatever
the number of workers, errors isolated per job and per item, recorded on the job's row, late jobs
reported to the superviseur group once per episode, the table in the back office."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.urls import reverse

from rak_base import clock, scheduler
from rak_base.models import Message, ScheduledJob
from rak_requests.models import RequestEvent, ServiceRequest
from rak_requests.services import requests_escalate_overdue
from tests.factories import StaffFactory
from tests.request_factories import ServiceRequestFactory

ROOT = Path(__file__).resolve().parents[2]


def supervisor(**kwargs):
    user = StaffFactory(**kwargs)
    user.groups.set(Group.objects.filter(name="superviseur"))
    return user


def overdue_request(now, *, hours: int = 2) -> ServiceRequest:
    request = ServiceRequestFactory()
    ServiceRequest.objects.filter(pk=request.pk).update(phase_due_at=now - timedelta(hours=hours))
    return request


def wait_for(predicate, *, timeout: float = 60.0, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    return predicate()


@pytest.fixture
def test_jobs():
    """Register jobs for one test (``register(name, func, **options)``), unregistered afterwards."""
    names: list[str] = []

    def register(name, func, **options):
        options.setdefault("every", timedelta(minutes=10))
        options.setdefault("label", f"Tâche de test {name}")
        names.append(name)
        return scheduler.job_register(name, func, **options)

    yield register
    for name in names:
        scheduler.job_unregister(name)


def row_for(name: str, *, now, **fields) -> ScheduledJob:
    job = scheduler.jobs_registered()[name]
    defaults = {"label": str(job.label), "interval": job.every, "next_run_at": now}
    defaults.update(fields)
    return ScheduledJob.objects.create(name=name, **defaults)


# --- a real worker process -------------------------------------------------------------------------


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] or "postgres"
    if db.get("PASSWORD"):
        auth += f":{db['PASSWORD']}"
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_the_escalation_job_runs_in_a_started_worker_and_run_now_reaches_it(tmp_path):
    """``manage.py rak_worker`` started as a process on the test database: the SLA escalation
    job runs by itself (before: nothing ever scheduled it), its run is recorded, and « Exécuter
    maintenant » in the back office makes the running worker run it again within seconds."""
    now = clock.now()
    chief = supervisor(email="chef.sla@rak.ma")
    late = overdue_request(now)
    scheduler.jobs_sync(now=now)
    # only the job under test: the others (purges of the project's files...) stay off here
    ScheduledJob.objects.exclude(name="requests.escalate").update(enabled=False)

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
        row = wait_for(
            lambda: ScheduledJob.objects.filter(name="requests.escalate", last_finished_at__isnull=False).first()
        )
        assert row is not None, (tmp_path / "worker.log").read_text()
        late.refresh_from_db()
        assert late.escalated_at is not None
        assert late.events.filter(kind=RequestEvent.Kind.ESCALATED, internal=True).count() == 1
        assert Message.objects.filter(channel=Message.Channel.BELL, user=chief, body__contains=late.number).exists()
        assert row.last_outcome == ScheduledJob.Outcome.OK and row.last_error == ""
        assert row.last_success_at == row.last_finished_at and row.last_duration is not None
        assert row.last_result == "1 demande(s) escaladée(s)"
        assert row.next_run_at == row.last_started_at + timedelta(minutes=15)
        assert row.running_since is None and row.lease_until is None

        # « Exécuter maintenant » (superviseur, back office): the running worker picks it up at once
        second = overdue_request(clock.now())
        client = Client()
        client.force_login(chief)
        response = client.post(
            reverse("admin:rak_base_scheduledjob_changelist"), {"action": "run_now", "_selected_action": [row.pk]}
        )
        assert response.status_code == 302
        assert wait_for(lambda: ServiceRequest.objects.get(pk=second.pk).escalated_at, timeout=30)
        rerun = ScheduledJob.objects.get(pk=row.pk)
        assert rerun.last_started_at > row.last_started_at
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            code = worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            code = worker.wait()
        log.close()
    assert code == 0, (tmp_path / "worker.log").read_text()


# --- several workers, never a double run -----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_the_same_instant_run_a_due_job_once(test_jobs):
    runs: list[str] = []
    lock = threading.Lock()

    def slow(*, now):
        time.sleep(0.5)
        with lock:
            runs.append(threading.current_thread().name)

    test_jobs("test.slow", slow)
    now = clock.now()
    row_for("test.slow", now=now)
    barrier = threading.Barrier(4)
    ran: dict[str, list[str]] = {}

    def worker(name: str) -> None:
        from django.db import connections

        try:
            barrier.wait()
            ran[name] = scheduler.jobs_run_due(now=now, worker=name)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(f"w{i}",), name=f"w{i}") for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(runs) == 1, runs
    assert sorted(len(names) for names in ran.values()) == [0, 0, 0, 1]
    row = ScheduledJob.objects.get(name="test.slow")
    assert row.last_outcome == ScheduledJob.Outcome.OK and row.next_run_at == now + timedelta(minutes=10)


@pytest.mark.django_db(transaction=True)
def test_run_now_while_it_runs_elsewhere_waits_for_the_lease(test_jobs):
    started = threading.Event()
    release = threading.Event()
    runs: list[int] = []
    active = [0, 0]  # running now, most at once

    def long(*, now):
        active[0] += 1
        active[1] = max(active)
        runs.append(1)
        started.set()
        release.wait(10)
        active[0] -= 1

    test_jobs("test.long", long)
    row = row_for("test.long", now=clock.now())

    def worker_a() -> None:
        from django.db import connections

        try:
            scheduler.jobs_run_due(worker="A")
        finally:
            connections.close_all()

    thread = threading.Thread(target=worker_a)
    thread.start()
    assert started.wait(10)
    scheduler.scheduled_job_run_now(job_id=row.pk, now=clock.now())
    assert scheduler.jobs_run_due(worker="B") == []  # leased by A: no second run at the same time
    release.set()
    thread.join(10)
    scheduler.jobs_run_due(worker="B")  # runs it unless A picked the « run now » up itself
    assert len(runs) == 2 and active[1] == 1  # « run now » was kept for after, never run alongside
    assert ScheduledJob.objects.get(pk=row.pk).next_run_at > clock.now()


# --- errors: per job, per item -----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_failing_job_is_recorded_and_the_others_still_run(test_jobs, now):
    def broken(*, now):
        raise ZeroDivisionError("division by zero in the test job")

    done: list[object] = []
    test_jobs("test.a_broken", broken)
    test_jobs("test.b_fine", lambda *, now: done.append(now) or "rien à signaler")
    row_for("test.a_broken", now=now - timedelta(minutes=2))
    row_for("test.b_fine", now=now - timedelta(minutes=1))

    assert scheduler.jobs_run_due(now=now, worker="t") == ["test.a_broken", "test.b_fine"]
    broken_row = ScheduledJob.objects.get(name="test.a_broken")
    assert broken_row.last_outcome == ScheduledJob.Outcome.FAILED and broken_row.last_success_at is None
    assert broken_row.last_error.startswith("ZeroDivisionError: division by zero in the test job")
    assert "in broken" in broken_row.last_error  # the frames of the traceback
    assert broken_row.next_run_at == now + timedelta(minutes=10)  # tried again at the next interval
    fine = ScheduledJob.objects.get(name="test.b_fine")
    assert fine.last_outcome == ScheduledJob.Outcome.OK and fine.last_result == "rien à signaler" and done


@pytest.mark.django_db
def test_each_item_isolates_a_failing_item_and_reports_it_on_the_row(test_jobs, now):
    handled: list[int] = []

    def job(*, now):
        def handle(item: int) -> None:
            if item == 2:
                raise ValueError("élément illisible")
            handled.append(item)

        return len(scheduler.each_item([1, 2, 3], handle, describe=lambda item: f"élément {item}"))

    test_jobs("test.items", job)
    row_for("test.items", now=now)
    scheduler.jobs_run_due(now=now, worker="t")
    row = ScheduledJob.objects.get(name="test.items")
    assert handled == [1, 3]
    assert row.last_outcome == ScheduledJob.Outcome.ITEM_ERRORS and row.last_success_at is not None
    assert row.last_result == "2"
    assert "1 élément(s) en échec" in row.last_error and "élément 2 — ValueError: élément illisible" in row.last_error


@pytest.mark.django_db
def test_escalation_goes_on_when_one_request_fails(now):
    """A request the database refuses to update (a trigger raising, as a corrupt row or a lock
    timeout would) is logged; the other overdue requests are escalated all the same."""
    broken = overdue_request(now, hours=3)
    fine = overdue_request(now, hours=1)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_refuse_request() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'ligne refusée'; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER test_refuse_request BEFORE UPDATE ON rak_requests_servicerequest "
            f"FOR EACH ROW WHEN (OLD.id = {int(broken.pk)}) EXECUTE FUNCTION test_refuse_request()"
        )
    assert requests_escalate_overdue(now=now) == 1
    fine.refresh_from_db()
    broken.refresh_from_db()
    assert fine.escalated_at == now and broken.escalated_at is None


# --- lateness --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_late_job_is_reported_once_per_episode_to_the_supervisors(test_jobs, now):
    chief = supervisor(email="chef.planif@rak.ma")
    agent = StaffFactory(email="agent@rak.ma")
    test_jobs("test.late", lambda *, now: None, every=timedelta(minutes=15), grace=timedelta(minutes=10))
    row = row_for("test.late", now=now - timedelta(minutes=9), last_error="OSError: disque plein")

    assert scheduler.jobs_late_alert(now=now) == 0  # within its grace period
    assert scheduler.jobs_late_alert(now=now + timedelta(minutes=2)) == 1
    bell = Message.objects.get(channel=Message.Channel.BELL, user=chief)
    assert bell.subject == "Tâche planifiée en retard : Tâche de test test.late"
    assert "OSError: disque plein" in bell.body and "rak_worker" in bell.body
    assert Message.objects.filter(channel=Message.Channel.EMAIL, recipient="chef.planif@rak.ma").count() == 1
    assert not Message.objects.filter(user=agent).exists()

    # every tick after that: no new alert for the same episode
    for minutes in (3, 4, 30):
        assert scheduler.jobs_late_alert(now=now + timedelta(minutes=minutes)) == 0
    # it runs: the episode is over; late again later is a new episode
    assert scheduler.jobs_run_due(now=now + timedelta(minutes=31), worker="t") == ["test.late"]
    assert ScheduledJob.objects.get(pk=row.pk).late_alerted_at is None
    assert scheduler.jobs_late_alert(now=now + timedelta(minutes=32 + 15 + 11)) == 1
    assert Message.objects.filter(channel=Message.Channel.BELL, user=chief).count() == 2

    # a disabled job is never late
    ScheduledJob.objects.filter(pk=row.pk).update(enabled=False, late_alerted_at=None)
    assert scheduler.jobs_late_alert(now=now + timedelta(days=2)) == 0


def test_every_periodic_job_is_registered_in_code():
    assert {
        "base.outbox_recover",
        "base.task_results_prune",
        "base.throttle_purge",
        "requests.escalate",
        "requests.staging_purge",
        "cmi.orders_expire",
    } <= set(scheduler.jobs_registered())


# --- back office -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_back_office_table_for_the_supervisor_read_only_with_run_now_and_enable(test_jobs, now):
    def broken(*, now):
        raise RuntimeError("passerelle SMS injoignable")

    test_jobs("test.bo", broken, label="Tâche du back office")
    scheduler.jobs_sync(now=now)
    row = ScheduledJob.objects.get(name="test.bo")
    others = ScheduledJob.objects.exclude(pk=row.pk)
    others.update(next_run_at=now + timedelta(days=1))  # only the test job is due at ``now``
    assert scheduler.jobs_run_due(now=now, worker="t") == ["test.bo"]
    others.update(next_run_at=clock.now() - timedelta(days=1))  # and the real ones are late
    chief = supervisor(username="chef.bo")
    client = Client()
    client.force_login(chief)
    changelist = reverse("admin:rak_base_scheduledjob_changelist")

    page = client.get(changelist).content.decode()
    assert "Tâches planifiées" in page and "Tâche du back office" in page
    assert "Échec" in page and "RuntimeError: passerelle SMS injoignable" in page
    assert "En retard" in page and "Demandes : escalade des délais (SLA) dépassés" in page
    assert "Exécuter maintenant" in page and "Désactiver" in page
    # the home page counts the late jobs, live (no worker needed to see it)
    home = client.get(reverse("admin:index")).content.decode()
    late = ScheduledJob.objects.filter(next_run_at__lt=clock.now() - timedelta(hours=3)).count()
    assert "Tâches planifiées en retard" in home and late >= 6
    assert scheduler.jobs_late_count(now=clock.now()) == late
    detail = client.get(reverse("admin:rak_base_scheduledjob_change", args=[row.pk])).content.decode()
    assert "passerelle SMS injoignable" in detail and 'name="label"' not in detail  # read only

    client.post(changelist, {"action": "disable", "_selected_action": [row.pk]})
    row.refresh_from_db()
    assert not row.enabled and row.enabled_changed_by == chief
    response = client.post(changelist, {"action": "run_now", "_selected_action": [row.pk]}, follow=True)
    assert "Cette tâche est désactivée" in response.content.decode()
    client.post(changelist, {"action": "enable", "_selected_action": [row.pk]})
    client.post(changelist, {"action": "run_now", "_selected_action": [row.pk]})
    row.refresh_from_db()
    assert row.enabled and row.next_run_at <= clock.now()

    # another staff group does not see the table, nor run a job
    agent = StaffFactory(username="accueil.bo")
    agent.groups.set(Group.objects.filter(name="accueil"))
    client.force_login(agent)
    assert client.get(changelist).status_code == 403
    before = ScheduledJob.objects.get(pk=row.pk).next_run_at
    client.post(changelist, {"action": "disable", "_selected_action": [row.pk]})
    row.refresh_from_db()
    assert row.enabled and row.next_run_at == before


@pytest.mark.django_db
def test_the_cmi_expiry_job_goes_on_when_one_order_fails(now):
    """« cmi.orders_expire »: an order the database refuses to update is reported on the job's
    row; the other stale orders expire all the same (before: one transaction for all of them)."""
    from rak_payment_cmi import services as cmi
    from rak_payment_cmi.models import PaymentOrder
    from tests.factories import CustomerFactory
    from tests.integration.test_cmi_callback import make_bill

    orders = []
    for _ in range(3):
        customer = CustomerFactory()
        bill = make_bill(customer, "100.00", due=now.date() + timedelta(days=10))
        orders.append(
            cmi.payment_order_create(
                customer=customer, bills=[bill], email="c@example.ma", fee_amount=0, fee_vat=0, now=now
            )
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_refuse_order() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'ordre verrouillé'; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER test_refuse_order BEFORE UPDATE ON rak_payment_cmi_paymentorder "
            f"FOR EACH ROW WHEN (OLD.id = {int(orders[1].pk)}) EXECUTE FUNCTION test_refuse_order()"
        )
    later = now + timedelta(hours=3)
    scheduler.jobs_sync(now=later)
    ScheduledJob.objects.exclude(name="cmi.orders_expire").update(enabled=False)
    assert scheduler.jobs_run_due(now=later, worker="t") == ["cmi.orders_expire"]
    statuses = [PaymentOrder.objects.get(pk=order.pk).status for order in orders]
    assert statuses == ["EXPIRED", "CREATED", "EXPIRED"]
    row = ScheduledJob.objects.get(name="cmi.orders_expire")
    assert row.last_outcome == ScheduledJob.Outcome.ITEM_ERRORS and "ordre verrouillé" in row.last_error
    assert row.last_result.startswith("2 ordre(s) expiré(s)")


@pytest.mark.django_db
def test_a_job_left_running_by_a_killed_worker_is_taken_again_after_its_lease(test_jobs, now):
    runs: list[object] = []
    test_jobs("test.orphan", lambda *, now: runs.append(now), lease=timedelta(minutes=30))
    # a worker claimed it at 9:00 and died: the row still says « en cours » on its host
    row = row_for(
        "test.orphan",
        now=now - timedelta(minutes=50),
        running_since=now - timedelta(minutes=60),
        running_on="srv-1:4242",
        lease_until=now + timedelta(minutes=5),
        last_started_at=now - timedelta(minutes=60),
    )
    assert scheduler.jobs_run_due(now=now, worker="srv-2:7") == []  # its lease still holds
    assert scheduler.jobs_run_due(now=now + timedelta(minutes=6), worker="srv-2:7") == ["test.orphan"]
    row.refresh_from_db()
    assert runs and row.running_since is None and row.running_on == "" and row.last_outcome == "OK"
