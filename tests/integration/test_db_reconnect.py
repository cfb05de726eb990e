"""Persistent connections survive a PostgreSQL restart (bench/fault_run.py, scenario c, issue 15).

The web and the worker keep their connection between requests / tasks (``CONN_MAX_AGE``). When the
server restarts, every such connection is dead; without health checks the first query of the next
request or task fails with « server closed the connection unexpectedly » (a 500 per gunicorn
thread, and db_worker's loop dies on it). ``CONN_HEALTH_CHECKS`` makes Django check a reused
connection when a request (or a worker loop: ``close_old_connections``) starts, and replace it."""

from __future__ import annotations

import time

import psycopg
import pytest
from django.conf import settings
from django.db import close_old_connections, connection


@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_dropped_is_replaced_before_the_next_request_uses_it():
    assert settings.DATABASES["default"]["CONN_MAX_AGE"], "persistent connections are what is tested here"
    connection.ensure_connection()
    dropped = connection.connection.info.backend_pid
    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as admin:  # what a restart does to every backend
        admin.execute("SELECT pg_terminate_backend(%s)", [dropped])
        for _ in range(50):
            if not admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [dropped]).fetchone():
                break
            time.sleep(0.05)

    close_old_connections()  # what Django does when a request starts, and db_worker at each loop
    with connection.cursor() as cursor:  # before: OperationalError (the connection was dead)
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != dropped
