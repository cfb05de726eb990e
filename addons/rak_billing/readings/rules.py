"""The meter-reading rules as pure functions (no database, no clock): reading windows, the
index and abnormal-consumption checks, the averages behind them and the estimate, and the parsing
of imported values. The import, the self-reading and the estimation all go through these.

Definitions
- A *real* reading is an agent's or the customer's (source AGENT or SELF); estimates never serve
  as a reference for checks or averages (an estimate may overshoot the real index).
- The *previous index* of a new reading is the index of the latest ACCEPTED real reading before
  it; consumption = index − previous index (or the index itself after a meter replacement: the
  new meter counts from zero; a new meter that did not start at zero is caught by the abnormal
  check and reviewed).
- The *average daily consumption* of a dossier is Σ consumption / Σ days over the intervals
  between its latest 13 accepted real readings (so up to its last 12 readings); the monthly
  average is that × 30. A reading is *abnormal* when its consumption exceeds
  ``ABNORMAL_FACTOR`` (3) × the average prorated to its own period, once the dossier has at least
  ``ABNORMAL_MIN_PERIODS`` intervals of history (never judged on a single month) and above a
  small floor (a vacant home consuming a few units is not abnormal).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils import formats, translation
from django.utils.translation import gettext as _

from rak_billing.readings.errors import IndexBelowPrevious, InvalidValue

ABNORMAL_FACTOR = Decimal(3)
ABNORMAL_MIN_PERIODS = 3
ABNORMAL_FLOOR_PER_MONTH = Decimal(5)  # m³ or kWh over 30 days
#: a self-reading without enough history to be judged asks for confirmation above this (30 days)
SELF_CONFIRM_ABOVE_PER_MONTH = Decimal(1000)
HISTORY_READINGS = 13  # 12 intervals
UNITS = {"EAU": "m³", "ELECTRICITE": "kWh"}
MAX_INDEX = Decimal("999999999.999")

# Monthly consumption used to estimate a dossier without history, per (service, category).
DEFAULT_MONTHLY = {
    ("EAU", "DOMESTIQUE"): Decimal(12),
    ("EAU", "PROFESSIONNEL"): Decimal(25),
    ("EAU", "INDUSTRIEL"): Decimal(150),
    ("EAU", "ADMINISTRATION"): Decimal(60),
    ("EAU", "BORNE_FONTAINE"): Decimal(80),
    ("EAU", "COLLECTIF"): Decimal(40),  # a collective meter serves several families
    ("ELECTRICITE", "DOMESTIQUE"): Decimal(150),
    ("ELECTRICITE", "PROFESSIONNEL"): Decimal(400),
    ("ELECTRICITE", "INDUSTRIEL"): Decimal(3000),
    ("ELECTRICITE", "ADMINISTRATION"): Decimal(1000),
    ("ELECTRICITE", "BORNE_FONTAINE"): Decimal(0),
    ("ELECTRICITE", "COLLECTIF"): Decimal(450),
}
DEFAULT_MONTHLY_FALLBACK = Decimal(10)


def unit(service: str) -> str:
    return UNITS.get(service, "")


def fmt_quantity(value: Decimal | None) -> str:
    """« 1 234 » / « 12,5 »: an index or a consumption as French prints it (the back office, French
    pages and messages); in another active language through Django's localisation (« 1,234 » /
    « 12.5 » in English)."""
    if value is None:
        return "—"
    value = Decimal(value)
    whole = value == value.to_integral_value()
    if not (translation.get_language() or "fr").startswith("fr"):
        decimals = 0 if whole else len(f"{value:.3f}".rstrip("0").partition(".")[2])
        return formats.number_format(value, decimals, use_l10n=True, force_grouping=True)
    text = f"{int(value):,}" if whole else f"{value:,.3f}".rstrip("0")
    return text.replace(",", "\u00a0").replace(".", ",")


def fmt_date(day: date) -> str:
    return f"{day:%d/%m/%Y}"


# --- reading windows -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """A self-reading window ``[start, end)``."""

    start: date
    end: date

    def __contains__(self, day: date) -> bool:
        return self.start <= day < self.end

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    def label(self) -> str:
        return _("du %(start)s au %(end)s") % {"start": fmt_date(self.start), "end": fmt_date(self.last_day)}


def _month_window(year: int, month: int, start_day: int, days: int) -> Window:
    start = date(year, month, start_day)
    return Window(start, start + timedelta(days=days))


def _shift_month(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def window_open(*, start_day: int, days: int, today: date) -> Window | None:
    """The window containing ``today``, or None. A window opens on ``start_day`` (1-28, so it
    exists in every month) and lasts ``days`` days, running into the next month when it must
    (25th + 10 days: 25/01 to 03/02, 25/02 to 06/03 in a common year)."""
    for delta in (0, -1):
        year, month = _shift_month(today.year, today.month, delta)
        window = _month_window(year, month, start_day, days)
        if today in window:
            return window
    return None


def window_next(*, start_day: int, days: int, today: date) -> Window:
    """The next window starting after ``today`` (used to tell when the reading opens)."""
    window = _month_window(today.year, today.month, start_day, days)
    if window.start > today:
        return window
    year, month = _shift_month(today.year, today.month, 1)
    return _month_window(year, month, start_day, days)


# --- history, averages, checks -----------------------------------------------------------------


@dataclass(frozen=True)
class PastReading:
    reading_date: date
    index: Decimal
    consumption: Decimal | None


@dataclass(frozen=True)
class Baseline:
    """What a new reading is judged against: the latest accepted real reading (date, index) and
    the average daily consumption over up to 12 intervals before it (``periods`` of them)."""

    previous_date: date | None = None
    previous_index: Decimal | None = None
    per_day: Decimal | None = None
    periods: int = 0

    def after(self, reading_date: date, index: Decimal, consumption: Decimal | None) -> Baseline:
        """The baseline once an accepted reading is added (several rows of a dossier in one file)."""
        if self.previous_date is None or consumption is None:
            return Baseline(reading_date, index, self.per_day, self.periods)
        span = (reading_date - self.previous_date).days
        if self.per_day is None or not self.periods:
            per_day = consumption / span if span > 0 else None
            return Baseline(reading_date, index, per_day, 1 if per_day is not None else 0)
        days = Decimal(self.periods * 30)  # approximate weight of the known intervals
        per_day = (self.per_day * days + consumption) / (days + span) if span > 0 else self.per_day
        return Baseline(reading_date, index, per_day, min(self.periods + 1, HISTORY_READINGS - 1))


def baseline(history: list[PastReading], *, before: date | None = None) -> Baseline:
    """The baseline from accepted real readings (any order), only those before ``before``:
    average daily consumption = Σ consumption of the newest readings but the oldest of (up to)
    13 / days between the newest and the oldest — the same formula as the SQL of
    ``selectors.accepted_baselines``."""
    readings = sorted(
        (r for r in history if before is None or r.reading_date < before), key=lambda r: r.reading_date, reverse=True
    )[:HISTORY_READINGS]
    if not readings:
        return Baseline()
    newest, oldest = readings[0], readings[-1]
    span = (newest.reading_date - oldest.reading_date).days
    if len(readings) < 2 or span <= 0:
        return Baseline(newest.reading_date, newest.index)
    total = sum((r.consumption or Decimal(0)) for r in readings[:-1])
    return Baseline(newest.reading_date, newest.index, Decimal(total) / span, len(readings) - 1)


def average_daily(history: list[PastReading]) -> tuple[Decimal | None, int]:
    """(average daily consumption, number of intervals); (None, 0) without an interval."""
    result = baseline(history)
    return result.per_day, result.periods


@dataclass(frozen=True)
class Checked:
    previous_index: Decimal | None
    consumption: Decimal | None
    abnormal: bool
    expected: Decimal | None  # the average prorated to this period, when judged


def reading_check(
    *,
    index: Decimal,
    reading_date: date,
    base: Baseline,
    meter_replaced: bool = False,
) -> Checked:
    """Check a new index against the dossier's baseline (its accepted real readings before
    ``reading_date``). Raises ``IndexBelowPrevious`` (« L'index saisi est inférieur au dernier
    index relevé (X) ») unless the meter was replaced; returns the consumption and whether it is
    abnormal (more than 3× the average prorated to the period)."""
    # a baseline has both its date and its index, or neither (Baseline.after, accepted_baselines)
    if base.previous_date is None or base.previous_index is None:
        return Checked(None, index if meter_replaced else None, False, None)
    if meter_replaced:
        consumption = index
    else:
        if index < base.previous_index:
            raise IndexBelowPrevious(
                _("L'index saisi est inférieur au dernier index relevé (%(index)s).")
                % {"index": fmt_quantity(base.previous_index)},
                previous=base.previous_index,
            )
        consumption = index - base.previous_index
    days = (reading_date - base.previous_date).days
    if base.per_day is None or base.periods < ABNORMAL_MIN_PERIODS or days <= 0:
        return Checked(base.previous_index, consumption, False, None)
    expected = base.per_day * days
    threshold = max(ABNORMAL_FACTOR * expected, ABNORMAL_FLOOR_PER_MONTH * days / 30)
    return Checked(base.previous_index, consumption, consumption > threshold, expected)


@dataclass(frozen=True)
class Estimate:
    index: Decimal
    previous_index: Decimal | None
    consumption: Decimal
    basis: str  # French, for the reading's note


def estimate(
    *,
    base: Baseline,
    reading_date: date,
    service: str,
    category: str,
    start_date: date,
) -> Estimate:
    """Estimated index on ``reading_date`` from the latest accepted real reading before it plus
    the average daily consumption × the days since; without any interval of history, the
    category's default monthly consumption (``DEFAULT_MONTHLY``) prorated; without any reading
    at all, that default over the days since the later of the dossier's start and 30 days
    before (the index then counts from zero). Whole units, rounded half-up."""
    per_day = base.per_day
    symbol = unit(service)  # the basis is the reading's note for staff: French, as the back office
    if per_day is not None:
        average = fmt_quantity(per_day * 30)
        basis = f"Estimation : consommation moyenne de {average} {symbol} par mois"  # i18n: not for customers
    else:
        monthly = DEFAULT_MONTHLY.get((service, category), DEFAULT_MONTHLY_FALLBACK)
        per_day = monthly / 30
        default = fmt_quantity(monthly)
        basis = f"Estimation forfaitaire ({default} {symbol} par mois, sans historique)"  # i18n: not for customers
    if base.previous_date is not None and base.previous_index is not None:  # both or neither
        base_date, base_index = base.previous_date, base.previous_index
        previous_index = base_index
    else:
        base_date, base_index = max(start_date, reading_date - timedelta(days=30)), Decimal(0)
        previous_index = None
    days = max((reading_date - base_date).days, 0)
    consumption = (per_day * days).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return Estimate(base_index + consumption, previous_index, consumption, basis)


# --- parsing imported values ---------------------------------------------------------------------

_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y", "%Y/%m/%d")
_TRUE = {"oui", "o", "yes", "y", "1", "x", "vrai", "true"}
_FALSE = {"", "non", "n", "no", "0", "faux", "false"}


def parse_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    if " " in text:
        text = text.split(" ", 1)[0]  # « 2026-03-02 00:00:00 » from a spreadsheet
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date, no time
        except ValueError:
            continue
    raise InvalidValue("Date de relève invalide (attendu JJ/MM/AAAA)")  # i18n: not for customers (staff import)


def parse_index(value) -> Decimal:
    if isinstance(value, bool):
        raise InvalidValue(_("Index invalide"))
    if isinstance(value, int | Decimal):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    else:
        text = re.sub(r"[\s\u00a0\u202f]", "", str(value or ""))
        if not text:
            raise InvalidValue(_("Index manquant"))
        if "," in text and "." in text:
            text = text.replace(".", "").replace(",", ".")  # 1.234,5
        else:
            text = text.replace(",", ".")
        try:
            number = Decimal(text)
        except InvalidOperation as exc:
            raise InvalidValue(_("Index invalide (un nombre est attendu)")) from exc
    if not number.is_finite():
        raise InvalidValue(_("Index invalide (un nombre est attendu)"))
    if number < 0:
        raise InvalidValue(_("Index négatif"))
    if number > MAX_INDEX:
        raise InvalidValue(_("Index trop grand"))
    if number != number.quantize(Decimal("0.001")):
        raise InvalidValue(_("Index invalide (trois décimales au plus)"))
    return number.quantize(Decimal("0.001"))


def parse_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    text = strip_accents(str(value or "")).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidValue("Valeur « compteur remplacé » invalide (oui ou non)")  # i18n: not for customers (staff import)


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def normalize_header(text) -> str:
    """« N° Dossier » -> « n dossier », « Date de relève » -> « date de releve »."""
    text = strip_accents(str(text or "")).lower().replace("°", " ").replace("º", " ")
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def self_reading_implausible(checked: Checked, *, reading_date: date, previous_date: date | None) -> bool:
    """Whether a customer's own index should be confirmed before it is saved: abnormal against the
    dossier's average, or, with too little history to judge, more than
    ``SELF_CONFIRM_ABOVE_PER_MONTH`` over 30 days (a typo such as 99,999,999)."""
    if checked.consumption is None:
        return False
    if checked.abnormal:
        return True
    if checked.expected is not None:
        return False
    days = max((reading_date - previous_date).days, 1) if previous_date else 30
    return checked.consumption > SELF_CONFIRM_ABOVE_PER_MONTH * Decimal(max(days, 30)) / 30
