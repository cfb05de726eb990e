"""The report registry and what a report returns.

A report is a class with a ``slug``, a ``title`` and ``build(filters, now=) -> ReportResult``:
indicators (Kpi), charts (Chart: labels × series, drawn as server-side SVG with the same data as a
table for screen readers) and tables (Table). The page, the XLSX and the PDF are drawn from that
one result by ``rak_reports.views`` / ``rak_reports.exports``: a report module only computes.

``headline(filters, now=)`` gives the few indicators the Direction dashboard shows for it (cheap:
read the same aggregates)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from rak_reports.query import ReportFilters

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# The report modules, in the order of the menu. A module not written yet is skipped.
MODULES = ("finance", "receivables", "requests", "complaints", "readings", "adoption", "outbox")

ALL_FILTERS = ("period", "district", "agency", "service", "customer_kind")

# kinds of values: how a cell is written on the page, in XLSX (number format) and in the PDF
TEXT, MONEY, COUNT, PERCENT, DAYS, DATE, DECIMAL = "text", "money", "count", "percent", "days", "date", "decimal"


@dataclass
class Kpi:
    label: str
    value: Any
    kind: str = COUNT
    hint: str = ""
    key: str = ""  # data-testid / stable name in tests and exports


@dataclass
class Column:
    key: str
    label: str
    kind: str = TEXT


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[dict]
    totals: dict | None = None
    note: str = ""
    link_key: str = ""  # a column whose row value is {"text", "url"} (e.g. a customer)


@dataclass
class Series:
    name: str
    values: list[Decimal | int | None]


@dataclass
class Chart:
    key: str
    title: str
    labels: list[str]
    series: list[Series]
    kind: str = MONEY  # kind of the values
    horizontal: bool = False  # long category names (request types): bars left to right
    desc: str = ""


@dataclass
class ReportResult:
    kpis: list[Kpi] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data_as_of: datetime | None = None  # the aggregates' last refresh (None: live data)


class Report:
    slug: ClassVar[str]
    title: ClassVar[StrOrPromise]
    description: ClassVar[StrOrPromise] = ""
    filters: ClassVar[tuple[str, ...]] = ALL_FILTERS
    matviews: ClassVar[tuple[str, ...]] = ()  # names of the views it reads (« données au … »)
    permission: ClassVar[str] = "rak_reports.view_reports"

    def build(self, filters: ReportFilters, *, now: datetime) -> ReportResult:  # pragma: no cover
        raise NotImplementedError

    def headline(self, filters: ReportFilters, *, now: datetime) -> list[Kpi]:
        return self.build(filters, now=now).kpis[:3]


_reports: dict[str, Report] = {}


def report_register(cls: type[Report]) -> type[Report]:
    _reports[cls.slug] = cls()
    return cls


def reports_registered() -> list[Report]:
    order = {m: i for i, m in enumerate(MODULES)}
    return sorted(_reports.values(), key=lambda r: (order.get(type(r).__module__.rsplit(".", 1)[-1], 99), r.slug))


def report_get(slug: str) -> Report | None:
    return _reports.get(slug)


def load_all() -> None:
    importlib.import_module("rak_reports.forms")  # the filters' own view (districts)
    for name in MODULES:
        try:
            importlib.import_module(f"rak_reports.reports.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"rak_reports.reports.{name}":
                raise
