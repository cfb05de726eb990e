"""/health/live and /health/ready (rak_base.health): no session, no write, no https redirect, no
Host check, bounded queries; figures for the operator's addresses or token only."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client

from rak_base import clock, health, scheduler
from rak_base.heartbeat import heartbeat_beat
from rak_base.models import Message, ScheduledJob, WorkerHeartbeat
from rak_base.outbox import message_queue_sms
from rak_reports.models import PageHit

PUBLIC = {"REMOTE_ADDR": "203.0.113.7"}


def beat(role: str, *, age: float = 0.0) -> None:
    now = clock.now()
    heartbeat_beat(name=f"host:{role}", role=role, started_at=now, now=now - timedelta(seconds=age))


@pytest.fixture
def healthy(db):
    """A live worker and scheduler, every job synced and not due yet, nothing queued."""
    now = clock.now()
    scheduler.jobs_sync(now=now)
    ScheduledJob.objects.update(next_run_at=now + timedelta(minutes=5))
    beat("WORKER")
    beat("SCHEDULER")


def test_live_answers_without_database_session_or_cookie(client):
    response = client.get("/health/live")  # no db fixture: any database access would raise
    assert response.status_code == 200 and response.json()["status"] == "ok"
    assert response["Cache-Control"] == "no-store" and not response.cookies
    assert "pid" in response.json()  # details: the test client is 127.0.0.1
    public = client.get("/health/live", **PUBLIC)
    assert public.json() == {"status": "ok"}


def test_ready_all_green_in_bounded_queries_and_nothing_written(healthy, client, django_assert_max_num_queries):
    hits = PageHit.objects.count()
    # 10 checks + the savepoint pair of the transaction they run in (a test already runs in one)
    with django_assert_max_num_queries(11) as captured:
        response = client.get("/health/ready")
    assert response.status_code == 200, response.content
    # bounded counts never sort the backlog first (the model's ordering: 137 ms → 22 ms at 100,000 queued)
    counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"]]
    assert len(counts) == 2 and not any("ORDER BY" in sql for sql in counts)
    body = response.json()
    assert body["status"] == "ok" and body["failed"] == []
    assert set(body["checks"]) == {"database", "migrations", "worker", "scheduler", "outbox", "tasks"}
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["migrations"]["missing"] == []
    assert not response.cookies and PageHit.objects.count() == hits


def test_public_gets_a_bare_status_token_or_allowed_address_gets_details(healthy, settings):
    settings.HEALTH = {**settings.HEALTH, "token": "s3cret-probe-token"}
    client = Client()
    assert client.get("/health/ready", **PUBLIC).json() == {"status": "ok"}
    assert client.get("/health/ready", HTTP_X_HEALTH_TOKEN="wrong", **PUBLIC).json() == {"status": "ok"}
    assert "checks" in client.get("/health/ready", HTTP_X_HEALTH_TOKEN="s3cret-probe-token", **PUBLIC).json()
    # through a proxy nobody declared ([server] trusted_proxies = 0): the socket address is the proxy's
    assert client.get("/health/ready", HTTP_X_FORWARDED_FOR="203.0.113.7").json() == {"status": "ok"}
    # declared proxy: the real client address counts
    settings.TRUSTED_PROXIES = 1
    assert client.get("/health/ready", HTTP_X_FORWARDED_FOR="203.0.113.7").json() == {"status": "ok"}
    assert "checks" in client.get("/health/ready", HTTP_X_FORWARDED_FOR="127.0.0.1").json()
    settings.HEALTH = {**settings.HEALTH, "allowed_ips": ["10.0.0.0/8"]}
    assert "checks" in client.get("/health/ready", REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="10.1.2.3").json()


def test_a_failing_check_is_a_bare_503_in_public(db, client):
    beat("WORKER", age=3600)  # silent for an hour; no scheduler at all
    public = client.get("/health/ready", **PUBLIC)
    assert public.status_code == 503 and public.json() == {"status": "fail"}
    body = client.get("/health/ready").json()
    assert body["checks"]["worker"]["ok"] is False and body["checks"]["worker"]["last_beat_age_s"] >= 3600
    assert body["checks"]["scheduler"]["last_beat_age_s"] is None
    assert set(body["failed"]) == {"worker", "scheduler"}


def test_stopped_worker_is_not_alive_and_fail_on_limits_what_fails(healthy, client, settings):
    WorkerHeartbeat.objects.filter(role="WORKER").update(stopped_at=clock.now())
    response = client.get("/health/ready")
    assert response.status_code == 503 and response.json()["failed"] == ["worker"]
    settings.HEALTH = {**settings.HEALTH, "fail_on": ["database", "migrations"]}  # a load balancer's view
    response = client.get("/health/ready")
    assert response.status_code == 200 and response.json()["checks"]["worker"]["ok"] is False


def test_scheduler_lag_names_the_most_overdue_job(healthy, client):
    ScheduledJob.objects.filter(name="base.outbox_recover").update(next_run_at=clock.now() - timedelta(hours=1))
    response = client.get("/health/ready")
    check = response.json()["checks"]["scheduler"]
    assert response.status_code == 503 and check["ok"] is False
    assert check["most_overdue_job"] == "base.outbox_recover" and check["lag_s"] >= 3600
    # a disabled job is nobody's lag
    ScheduledJob.objects.filter(name="base.outbox_recover").update(enabled=False)
    assert client.get("/health/ready").status_code == 200


def test_outbox_backlog_by_age_of_the_oldest_due_message(healthy, client):
    message = message_queue_sms(to="+212612345678", body="Bonjour")
    body = client.get("/health/ready").json()
    assert body["checks"]["outbox"]["ok"] is True and body["checks"]["outbox"]["due"] == 1
    Message.objects.filter(pk=message.pk).update(next_attempt_at=clock.now() - timedelta(hours=1))
    response = client.get("/health/ready")
    check = response.json()["checks"]["outbox"]
    assert response.status_code == 503 and check["oldest_due_age_s"] >= 3600
    # the task waits too: the queue of django-tasks reports it, not older than its limit yet
    assert response.json()["checks"]["tasks"]["ready"] >= 1


def test_no_https_redirect_and_no_host_check_for_probes(healthy, settings):
    settings.SECURE_SSL_REDIRECT = True
    client = Client()
    # a load balancer probing the app's own address (not in ALLOWED_HOSTS), over plain http
    response = client.get("/health/ready", HTTP_HOST="10.0.0.5:8000")
    assert response.status_code == 200
    assert client.get("/health/live", HTTP_HOST="10.0.0.5:8000").status_code == 200
    # every other page still goes to https (and still refuses an unknown host)
    assert client.get("/", HTTP_HOST="localhost").status_code == 301
    assert client.get("/", HTTP_HOST="10.0.0.5:8000").status_code == 400


def test_only_get_and_head(client):
    assert client.post("/health/live").status_code == 405
    assert client.head("/health/live").status_code == 200


def test_database_down_is_a_503_not_a_500(db, client, settings, monkeypatch):
    from django.db import OperationalError

    from rak_base import health

    def down():
        raise OperationalError("connection refused")

    monkeypatch.setattr(health, "check_database", down)
    response = client.get("/health/ready")
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["checks"]["database"] == {"ok": False, "error": "OperationalError"}
    assert body["checks"]["worker"]["ok"] is False


def test_anonymous_probes_reuse_the_last_outcome_for_a_moment(
    healthy, client, settings, django_assert_num_queries, monkeypatch
):
    """A flood of anonymous /health/ready calls runs no query: they get this process's last outcome
    for [health] public_cache_seconds; a caller with the figures always runs the checks."""
    monkeypatch.setattr(health, "_last_outcome", None)  # not an earlier test's outcome
    settings.HEALTH = {**settings.HEALTH, "public_cache_seconds": 60}
    first = client.get("/health/ready", **PUBLIC)
    assert first.status_code == 200 and first.json() == {"status": "ok"}
    WorkerHeartbeat.objects.all().delete()  # the worker is gone: only a fresh run can see it
    with django_assert_num_queries(0):
        for _ in range(20):
            again = client.get("/health/ready", **PUBLIC)
            assert again.status_code == 200 and again.json() == {"status": "ok"}
    detailed = client.get("/health/ready")  # 127.0.0.1: the figures, from a fresh run
    assert detailed.status_code == 503 and "worker" in detailed.json()["failed"]
    public = client.get("/health/ready", **PUBLIC)  # the fresh run's outcome is shared
    assert public.status_code == 503 and public.json() == {"status": "fail"}
    settings.HEALTH = {**settings.HEALTH, "public_cache_seconds": 0}
    WorkerHeartbeat.objects.all().delete()
    assert client.get("/health/ready", **PUBLIC).status_code == 503
