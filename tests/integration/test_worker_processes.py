"""The worker split in two processes (deploy/systemd: ``rak_worker --no-scheduler`` and
``rak_worker --scheduler-only``): each does its half only, writes its heartbeat row, outlives a
database outage, and stops gracefully on SIGTERM (exit 0, the row marked stopped). One pair of
processes for all of it: their start-up is most of the test's time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django_tasks_db.models import DBTaskResult

from rak_base import clock, scheduler
from rak_base.heartbeat import HeartbeatThread, heartbeat_beat, heartbeat_cleanup
from rak_base.models import Message, ScheduledJob, WorkerHeartbeat
from rak_base.outbox import message_queue_sms

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] or "postgres"
    if db.get("PASSWORD"):
        auth += f":{db['PASSWORD']}"
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def wait_for(predicate, *, timeout: float = 30.0, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    return predicate()


def start(args: list[str], tmp_path: Path, name: str) -> tuple[subprocess.Popen, Path]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "DATABASE_URL": _database_url(),
        "PYTHONPATH": f"{ROOT}:{ROOT / 'addons'}",
        "RAK_SMS_DEV_FILE": str(tmp_path / "sms.log"),
        "RAK_HEALTH_HEARTBEAT_SECONDS": "1",
    }
    log_path = tmp_path / f"{name}.log"
    process = subprocess.Popen(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "rak_worker", "--scheduler-tick", "0.2", "--interval", "0.2", *args],
        cwd=ROOT,
        env=env,
        stdout=log_path.open("w"),
        stderr=subprocess.STDOUT,
    )
    return process, log_path


def stop(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


@pytest.mark.django_db(transaction=True)
def test_scheduler_only_and_tasks_only_processes_split_the_work_survive_an_outage_stop_on_sigterm(tmp_path):
    now = clock.now()
    scheduler.jobs_sync(now=now)
    ScheduledJob.objects.exclude(name="base.throttle_purge").update(enabled=False)
    message = message_queue_sms(to="+212612345678", body="Bonjour")
    assert DBTaskResult.objects.filter(status="READY").count() == 1

    # both at once (their start-up is the test's cost): each must do its own half only
    sched, sched_log = start(["--scheduler-only"], tmp_path, "scheduler")
    tasks, tasks_log = start(["--no-scheduler"], tmp_path, "tasks")
    try:
        sent = wait_for(lambda: Message.objects.get(pk=message.pk).status == Message.Status.SENT)
        assert sent, tasks_log.read_text()
        # the SMS's task was run by the task worker (db_worker's id: host:pid), not the scheduler
        ran_by = {worker_id for task in DBTaskResult.objects.all() for worker_id in task.worker_ids}
        assert ran_by and {worker_id.rsplit(":", 1)[1] for worker_id in ran_by} == {str(tasks.pid)}
        ran = wait_for(lambda: ScheduledJob.objects.filter(name="base.throttle_purge", last_outcome="OK").exists())
        assert ran, sched_log.read_text()
        beats = wait_for(lambda: WorkerHeartbeat.objects.filter(stopped_at=None).count() == 2)
        assert beats, sched_log.read_text() + tasks_log.read_text()
        assert WorkerHeartbeat.objects.get(pid=sched.pid).role == "SCHEDULER"
        worker_beat = WorkerHeartbeat.objects.get(pid=tasks.pid)
        assert worker_beat.role == "WORKER"
        # heartbeats move on every [health] heartbeat_seconds (1 s here)
        assert wait_for(
            lambda: WorkerHeartbeat.objects.get(pk=worker_beat.pk).beat_at > worker_beat.beat_at, timeout=10
        )

        # the database away for 3 s: before, db_worker re-raised the OperationalError and the task
        # process exited; now both wait and go on, and the same task process delivers the next SMS
        def both_alive():
            assert tasks.poll() is None and sched.poll() is None, tasks_log.read_text() + sched_log.read_text()

        database_outage(3, during=both_alive)
        again = message_queue_sms(to="+212612345679", body="Bonjour encore")
        sent = wait_for(lambda: Message.objects.get(pk=again.pk).status == Message.Status.SENT, timeout=40)
        assert sent and tasks.poll() is None, tasks_log.read_text()
    finally:
        codes = {"scheduler": stop(sched), "tasks": stop(tasks)}
    output = sched_log.read_text()
    assert codes == {"scheduler": 0, "tasks": 0}, output + tasks_log.read_text()
    assert "Planificateur arrêté." in output
    assert "database unreachable" in tasks_log.read_text()
    assert WorkerHeartbeat.objects.filter(stopped_at=None).count() == 0  # both recorded their stop


def test_scheduler_only_refuses_the_other_modes():
    with pytest.raises(CommandError, match="--scheduler-only"):
        call_command("rak_worker", scheduler_only=True, no_scheduler=True)
    with pytest.raises(CommandError, match="--scheduler-only"):
        call_command("rak_worker", scheduler_only=True, batch=True)


@pytest.mark.django_db
def test_one_row_per_process_upserted_and_old_rows_cleaned(django_assert_num_queries):
    now = clock.now()
    with django_assert_num_queries(1):  # INSERT … ON CONFLICT DO UPDATE
        heartbeat_beat(name="web1:42:worker", role="WORKER", started_at=now, now=now)
    heartbeat_beat(name="web1:42:worker", role="WORKER", started_at=now, now=now + timedelta(seconds=15))
    row = WorkerHeartbeat.objects.get()
    assert row.beat_at == now + timedelta(seconds=15) and row.started_at == now and row.host and row.pid

    heartbeat_beat(name="web2:7:worker", role="WORKER", started_at=now, now=now - timedelta(days=2))
    assert heartbeat_cleanup(now=now) == 1
    assert list(WorkerHeartbeat.objects.values_list("name", flat=True)) == ["web1:42:worker"]


@pytest.mark.django_db
def test_heartbeat_thread_beat_and_graceful_stop_record():
    thread = HeartbeatThread(role="BOTH", interval=60)
    thread.beat_once()
    row = WorkerHeartbeat.objects.get(name=thread.name_in_db)
    assert row.role == "BOTH" and row.stopped_at is None and row.pid == os.getpid()


def database_outage(seconds: float, *, during) -> None:
    """PostgreSQL refusing connections to the test database for ``seconds`` (a restart, a failover),
    every backend but this test's killed; ``during()`` runs meanwhile."""
    db = connection.settings_dict
    name = db["NAME"]
    # from the maintenance database: PostgreSQL refuses to close the one a session is connected to
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"] or "postgres", dbname="postgres"
    ) as admin:
        admin.autocommit = True
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        try:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> %s",
                [name, connection.connection.info.backend_pid],
            )
            time.sleep(seconds)
            during()
        finally:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


@pytest.mark.django_db
def test_back_office_workers_list_read_only_with_state(admin_client):
    now = clock.now()
    heartbeat_beat(name="web1:42:worker", role="WORKER", started_at=now, now=now)
    heartbeat_beat(name="web1:43:scheduler", role="SCHEDULER", started_at=now, now=now - timedelta(hours=1))
    response = admin_client.get("/backoffice/rak_base/workerheartbeat/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "web1:42:worker" in page and "En marche" in page and "Sans nouvelles" in page
    assert "/backoffice/rak_base/workerheartbeat/add/" not in page
    assert admin_client.get("/backoffice/rak_base/workerheartbeat/add/").status_code == 403


@pytest.mark.django_db
def test_the_superviseur_group_sees_the_workers(client):
    from django.contrib.auth.models import Group

    from tests.factories import StaffFactory

    chief = StaffFactory()
    chief.groups.set(Group.objects.filter(name="superviseur"))
    client.force_login(chief)
    assert client.get("/backoffice/rak_base/workerheartbeat/").status_code == 200
    assert client.get("/backoffice/").content.decode().count("/backoffice/rak_base/workerheartbeat/") >= 1
