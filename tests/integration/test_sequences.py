"""rak_base.sequences: ``sequence_next`` is one UPDATE … RETURNING (the row is created on first use,
race-safe), values are consecutive, and a rolled-back reservation is given back (gap-free)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from rak_base.models import Sequence
from rak_base.sequences import sequence_ensure_at_least, sequence_next


@pytest.mark.django_db
def test_first_use_creates_the_row_then_one_statement_per_reservation():
    assert sequence_next(name="t.seq", start=7) == 7
    assert sequence_next(name="t.seq", count=3) == 8
    with CaptureQueriesContext(connection) as queries:
        assert sequence_next(name="t.seq") == 11
    assert len(queries.captured_queries) == 1
    assert queries.captured_queries[0]["sql"].startswith('UPDATE "rak_base_sequence"')
    assert Sequence.objects.get(name="t.seq").next_value == 12


@pytest.mark.django_db
def test_a_rolled_back_reservation_is_given_back():
    sequence_next(name="t.gap")
    with pytest.raises(RuntimeError), transaction.atomic():
        assert sequence_next(name="t.gap", count=5) == 2
        raise RuntimeError
    assert sequence_next(name="t.gap") == 2


@pytest.mark.django_db
def test_ensure_at_least_only_moves_forward():
    sequence_ensure_at_least(name="t.min", value=50)
    assert sequence_next(name="t.min") == 50
    sequence_ensure_at_least(name="t.min", value=10)
    assert sequence_next(name="t.min") == 51


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_uses_get_distinct_consecutive_values():
    values: list[int] = []
    barrier = threading.Barrier(4)

    def take():
        try:
            barrier.wait()
            with transaction.atomic():
                values.append(sequence_next(name="t.race", count=2))
        finally:
            connection.close()

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(values) == [1, 3, 5, 7]
    assert Sequence.objects.get(name="t.race").next_value == 9
