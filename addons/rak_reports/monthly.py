"""The monthly report of the direction: on the first days of a month, the scheduler's job
``reports_monthly`` refreshes the aggregates, builds every registered report for the previous month
(no other filter) as ONE XLSX workbook (a « Sommaire » sheet, then one sheet per report: its
indicators, each chart's data and each table, typed cells) and ONE PDF (a section per report,
charts as SVG), and e-mails both (outbox attachments) to every active staff member of the
« direction » group who has an e-mail address.

Once per month: ``MonthlyReport`` has one row per month, written in the transaction that queues
the e-mails (the row is locked while they are queued, so the job and « Envoyer le rapport mensuel
maintenant » never send twice by accident). A month with nobody to send to is recorded all the
same (nothing is sent, the row says so). A report that fails to build is left out, named in the
e-mail and on the row, and reported on the job's row (« Réussie avec des erreurs »); the others
are sent. The job's own failures and lateness are the scheduler's (« Tâches planifiées »)."""

from __future__ import annotations

import dataclasses
import io
import logging
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Font

from rak_base.outbox import message_queue_email
from rak_base.pdf import pdf_render
from rak_reports.cells import XLSX_FORMATS, xlsx_cell
from rak_reports.exports import BOLD, XLSX_TYPE, _sheet_title, result_context
from rak_reports.models import MonthlyReport
from rak_reports.query import ReportFilters, add_months
from rak_reports.reports import TEXT, Report, ReportResult, reports_registered

logger = logging.getLogger(__name__)

JOB_NAME = "reports_monthly"
DIRECTION_GROUP = "direction"
SEND_UNTIL_DAY = 7  # the job sends the previous month's report from the 1st to the 7th (a worker down on the 1st)
MESSAGE_KIND = "monthly_report"
PDF_TYPE = "application/pdf"


def previous_month(today: date) -> date:
    return add_months(today.replace(day=1), -1)


def month_label(month: date) -> str:
    return formats.date_format(month, "F Y")  # « février 2026 » in the active language


def direction_recipients():
    """Active staff of the « direction » group with an e-mail address."""
    return (
        get_user_model()
        .objects.filter(groups__name=DIRECTION_GROUP, is_active=True, is_staff=True)
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )


# --- building ------------------------------------------------------------------------------------


def reports_build(*, month: date, now: datetime) -> tuple[list[tuple[Report, ReportResult]], list[Report]]:
    """Every registered report for ``month`` (no other filter): (built, failed). A failing report
    is logged, rolled back alone and reported on the running job's row (``each_item``)."""
    from rak_base.api import each_item

    filters = ReportFilters(month_from=month, month_to=month)
    built: dict[str, tuple[Report, ReportResult]] = {}

    def build(report: Report) -> None:
        built[report.slug] = (report, report.build(filters, now=now))

    reports = reports_registered()
    each_item(reports, build, describe=lambda r: r.slug)
    return [built[r.slug] for r in reports if r.slug in built], [r for r in reports if r.slug not in built]


def _append(ws, values: list, kinds: list[str] | None = None, *, bold: bool = False) -> None:
    """One row of typed cells (``exports``' number formats), whatever the width of the rows above
    (several blocks share a report's sheet)."""
    kinds = kinds or [TEXT] * len(values)
    ws.append([xlsx_cell(v, k) for v, k in zip(values, kinds, strict=True)])
    for column, kind in enumerate(kinds, start=1):
        cell = ws.cell(row=ws.max_row, column=column)
        if kind in XLSX_FORMATS:
            cell.number_format = XLSX_FORMATS[kind]
        if bold:
            cell.font = BOLD


def _block(ws, headers: list[str], kinds: list[str], data: list[list], totals: list | None = None) -> None:
    _append(ws, headers, bold=True)
    for row in data:
        _append(ws, row, kinds)
    if totals is not None:
        _append(ws, totals, kinds, bold=True)


def _widths(ws) -> None:
    for column in ws.columns:
        width = max((len(str(c.value)) for c in column if c.value is not None), default=8)
        ws.column_dimensions[column[0].column_letter].width = min(max(width + 2, 10), 60)


def _kpi_rows(ws, result: ReportResult) -> None:
    if not result.kpis:
        return
    _append(ws, [_("Indicateur"), _("Valeur")], bold=True)
    for kpi in result.kpis:
        _append(ws, [str(kpi.label), kpi.value], [TEXT, kpi.kind])


def _heading(ws, text: str) -> None:
    ws.append([])
    ws.append([text])
    ws.cell(row=ws.max_row, column=1).font = Font(bold=True, size=12)


