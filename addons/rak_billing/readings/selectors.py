"""Reads of the meter readings: histories in bulk (a fixed number of queries for any number of
dossiers), the self-reading state of a customer's dossiers, the portal history, the review queue."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import F, Lookup, Max, Q, QuerySet, Window
from django.db.models.functions import RowNumber

from rak_billing.models import MeterReading, ReadingRound
from rak_billing.readings.rules import HISTORY_READINGS, Baseline, PastReading, window_next, window_open
from rak_billing.readings.rules import Window as ReadingWindow
from rak_customer.models import Dossier

REAL_SOURCES = (MeterReading.Source.AGENT, MeterReading.Source.SELF)
LIVE_STATUSES = (MeterReading.Status.ACCEPTED, MeterReading.Status.HELD, MeterReading.Status.CONTESTED)
HISTORY_PAGE = 24


def chunked(values: list, size: int = 20000) -> Iterator[list]:
    """Long id lists in slices of 20,000 (one array parameter each)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def accepted_histories(
    dossier_ids: Iterable[int], *, before: date | None = None, limit: int = HISTORY_READINGS
) -> dict[int, list[PastReading]]:
    """dossier id -> its latest ``limit`` ACCEPTED real readings (newest first), optionally only
    those before ``before``. One window-function query per slice of 20,000 dossiers."""
    ids = sorted(set(dossier_ids))
    histories: dict[int, list[PastReading]] = defaultdict(list)
    for chunk in chunked(ids):
        rows = MeterReading.objects.filter(
            dossier_id__in=chunk, status=MeterReading.Status.ACCEPTED, source__in=REAL_SOURCES
        )
        if before is not None:
            rows = rows.filter(reading_date__lt=before)
        ranked = (
            rows.annotate(rank=Window(RowNumber(), partition_by=[F("dossier_id")], order_by=F("reading_date").desc()))
            .filter(rank__lte=limit)
            .values_list("dossier_id", "reading_date", "index", "consumption")
            .order_by("dossier_id", "-reading_date")
        )
        for dossier_id, reading_date, index, consumption in ranked:
            histories[dossier_id].append(PastReading(reading_date, index, consumption))
    return histories


BASELINES_SQL = """
WITH ranked AS (
    SELECT dossier_id, reading_date, "index", consumption, status,
           row_number() OVER (
               PARTITION BY dossier_id, (status = 'ACCEPTED') ORDER BY reading_date DESC, id DESC
           ) AS rank
    FROM {table}
    WHERE dossier_id = ANY(%(ids)s) AND source IN ('AGENT', 'SELF')
      AND status IN ('ACCEPTED', 'HELD', 'CONTESTED') {before}
)
SELECT dossier_id,
       max(reading_date) AS last_live,
       max(reading_date) FILTER (WHERE status = 'ACCEPTED' AND rank = 1) AS last_date,
       max("index") FILTER (WHERE status = 'ACCEPTED' AND rank = 1) AS last_index,
       min(reading_date) FILTER (WHERE status = 'ACCEPTED' AND rank <= %(limit)s) AS first_date,
       count(*) FILTER (WHERE status = 'ACCEPTED' AND rank <= %(limit)s) AS n,
       coalesce(sum(consumption) FILTER (WHERE status = 'ACCEPTED' AND rank <= %(limit)s), 0) AS total_all,
       (array_agg(consumption ORDER BY rank DESC) FILTER (WHERE status = 'ACCEPTED' AND rank <= %(limit)s))[1]
           AS oldest_consumption
FROM ranked
GROUP BY dossier_id
"""


def accepted_baselines(
    dossier_ids: Iterable[int], *, before: date | None = None
) -> tuple[dict[int, Baseline], dict[int, date]]:
    """For many dossiers at once: their ``Baseline`` (latest accepted real reading and average
    daily consumption over up to 12 intervals, see ``rules.baseline``) and the date of their
    latest non-rejected real reading: one aggregate query per slice of 20,000 dossiers returns one
    row per dossier (the figures ``rules.baseline`` defines)."""
    ids = sorted(set(dossier_ids))
    baselines: dict[int, Baseline] = {}
    latest: dict[int, date] = {}
    table = connection.ops.quote_name(MeterReading._meta.db_table)
    sql = BASELINES_SQL.format(
        table=table,
        before="AND reading_date < %(before)s" if before is not None else "",
    )
    with connection.cursor() as cursor:
        for chunk in chunked(ids):
            cursor.execute(sql, {"ids": chunk, "before": before, "limit": HISTORY_READINGS})
            for dossier_id, last_live, last_date, last_index, first_date, n, total_all, oldest in cursor.fetchall():
                latest[dossier_id] = last_live
                if last_date is None:
                    continue
                span = (last_date - first_date).days
                if n < 2 or span <= 0:
                    baselines[dossier_id] = Baseline(last_date, last_index)
                else:
                    total = Decimal(total_all) - (oldest or Decimal(0))
                    baselines[dossier_id] = Baseline(last_date, last_index, total / span, n - 1)
    return baselines, latest


