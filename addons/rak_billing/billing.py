"""Billing runs (campagnes de facturation): one month, one reading round (tournée) or all.

A run is set-based and resumable:

- dossiers are taken in primary-key order, ``CHUNK_SIZE`` at a time after
  ``BillingRun.last_dossier_id``; each chunk is **one transaction** that bills its dossiers and
  moves ``last_dossier_id`` forward, so a crashed or stopped run continues where it stopped;
- per chunk, a fixed number of queries whatever its size: the dossiers, the bills already there
  (a dossier is never billed twice for a period: they are skipped and counted, the unique
  constraint ``bill_one_per_dossier_period`` being the last guard), the latest ACCEPTED reading
  of each meter before the end of the period with the one before it (``LATERAL`` index probes
  over the chunk's ids on PostgreSQL — a plan that does not depend on table statistics, which lag
  behind a table that a run is filling — window functions elsewhere), the readings held for
  review, the previous bill of each dossier;
- amounts come from the pure engine through the tariff book, memoised for the process by
  ``(schedule content fingerprint, VAT rate, consumption, days)`` with the COPY text of their lines:
  most households share their values (4 % of a 500,000-bill run is computed);
- bills, lines and ledger debits are written with ``COPY`` on PostgreSQL (``bulk_create``
  elsewhere), bill numbers reserved as one block of the year's gap-free sequence in the same
  transaction (a rolled-back chunk leaves no hole);
- chunks run in the worker (django-tasks): creating a run enqueues its first chunk in the same
  transaction; each chunk enqueues the next one in its own; the last one enqueues the
  finalisation (credits applied, « votre facture est disponible » by SMS, e-mail and bell);
- ``billing_run_process`` (shell, demo, benchmark) pipelines: a second thread writes and commits
  chunk *n* on its own connection while chunk *n + 1* is read and priced (figures in
  docs/BENCHMARKS.md).

Consumption of a dossier with a reading in the period: new index − the index of its previous bill
(or of the previous accepted reading for a first bill), over the days between the two (the engine
prorates tranches to 30-day months). An estimated bill (``estimated=True``) when the meter was not
read: the readings addon's estimate (average daily consumption), saved as an ESTIMATED reading, and
the next real reading regularises it. A dossier whose reading of the period is HELD or CONTESTED
is not billed (skipped) until the reading is reviewed; billing the period again then bills it.
Sanitation (ASSAINISSEMENT) dossiers are billed on the water meter of the water dossier at the
same premises.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from rak_base import clock
from rak_base.errors import RakError
from rak_billing import engine
from rak_billing.ledger import bill_numbers_reserve
from rak_billing.models import Bill, BillingRun, BillLine, LedgerEntry, MeterReading
from rak_billing.partitions import (
    AHEAD_MONTHS,
    add_months,
    bill_ids_reserve,
    consumption_id_bounds,
    consumption_ids,
    partitions_ensure,
)
from rak_customer.models import Dossier, Premises, Service

logger = logging.getLogger(__name__)

CHUNK_SIZE = 5000
ZERO = Decimal("0")
QTY = Decimal("0.001")
METERED = (Service.EAU, Service.ELECTRICITE)
BLOCKING_STATUSES = (MeterReading.Status.HELD, MeterReading.Status.CONTESTED)
SERVICE_LABELS: dict[str, str] = {
    Service.EAU: "eau",
    Service.ELECTRICITE: "électricité",
    Service.ASSAINISSEMENT: "assainissement",
}


class BillingRunRefused(RakError):
    default_message = gettext_lazy("La campagne de facturation ne peut pas être lancée.")


# --- periods ---------------------------------------------------------------------------------------


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def month_after(day: datetime.date) -> datetime.date:
    return (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def billable_dossiers(period_start: datetime.date, period_end: datetime.date, round_code: str = ""):
    """Dossiers billed for ``[period_start, period_end)``: active, or terminated during the
    period, started before its end; of the round when one is given. A dossier whose accounts were
    closed at its termination (``closing.dossier_accounts_close``: its final bill runs to the final
    index) is never billed again."""
    queryset = Dossier.objects.filter(
        Q(start_date__lt=period_end)
        & (
            Q(status=Dossier.Status.ACTIVE) & (Q(end_date__isnull=True) | Q(end_date__gt=period_start))
            | Q(status=Dossier.Status.TERMINATED, end_date__gt=period_start)
        )
    ).exclude(closing__closed_at__isnull=False)
    if round_code:
        queryset = queryset.filter(premises__round_code=round_code)
    return queryset


# --- services --------------------------------------------------------------------------------------


@transaction.atomic
def billing_run_create(
    *,
    period_start: datetime.date,
    issue_date: datetime.date,
    due_date: datetime.date,
    round_code: str = "",
    created_by=None,
    enqueue: bool = True,
) -> BillingRun:
    """Create a run for the month of ``period_start`` and queue its first chunk (same
    transaction: the worker starts it after commit)."""
    period_start = month_start(period_start)
    period_end = month_after(period_start)
    round_code = (round_code or "").strip().upper()
    if issue_date < period_start:
        raise BillingRunRefused(gettext("La date d'émission ne peut pas précéder le début de la période facturée."))
    if due_date < issue_date:
        raise BillingRunRefused(gettext("La date d'échéance ne peut pas précéder la date d'émission."))
    if round_code and not Premises.objects.filter(round_code=round_code).exists():
        raise BillingRunRefused(gettext("Aucun local n'appartient à la tournée %(round)s.") % {"round": round_code})
    busy = BillingRun.objects.filter(
        period_start=period_start, status__in=(BillingRun.Status.PENDING, BillingRun.Status.RUNNING)
    )
    if round_code:  # a run of the same round, or of all rounds, covers this one
        busy = busy.filter(Q(round_code=round_code) | Q(round_code=""))
    if busy.exists():
        raise BillingRunRefused(
            gettext(
                "Une campagne de cette période (et de cette tournée) est déjà en attente ou en cours : "
                "attendez qu'elle se termine ou reprenez-la."
            )
        )
    from rak_billing.unbillable import billing_run_unbillable

    # the period's partitions (its bills go there) and the coming months'
    this_month = month_start(timezone.localdate(clock.now()))
    partitions_ensure(first=min(period_start, this_month), last=add_months(max(period_start, this_month), AHEAD_MONTHS))
    run = BillingRun.objects.create(
        period_start=period_start,
        period_end=period_end,
        round_code=round_code,
        issue_date=issue_date,
        due_date=due_date,
        created_by=created_by,
        # what this run will not bill, and why, kept with it (the back office shows it up front)
        unbillable=billing_run_unbillable(period_start=period_start, round_code=round_code).as_json(),
    )
    if enqueue:
        _enqueue_chunk(run.pk)
    return run


def _enqueue_chunk(run_id: int) -> None:
    from rak_billing.tasks import billing_run_chunk_task

    billing_run_chunk_task.enqueue(run_id)


# Advisory lock class held by a chunk task for the whole of its transaction (key: the run's id): a
# second task of the same run gives way, and the recovery below sees whether a chunk is being billed.
RUN_CHUNK_LOCK = 7302


def billing_run_chunk_lock_try(run_id: int) -> bool:
    """Take the run's chunk lock for the current transaction; False when another one holds it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [RUN_CHUNK_LOCK, run_id])
        return bool(cursor.fetchone()[0])


