"""Throttling by key over a sliding window, counted in the database (every web process and
machine sees the same counters).

``throttle_hit(key=..., limit=..., window=..., now=...)`` records one attempt and says whether it
is allowed: at most ``limit`` attempts per ``window``. A refused attempt is not recorded, so a
client that keeps hammering is let in again once its old attempts leave the window.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction

from rak_base.models import ThrottleHit

KEEP = timedelta(days=1)


@transaction.atomic
def throttle_hit(*, key: str, limit: int, window: timedelta, now: datetime) -> bool:
    """Count one attempt for ``key``; False (nothing recorded) when ``limit`` attempts already
    happened within ``window`` before ``now``."""
    key = key[:120]
    recent = ThrottleHit.objects.filter(key=key, created_at__gt=now - window).count()
    if recent >= limit:
        return False
    ThrottleHit.objects.create(key=key, created_at=now)
    if recent == 0:  # first attempt of a quiet period: forget this key's old attempts
        ThrottleHit.objects.filter(key=key, created_at__lt=now - max(window, KEEP)).delete()
    return True


def throttle_remaining(*, key: str, limit: int, window: timedelta, now: datetime) -> int:
    return max(limit - ThrottleHit.objects.filter(key=key[:120], created_at__gt=now - window).count(), 0)
