"""rak_base.throttle on Redis (issue 15, several web hosts): the sliding window in one Lua script on
a sorted set, exact under concurrency like the PostgreSQL one; a Redis that does not answer fails
closed with a French message (503), never a 500. The real Redis of the machine (db 7 unless the
suite runs with [redis] url configured), a dead port for the outage (8199: nothing listens)."""

from __future__ import annotations

import os
import threading
import uuid
from datetime import timedelta

import pytest
import redis
from django.urls import reverse

from rak_base import clock
from rak_base.models import ThrottleHit
from rak_base.throttle import (
    UNREADABLE_COUNT,
    ThrottleUnavailable,
    throttle_count,
    throttle_hit,
    throttle_record,
    throttle_remaining,
)

TEST_REDIS_URL = os.environ.get("RAK_TEST_REDIS_URL", "redis://127.0.0.1:6379/7")
DEAD_REDIS_URL = "redis://127.0.0.1:8199/6"
MIDDLEWARE = "rak_base.throttle.ThrottleUnavailableMiddleware"

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_redis(settings):
    """The throttles on Redis, under a key prefix of this test only."""
    url = settings.REDIS_URL or TEST_REDIS_URL
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.fail(f"no Redis at {url} (the machine's Redis is part of the test environment)")
    prefix = f"rak-test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{uuid.uuid4().hex[:8]}"
    settings.REDIS_URL = url
    settings.REDIS_KEY_PREFIX = prefix
    yield client
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)


@pytest.fixture
def redis_down(settings):
    settings.REDIS_URL = DEAD_REDIS_URL
    settings.REDIS_KEY_PREFIX = "rak-test-dead"
    if MIDDLEWARE not in settings.MIDDLEWARE:
        settings.MIDDLEWARE = [*settings.MIDDLEWARE, MIDDLEWARE]


def test_limit_then_the_window_slides(on_redis, settings):
    now = clock.now()
    window = timedelta(minutes=15)
    for _ in range(3):
        assert throttle_hit(key="login:203.0.113.9", limit=3, window=window, now=now)
    assert not throttle_hit(key="login:203.0.113.9", limit=3, window=window, now=now)
    assert not throttle_hit(key="login:203.0.113.9", limit=3, window=window, now=now + timedelta(minutes=14))
    # refused attempts are not recorded: once the first three leave the window, in again
    assert throttle_hit(key="login:203.0.113.9", limit=3, window=window, now=now + window)
    assert throttle_count(key="login:203.0.113.9", window=window, now=now + window) == 1
    assert throttle_remaining(key="login:203.0.113.9", limit=3, window=window, now=now + window) == 2
    # another key is counted apart; nothing went to the table
    assert throttle_hit(key="login:203.0.113.10", limit=3, window=window, now=now)
    assert not ThrottleHit.objects.exists()
    key = f"{settings.REDIS_KEY_PREFIX}:throttle:login:203.0.113.9"
    assert on_redis.zcard(key) == 1
    assert 0 < on_redis.pttl(key) <= window.total_seconds() * 1000  # TTL = the window


def test_records_and_counts(on_redis, settings):
    now = clock.now()
    hour = timedelta(hours=1)
    for minutes in (0, 10, 50):
        throttle_record(key="sms:budget", now=now + timedelta(minutes=minutes))
    assert throttle_count(key="sms:budget", window=hour, now=now + timedelta(minutes=50)) == 3
    assert throttle_count(key="sms:budget", window=hour, now=now + timedelta(minutes=65)) == 2
    ttl = on_redis.pttl(f"{settings.REDIS_KEY_PREFIX}:throttle:sms:budget")
    assert 23 * 3600 * 1000 < ttl <= 24 * 3600 * 1000  # a tally keeps a day, like the table


def test_concurrent_attempts_never_pass_the_limit_on_redis(on_redis, settings):
    threads_count, limit = 30, 20
    now = clock.now()
    barrier = threading.Barrier(threads_count)
    allowed: list[bool] = []
    errors: list[BaseException] = []

    def one():
        try:
            barrier.wait(timeout=10)
            allowed.append(throttle_hit(key="race:203.0.113.7", limit=limit, window=timedelta(minutes=15), now=now))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert allowed.count(True) == limit
    assert allowed.count(False) == threads_count - limit
    assert on_redis.zcard(f"{settings.REDIS_KEY_PREFIX}:throttle:race:203.0.113.7") == limit


