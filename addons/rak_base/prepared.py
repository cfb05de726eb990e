"""Statements prepared once per connection, for the few hot queries whose planning costs more than
their execution (issue 15, the CMI callback).

Django sends every statement with its values inlined (psycopg's client-side binding, no prepared
statements), so PostgreSQL plans it each time. For a query that reads a partitioned table
(bills, bill lines, ledger: one partition per month) without the partition key — « the customer's
credit notes », « the order's bills » — planning visits every partition and every index of each:
2 to 4 ms of the server's CPU measured for a statement that runs in 0.1 ms. ``prepared_cursor()``
gives a cursor of the default connection that sends its statements with server-side binding and
prepares each one: the first executions on a connection are planned as usual, then PostgreSQL keeps
a generic plan (partitions pruned when it runs), 0.1 ms in all (bench/profile_cmi_callback.py).

It goes through Django's cursor wrapper: the statements are logged in tests
(``CaptureQueriesContext``), database errors are Django's, a broken transaction is refused. The
SQL is written for server-side binding: ``%s`` placeholders only where PostgreSQL can infer the type
(a comparison with a column), never in a SELECT list without a cast.

Every other statement is prepared too once repeated (``[database] prepared_statements``, on by
default: server-side binding, psycopg's ``prepare_threshold`` 5, config/settings.py); this cursor
prepares from the first execution. With the setting off (a pooler that cannot keep prepared
statements), it is a plain cursor.

Connection pooling: a prepared statement belongs to the server connection that prepared it — with
pgbouncer in transaction mode, 1.21 or later with ``max_prepared_statements`` (docs/SCALING.md § 7).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connection
from django.db.backends.postgresql import base

#: Django's psycopg cursor with server-side binding (django-stubs do not describe it: Any)
_ServerBindingCursor: Any = base.ServerBindingCursor


class _PreparingCursor(_ServerBindingCursor):
    """psycopg's server-side-binding cursor, preparing every statement it executes (Django turns
    psycopg's automatic preparation off: ``prepare_threshold`` None). psycopg forgets its prepared
    statements on a ROLLBACK (it cannot tell what was dropped): the next execution prepares again."""

    def execute(
        self, query: Any, params: Any = None, *, prepare: bool | None = None, binary: bool | None = None
    ) -> Any:
        return super().execute(query, params, prepare=True if prepare is None else prepare, binary=binary)


def prepared_cursor() -> Any:
    """A cursor of the default connection whose statements are prepared on the server (use it as a
    context manager, like ``connection.cursor()``)."""
    if not settings.PREPARED_STATEMENTS:
        return connection.cursor()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    cursor = _PreparingCursor(connection.connection)
    return connection.make_debug_cursor(cursor) if connection.queries_logged else connection.make_cursor(cursor)