def billing_runs_recover(*, now: datetime.datetime) -> int:
    """Queue again the next chunk of every run the worker was driving whose chain broke: a worker
    killed in the middle of a chunk (kill -9, OOM, power cut) rolls that chunk back, the enqueue
    of the next one with it, and leaves its task row RUNNING for ever — the run stayed « En cours »
    until somebody pressed « Reprendre ». A run is recovered when it is PENDING or RUNNING, was
    queued for the worker (it has chunk tasks: runs billed in-process are left alone), has no chunk
    task waiting, and nobody holds its chunk lock (no chunk is being billed). A recovery racing a
    live chain costs one discarded chunk at most: the chunk lock, the run row lock and the
    ``last_dossier_id`` check keep every dossier billed once. Returns the number of runs queued."""
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from rak_billing.tasks import billing_run_chunk_task

    active = (BillingRun.Status.PENDING, BillingRun.Status.RUNNING)
    recovered = 0
    for run_id in BillingRun.objects.filter(status__in=active).values_list("pk", flat=True):
        with transaction.atomic():
            chunks = DBTaskResult.objects.filter(
                task_path=billing_run_chunk_task.module_path, args_kwargs__args=[run_id]
            )
            if not chunks.exists() or chunks.filter(status=TaskResultStatus.READY).exists():
                continue
            if not billing_run_chunk_lock_try(run_id):
                continue
            _enqueue_chunk(run_id)
            recovered += 1
            logger.warning("billing run %s: its chain of chunks had stopped (worker killed?), queued again", run_id)
    return recovered + _finalizations_recover(now=now)


FINALIZE_STALE = datetime.timedelta(minutes=10)  # a finalisation task RUNNING longer is taken as dead
FINALIZE_WINDOW = datetime.timedelta(days=2)  # runs finished since: older ones are left to a person


