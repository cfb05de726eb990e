"""Connection settings every process gets (config/settings.py)."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_no_jit_compilation_on_our_connections():
    """JIT made « Mes impayés » 50× slower at 6.6 M bills (docs/BENCHMARKS.md, issue 14)."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
