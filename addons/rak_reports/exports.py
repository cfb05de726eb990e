"""A report result as an XLSX workbook (openpyxl: a « Résumé » sheet with the filters, the date of
the data and the indicators, then one sheet per chart's data and per table, typed cells) and as a
PDF (the one PDF renderer of rak_base, charts as SVG)."""

from __future__ import annotations

import io
import re
from datetime import datetime

from django.template.loader import render_to_string
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from rak_base.pdf import pdf_render
from rak_reports.cells import XLSX_FORMATS, cell_text, xlsx_cell
from rak_reports.charts import chart_svg
from rak_reports.reports import COUNT, TEXT, ReportResult

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOLD = Font(bold=True)


def _sheet_title(title: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", " ", title)[:28].strip() or "Feuille"
    name, n = base, 2
    while name in used:
        name = f"{base[:25]} {n}"
        n += 1
    used.add(name)
    return name


def _write_rows(ws, headers, kinds, rows, totals=None):
    ws.append(headers)
    for cell in ws[ws.max_row]:
        cell.font = BOLD
    for row in rows:
        ws.append([xlsx_cell(v, k) for v, k in zip(row, kinds, strict=True)])
        for cell, kind in zip(ws[ws.max_row], kinds, strict=True):
            if kind in XLSX_FORMATS:
                cell.number_format = XLSX_FORMATS[kind]
    if totals is not None:
        ws.append([xlsx_cell(v, k) for v, k in zip(totals, kinds, strict=True)])
        for cell, kind in zip(ws[ws.max_row], kinds, strict=True):
            cell.font = BOLD
            if kind in XLSX_FORMATS:
                cell.number_format = XLSX_FORMATS[kind]
    for column in ws.columns:
        width = max((len(str(c.value)) for c in column if c.value is not None), default=8)
        ws.column_dimensions[column[0].column_letter].width = min(max(width + 2, 10), 60)


def result_xlsx(*, title: str, result: ReportResult, filters: list[tuple[str, str]], generated_at: datetime) -> bytes:
    wb = Workbook()
    ws = wb.active
    used: set[str] = set()
    ws.title = _sheet_title(_("Résumé"), used)
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=14)
    for label, value in filters:
        ws.append([label, value])
    ws.append([_("Édité le"), formats.date_format(timezone.localtime(generated_at), "d/m/Y H:i")])
    if result.data_as_of:
        ws.append([_("Données au"), formats.date_format(timezone.localtime(result.data_as_of), "d/m/Y H:i")])
    ws.append([])
    if result.kpis:
        _write_rows(ws, [_("Indicateur"), _("Valeur")], [TEXT, TEXT], [])
        for kpi in result.kpis:
            ws.append([kpi.label, xlsx_cell(kpi.value, kpi.kind)])
            if kpi.kind in XLSX_FORMATS:
                ws.cell(row=ws.max_row, column=2).number_format = XLSX_FORMATS[kpi.kind]
    for note in result.notes:
        ws.append([note])
    for chart in result.charts:
        sheet = wb.create_sheet(_sheet_title(chart.title, used))
        kinds = [TEXT] + [chart.kind] * len(chart.series)
        data = [
            [label] + [s.values[i] if i < len(s.values) else None for s in chart.series]
            for i, label in enumerate(chart.labels)
        ]
        _write_rows(sheet, ["", *(s.name for s in chart.series)], kinds, data)
    for table in result.tables:
        sheet = wb.create_sheet(_sheet_title(table.title, used))
        kinds = [c.kind for c in table.columns]
        data = [[row.get(c.key) for c in table.columns] for row in table.rows]
        totals = [table.totals.get(c.key) for c in table.columns] if table.totals else None
        _write_rows(sheet, [c.label for c in table.columns], kinds, data, totals)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def result_context(result: ReportResult) -> dict:
    """What the page and the PDF templates show: every cell already written as text."""
    charts = [
        {
            "chart": chart,
            "svg": chart_svg(chart),
            "rows": [
                (label, [cell_text(s.values[i] if i < len(s.values) else None, chart.kind) for s in chart.series])
                for i, label in enumerate(chart.labels)
            ],
        }
        for chart in result.charts
    ]
    tables = [
        {
            "table": table,
            "rows": [
                [
                    {
                        "text": cell_text(row.get(c.key), c.kind),
                        "url": (row.get(c.key) or {}).get("url", "") if isinstance(row.get(c.key), dict) else "",
                        "numeric": c.kind != TEXT,
                    }
                    for c in table.columns
                ]
                for row in table.rows
            ],
            "totals": [
                cell_text(table.totals.get(c.key), c.kind) if table.totals.get(c.key) is not None else ""
                for c in table.columns
            ]
            if table.totals
            else None,
        }
        for table in result.tables
    ]
    kpis = [{"kpi": k, "text": cell_text(k.value, k.kind)} for k in result.kpis]
    return {"kpis": kpis, "charts": charts, "tables": tables, "notes": result.notes, "data_as_of": result.data_as_of}


def result_pdf(*, title: str, result: ReportResult, filters: list[tuple[str, str]], generated_at: datetime) -> bytes:
    html = render_to_string(
        "rak_reports/report_pdf.html",
        {"title": title, "filters": filters, "generated_at": generated_at, **result_context(result)},
    )
    return pdf_render(html)


__all__ = ["COUNT", "XLSX_TYPE", "result_context", "result_pdf", "result_xlsx"]