def _finalizations_recover(*, now: datetime.datetime) -> int:
    """Queue again the finalisation of a run the worker drove and finished whose finalisation task
    died (worker killed while applying credits or queueing the notices: the notices' transaction
    rolled back, the task row stays RUNNING, customers were never told their bill is available). A
    run is taken when it finished within ``FINALIZE_WINDOW``, has no notice queued, and no
    finalisation task waiting, succeeded (a run with nobody to notify is finalised once) or running
    for less than ``FINALIZE_STALE``. The finalisation is idempotent and its notices are queued
    under a lock per run (``billing_run_notify``), so a slow live one racing this never notifies
    twice. Returns the number of runs queued."""
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from rak_base.models import Message
    from rak_billing.notifications import notification_kind
    from rak_billing.tasks import billing_run_chunk_task, billing_run_finalize_task

    recovered = 0
    finished = BillingRun.objects.filter(status=BillingRun.Status.DONE, finished_at__gte=now - FINALIZE_WINDOW)
    for run_id in finished.values_list("pk", flat=True):
        driven = DBTaskResult.objects.filter(task_path=billing_run_chunk_task.module_path, args_kwargs__args=[run_id])
        if not driven.exists() or Message.objects.filter(kind=notification_kind(run_id)).exists():
            continue
        finalize = DBTaskResult.objects.filter(
            task_path=billing_run_finalize_task.module_path, args_kwargs__args=[run_id]
        )
        alive = finalize.filter(status=TaskResultStatus.RUNNING, started_at__gt=now - FINALIZE_STALE)
        if finalize.filter(status__in=(TaskResultStatus.READY, TaskResultStatus.SUCCESSFUL)).exists() or alive.exists():
            continue
        _enqueue_finalize(run_id)
        recovered += 1
        logger.warning("billing run %s: its finalisation died (worker killed?), queued again", run_id)
    return recovered


def _enqueue_finalize(run_id: int) -> None:
    from rak_billing.tasks import billing_run_finalize_task

    billing_run_finalize_task.enqueue(run_id)


@transaction.atomic
def billing_run_resume(*, run: BillingRun) -> BillingRun:
    """Queue the next chunk of a failed or interrupted run again. Safe when a chunk is still
    running: the run row is locked by that chunk and the duplicate gives way."""
    run = BillingRun.objects.select_for_update().get(pk=run.pk)
    if run.status == BillingRun.Status.DONE:
        raise BillingRunRefused(gettext("Cette campagne est terminée : rien à reprendre."))
    if run.status == BillingRun.Status.FAILED:
        run.status = BillingRun.Status.RUNNING if run.started_at else BillingRun.Status.PENDING
        run.save(update_fields=["status"])
    _enqueue_chunk(run.pk)
    return run


@dataclass
class ChunkResult:
    created: int = 0
    skipped: int = 0
    finished: bool = False
    busy: bool = False
    warnings: list[str] = field(default_factory=list)


def billing_run_step(
    *, run_id: int, now: datetime.datetime | None = None, chunk_size: int | None = None
) -> ChunkResult:
    """Bill the next chunk of a run: read and price it, then write it in one transaction. A run
    whose row is locked (another worker is writing a chunk of it) is left alone (``busy``)."""
    now = now or clock.now()
    run = BillingRun.objects.filter(pk=run_id).first()
    if run is None or run.status in (BillingRun.Status.DONE, BillingRun.Status.FAILED):
        # nothing left (a duplicate task), or failed: « Reprendre » puts it back
        return ChunkResult(finished=run is not None and run.status == BillingRun.Status.DONE, busy=True)
    prepared = _prepare_chunk(run, after_id=run.last_dossier_id, chunk_size=chunk_size or CHUNK_SIZE, now=now)
    return _commit_chunk(run_id, prepared, now=now)


def billing_run_fail(*, run_id: int, error: str) -> None:
    with transaction.atomic():
        BillingRun.objects.filter(pk=run_id).exclude(status=BillingRun.Status.DONE).update(
            status=BillingRun.Status.FAILED, error=error[:4000]
        )


def billing_run_process(
    *,
    run_id: int,
    now: datetime.datetime | None = None,
    chunk_size: int | None = None,
    max_chunks: int | None = None,
    pipeline: bool | None = None,
) -> BillingRun:
    """Bill every remaining chunk in this process (commands, demo, benchmark); the worker runs
    the same steps one task per chunk.

    ``pipeline`` (default: outside a transaction): a second thread, on its own
    connection, writes and commits chunk *n* while this one reads and prices chunk *n + 1*, so
    the database ingests rows while Python prepares the next ones. Each chunk is still one
    transaction, committed in order, and a chunk prepared on a stale position is discarded."""
    if pipeline is None:
        pipeline = not connection.in_atomic_block
    if not pipeline:
        chunks = 0
        while max_chunks is None or chunks < max_chunks:
            result = billing_run_step(run_id=run_id, now=now, chunk_size=chunk_size)
            chunks += 1
            if result.finished or result.busy:
                break
        return BillingRun.objects.get(pk=run_id)
    return _process_pipelined(run_id=run_id, now=now, chunk_size=chunk_size or CHUNK_SIZE, max_chunks=max_chunks)