def test_redis_down_fails_closed(redis_down):
    now = clock.now()
    with pytest.raises(ThrottleUnavailable) as raised:
        throttle_hit(key="otp:203.0.113.9", limit=5, window=timedelta(hours=1), now=now)
    assert raised.value.message.startswith("Ce service est momentanément indisponible")
    # a count that cannot be read is over any limit (captcha asked, SMS budget reached) ...
    assert throttle_count(key="sms:budget", window=timedelta(hours=1), now=now) == UNREADABLE_COUNT
    assert throttle_remaining(key="pay:203.0.113.9", limit=5, window=timedelta(hours=1), now=now) == 0
    # ... and a tally is skipped: queueing a notification SMS does not fail with Redis
    throttle_record(key="sms:budget", now=now)


def test_redis_down_sms_request_is_refused_with_the_french_page(client, redis_down, sms_outbox):
    """« Créer mon compte » checks the CIN (identity throttle) then sends an SMS: with Redis down,
    a 503 page in French, no SMS, no server error."""
    response = client.post(
        reverse("portal:register_start"),
        {"identity": "AB123456", "phone": "0661234578", "accept_terms": "on", "accept_data_processing": "on"},
    )
    assert response.status_code == 503
    assert "Ce service est momentanément indisponible" in response.content.decode()
    assert response["Retry-After"] == "60"
    assert not sms_outbox.all()


def test_redis_down_api_answers_503_json(client, redis_down):
    response = client.post(
        reverse("api:account_register"),
        {"identity": "AB123456", "phone": "0661234578", "accept_terms": True, "accept_data_processing": True},
        content_type="application/json",
    )
    assert response.status_code == 503, response.content
    assert response.json()["code"] == "service_unavailable"


# --- sessions with [redis] url (cached_db: Redis for reads, PostgreSQL the record) -----------------


@pytest.fixture
def sessions_on_redis(on_redis, settings):
    settings.CACHES = {
        **settings.CACHES,  # « fragments » (the menu's links) stays in memory, as settings_scaleout keeps it
        "default": {
            "BACKEND": "rak_base.redis_cache.ResilientRedisCache",
            "LOCATION": settings.REDIS_URL,
            "KEY_PREFIX": settings.REDIS_KEY_PREFIX,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        },
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    return on_redis


def test_sessions_survive_a_redis_restart_and_an_outage(client, sessions_on_redis, settings):
    from django.contrib.sessions.models import Session

    from tests.factories import customer_with_account

    _customer, user = customer_with_account(phone="+212612000041")
    client.force_login(user)
    assert client.get(reverse("portal:dashboard")).status_code == 200
    prefix = settings.REDIS_KEY_PREFIX
    assert list(sessions_on_redis.scan_iter(match=f"{prefix}:*cached_db*"))  # read copy in Redis
    assert Session.objects.filter(session_key=client.session.session_key).exists()  # the record

    sessions_on_redis.delete(*sessions_on_redis.scan_iter(match=f"{prefix}:*"))  # a restart, no persistence
    assert client.get(reverse("portal:dashboard")).status_code == 200  # still logged in

    settings.CACHES = {**settings.CACHES, "default": {**settings.CACHES["default"], "LOCATION": DEAD_REDIS_URL}}
    page = client.get(reverse("portal:dashboard"))  # Redis down: the session from PostgreSQL
    assert page.status_code == 200


def test_cache_clear_deletes_this_sites_keys_only(sessions_on_redis, settings):
    from django.core.cache import cache

    other = f"{settings.REDIS_KEY_PREFIX}x:1:theirs"  # another site's (or test worker's) prefix
    sessions_on_redis.set(other, b"1")
    cache.set("ours", 1)
    assert cache.get("ours") == 1
    cache.clear()
    assert cache.get("ours") is None
    assert sessions_on_redis.get(other) == b"1"
    sessions_on_redis.delete(other)
