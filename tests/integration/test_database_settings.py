"""Connection settings every process gets (config/settings.py)."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_no_jit_compilation_on_our_connections():
    """JIT made « Mes impayés » 50× slower at 6.6 M bills (docs/BENCHMARKS.md, issue 14)."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


def test_statements_are_bound_on_the_server_and_prepared_when_repeated():
    """Issue 15: a query on a customer's bills or ledger cannot be pruned to one month partition,
    and PostgreSQL spent 2–4 ms planning it over every partition for 0.1 ms of execution. Bound on
    the server and prepared at their 6th execution on a connection, repeated statements keep a plan
    (``[database] prepared_statements``, on by default)."""
    options = connection.settings_dict["OPTIONS"]
    assert options["server_side_binding"] is True
    assert options["prepare_threshold"] == 5
    with connection.cursor() as cursor:
        for _ in range(6):
            cursor.execute("SELECT count(*) FROM rak_billing_ledgerentry WHERE customer_id = %s", [0])
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%FROM rak_billing_ledgerentry WHERE customer_id = $1"],
        )
        assert cursor.fetchone()[0] == 1


def test_prepared_cursor_is_a_plain_cursor_when_prepared_statements_are_off(settings):
    """``rak_base.prepared.prepared_cursor`` (the CMI callback's partition-wide statements) prepares
    nothing when the site cannot keep prepared statements (a pooler without them)."""
    from rak_base.prepared import prepared_cursor

    settings.PREPARED_STATEMENTS = False
    with prepared_cursor() as cursor:
        cursor.execute("SELECT count(*) FROM rak_billing_bill WHERE customer_id = %s AND id > 7", [0])
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ["%AND id > 7"])
        assert cursor.fetchone()[0] == 0
    settings.PREPARED_STATEMENTS = True
    with prepared_cursor() as cursor:
        cursor.execute("SELECT count(*) FROM rak_billing_bill WHERE customer_id = %s AND id > 7", [0])
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ["%AND id > 7"])
        assert cursor.fetchone()[0] == 1