def _commit_in_thread(run_id: int, prepared: _Prepared, now: datetime.datetime) -> ChunkResult:
    return _commit_chunk(run_id, prepared, now=now)


def _close_thread_connections() -> None:
    from django.db import connections

    connections.close_all()


def _process_pipelined(*, run_id: int, now, chunk_size: int, max_chunks: int | None) -> BillingRun:
    from concurrent.futures import ThreadPoolExecutor

    now = now or clock.now()
    run = BillingRun.objects.get(pk=run_id)
    if run.status in (BillingRun.Status.DONE, BillingRun.Status.FAILED):
        return run
    after, chunks = run.last_dossier_id, 0
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="billing-writer") as writer:
        pending = None
        try:
            while max_chunks is None or chunks < max_chunks:
                prepared = _prepare_chunk(run, after_id=after, chunk_size=chunk_size, now=now)
                if pending is not None and pending.result().busy:
                    pending = None  # another process holds the run, or it stopped: leave it
                    break
                pending = writer.submit(_commit_in_thread, run_id, prepared, now)
                chunks += 1
                if prepared.finished or prepared.last_id is None:  # last_id: None only when no row was read
                    break
                after = prepared.last_id
            if pending is not None:
                pending.result()
        finally:
            writer.submit(_close_thread_connections).result()
    return BillingRun.objects.get(pk=run_id)


def _merge_warnings(previous: str, warnings: list[str]) -> str:
    lines = [line for line in previous.splitlines() if line]
    for warning in warnings:
        if warning not in lines:
            lines.append(warning)
    return "\n".join(lines[:50])


# --- one chunk ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Reading:
    id: int
    date: datetime.date
    index: Decimal
    previous_index: Decimal | None
    consumption: Decimal | None
    meter_replaced: bool
    source: str
    prev_index: Decimal | None
    prev_date: datetime.date | None


@dataclass(frozen=True)
class _PrevBill:
    current_index: Decimal | None
    index_date: datetime.date


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _latest_readings(ids: list[int], period_end: datetime.date) -> dict[int, _Reading]:
    """For each dossier, its latest ACCEPTED reading dated before ``period_end`` and the accepted
    reading before that one (index and date)."""
    if not ids:
        return {}
    table = _table(MeterReading)
    # two index probes per dossier, whatever the planner's statistics say
    sql = f"""
        SELECT d.id, cur.id, cur.reading_date, cur."index", cur.previous_index, cur.consumption,
               cur.meter_replaced, cur.source, prev."index", prev.reading_date
        FROM unnest(%s::bigint[]) AS d(id)
        CROSS JOIN LATERAL (
            SELECT r.id, r.reading_date, r."index", r.previous_index, r.consumption, r.meter_replaced, r.source
            FROM {table} r
            WHERE r.dossier_id = d.id AND r.status = 'ACCEPTED' AND r.reading_date < %s
            ORDER BY r.reading_date DESC LIMIT 1
        ) cur
        LEFT JOIN LATERAL (
            SELECT p."index", p.reading_date FROM {table} p
            WHERE p.dossier_id = d.id AND p.status = 'ACCEPTED' AND p.reading_date < cur.reading_date
            ORDER BY p.reading_date DESC LIMIT 1
        ) prev ON TRUE"""  # noqa: S608 - table names from model metadata, values bound
    params: list[list[int] | datetime.date] = [ids, period_end]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    result = {}
    for dossier_id, pk, day, index, previous_index, consumption, replaced, source, prev_index, prev_date in rows:
        result[dossier_id] = _Reading(
            pk,
            _to_date(day),
            _to_decimal(index),
            _dec(previous_index),
            _dec(consumption),
            bool(replaced),
            source,
            _dec(prev_index),
            _as_date(prev_date),
        )
    return result


def _previous_bills(ids: list[int], period_start: datetime.date) -> dict[int, _PrevBill]:
    """For each dossier, its latest consumption bill of an earlier period: the index it ended on
    and the date of that index (its reading, or the end of its period when estimated).

    Bills are partitioned by month and a consumption bill lives in its period's partition: the
    previous month's partition is probed first (most dossiers were billed then: one index probe
    each), the older ones only for the dossiers not found there."""
    if not ids:
        return {}
    low, high = consumption_id_bounds(add_months(period_start, -1))
    result = _previous_bills_in(ids, period_start, low, high)
    if low is not None:
        missing = [dossier_id for dossier_id in ids if dossier_id not in result]
        if missing:
            result.update(_previous_bills_in(missing, period_start, None, low))
    return result


