"""Gap-free named sequences.

``sequence_next`` is one statement in the common case — ``UPDATE … SET next_value = next_value + n
… RETURNING`` — so the sequence's row is locked from that statement to the caller's COMMIT (or
ROLLBACK) and for nothing before it: callers that want a short hold reserve their number as their
transaction's last write. A value reserved by a transaction that rolls back is given back with
the row's old value, so numbers are unique and, inside committed transactions, gap-free.
"""

from django.db import connection, transaction

from rak_base.models import Sequence

_NEXT = 'UPDATE "rak_base_sequence" SET next_value = next_value + %s WHERE name = %s RETURNING next_value - %s'
_CREATE = (
    'INSERT INTO "rak_base_sequence" (name, next_value) VALUES (%s, %s) '
    'ON CONFLICT (name) DO UPDATE SET next_value = "rak_base_sequence".next_value + %s '
    "RETURNING next_value - %s"
)


def sequence_next(*, name: str, start: int = 1, count: int = 1) -> int:
    """Reserve ``count`` consecutive values of sequence ``name``; return the first. The row is
    created on first use (at ``start``), race-safe: a concurrent creator's row is then updated."""
    with connection.cursor() as cursor:
        cursor.execute(_NEXT, [count, name, count])
        row = cursor.fetchone()
        if row is None:  # first use of this name: insert it, or update the row a concurrent caller inserted
            cursor.execute(_CREATE, [name, start + count, count, count])
            row = cursor.fetchone()
    return row[0]


@transaction.atomic
def sequence_ensure_at_least(*, name: str, value: int) -> None:
    """Move a sequence past values assigned in bulk (demo data, migrations)."""
    seq, _ = Sequence.objects.select_for_update().get_or_create(name=name, defaults={"next_value": value})
    if seq.next_value < value:
        seq.next_value = value
        seq.save(update_fields=["next_value"])