def latest_real_dates(dossier_ids: Iterable[int]) -> dict[int, date]:
    """dossier id -> date of its latest non-rejected agent or self reading."""
    ids = sorted(set(dossier_ids))
    latest: dict[int, date] = {}
    for chunk in chunked(ids):
        rows = (
            MeterReading.objects.filter(dossier_id__in=chunk, status__in=LIVE_STATUSES, source__in=REAL_SOURCES)
            .values("dossier_id")
            .annotate(last=Max("reading_date"))
            .values_list("dossier_id", "last")
            .order_by()
        )
        latest.update(rows)
    return latest


def taken_days(dossier_ids: Iterable[int], first: date, last: date) -> set[tuple[int, date]]:
    """(dossier id, date) pairs already holding a non-rejected reading (any source) between
    ``first`` and ``last`` included — the one-reading-a-day constraint."""
    ids = sorted(set(dossier_ids))
    taken: set[tuple[int, date]] = set()
    table = connection.ops.quote_name(MeterReading._meta.db_table)  # a model's table, not input
    sql = (
        f"SELECT dossier_id, reading_date FROM {table} "  # noqa: S608
        "WHERE dossier_id = ANY(%s) AND reading_date BETWEEN %s AND %s AND status <> 'REJECTED'"
    )
    with connection.cursor() as cursor:
        for chunk in chunked(ids):
            cursor.execute(sql, [chunk, first, last])
            taken.update(map(tuple, cursor.fetchall()))
    return taken


class AnyOf(Lookup):
    """``column = ANY(%s)`` with the values as one array parameter: a 20,000-value IN list costs a
    20,000-placeholder statement to build and parse; an array is one parameter. Used as an
    expression (``any_of``), never registered on a field class."""

    lookup_name = "any_of"
    prepare_rhs = False

    def get_db_prep_lookup(self, value, connection):
        return ("%s", [list(value)])

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]


def any_of(field: str, values: list) -> Q:
    """``field = ANY(array)`` (text columns)."""
    return Q(AnyOf(F(field), list(values)))


def existing_keys(keys: list[str]) -> set[str]:
    found: set[str] = set()
    for chunk in chunked(keys):
        rows = MeterReading.objects.filter(any_of("external_key", chunk)).values_list("external_key", flat=True)
        found.update(key for key in rows if key is not None)  # « = ANY » never matches a NULL key anyway
    return found


# --- self-reading ------------------------------------------------------------------------------


@dataclass
class SelfReadingState:
    """Where a dossier stands for the self-reading today."""

    dossier: Dossier
    window: ReadingWindow | None  # the open window, if any
    next_window: ReadingWindow | None  # when closed: the next one
    reading: MeterReading | None  # the real reading already taken in the open window

    @property
    def ready(self) -> bool:
        return self.window is not None and self.reading is None

    @property
    def already_read(self) -> bool:
        return self.window is not None and self.reading is not None

    @property
    def correctable(self) -> bool:
        """The reading in the open window is the customer's own, not yet reviewed: « Corriger »
        (the service also checks that no bill uses it)."""
        reading = self.reading
        return (
            self.already_read
            and reading is not None  # (already_read says so; mypy reads no property)
            and reading.source == MeterReading.Source.SELF
            and reading.status in (MeterReading.Status.ACCEPTED, MeterReading.Status.HELD)
            and reading.reviewed_at is None
        )