def _previous_bills_in(
    ids: list[int], period_start: datetime.date, low: int | None, high: int | None
) -> dict[int, _PrevBill]:
    bills, readings = _table(Bill), _table(MeterReading)
    bounds = ("AND b.id >= %s " if low is not None else "") + ("AND b.id < %s " if high is not None else "")
    # one index probe per dossier and partition kept (bill_one_per_dossier_period), then the reading by key
    sql = f"""
        SELECT d.id, pb.current_index, pb.period_end, r.reading_date
        FROM unnest(%s::bigint[]) AS d(id)
        CROSS JOIN LATERAL (
            SELECT b.current_index, b.period_end, b.reading_id FROM {bills} b
            WHERE b.dossier_id = d.id AND b.kind = 'CONSUMPTION' AND b.period_start < %s {bounds}
            ORDER BY b.period_start DESC LIMIT 1
        ) pb
        LEFT JOIN {readings} r ON r.id = pb.reading_id"""  # noqa: S608 - table names from model metadata
    params: list[list[int] | datetime.date | int] = [
        ids,
        period_start,
        *(bound for bound in (low, high) if bound is not None),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    result = {}
    for dossier_id, current_index, period_end, reading_date in rows:
        index_date = _to_date(reading_date) if reading_date else _to_date(period_end) - datetime.timedelta(days=1)
        result[dossier_id] = _PrevBill(_dec(current_index), index_date)
    return result


def _dec(value) -> Decimal | None:
    return None if value is None else _to_decimal(value)


def _to_decimal(value) -> Decimal:
    """A value of a NOT NULL numeric column as a ``Decimal``."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _as_date(value) -> datetime.date | None:
    return None if value is None else _to_date(value)


def _to_date(value) -> datetime.date:
    """A value of a NOT NULL date column as a ``date``."""
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value)[:10])


def _water_sources(rows: list[tuple]) -> dict[int, int]:
    """Sanitation dossier id -> the water dossier whose meter it is billed on (same premises;
    the same customer's, active, latest first)."""
    sanitation = [row for row in rows if row[2] == Service.ASSAINISSEMENT]
    if not sanitation:
        return {}
    premises_ids = {row[4] for row in sanitation}
    candidates: dict[int, list[tuple]] = defaultdict(list)
    for pk, premises_id, customer_id, status in Dossier.objects.filter(
        premises_id__in=premises_ids, service=Service.EAU, meter__isnull=False
    ).values_list("pk", "premises_id", "customer_id", "status"):
        candidates[premises_id].append((pk, customer_id, status))
    sources = {}
    for pk, customer_id, _service, _category, premises_id, _meter in sanitation:
        options = candidates.get(premises_id)
        if options:
            best = max(options, key=lambda o: (o[1] == customer_id, o[2] == Dossier.Status.ACTIVE, o[0]))
            sources[pk] = best[0]
    return sources


def _estimates(source_ids: list[int], period_end: datetime.date) -> dict[int, MeterReading]:
    """Unsaved ESTIMATED readings (status ACCEPTED) for meters not read in the period."""
    if not source_ids:
        return {}
    from rak_billing.readings.services import readings_estimate

    dossiers = Dossier.objects.filter(pk__in=source_ids).only(
        "pk", "meter_id", "service", "tariff_category", "start_date"
    )
    return readings_estimate(list(dossiers), period_end)


@dataclass
class _NewBill:
    dossier_id: int
    customer_id: int
    reading_id: int | None
    previous_index: Decimal | None
    current_index: Decimal | None
    consumption: Decimal
    estimated: bool
    computation: engine.Computation
    service: str
    estimate_source: int | None = None  # source dossier whose estimated reading this bill uses
    line_tails: tuple[str, ...] = ()
    # COPY text rendered while the chunk is prepared (the main thread), so that the writer thread
    # only joins strings while the server ingests: its bill row around the reading id (an estimate's
    # is known once saved) and its ledger debit around the bill id and number
    bill_head: str = ""
    bill_tail: str = ""
    ledger_head: str = ""
    ledger_tail: str = ""


@dataclass
class _Prepared:
    """A chunk read and priced, not written yet."""

    after_id: int  # the run's position this chunk starts after
    first_id: int | None = None
    last_id: int | None = None
    finished: bool = False
    bills: list = field(default_factory=list)
    estimates: dict = field(default_factory=dict)
    skipped: int = 0
    warnings: list[str] = field(default_factory=list)


def _prepare_chunk(run: BillingRun, *, after_id: int, chunk_size: int, now: datetime.datetime) -> _Prepared:
    """Read the next ``chunk_size`` billable dossiers after ``after_id``, price their bills and
    render their COPY text (``now``: the rows' creation time). Reads only: nothing is written
    until ``_commit_chunk``."""
    from rak_billing.tariffs import TariffNotFound, tariff_book

    prepared = _Prepared(after_id=after_id)
    ps, pe = run.period_start, run.period_end
    rows = list(
        billable_dossiers(ps, pe, run.round_code)
        .filter(pk__gt=after_id)
        .order_by("pk")
        .values_list("pk", "customer_id", "service", "tariff_category", "premises_id", "meter_id")[:chunk_size]
    )
    prepared.finished = len(rows) < chunk_size
    if not rows:
        return prepared
    first_id, last_id = rows[0][0], rows[-1][0]
    prepared.first_id, prepared.last_id = first_id, last_id
    existing = set(
        Bill.objects.filter(
            consumption_ids(ps),  # the period's partition only
            kind=Bill.Kind.CONSUMPTION,
            period_start=ps,
            dossier_id__gte=first_id,
            dossier_id__lte=last_id,
        ).values_list("dossier_id", flat=True)
    )
    todo = [row for row in rows if row[0] not in existing]
    prepared.skipped += len(rows) - len(todo)
    sources = _water_sources(todo)
    source_of = {}
    for row in todo:
        pk, service, meter_id = row[0], row[2], row[5]
        if service == Service.ASSAINISSEMENT:
            if pk in sources:
                source_of[pk] = sources[pk]
        elif meter_id is not None:
            source_of[pk] = pk
    source_ids = sorted(set(source_of.values()))
    readings = _latest_readings(source_ids, pe)
    outside = sorted(set(source_ids) - {row[0] for row in rows})  # water meters of sanitation dossiers
    blocked = set(
        MeterReading.objects.filter(status__in=BLOCKING_STATUSES, reading_date__gte=ps, reading_date__lt=pe)
        .filter(Q(dossier_id__gte=first_id, dossier_id__lte=last_id) | Q(dossier_id__in=outside))
        .values_list("dossier_id", flat=True)
    )
    previous = _previous_bills([row[0] for row in todo], ps)
    to_estimate = sorted(
        {
            source
            for source in source_of.values()
            if source not in blocked and (source not in readings or readings[source].date < ps)
        }
    )
    estimates = _estimates(to_estimate, pe)
    book = tariff_book(ps)
    missing_tariffs: set[tuple[str, str]] = set()
    no_meter = no_tariff = 0

    new_bills: list[_NewBill] = []
    for pk, customer_id, service, category, _premises_id, _meter_id in todo:
        source = source_of.get(pk)
        if source is None:
            no_meter += 1
            continue
        if source in blocked:
            prepared.skipped += 1  # held for review: billed once the reading is accepted
            continue
        reading = readings.get(source)
        prev_bill = previous.get(pk)
        estimate_source = None
        if reading is not None and reading.date >= ps and reading.source != MeterReading.Source.ESTIMATED:
            old_index, old_date = _old_index(reading, prev_bill, ps)
            if reading.meter_replaced:
                consumption = reading.consumption if reading.consumption is not None else reading.index
                old_index = reading.index - consumption
                current_index = reading.index
            else:
                # below the previous bill's index only after an over-estimate: nothing to bill, and
                # the estimated index stays the reference so the overbilled units are not billed again
                consumption = max(reading.index - old_index, ZERO)
                current_index = max(reading.index, old_index)
            days = max((reading.date - old_date).days, 1)
            reading_id, estimated = reading.id, False
        elif reading is not None and reading.date >= ps:  # an estimate already saved this period
            consumption = reading.consumption or ZERO
            old_index = prev_bill.current_index if prev_bill else reading.previous_index
            current_index = reading.index
            days, reading_id, estimated = (pe - ps).days, reading.id, True
        else:
            estimate = estimates.get(source)
            if estimate is None:
                no_meter += 1
                continue
            consumption = estimate.consumption or ZERO
            old_index = prev_bill.current_index if prev_bill else estimate.previous_index
            current_index = estimate.index
            days, reading_id, estimated, estimate_source = (pe - ps).days, None, True, source
        try:
            priced = _priced(book.lookup(service, category), consumption, days)
        except TariffNotFound:
            missing_tariffs.add((service, category))
            no_tariff += 1
            continue
        new_bills.append(
            _NewBill(
                pk,
                customer_id,
                reading_id,
                old_index,
                current_index,
                consumption,
                estimated,
                priced.computation,
                service,
                estimate_source,
                priced.line_tails,
            )
        )
    prepared.skipped += no_meter + no_tariff
    prepared.warnings.extend(
        gettext("Aucun barème en vigueur pour %(service)s / %(category)s : dossiers non facturés.")
        % {"service": service, "category": category}
        for service, category in sorted(missing_tariffs)
    )
    if no_meter:
        prepared.warnings.append(
            gettext("Des dossiers sans compteur (ou assainissement sans dossier d'eau) n'ont pas été facturés.")
        )
    _render_rows(run, new_bills, now)
    prepared.bills = new_bills
    prepared.estimates = estimates
    return prepared


def _commit_chunk(run_id: int, prepared: _Prepared, *, now: datetime.datetime) -> ChunkResult:
    """Write a prepared chunk and move the run forward, in one transaction. A chunk prepared
    from another position than the run's (a concurrent worker moved it) is discarded."""
    result = ChunkResult()
    with transaction.atomic():
        run = BillingRun.objects.select_for_update(skip_locked=True).filter(pk=run_id).first()
        if run is None or run.status in (BillingRun.Status.DONE, BillingRun.Status.FAILED):
            return ChunkResult(busy=True)
        if run.last_dossier_id != prepared.after_id:
            return ChunkResult(busy=True)  # stale: someone else billed this part
        if run.status == BillingRun.Status.PENDING:
            run.status = BillingRun.Status.RUNNING
            run.started_at = now
            run.dossiers_total = billable_dossiers(run.period_start, run.period_end, run.round_code).count()
        bills = prepared.bills
        if bills:
            # two runs of one period write a chunk at a time: the check below stays true
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s, %s)",
                    [7301, run.period_start.year * 100 + run.period_start.month],
                )
            billed_meanwhile = set(
                Bill.objects.filter(
                    consumption_ids(run.period_start),  # the period's partition only
                    kind=Bill.Kind.CONSUMPTION,
                    period_start=run.period_start,
                    dossier_id__gte=prepared.first_id,
                    dossier_id__lte=prepared.last_id,
                ).values_list("dossier_id", flat=True)
            )
            if billed_meanwhile:  # by a concurrent run of the same period: skipped, numbers stay gap-free
                bills = [bill for bill in bills if bill.dossier_id not in billed_meanwhile]
                result.skipped += len(prepared.bills) - len(bills)
            _save_estimates(bills, prepared.estimates)
            _write_bills(run, bills, now)
        result.created = len(bills)
        result.skipped += prepared.skipped
        result.finished = prepared.finished
        result.warnings = prepared.warnings
        if prepared.last_id is not None:
            run.last_dossier_id = prepared.last_id
        run.bills_created += result.created
        run.dossiers_skipped += result.skipped
        if result.warnings:
            run.error = _merge_warnings(run.error, result.warnings)
        if result.finished:
            run.status = BillingRun.Status.DONE
            run.finished_at = clock.now()
        run.save()
    return result


