"""How a report reads its aggregates: the filters of every report page (period, district, agency,
service, customer type) as one SQL ``WHERE`` with bound parameters, and rows as dicts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from django.db import connections

from rak_base.db_router import reports_database

DIMENSIONS = ("district", "agency_id", "service", "customer_kind")


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class ReportFilters:
    """``month_from`` … ``month_to`` are first days of months, both included."""

    month_from: date
    month_to: date
    district: str = ""
    agency_id: int | None = None
    service: str = ""
    customer_kind: str = ""

    @property
    def start(self) -> date:
        return self.month_from

    @property
    def end(self) -> date:
        """The day after the period (half-open ``[start, end)``)."""
        return add_months(self.month_to, 1)

    def months(self) -> list[date]:
        out, month = [], self.month_from
        while month <= self.month_to:
            out.append(month)
            month = add_months(month, 1)
        return out

    def without(self, *names: str) -> ReportFilters:
        blank: dict[str, Any] = {"district": "", "agency_id": None, "service": "", "customer_kind": ""}
        return replace(self, **{n: blank[n] for n in names})

    def dimension_values(self) -> dict[str, object]:
        return {d: getattr(self, d) for d in DIMENSIONS if getattr(self, d) not in ("", None)}


def where(
    filters: ReportFilters,
    *,
    month: str | None = "month",
    dims: Sequence[str] = DIMENSIONS,
    alias: str = "",
) -> tuple[str, list]:
    """``(sql, params)``: ``month`` in the period (``month=None``: no period) and each dimension
    the page filters on, for the columns of one view (``dims``: those it has; a filter on a
    dimension the view does not have is ignored: say so on the page with ``Report.filters``)."""
    prefix = f"{alias}." if alias else ""
    clauses: list[str] = ["TRUE"]
    params: list[object] = []
    if month:
        clauses.append(f"{prefix}{month} >= %s AND {prefix}{month} < %s")
        params += [filters.start, filters.end]
    for dim, value in filters.dimension_values().items():
        if dim in dims:
            clauses.append(f"{prefix}{dim} = %s")
            params.append(value)
    return " AND ".join(clauses), params


def rows(sql: str, params: Sequence = ()) -> list[dict]:
    """Rows as dicts, read on the reports' database (the replica inside ``replica_reads()``)."""
    with connections[reports_database()].cursor() as cursor:
        cursor.execute(sql, list(params))
        names = [c.name for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def one(sql: str, params: Sequence = ()) -> dict:
    found = rows(sql, params)
    return found[0] if found else {}
