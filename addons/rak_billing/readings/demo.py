"""Demo reading history: the reading rounds of the demo districts and, for every dossier with a
meter, one agent reading a month in its round's window — plausible consumption (per service and
tariff category, a per-dossier level, seasons, noise), deterministic for a given seed and date.

Set-based like ``rak_customer.demo``: dossiers are streamed in one query, rows generated as
tuples and written with PostgreSQL ``COPY`` (``bulk_create`` elsewhere); no history rows (a bulk
load is not a user action). Dossiers that already have readings are left alone, so running it
twice adds nothing. The current month's window is left unread when it is not over yet, so a demo
customer can try « Relève de mon index ».
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from rak_billing.models import MeterReading, ReadingRound
from rak_billing.readings.rules import DEFAULT_MONTHLY, DEFAULT_MONTHLY_FALLBACK, _month_window, _shift_month
from rak_customer.models import Dossier, Premises

COLUMNS = (
    "dossier_id",
    "meter_id",
    "reading_date",
    "index",
    "previous_index",
    "consumption",
    "source",
    "status",
    "meter_replaced",
    "photo",
    "note",
    "contest_photo",
    "contest_note",
    "review_note",
    "created_at",
)
DEFAULT_WINDOW_DAYS = 7
BATCH = 20000

# Seasonal factor per month (1 = January): water peaks in summer, electricity in summer and winter.
SEASON = {
    "EAU": (0.9, 0.9, 0.95, 1.0, 1.05, 1.2, 1.3, 1.3, 1.15, 1.0, 0.95, 0.9),
    "ELECTRICITE": (1.15, 1.1, 1.0, 0.9, 0.9, 1.0, 1.2, 1.25, 1.05, 0.9, 0.95, 1.1),
}
INITIAL_INDEX = {"EAU": (50, 3000), "ELECTRICITE": (500, 40000)}


@transaction.atomic
def reading_rounds_ensure() -> int:
    """A ``ReadingRound`` for every premises round code that has none: windows spread over the
    month (2nd, 5th, 8th...), 7 days each. Returns how many were created."""
    known = set(ReadingRound.objects.values_list("code", flat=True))
    codes = (
        Premises.objects.exclude(round_code="")
        .exclude(round_code__in=known)
        .values_list("round_code", "district")
        .distinct()
        .order_by("round_code")
    )
    districts: dict[str, str] = {}
    for code, district in codes:
        districts.setdefault(code, district)
    rounds: list[ReadingRound] = []
    for code, district in sorted(districts.items()):
        digits = "".join(ch for ch in code if ch.isdigit())
        position = int(digits) if digits else len(known) + len(rounds)
        rounds.append(
            ReadingRound(
                code=code,
                name=f"Tournée {code} — {district}",
                window_start_day=2 + (3 * (position - 1)) % 25,
                window_days=DEFAULT_WINDOW_DAYS,
            )
        )
    ReadingRound.objects.bulk_create(rounds)
    return len(rounds)


def _reading_dates(start_day: int, window_days: int, months: int, as_of: date, rng: random.Random) -> list[date]:
    """``months + 1`` reading dates, one per past window (the first one is the base index)."""
    dates: list[date] = []
    delta = 0
    while len(dates) < months + 1 and delta > -(months + 3):
        year, month = _shift_month(as_of.year, as_of.month, delta)
        window = _month_window(year, month, start_day, window_days)
        delta -= 1
        if window.end > as_of:
            continue  # current window: left open for the self-reading
        dates.append(window.start + timedelta(days=rng.randrange(window_days)))
    return sorted(dates)


def _rows(
    dossier: tuple, rounds: dict[str, tuple[int, int]], months: int, as_of: date, seed: int, now: datetime
) -> Iterator[tuple]:
    dossier_id, meter_id, service, category, start_date, end_date, round_code = dossier
    start_day, window_days = rounds.get(round_code, (20, DEFAULT_WINDOW_DAYS))
    rng = random.Random(f"{seed}:{dossier_id}")  # noqa: S311 - demo data, not security
    monthly = float(DEFAULT_MONTHLY.get((service, category), DEFAULT_MONTHLY_FALLBACK)) * rng.lognormvariate(0, 0.45)
    season = SEASON.get(service, SEASON["EAU"])
    low, high = INITIAL_INDEX.get(service, INITIAL_INDEX["EAU"])
    index = rng.randint(low, high)
    previous_date = None
    for reading_date in _reading_dates(start_day, window_days, months, as_of, rng):
        if reading_date < start_date or (end_date is not None and reading_date > end_date):
            continue
        if previous_date is None:
            yield (dossier_id, meter_id, reading_date, Decimal(index), None, None, "AGENT", "ACCEPTED", False,
                   "", "", "", "", "", now)  # fmt: skip
        else:
            days = (reading_date - previous_date).days
            mean = monthly * season[reading_date.month - 1] * days / 30
            consumption = max(0, round(rng.gauss(mean, max(mean * 0.15, 0.5))))
            previous = index
            index += consumption
            yield (dossier_id, meter_id, reading_date, Decimal(index), Decimal(previous), Decimal(consumption),
                   "AGENT", "ACCEPTED", False, "", "", "", "", "", now)  # fmt: skip
        previous_date = reading_date


def _write(rows: list[tuple]) -> None:
    if not rows:
        return
    quote = connection.ops.quote_name
    sql = f"COPY {quote(MeterReading._meta.db_table)} ({', '.join(quote(c) for c in COLUMNS)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


@transaction.atomic
def readings_generate_history(*, months: int = 12, as_of: date, seed: int = 2026, now: datetime | None = None) -> int:
    """Write ``months`` months of agent readings (plus the base reading before them) for every
    dossier with a meter that has no reading yet; ensure the reading rounds exist first. Returns
    the number of readings written. Deterministic: the same database, seed and ``as_of`` give the
    same readings."""
    if months < 1:
        return 0
    now = now or timezone.make_aware(datetime.combine(as_of, datetime.min.time()))
    reading_rounds_ensure()
    rounds = {r.code: (r.window_start_day, r.window_days) for r in ReadingRound.objects.all()}
    dossiers = (
        Dossier.objects.filter(meter__isnull=False)
        .exclude(end_date__lt=as_of - timedelta(days=31 * (months + 1)))
        .exclude(Exists(MeterReading.objects.filter(dossier_id=OuterRef("pk"))))
        .values_list("id", "meter_id", "service", "tariff_category", "start_date", "end_date", "premises__round_code")
        .order_by("id")
    )
    written = 0
    batch: list[tuple] = []
    for dossier in dossiers.iterator(chunk_size=BATCH):
        batch.extend(_rows(dossier, rounds, months, as_of, seed, now))
        if len(batch) >= BATCH:
            _write(batch)
            written += len(batch)
            batch = []
    _write(batch)
    written += len(batch)
    return written