def self_reading_states(customer_id: int, today: date) -> list[SelfReadingState]:
    """The customer's active dossiers with a meter and their self-reading state. Three queries
    whatever the number of dossiers: dossiers (premises, meter), rounds, readings in the windows."""
    dossiers = list(
        Dossier.objects.filter(customer_id=customer_id, status=Dossier.Status.ACTIVE, meter__isnull=False)
        .select_related("premises", "meter")
        .order_by("number")
    )
    codes = {d.premises.round_code for d in dossiers if d.premises.round_code}
    rounds = {r.code: r for r in ReadingRound.objects.filter(code__in=codes)} if codes else {}
    states = []
    for dossier in dossiers:
        reading_round = rounds.get(dossier.premises.round_code)
        if reading_round is None:
            states.append(SelfReadingState(dossier, None, None, None))
            continue
        params: dict[str, Any] = {
            "start_day": reading_round.window_start_day,
            "days": reading_round.window_days,
            "today": today,
        }
        window = window_open(**params)
        states.append(SelfReadingState(dossier, window, None if window else window_next(**params), None))
    open_states = [(s, s.window) for s in states if s.window is not None]
    if open_states:
        first = min(window.start for _state, window in open_states)
        found = (
            MeterReading.objects.filter(
                dossier_id__in=[s.dossier.pk for s, _window in open_states],
                reading_date__gte=first,
                reading_date__lte=today,
                status__in=LIVE_STATUSES,
                source__in=REAL_SOURCES,
            )
            .only("id", "dossier_id", "reading_date", "index", "source", "status", "reviewed_at")
            .order_by("-reading_date")
        )
        by_dossier: defaultdict[int, list[MeterReading]] = defaultdict(list)
        for reading in found:
            by_dossier[reading.dossier_id].append(reading)
        for state, window in open_states:
            state.reading = next((r for r in by_dossier[state.dossier.pk] if r.reading_date in window), None)
    return states


# --- portal history, review queue --------------------------------------------------------------


def customer_reading_dossiers(customer_id: int) -> list[Dossier]:
    """The customer's dossiers that have (or had) a meter, for the history's dossier switch."""
    return list(
        Dossier.objects.filter(customer_id=customer_id, meter__isnull=False)
        .select_related("premises")
        .only("id", "number", "service", "status", "premises__address", "premises__district")
        .order_by("number")
    )


HISTORY_FIELDS = (
    "id",
    "dossier_id",
    "reading_date",
    "index",
    "previous_index",
    "consumption",
    "source",
    "status",
    "photo",
    "contest_photo",
    "review_note",
    "meter_replaced",
)


def reading_history_queryset(dossier_id: int) -> QuerySet[MeterReading]:
    """The dossier's readings, newest first (a queryset to paginate: the mobile API's history)."""
    return MeterReading.objects.filter(dossier_id=dossier_id).only(*HISTORY_FIELDS).order_by("-reading_date", "-id")


def last_readings(dossier_ids: Iterable[int]) -> dict[int, MeterReading]:
    """dossier id -> its latest reading, whatever its source and status (what « Relève de mon
    index » shows as « dernier index »): one query for any number of dossiers."""
    ids = sorted(set(dossier_ids))
    if not ids:
        return {}
    rows = (
        MeterReading.objects.filter(dossier_id__in=ids)
        .only(*HISTORY_FIELDS)
        .order_by("dossier_id", "-reading_date", "-id")
        .distinct("dossier_id")
    )
    return {reading.dossier_id: reading for reading in rows}


def reading_history(dossier_id: int, *, limit: int = HISTORY_PAGE) -> list[MeterReading]:
    """The dossier's latest ``limit`` readings (one query, newest first)."""
    return list(
        MeterReading.objects.filter(dossier_id=dossier_id)
        .only(
            "id",
            "dossier_id",
            "reading_date",
            "index",
            "previous_index",
            "consumption",
            "source",
            "status",
            "photo",
            "contest_photo",
            "review_note",
            "meter_replaced",
        )
        .order_by("-reading_date", "-id")[:limit]
    )


def review_queue_filter() -> Q:
    """The readings to verify: held (abnormal), contested, or sent to verification by staff (a
    billed reading keeps its status, see ``reading_review_request``)."""
    return Q(status__in=[MeterReading.Status.HELD, MeterReading.Status.CONTESTED]) | Q(
        review_requested_at__isnull=False
    )


def customer_self_readings(customer_id: int) -> list[MeterReading]:
    """The customer's own readings (« Relève de mon index »), newest first, with their dossier: the
    « Relevé index » rows of « Suivi des demandes » (one query)."""
    return list(
        MeterReading.objects.filter(dossier__customer_id=customer_id, source=MeterReading.Source.SELF)
        .select_related("dossier")
        .only(
            "id",
            "reading_date",
            "index",
            "status",
            "created_at",
            "reviewed_at",
            "dossier__id",
            "dossier__number",
            "dossier__service",
        )
        .order_by("-created_at", "-id")
    )