def _old_index(reading: _Reading, prev_bill: _PrevBill | None, period_start: datetime.date):
    """The index (and its date) a real reading is compared with: the previous bill's, else the
    previous accepted reading's, else what the reading itself recorded."""
    if prev_bill is not None and prev_bill.current_index is not None:
        return prev_bill.current_index, prev_bill.index_date
    if reading.prev_index is not None:
        return reading.prev_index, reading.prev_date
    if reading.previous_index is not None:
        return reading.previous_index, period_start
    return reading.index - (reading.consumption or ZERO), period_start


def _save_estimates(bills: list[_NewBill], estimates: dict[int, MeterReading]) -> None:
    """Save the estimated readings the chunk's bills use (once per meter; one saved meanwhile by
    another chunk — a sanitation dossier's water meter — is reused) and point the bills at them."""
    used = {bill.estimate_source for bill in bills if bill.estimate_source is not None}
    if not used:
        return
    readings = [estimates[source] for source in sorted(used)]
    found = dict(
        MeterReading.objects.filter(
            dossier_id__in=used,
            source=MeterReading.Source.ESTIMATED,
            status=MeterReading.Status.ACCEPTED,
            reading_date=readings[0].reading_date,
        ).values_list("dossier_id", "pk")
    )
    missing = [reading for reading in readings if reading.dossier_id not in found]
    MeterReading.objects.bulk_create(missing)  # PostgreSQL returns the ids
    found.update({reading.dossier_id: reading.pk for reading in missing})
    for bill in bills:
        if bill.estimate_source is not None:
            bill.reading_id = found[bill.estimate_source]


