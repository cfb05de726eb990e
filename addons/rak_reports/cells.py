"""How a value of a given kind is written: on the page and in the PDF (text), in XLSX (a typed
cell with a number format, so that a manager can add up a column)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.utils import formats, timezone

from rak_base.money import local_number, money_format
from rak_reports.reports import COUNT, DATE, DAYS, DECIMAL, MONEY, PERCENT

XLSX_FORMATS = {
    MONEY: "#,##0.00",
    COUNT: "#,##0",
    PERCENT: "0.0",
    DAYS: "0.0",
    DECIMAL: "#,##0.00",
    DATE: "dd/mm/yyyy",
}


def cell_value(value):
    """The cell's value itself, without a link (a link is ``{"text", "url"}``)."""
    if isinstance(value, dict):
        return value.get("text", "")
    return value


def cell_text(value, kind: str) -> str:
    value = cell_value(value)
    if value is None or value == "":
        return "—"
    if kind == MONEY:
        return money_format(Decimal(value))
    if kind == COUNT:
        return local_number(Decimal(value), 0)
    if kind == PERCENT:
        return f"{local_number(Decimal(str(value)), 1)} %"
    if kind in (DAYS, DECIMAL):
        return local_number(Decimal(str(value)), 1 if kind == DAYS else 2)
    if kind == DATE:
        if isinstance(value, datetime):
            return formats.date_format(timezone.localtime(value), "d/m/Y H:i")
        if isinstance(value, date):
            return formats.date_format(value, "d/m/Y")
    return str(value)


def xlsx_cell(value, kind: str):
    value = cell_value(value)
    if value is None:
        return None
    if kind in (MONEY, COUNT, PERCENT, DAYS, DECIMAL):
        try:
            return float(value) if kind != COUNT else int(value)
        except (TypeError, ValueError):
            return str(value)
    if kind == DATE and isinstance(value, datetime):
        return timezone.localtime(value).replace(tzinfo=None)
    if isinstance(value, (date, int, float, Decimal)):
        return value
    return str(value)
