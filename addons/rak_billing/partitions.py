"""Bills, bill lines and ledger entries partitioned by month (PostgreSQL declarative partitioning).

Why: a billing run writes about 500,000 bills, 2 million lines and 500,000 ledger debits at once.
In one table per kind, every index of a multi-million-row table is maintained while writing (a
random leaf page per row for the customer and dossier indexes). With one partition per month the
run writes into its month's partitions, whose indexes are small; older months are not touched.

The scheme (migration ``0022_partition_by_month``; figures in docs/BENCHMARKS.md « Billing run »):

- **bill ids carry their month**: ``id = yyyymm × 10¹⁰ + n`` (``n`` from the sequence
  ``rak_billing_bill_serial``), and ``rak_billing_bill`` is partitioned by ``RANGE (id)``, one
  partition per month (``rak_billing_bill_y2026m12``). The primary key stays ``(id)``, so every
  foreign key to a bill keeps working. The month of a **consumption bill is its period's**
  (``bill_ids_reserve`` / ``Bill`` saved by the ORM), enforced by the check ``bill_consumption_month``;
  the month of any other bill is the month it was created in (the column default
  ``rak_billing_bill_id()``);
- **lines** are partitioned by ``RANGE (bill_id)`` with the same bounds: a bill's lines live in
  its month's partition; ``(bill_id, position)`` stays unique on the parent;
- **ledger entries** are partitioned by ``RANGE (bill_id)`` too: a bill's debit (or a credit
  note's credit) lives in its month's partition; entries without a bill (payments, reversals,
  refunds and their cancellations) have a NULL ``bill_id`` and all live in the DEFAULT partition
  (the ledger table as it was before the migration), where their one-to-one unique indexes
  (``payment_id``, ``reversal_id``, ``refund_id``, ``refund_cancellation_id``) are therefore
  global; the check ``ledger_single_source`` keeps an entry to one source. ``bill_id`` is unique
  on the parent (it is the partition key);
- **uniqueness that PostgreSQL cannot enforce across partitions** is kept by other means, never
  dropped: the bill number by the table ``rak_billing_billnumber`` (primary key = number), filled
  and emptied by statement triggers on ``rak_billing_bill``; one consumption bill per dossier and
  period by a unique index in each partition — the same period always lands in the same partition
  (``bill_consumption_month``), so the partition's index sees every rival;
- everything before the migration stays in a **legacy partition** (ids below the floor,
  ``rak_billing_partition_floor()``): the first month after the last period billed;
- partitions are created ahead (``partitions_ensure``): by the migration (up to 3 months ahead),
  by each billing run for its period, by the daily job ``billing.partitions_ensure``, and when a
  consumption bill of a month without partition is saved. There is no DEFAULT partition for bills
  and lines: a bill of a month without partition is refused (« no partition of relation … found
  for row »), it never piles up in a catch-all table.
"""

from __future__ import annotations

import datetime

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Q

MONTH_FACTOR = 10**10  # id = yyyymm × 10¹⁰ + n
AHEAD_MONTHS = 3


def month_key(day: datetime.date) -> int:
    """The first bill id of ``day``'s month."""
    return (day.year * 100 + day.month) * MONTH_FACTOR


def bill_month(bill_id: int) -> datetime.date | None:
    """The month a bill id belongs to (None for the ids from before the partitioning)."""
    yyyymm = bill_id // MONTH_FACTOR
    if yyyymm < 100001:
        return None
    return datetime.date(yyyymm // 100, yyyymm % 100, 1)


def add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def _partitioned(using: str) -> bool:
    return connections[using].vendor == "postgresql"


_FLOORS: dict[str, int] = {}


def partition_floor(using: str = DEFAULT_DB_ALIAS) -> int | None:
    """The first id of the first partitioned month (below: the legacy partition); None when the
    database has no partitions (not PostgreSQL). Read once per database and process."""
    if not _partitioned(using):
        return None
    name = str(connections[using].settings_dict["NAME"])
    if name not in _FLOORS:
        with connections[using].cursor() as cursor:
            cursor.execute("SELECT rak_billing_partition_floor()")
            _FLOORS[name] = cursor.fetchone()[0]
    return _FLOORS[name]


def consumption_id_bounds(period: datetime.date, *, using: str = DEFAULT_DB_ALIAS) -> tuple[int | None, int | None]:
    """``[low, high)``: the ids the consumption bills of ``period`` can have — their month's
    partition, or the legacy partition for a month before the floor (None: no bound)."""
    floor = partition_floor(using)
    if floor is None:
        return None, None
    key = month_key(period)
    if key >= floor:
        return key, month_key(add_months(period, 1))
    return None, floor


def consumption_ids(period: datetime.date, *, using: str = DEFAULT_DB_ALIAS) -> Q:
    """A filter on ``Bill.id`` that keeps a query on the consumption bills of ``period`` to the
    one partition that holds them (pruned when planned)."""
    low, high = consumption_id_bounds(period, using=using)
    condition = Q()
    if low is not None:
        condition &= Q(id__gte=low)
    if high is not None:
        condition &= Q(id__lt=high)
    return condition


def partitions_ensure(*, first: datetime.date, last: datetime.date, using: str = DEFAULT_DB_ALIAS) -> int:
    """Create the missing month partitions of bills, lines and ledger entries from ``first``'s
    month to ``last``'s (months before the floor live in the legacy partition). Returns how
    many months were created. Cheap when they exist (a catalogue lookup per month)."""
    if not _partitioned(using):
        return 0
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT rak_billing_partitions_ensure(%s, %s)", [first, last])
        return cursor.fetchone()[0]


def bill_ids_reserve(*, period: datetime.date | None, count: int, using: str = DEFAULT_DB_ALIAS) -> list[int]:
    """``count`` new bill ids of ``period``'s month (the current month when None), its partition
    created first if missing. Consumption bills must take their ids here (``bill_consumption_month``)."""
    if count <= 0:
        return []
    with connections[using].cursor() as cursor:
        if period is None:
            cursor.execute("SELECT rak_billing_bill_id() FROM generate_series(1, %s)", [count])
        else:
            cursor.execute(
                "SELECT rak_billing_bill_id(%s) FROM rak_billing_partitions_ensure(%s, %s) AS made, "
                "generate_series(1, %s)",
                [period, period, period, count],
            )
        return [row[0] for row in cursor.fetchall()]


def consumption_bill_id(period: datetime.date, *, using: str) -> int | None:
    """The id of a consumption bill saved by the ORM (``Bill.id``'s ``get_pk_value_on_save``)."""
    if not _partitioned(using):
        return None
    return bill_ids_reserve(period=period, count=1, using=using)[0]


def partitions_ensure_job(*, now: datetime.datetime) -> str:
    """Daily: the partitions of this month and the next ``AHEAD_MONTHS`` exist (bills other than
    consumption take the month they are created in)."""
    from django.utils import timezone
    from django.utils.translation import gettext as _t

    this_month = timezone.localdate(now).replace(day=1)
    made = partitions_ensure(first=this_month, last=add_months(this_month, AHEAD_MONTHS))
    return _t("%(count)d mois de partitions créé(s)") % {"count": made}


def partitions_job_register() -> None:
    from django.utils.translation import gettext_lazy as _

    from rak_base.api import job_register

    job_register(
        "billing.partitions_ensure",
        partitions_ensure_job,
        every=datetime.timedelta(days=1),
        label=_("Facturation : partitions mensuelles des factures créées à l'avance"),
    )