def monthly_xlsx(
    *, month: date, built: list[tuple[Report, ReportResult]], failed: list[Report], generated_at: datetime
) -> bytes:
    """One workbook: « Sommaire » (period, date, the reports and their sheets), then one sheet per
    report — its indicators, then each chart's data and each table, one under the other, with
    the exports' cell types and number formats (``rak_reports.exports``)."""
    wb = Workbook()
    summary = wb.active
    used: set[str] = set()
    summary.title = _sheet_title(_("Sommaire"), used)
    summary.append([_("Rapport mensuel de la direction — %(month)s") % {"month": month_label(month)}])
    summary["A1"].font = Font(bold=True, size=14)
    summary.append([_("Période"), f"{month:%m/%Y}"])
    summary.append([_("Édité le"), formats.date_format(timezone.localtime(generated_at), "d/m/Y H:i")])
    summary.append([])
    sheets = []
    for report, result in built:
        ws = wb.create_sheet(_sheet_title(str(report.title), used))
        sheets.append((str(report.title), ws.title, result.data_as_of))
        ws.append([str(report.title)])
        ws["A1"].font = Font(bold=True, size=14)
        ws.append([_("Période"), f"{month:%m/%Y}"])
        if result.data_as_of:
            ws.append([_("Données au"), formats.date_format(timezone.localtime(result.data_as_of), "d/m/Y H:i")])
        ws.append([])
        _kpi_rows(ws, result)
        for note in result.notes:
            ws.append([str(note)])
        for chart in result.charts:
            _heading(ws, str(chart.title))
            kinds = [TEXT] + [chart.kind] * len(chart.series)
            data = [
                [label] + [s.values[i] if i < len(s.values) else None for s in chart.series]
                for i, label in enumerate(chart.labels)
            ]
            _block(ws, ["", *(str(s.name) for s in chart.series)], kinds, data)
        for table in result.tables:
            _heading(ws, str(table.title))
            kinds = [c.kind for c in table.columns]
            data = [[row.get(c.key) for c in table.columns] for row in table.rows]
            totals = [table.totals.get(c.key) for c in table.columns] if table.totals else None
            _block(ws, [str(c.label) for c in table.columns], kinds, data, totals)
        _widths(ws)
    _block(summary, [_("Rapport"), _("Feuille")], [TEXT, TEXT], [[title, sheet] for title, sheet, _as_of in sheets])
    for report in failed:
        summary.append([str(report.title), _("non disponible (erreur, voir les tâches planifiées)")])
    _widths(summary)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _unique_keys(report: Report, result: ReportResult) -> ReportResult:
    """The result with its charts' keys prefixed by the report's slug: the SVG ids (title, desc of
    each chart) stay unique in one document holding every report."""
    charts = [dataclasses.replace(chart, key=f"{report.slug}-{chart.key}") for chart in result.charts]
    return dataclasses.replace(result, charts=charts)


def monthly_pdf(
    *, month: date, built: list[tuple[Report, ReportResult]], failed: list[Report], generated_at: datetime
) -> bytes:
    """One PDF: a section per report (its indicators, charts with their data, tables), from the same
    cells as the report pages (``exports.result_context``)."""
    html = render_to_string(
        "rak_reports/monthly_pdf.html",
        {
            "title": _("Rapport mensuel de la direction — %(month)s") % {"month": month_label(month)},
            "month": month,
            "generated_at": generated_at,
            "sections": [
                {"report": report, **result_context(_unique_keys(report, result))} for report, result in built
            ],
            "failed": failed,
        },
    )
    return pdf_render(html)


def monthly_files(*, month: date, now: datetime) -> tuple[list[tuple[str, str, bytes]], list[Report], list[Report]]:
    """(attachments, reports built, reports failed) of ``month``'s report."""
    built, failed = reports_build(month=month, now=now)
    xlsx = monthly_xlsx(month=month, built=built, failed=failed, generated_at=now)
    pdf = monthly_pdf(month=month, built=built, failed=failed, generated_at=now)
    stem = f"rapport-mensuel-{month:%Y-%m}"
    files = [(f"{stem}.xlsx", XLSX_TYPE, xlsx), (f"{stem}.pdf", PDF_TYPE, pdf)]
    return files, [r for r, _result in built], failed


