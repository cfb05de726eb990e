"""Working days of the régie's agencies: Monday to Friday, except Moroccan public holidays
(the ``holidays`` package: fixed civil holidays, and the religious ones from the Hijri calendar —
those are estimated by the package until announced, a day either side is possible).

Pure functions: the caller passes the dates."""

from __future__ import annotations

import datetime
from functools import lru_cache

SATURDAY = 5


@lru_cache(maxsize=32)
def _holidays_of(year: int) -> frozenset[datetime.date]:
    import holidays  # about 0.1 s to import: only when a receipt first needs a date, not at start-up

    return frozenset(holidays.country_holidays("MA", years=year))


def is_working_day(day: datetime.date) -> bool:
    return day.weekday() < SATURDAY and day not in _holidays_of(day.year)


def working_day_after(day: datetime.date, count: int = 1) -> datetime.date:
    """The ``count``-th working day after ``day`` (``day`` itself never counts)."""
    if count < 1:
        raise ValueError("count must be at least 1")
    current = day
    while count:
        current += datetime.timedelta(days=1)
        if is_working_day(current):
            count -= 1
    return current
