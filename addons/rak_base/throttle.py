"""Throttling by key over a sliding window, counted in the database (every web process and
machine sees the same counters).

``throttle_hit(key=..., limit=..., window=..., now=...)`` records one attempt and says whether it
is allowed: at most ``limit`` attempts per ``window``. A refused attempt is not recorded, so a
client that keeps hammering is let in again once its old attempts leave the window.

Check and count are one step: a PostgreSQL advisory lock on the key (transaction-scoped) makes
concurrent attempts for the same key wait for each other, so N simultaneous attempts against a
limit L let exactly L through (tests/integration/test_throttle_race.py). The lock is held until
the caller's transaction ends; called outside one (the views), that is this function's own.

``throttle_count`` / ``throttle_record`` count without the lock, for tallies where a few extra
under concurrency do not matter and no transaction should wait (the hourly SMS budget).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection, transaction

from rak_base.models import ThrottleHit

KEEP = timedelta(days=1)
# first key of the two-int advisory lock: keeps throttle locks apart from any other advisory lock
LOCK_CLASS = 0x52414B  # "RAK"


def _lock(key: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [LOCK_CLASS, key])


@transaction.atomic
def throttle_hit(*, key: str, limit: int, window: timedelta, now: datetime) -> bool:
    """Count one attempt for ``key``; False (nothing recorded) when ``limit`` attempts already
    happened within ``window`` before ``now``."""
    key = key[:120]
    _lock(key)
    recent = ThrottleHit.objects.filter(key=key, created_at__gt=now - window).count()
    if recent >= limit:
        return False
    ThrottleHit.objects.create(key=key, created_at=now)
    if recent == 0:  # first attempt of a quiet period: forget this key's old attempts
        ThrottleHit.objects.filter(key=key, created_at__lt=now - max(window, KEEP)).delete()
    return True


def throttle_remaining(*, key: str, limit: int, window: timedelta, now: datetime) -> int:
    return max(limit - throttle_count(key=key, window=window, now=now), 0)


def throttle_count(*, key: str, window: timedelta, now: datetime) -> int:
    return ThrottleHit.objects.filter(key=key[:120], created_at__gt=now - window).count()


def throttle_record(*, key: str, now: datetime) -> None:
    """Record one occurrence without checking a limit (no lock)."""
    ThrottleHit.objects.create(key=key[:120], created_at=now)
