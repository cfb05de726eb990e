"""Health and readiness (issue 15): ``/health/live`` and ``/health/ready``, answered by
``HealthMiddleware``, first in MIDDLEWARE (config/settings_observability.py) — so a probe never
opens a session, never loads a user, writes nothing, is not counted as a portal visit, is not sent
to https:// and does not depend on its Host header (a load balancer probing 10.0.0.5:8000 is
not in ALLOWED_HOSTS; the answer holds nothing derived from the host).

- ``/health/live``: the process answers (200, no database).
- ``/health/ready``: 200 when every check passes, else 503. Checks, each one bounded query under a
  short ``statement_timeout`` ([health] statement_timeout_ms):
  ``database`` (SELECT 1), ``migrations`` (the latest migration of each app is applied: the
  migration files are read once per process), ``worker`` (a task worker beat within
  [health] worker_stale_seconds, ``rak_base.heartbeat``), ``scheduler`` (a scheduler beat likewise,
  and no enabled job overdue by more than [health] scheduler_lag_seconds), ``outbox`` (the oldest
  message due is not older than [health] outbox_max_age_seconds; how many are due, counted up to
  a bound), ``tasks`` (the next django-tasks task a worker would take has not waited more than
  [health] tasks_max_age_seconds). [health] fail_on names the checks that make the answer 503
  (all by default); the others are reported (``"ok": false``) without failing it.

Details (each check's figures) go only to an address of [health] allowed_ips (the client address
of ``rak_base.http.client_ip``; a request that came through a proxy not declared in
[server] trusted_proxies, or with fewer X-Forwarded-For entries than declared proxies or a
malformed one, is never « local »; ``::ffff:a.b.c.d`` counts as ``a.b.c.d``) or to a request
carrying ``X-Health-Token`` equal to
[health] token; anyone else gets ``{"status": "ok"}`` or ``{"status": "fail"}``."""

from __future__ import annotations

import hmac
import ipaddress
import os
import time
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.http import HttpResponse, JsonResponse

from rak_base import clock
from rak_base.http import client_ip

LIVE_PATHS = frozenset({"/health/live", "/health/live/"})
READY_PATHS = frozenset({"/health/ready", "/health/ready/"})
CHECKS = ("database", "migrations", "worker", "scheduler", "outbox", "tasks")
COUNT_BOUND = 1000  # « 1000 or more »: a count never scans a whole backlog
_STARTED = time.monotonic()


def health_settings() -> dict[str, Any]:
    """[health] of rak.conf (config/settings_observability.py sets it after the module is read)."""
    return getattr(settings, "HEALTH")  # noqa: B009 - set by apply(): django-stubs cannot see it


@dataclass
class Check:
    name: str
    ok: bool
    detail: dict[str, Any] = field(default_factory=dict)


def _age(now: datetime, then: datetime | None) -> float | None:
    return None if then is None else round((now - then).total_seconds(), 1)


@lru_cache(maxsize=1)
def _migration_leaves() -> tuple[tuple[str, str], ...]:
    """The latest migration of each app, from the files (read once per process, no database)."""
    from django.db.migrations.loader import MigrationLoader

    return tuple(sorted(MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes()))


def check_database() -> Check:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return Check("database", True)


def check_migrations() -> Check:
    from django.db.migrations.recorder import MigrationRecorder

    leaves = _migration_leaves()
    wanted = Q()
    for app, name in leaves:
        wanted |= Q(app=app, name=name)
    applied = set(MigrationRecorder.Migration.objects.filter(wanted).values_list("app", "name")) if leaves else set()
    missing = [f"{app}.{name}" for app, name in leaves if (app, name) not in applied]
    return Check("migrations", not missing, {"missing": missing[:20]})


def _beats() -> dict[str, datetime]:
    """The latest beat of a live process of each role (one query over the partial index)."""
    from django.db.models import Max

    from rak_base.models import WorkerHeartbeat

    rows = WorkerHeartbeat.objects.filter(stopped_at=None).values("role").annotate(last=Max("beat_at")).order_by()
    return {row["role"]: row["last"] for row in rows}


def _latest(beats: dict[str, datetime], roles: tuple[str, ...]) -> datetime | None:
    found = [beats[role] for role in roles if role in beats]
    return max(found) if found else None


def check_worker(*, now: datetime, beats: dict[str, datetime], config: dict[str, Any]) -> Check:
    last = _latest(beats, ("WORKER", "BOTH"))
    age = _age(now, last)
    stale = config["worker_stale_seconds"]
    return Check("worker", age is not None and age <= stale, {"last_beat_age_s": age, "stale_after_s": stale})


def check_scheduler(*, now: datetime, beats: dict[str, datetime], config: dict[str, Any]) -> Check:
    from rak_base.models import ScheduledJob
    from rak_base.scheduler import jobs_registered

    last = _latest(beats, ("SCHEDULER", "BOTH"))
    age = _age(now, last)
    stale = config["worker_stale_seconds"]
    lag_limit = config["scheduler_lag_seconds"]
    oldest = (
        ScheduledJob.objects.filter(enabled=True, name__in=list(jobs_registered()), next_run_at__lte=now)
        .order_by("next_run_at")
        .values_list("name", "next_run_at")
        .first()
    )
    lag = _age(now, oldest[1]) if oldest else 0.0
    alive = age is not None and age <= stale
    detail = {
        "last_beat_age_s": age,
        "stale_after_s": stale,
        "most_overdue_job": oldest[0] if oldest else "",
        "lag_s": lag,
        "max_lag_s": lag_limit,
    }
    return Check("scheduler", alive and (lag or 0) <= lag_limit, detail)