def _email_body(*, month: date, built: list[Report], failed: list[Report]) -> str:
    query = f"?du={month:%Y-%m}&au={month:%Y-%m}"
    lines = [
        _("Bonjour,"),
        _(
            "Veuillez trouver ci-joint le rapport mensuel de %(month)s : tous les rapports de direction "
            "pour le mois, dans un classeur Excel (XLSX) et un document PDF."
        )
        % {"month": month_label(month)},
        "\n".join(f"- {report.title}" for report in built) or _("Aucun rapport n'est disponible."),
    ]
    if failed:
        lines.append(
            _("Non inclus (erreur lors du calcul, signalée aux superviseurs) : %(names)s.")
            % {"names": ", ".join(str(r.title) for r in failed)}
        )
    lines.append(
        _("Les rapports, avec leurs filtres, sont aussi consultables dans le back office : %(url)s")
        % {"url": settings.SITE_URL + reverse("reports:dashboard") + query}
    )
    return "\n\n".join(lines)


# --- sending -------------------------------------------------------------------------------------


@transaction.atomic
def monthly_report_send(*, month: date, now: datetime, by=None, again: bool = False) -> MonthlyReport | None:
    """Build ``month``'s report and queue one e-mail, with the XLSX and the PDF, per member of the
    « direction » group. Once per month unless ``again`` (the back office's « maintenant »): returns
    None when the month was already done. The month is recorded even with nobody to send to."""
    with translation.override("fr"):
        record, _created = MonthlyReport.objects.get_or_create(month=month)
        record = MonthlyReport.objects.select_for_update().get(pk=record.pk)
        if record.sent_count and not again:
            return None
        recipients = list(direction_recipients())
        files, built, failed = monthly_files(month=month, now=now)
        subject = _("Rapport mensuel de la direction — %(month)s") % {"month": month_label(month)}
        body = _email_body(month=month, built=built, failed=failed)
        for user in recipients:
            message_queue_email(
                to=user.email, subject=subject, body=body, user=user, kind=MESSAGE_KIND, attachments=files
            )
        record.sent_at = now
        record.recipients = [user.email for user in recipients]
        record.reports = [r.slug for r in built]
        record.failed_reports = [r.slug for r in failed]
        record.sent_count += 1
        record.sent_by = by
        record.save()
    return record


def monthly_report_job(*, now: datetime) -> str:
    """The scheduler's job: from the 1st to the ``SEND_UNTIL_DAY`` of a month, the previous month's
    report, once."""
    from rak_reports.matviews import matviews_refresh_all

    today = timezone.localdate(now)
    month = previous_month(today)
    if today.day > SEND_UNTIL_DAY:
        return f"rien à faire avant le 1er du mois prochain (rapport de {month:%m/%Y})"  # i18n: not for customers
    if MonthlyReport.objects.filter(month=month, sent_count__gt=0).exists():
        return f"rapport de {month:%m/%Y} déjà envoyé"  # i18n: not for customers
    matviews_refresh_all(now=now)  # the aggregates as of now, the previous month complete
    record = monthly_report_send(month=month, now=now)
    if record is None:
        return f"rapport de {month:%m/%Y} déjà envoyé"  # i18n: not for customers
    return _summary(record)


def _summary(record: MonthlyReport) -> str:
    text = f"rapport de {record.month:%m/%Y} : {len(record.reports)} rapport(s)"  # i18n: not for customers
    if record.failed_reports:
        text += f", {len(record.failed_reports)} en erreur"  # i18n: not for customers
    if not record.recipients:
        return (
            text + ", personne dans le groupe direction avec une adresse e-mail : rien envoyé"
        )  # i18n: not for customers
    return text + f", envoyé à {len(record.recipients)} destinataire(s)"  # i18n: not for customers


def monthly_report_send_now(*, now: datetime, by) -> MonthlyReport:
    """« Envoyer le rapport mensuel maintenant » (superviseur): the previous month's report, refreshed
    and sent again even if the job already sent it."""
    from rak_reports.matviews import matviews_refresh_all

    matviews_refresh_all(now=now)
    report = monthly_report_send(month=previous_month(timezone.localdate(now)), now=now, by=by, again=True)
    if report is None:  # again=True: always built and sent
        raise RuntimeError("monthly_report_send(again=True) returned None")
    return report


def register() -> None:
    """Called from ``RakReportsConfig.ready``."""
    from rak_base.api import job_register

    job_register(
        JOB_NAME,
        monthly_report_job,
        every=timedelta(hours=1),
        label=gettext_lazy("Rapports : rapport mensuel de la direction (e-mail)"),
        grace=timedelta(hours=2),
        lease=timedelta(hours=1),
    )


__all__ = ["monthly_report_job", "monthly_report_send", "monthly_report_send_now", "register"]
