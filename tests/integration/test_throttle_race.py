"""rak_base.throttle on real threads and PostgreSQL: the check and the count are one step, so N
concurrent attempts against a limit L let exactly L through (issue 9: 20 allowed, 23 passed)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection

from rak_base import clock
from rak_base.models import ThrottleHit
from rak_base.throttle import throttle_hit


@pytest.mark.django_db(transaction=True)
def test_concurrent_attempts_never_pass_the_limit(settings):
    settings.REDIS_URL = ""  # the PostgreSQL counter, even when the run has [redis] url (Redis: test_throttle_redis)
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
        finally:
            connection.close()

    threads = [threading.Thread(target=one) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert allowed.count(True) == limit
    assert allowed.count(False) == threads_count - limit
    assert ThrottleHit.objects.filter(key="race:203.0.113.7").count() == limit