def check_outbox(*, now: datetime, config: dict[str, Any]) -> Check:
    from django.db.models import Min

    from rak_base.models import Message

    queued = Message.objects.filter(status=Message.Status.QUEUED)  # partial index message_queued_due
    oldest = queued.aggregate(oldest=Min("next_attempt_at"))["oldest"]
    age = max(_age(now, oldest) or 0.0, 0.0)
    # order_by(): without it the model's ordering (newest first) sorted every queued row before the LIMIT
    due = queued.filter(next_attempt_at__lte=now).order_by()[:COUNT_BOUND].count()
    limit = config["outbox_max_age_seconds"]
    return Check(
        "outbox", age <= limit, {"due": due, "due_bound": COUNT_BOUND, "oldest_due_age_s": age, "max_age_s": limit}
    )


def check_tasks(*, now: datetime, config: dict[str, Any]) -> Check:
    from django_tasks_db.models import DBTaskResult

    ready = DBTaskResult.objects.ready()
    # the task the worker takes next: its order, and the index of django_tasks_db on it
    head = ready.order_by("-priority", "run_after", "enqueued_at").values_list("enqueued_at", flat=True).first()
    age = max(_age(now, head) or 0.0, 0.0)
    count = ready.order_by()[:COUNT_BOUND].count()
    limit = config["tasks_max_age_seconds"]
    return Check(
        "tasks", age <= limit, {"ready": count, "ready_bound": COUNT_BOUND, "next_wait_s": age, "max_age_s": limit}
    )


def health_ready(*, now: datetime | None = None) -> list[Check]:
    """Run every readiness check. The database down: ``database`` fails and the others are
    reported as not run. Never raises for a database error."""
    config = health_settings()
    now = now or clock.now()
    checks: list[Check] = []
    try:
        # one transaction with a transaction-local timeout: nothing outlives it on the connection
        # (a session-level SET would leak to other clients through a pgbouncer in transaction mode)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('statement_timeout', %s, true)", [str(int(config["statement_timeout_ms"]))]
                )
            checks.append(check_database())
            checks.append(check_migrations())
            beats = _beats()
            checks.append(check_worker(now=now, beats=beats, config=config))
            checks.append(check_scheduler(now=now, beats=beats, config=config))
            checks.append(check_outbox(now=now, config=config))
            checks.append(check_tasks(now=now, config=config))
    except DatabaseError as exc:
        error = type(exc).__name__
        done = {check.name for check in checks}
        if "database" not in done:
            checks.append(Check("database", False, {"error": error}))
        else:
            checks.append(Check("error", False, {"error": error}))
        for name in CHECKS:
            if name not in done and name != "database":
                checks.append(Check(name, False, {"error": "not run"}))
    return checks


def _networks(values: list[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(value, strict=False) for value in values]


def details_allowed(request) -> bool:
    """Figures for the operator's probes only: a declared address, or the token."""
    config = health_settings()
    token = config.get("token", "")
    given = request.META.get("HTTP_X_HEALTH_TOKEN", "")
    if token and given and hmac.compare_digest(given.encode(), token.encode()):
        return True
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded:
        trusted = getattr(settings, "TRUSTED_PROXIES", 0)
        if trusted <= 0:
            return False  # through a proxy we were not told about: the socket address is the proxy's
        entries = [entry.strip() for entry in forwarded.split(",") if entry.strip()]
        # fewer entries than declared proxies (the outer one gone round), or a malformed one:
        # client_ip falls back on the socket address — a proxy's, maybe 127.0.0.1 — not the client's
        if len(entries) < trusted or not _is_ip(entries[-trusted]):
            return False
    try:
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # a dual-stack socket ([::]:8000) shows 127.0.0.1 as ::ffff:127.0.0.1
    return any(address in network for network in _networks(config["allowed_ips"]))


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _json(payload: dict[str, Any], status: int) -> HttpResponse:
    response = JsonResponse(payload, status=status)
    response["Cache-Control"] = "no-store"
    return response


def live_response(request) -> HttpResponse:
    payload: dict[str, Any] = {"status": "ok"}
    if details_allowed(request):
        payload.update(pid=os.getpid(), uptime_s=round(time.monotonic() - _STARTED, 1))
    return _json(payload, 200)


# (monotonic time, failed) of this process's last readiness run: what callers without the figures get
# for [health] public_cache_seconds, so that a flood of anonymous probes runs no query
_last_outcome: tuple[float, bool] | None = None


def _bare(failed: bool) -> HttpResponse:
    return _json({"status": "fail" if failed else "ok"}, 503 if failed else 200)


def ready_response(request) -> HttpResponse:
    global _last_outcome
    began = time.perf_counter()
    detailed = details_allowed(request)
    ttl = health_settings().get("public_cache_seconds", 0)
    last = _last_outcome
    if not detailed and ttl > 0 and last is not None and time.monotonic() - last[0] < ttl:
        return _bare(last[1])
    checks = health_ready()
    fail_on = set(health_settings()["fail_on"])
    failed = [check.name for check in checks if not check.ok and (check.name in fail_on or check.name == "error")]
    _last_outcome = (time.monotonic(), bool(failed))
    status = "fail" if failed else "ok"
    payload: dict[str, Any] = {"status": status}
    if detailed:
        payload["checks"] = {check.name: {"ok": check.ok, **check.detail} for check in checks}
        payload["failed"] = failed
        payload["duration_ms"] = round((time.perf_counter() - began) * 1000, 1)
    return _json(payload, 503 if failed else 200)


class HealthMiddleware:
    """Answers the two health paths before any other middleware (see the module's docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path in LIVE_PATHS or path in READY_PATHS:
            if request.method not in ("GET", "HEAD"):
                return _json({"status": "method not allowed"}, 405)
            return live_response(request) if path in LIVE_PATHS else ready_response(request)
        return self.get_response(request)
