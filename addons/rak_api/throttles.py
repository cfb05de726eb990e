"""The portal's throttles, counted in the same database rows (rak_base.throttle), so a client gets
no more attempts by switching between the portal and the API."""

from __future__ import annotations

from datetime import timedelta

from rest_framework import exceptions

from rak_base import clock
from rak_base.throttle import throttle_hit


class Throttled(exceptions.Throttled):
    def __init__(self, message: str, wait: float | None = None):
        super().__init__(wait=wait, detail=message, code="throttled")


def throttle_or_refuse(*, key: str, limit: int, window: timedelta, message: str) -> None:
    """Count one attempt for ``key``; 429 (``throttled``) with ``message`` when over the limit."""
    if not throttle_hit(key=key, limit=limit, window=window, now=clock.now()):
        raise Throttled(message, wait=window.total_seconds())
