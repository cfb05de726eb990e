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

With ``[redis] url`` configured (several web hosts, issue 15) the same three functions count in
Redis instead: one sorted set per key (member = one attempt, score = its time in microseconds),
check and add in one Lua script run by ``EVAL`` (Redis runs a script alone: exact under
concurrency, the same race test), the key expiring ``window`` after its last attempt (a tally
without a window, ``throttle_record``, keeps a day like the table). A key keeps one window: the
hits, counts and records of one key all use the same.

Redis unreachable: the limits fail closed. ``throttle_hit`` raises ``ThrottleUnavailable`` (a
RakError with a French message and HTTP 503: the views that show a RakError show it, the API
answers it, ``ThrottleUnavailableMiddleware`` turns any other into the French 503 page — never a
500); ``throttle_count`` answers « over any limit » (the captcha is asked, the budget is reached);
only ``throttle_record`` — a tally counted as each SMS is queued, notifications included — is
skipped, so a Redis outage does not stop the outbox. Every failure is logged.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy

from rak_base.errors import RakError
from rak_base.models import ThrottleHit

logger = logging.getLogger(__name__)

KEEP = timedelta(days=1)
# first key of the two-int advisory lock: keeps throttle locks apart from any other advisory lock
LOCK_CLASS = 0x52414B  # "RAK"


# the count of a key whose counter cannot be read: above any limit (fail closed)
UNREADABLE_COUNT = 2**31


class ThrottleUnavailable(RakError):
    """The throttles' Redis does not answer: the attempt is refused (fail closed)."""

    code = "service_unavailable"
    http_status = 503
    default_message = gettext_lazy(
        "Ce service est momentanément indisponible. Veuillez réessayer dans quelques minutes."
    )


def _redis_url() -> str:
    return getattr(settings, "REDIS_URL", "") or ""


def throttle_hit(*, key: str, limit: int, window: timedelta, now: datetime) -> bool:
    """Count one attempt for ``key``; False (nothing recorded) when ``limit`` attempts already
    happened within ``window`` before ``now``. Redis configured and unreachable:
    ``ThrottleUnavailable``."""
    if _redis_url():
        return _redis_hit(key=key, limit=limit, window=window, now=now)
    return _db_hit(key=key, limit=limit, window=window, now=now)


def throttle_remaining(*, key: str, limit: int, window: timedelta, now: datetime) -> int:
    return max(limit - throttle_count(key=key, window=window, now=now), 0)


def throttle_count(*, key: str, window: timedelta, now: datetime) -> int:
    if _redis_url():
        return _redis_count(key=key, window=window, now=now)
    return ThrottleHit.objects.filter(key=key[:120], created_at__gt=now - window).count()


def throttle_record(*, key: str, now: datetime) -> None:
    """Record one occurrence without checking a limit (no lock)."""
    if _redis_url():
        _redis_record(key=key, now=now)
        return
    ThrottleHit.objects.create(key=key[:120], created_at=now)


# --- PostgreSQL ------------------------------------------------------------------------------------


def _lock(key: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [LOCK_CLASS, key])


@transaction.atomic
def _db_hit(*, key: str, limit: int, window: timedelta, now: datetime) -> bool:
    key = key[:120]
    _lock(key)
    recent = ThrottleHit.objects.filter(key=key, created_at__gt=now - window).count()
    if recent >= limit:
        return False
    ThrottleHit.objects.create(key=key, created_at=now)
    if recent == 0:  # first attempt of a quiet period: forget this key's old attempts
        ThrottleHit.objects.filter(key=key, created_at__lt=now - max(window, KEEP)).delete()
    return True


# --- Redis ----------------------------------------------------------------------------------------

# KEYS[1] the key; ARGV: now (µs), window (µs), limit, member, ttl (ms). Drops the attempts that left
# the window, counts the rest, adds this one only under the limit: one script, run alone by Redis.
_HIT_SCRIPT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
"""
# KEYS[1]; ARGV: now (µs), keep (µs), member, ttl (ms): a tally, kept a day like the table's rows
_RECORD_SCRIPT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[3])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[4]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
return 1
"""

_clients: dict[str, Any] = {}
_scripts: dict[tuple[str, str], Any] = {}


def _client():
    url = _redis_url()
    client = _clients.get(url)
    if client is None:
        import redis

        timeout = getattr(settings, "REDIS_TIMEOUT_SECONDS", 0.5)
        client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        _clients[url] = client
    return client


def _script(source: str):
    """A registered script (EVALSHA, falling back to EVAL once per server)."""
    url = _redis_url()
    found = _scripts.get((url, source))
    if found is None:
        found = _scripts[(url, source)] = _client().register_script(source)
    return found


def _redis_key(key: str) -> str:
    return f"{getattr(settings, 'REDIS_KEY_PREFIX', 'rak')}:throttle:{key[:120]}"


def _micros(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def _member(now: datetime) -> str:
    return f"{_micros(now)}:{uuid.uuid4().hex[:16]}"


def _ttl_ms(window: timedelta) -> int:
    return max(int(window.total_seconds() * 1000), 1000)


def _redis_hit(*, key: str, limit: int, window: timedelta, now: datetime) -> bool:
    import redis

    span = int(window.total_seconds() * 1_000_000)
    try:
        allowed = _script(_HIT_SCRIPT)(
            keys=[_redis_key(key)], args=[_micros(now), span, limit, _member(now), _ttl_ms(window)]
        )
    except redis.RedisError as exc:
        logger.error("throttle %s refused: Redis unavailable (%s)", key.split(":", 1)[0], exc)
        raise ThrottleUnavailable() from exc
    return bool(allowed)


def _redis_count(*, key: str, window: timedelta, now: datetime) -> int:
    import redis

    try:
        return int(_client().zcount(_redis_key(key), f"({_micros(now - window)}", "+inf"))
    except redis.RedisError as exc:
        logger.error("throttle %s counted as over its limit: Redis unavailable (%s)", key.split(":", 1)[0], exc)
        return UNREADABLE_COUNT


def _redis_record(*, key: str, now: datetime) -> None:
    import redis

    keep = int(KEEP.total_seconds() * 1_000_000)
    try:
        _script(_RECORD_SCRIPT)(keys=[_redis_key(key)], args=[_micros(now), keep, _member(now), _ttl_ms(KEEP)])
    except redis.RedisError as exc:
        logger.warning("throttle %s not recorded: Redis unavailable (%s)", key.split(":", 1)[0], exc)


# --- Redis down: the French page, never a 500 ------------------------------------------------------


class ThrottleUnavailableMiddleware:
    """Installed with ``[redis] url``: a ``ThrottleUnavailable`` no view caught becomes a 503 — the
    API's JSON error body under /api/, the portal's French page elsewhere."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception) -> HttpResponse | None:
        if not isinstance(exception, ThrottleUnavailable):
            return None
        return throttle_unavailable_response(request, exception)


def throttle_unavailable_response(request, exception: ThrottleUnavailable) -> HttpResponse:
    """The 503 for a ``ThrottleUnavailable``: the API's JSON error body under /api/, the portal's
    French page elsewhere (also ``rak_base.redis_sessions.SessionMiddleware``'s)."""
    if request.path.startswith("/api/"):
        body = {"code": exception.code, "message": exception.message, "fields": {}}
        return JsonResponse(body, status=503, headers={"Retry-After": "60"})
    response = render(request, "503.html", {"message": exception.message}, status=503)
    response["Retry-After"] = "60"
    return response
