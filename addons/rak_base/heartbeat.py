"""Worker heartbeat: each ``manage.py rak_worker`` process writes its own row (``WorkerHeartbeat``)
every ``[health] heartbeat_seconds`` from a small thread, one upsert (``INSERT … ON CONFLICT``) a
beat. /health/ready reads the latest beat of each role; the back office lists the rows (« Workers »).

The beat proves the process is up and reaches the database, not that its loop makes progress: a
stuck task or job shows as outbox / task backlog and scheduler lag, the other readiness checks.
Rows not heard from for ``RETENTION`` are deleted by a beating process (at most once an hour)."""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, connection

from rak_base import clock
from rak_base.models import WorkerHeartbeat

logger = logging.getLogger(__name__)

RETENTION = timedelta(days=1)
CLEANUP_EVERY = timedelta(hours=1)
Role = WorkerHeartbeat.Role


def process_name(role: str) -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{role.lower()}"[:160]


def heartbeat_beat(*, name: str, role: str, started_at: datetime, now: datetime) -> None:
    """Write this process's row: created at the first beat, ``beat_at`` moved on afterwards."""
    WorkerHeartbeat.objects.bulk_create(
        [
            WorkerHeartbeat(
                name=name,
                host=socket.gethostname()[:120],
                pid=os.getpid(),
                role=role,
                started_at=started_at,
                beat_at=now,
                stopped_at=None,
            )
        ],
        update_conflicts=True,
        unique_fields=["name"],
        update_fields=["beat_at", "stopped_at", "role", "started_at"],
    )


def heartbeat_stopped(*, name: str, now: datetime) -> None:
    """A graceful stop: the row stays (the back office shows when it stopped), no longer live."""
    WorkerHeartbeat.objects.filter(name=name).update(stopped_at=now, beat_at=now)


def heartbeat_cleanup(*, now: datetime) -> int:
    """Delete the rows of processes not heard from for ``RETENTION`` (killed, or stopped long ago)."""
    deleted, _ = WorkerHeartbeat.objects.filter(beat_at__lt=now - RETENTION).delete()
    return deleted


def heartbeat_latest(*, roles: list[str]) -> datetime | None:
    """The latest beat of a live (not stopped) process with one of ``roles``: one indexed query."""
    row = (
        WorkerHeartbeat.objects.filter(role__in=roles, stopped_at=None)
        .order_by("-beat_at")
        .values_list("beat_at", flat=True)
        .first()
    )
    return row


class HeartbeatThread(threading.Thread):
    """Beats every ``interval`` seconds (its own database connection) until ``stop()``, which
    records the graceful stop. A failing beat (database unreachable) is logged and tried again."""

    def __init__(self, *, role: str, interval: float | None = None) -> None:
        super().__init__(name="rak-heartbeat", daemon=True)
        self.role = role
        if interval is None:
            interval = getattr(settings, "HEALTH")["heartbeat_seconds"]  # noqa: B009 - set by settings_observability
        self.interval = float(interval)
        self.name_in_db = process_name(role)
        self.started_at = clock.now()
        self.beats = 0
        self._stop_event = threading.Event()
        self._last_cleanup: datetime | None = None

    def beat_once(self) -> None:
        now = clock.now()
        heartbeat_beat(name=self.name_in_db, role=self.role, started_at=self.started_at, now=now)
        self.beats += 1
        if self._last_cleanup is None or now - self._last_cleanup >= CLEANUP_EVERY:
            self._last_cleanup = now
            heartbeat_cleanup(now=now)

    def run(self) -> None:
        try:
            while not self._stop_event.is_set():
                close_old_connections()
                try:
                    self.beat_once()
                except Exception:
                    logger.exception("heartbeat: beat of %s failed, next try in %s s", self.name_in_db, self.interval)
                self._stop_event.wait(self.interval)
            try:
                heartbeat_stopped(name=self.name_in_db, now=clock.now())
            except Exception:
                logger.exception("heartbeat: stop of %s not recorded", self.name_in_db)
        finally:
            connection.close()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop_event.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout)