# --- writing ------------------------------------------------------------------------------------------

BILL_COLUMNS = (
    "id",
    "number",
    "kind",
    "customer_id",
    "dossier_id",
    "period_start",
    "period_end",
    "reading_id",
    "previous_index",
    "current_index",
    "consumption",
    "estimated",
    "issue_date",
    "due_date",
    "total_ht",
    "total_tva",
    "total_ttc",
    "tranche_notice",
    "run_id",
    "settled_at",
    "created_at",
)
LINE_COLUMNS = (
    "bill_id",
    "position",
    "kind",
    "label",
    "quantity",
    "unit_price",
    "amount_ht",
    "vat_rate",
    "amount_tva",
    "amount_ttc",
)
LEDGER_COLUMNS = ("customer_id", "dossier_id", "kind", "entry_date", "amount", "bill_id", "label", "created_at")


def _copy_text(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


@dataclass(frozen=True)
class _Priced:
    """An engine result and the COPY text of its lines without the bill id (rendered once)."""

    computation: engine.Computation
    line_tails: tuple[str, ...]


_PRICED: dict[tuple, _Priced] = {}
PRICED_MAX = 300_000  # distinct (schedule content, rate, consumption, days) kept by a worker process


def _priced(tariff, consumption: Decimal, days: int) -> _Priced:
    """Memoised across chunks and runs of this process, keyed by the schedule's content
    fingerprint (an edited schedule has another one), the VAT rate, the consumption and the days:
    most households share their values, so a run computes each distinct bill once."""
    key = (tariff.fingerprint, tariff.vat_rate, consumption, days)
    priced = _PRICED.get(key)
    if priced is None:
        computation = tariff.compute(consumption=consumption, days=days)
        tails = tuple(
            "\t".join(
                _copy_text(v)
                for v in (
                    position,
                    line.kind,
                    line.label[:160],
                    line.quantity,
                    line.unit_price,
                    line.amount_ht,
                    line.vat_rate,
                    line.amount_tva,
                    line.amount_ttc,
                )
            )
            for position, line in enumerate(computation.lines, start=1)
        )
        if len(_PRICED) >= PRICED_MAX:
            _PRICED.clear()
        priced = _PRICED[key] = _Priced(computation, tails)
    return priced


def _write_bills(run: BillingRun, bills: list[_NewBill], now: datetime.datetime) -> None:
    if not bills:
        return
    numbers = bill_numbers_reserve(year=run.issue_date.year, count=len(bills))
    _write_copy(run, bills, numbers, now)


def _render_rows(run: BillingRun, bills: list[_NewBill], now: datetime.datetime) -> None:
    """Each bill's COPY text but its id, number and reading id (set when written), rendered in the
    preparing thread: the writer then only joins strings while the server ingests rows."""
    ps, pe = run.period_start.isoformat(), run.period_end.isoformat()
    issue, due = run.issue_date.isoformat(), run.due_date.isoformat()
    stamp, run_id, month = now.isoformat(), run.pk, f"{run.period_start:%m/%Y}"
    ledger_tails: dict[str, str] = {}
    for bill in bills:
        c = bill.computation
        bill.bill_head = f"CONSUMPTION\t{bill.customer_id}\t{bill.dossier_id}\t{ps}\t{pe}\t"
        bill.bill_tail = (
            f"{_copy_text(bill.previous_index)}\t{_copy_text(bill.current_index)}\t{bill.consumption}\t"
            f"{'t' if bill.estimated else 'f'}\t{issue}\t{due}\t{c.total_ht}\t{c.total_tva}\t{c.total_ttc}\t"
            f"{_copy_text(c.notice[:255])}\t{run_id}\t{stamp if c.total_ttc <= 0 else NULL}\t{stamp}\n"
        )
        bill.ledger_head = f"{bill.customer_id}\t{bill.dossier_id}\tBILL\t{issue}\t{c.total_ttc}\t"
        tail = ledger_tails.get(bill.service)
        if tail is None:  # once per service of the chunk
            label = _copy_text(f" — {SERVICE_LABELS.get(bill.service, bill.service)} {month}")
            tail = ledger_tails[bill.service] = f"{label}\t{stamp}\n"
        bill.ledger_tail = tail


def _write_copy(run: BillingRun, bills: list[_NewBill], numbers: list[str], now: datetime.datetime) -> None:
    """Rows stream in batches: the server ingests one batch while the next is joined from the text
    rendered when the chunk was prepared (``_render_rows``)."""
    ids = bill_ids_reserve(period=run.period_start, count=len(bills))  # the period's month (partition)
    rows = list(zip(ids, numbers, bills, strict=True))

    def bill_text(batch) -> str:
        return "".join(
            f"{bill_id}\t{number}\t{bill.bill_head}{_copy_text(bill.reading_id)}\t{bill.bill_tail}"
            for bill_id, number, bill in batch
        )

    def line_text(batch) -> str:
        return "".join(f"{bill_id}\t{tail}\n" for bill_id, _number, bill in batch for tail in bill.line_tails)

    def ledger_text(batch) -> str:
        # label « Facture <number> — <service> <mm/yyyy> »: a bill number needs no COPY escaping
        return "".join(
            f"{bill.ledger_head}{bill_id}\tFacture {number}{bill.ledger_tail}" for bill_id, number, bill in batch
        )

    _copy(Bill, BILL_COLUMNS, rows, bill_text)
    _copy(BillLine, LINE_COLUMNS, rows, line_text)
    _copy(LedgerEntry, LEDGER_COLUMNS, rows, ledger_text)


COPY_BATCH = 500
NULL = "\\N"


def _copy(model, columns: tuple[str, ...], rows: list, render) -> None:
    quote = connection.ops.quote_name
    sql = f"COPY {quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.copy(sql) as copy:
        for start in range(0, len(rows), COPY_BATCH):
            copy.write(render(rows[start : start + COPY_BATCH]))
