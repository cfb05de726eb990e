"""The monthly report (rak_reports.monthly) through the scheduler: on the 1st of a month, one e-mail
per « direction » member with an XLSX and a PDF of every registered report for the previous month
(their figures those of the report pages for that month), once per month; nobody to send to is
recorded; a report that fails is left out and reported on the job's row."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from openpyxl import load_workbook
from pypdf import PdfReader

from rak_base import scheduler
from rak_base.models import Message, ScheduledJob
from rak_reports import matviews, monthly
from rak_reports.cells import xlsx_cell
from rak_reports.matviews import MatView, matview_register
from rak_reports.models import MonthlyReport
from rak_reports.query import ReportFilters, rows, where
from rak_reports.reports import MONEY, Column, Kpi, Report, ReportResult, Table, _reports, reports_registered
from tests.factories import DossierFactory, staff_in

pytestmark = pytest.mark.django_db

CASABLANCA = ZoneInfo("Africa/Casablanca")
FIRST_OF_MARCH = datetime(2026, 3, 1, 8, 0, tzinfo=CASABLANCA)
FEBRUARY = date(2026, 2, 1)

DOSSIERS = matview_register(
    MatView(
        name="test_monthly_dossiers",
        sql="""
            SELECT date_trunc('month', d.start_date)::date AS month, p.district, count(*) AS dossiers,
                   sum(d.deposit_amount) AS deposits
            FROM rak_customer_dossier d JOIN rak_customer_premises p ON p.id = d.premises_id
            GROUP BY 1, 2
        """,
        unique=("month", "district"),
    )
)


class DossiersReport(Report):
    slug = "test-dossiers-mensuels"
    title = "Dossiers ouverts (test)"
    filters = ("period", "district")
    matviews = ("test_monthly_dossiers",)

    def build(self, filters: ReportFilters, *, now):
        sql, params = where(filters, dims=("district",))
        found = rows(
            f"SELECT district, sum(dossiers)::int AS dossiers, sum(deposits) AS deposits FROM {DOSSIERS.table} "  # noqa: S608
            f"WHERE {sql} GROUP BY district ORDER BY district",
            params,
        )
        count = sum(r["dossiers"] for r in found)
        deposits = sum((r["deposits"] for r in found), Decimal("0"))
        return ReportResult(
            kpis=[Kpi("Dossiers ouverts", count, key="dossiers"), Kpi("Cautions", deposits, MONEY, key="deposits")],
            tables=[
                Table(
                    "districts",
                    "Dossiers par quartier",
                    [
                        Column("district", "Quartier"),
                        Column("dossiers", "Dossiers", "count"),
                        Column("deposits", "Cautions", MONEY),
                    ],
                    found,
                    totals={"district": "Total", "dossiers": count, "deposits": deposits},
                )
            ],
            data_as_of=matviews.matviews_freshness(self.matviews),
        )


class BrokenReport(Report):
    slug = "test-casse"
    title = "Rapport en panne (test)"

    def build(self, filters, *, now):
        raise ZeroDivisionError("division par zéro")


@pytest.fixture(autouse=True)
def _test_report():
    _reports[DossiersReport.slug] = DossiersReport()
    yield
    _reports.pop(DossiersReport.slug, None)
    _reports.pop(BrokenReport.slug, None)


@pytest.fixture
def dossiers():
    DossierFactory(start_date=date(2026, 2, 3), deposit_amount=Decimal("250.00"), premises__district="Saknia")
    DossierFactory(start_date=date(2026, 2, 27), deposit_amount=Decimal("300.00"), premises__district="Bir Rami")
    DossierFactory(start_date=date(2026, 1, 15), deposit_amount=Decimal("999.00"), premises__district="Saknia")
    DossierFactory(start_date=date(2026, 3, 1), deposit_amount=Decimal("777.00"), premises__district="Saknia")


def only_the_monthly_job(now: datetime) -> None:
    """The scheduler's table with every job, only the monthly report's enabled (the others are
    other tests' business)."""
    scheduler.jobs_sync(now=now)
    ScheduledJob.objects.exclude(name=monthly.JOB_NAME).update(enabled=False)


def run_scheduler(now: datetime) -> list[str]:
    ScheduledJob.objects.filter(name=monthly.JOB_NAME).update(next_run_at=now)
    return scheduler.jobs_run_due(now=now, worker="test")


def sheet_values(ws) -> list[list]:
    return [[c.value for c in row] for row in ws.iter_rows()]


def test_first_of_the_month_each_direction_member_gets_the_xlsx_and_the_pdf(dossiers, run_worker):
    d1 = staff_in("direction", email="directeur@rak.example")
    d2 = staff_in("direction", "superviseur", email="dga@rak.example")
    staff_in("direction", email="")  # no address
    staff_in("direction", email="parti@rak.example", is_active=False)
    staff_in("superviseur", email="sup@rak.example")  # not direction
    only_the_monthly_job(FIRST_OF_MARCH)

    assert run_scheduler(FIRST_OF_MARCH) == [monthly.JOB_NAME]

    job = ScheduledJob.objects.get(name=monthly.JOB_NAME)
    assert job.last_outcome == ScheduledJob.Outcome.OK, job.last_error
    assert "02/2026" in job.last_result and "2 destinataire(s)" in job.last_result
    record = MonthlyReport.objects.get()
    assert record.month == FEBRUARY and record.sent_count == 1 and record.sent_by is None
    assert record.recipients == [d1.email, d2.email]
    assert DossiersReport.slug in record.reports and record.failed_reports == []

    run_worker()
    assert sorted(m.to[0] for m in mail.outbox) == sorted([d1.email, d2.email])
    email = mail.outbox[0]
    assert email.subject == "Rapport mensuel de la direction — février 2026"
    assert "Dossiers ouverts (test)" in email.body and "du=2026-02&au=2026-02" in email.body
    (xlsx_name, xlsx, xlsx_type), (pdf_name, pdf, pdf_type) = email.attachments
    assert (xlsx_name, pdf_name) == ("rapport-mensuel-2026-02.xlsx", "rapport-mensuel-2026-02.pdf")
    assert xlsx_type.startswith("application/vnd.openxmlformats") and pdf_type == "application/pdf"
    assert mail.outbox[1].attachments[0][1] == xlsx  # the same files for everyone

    # the workbook: a summary, then one sheet per report with its figures for February only
    wb = load_workbook(io.BytesIO(xlsx))
    assert wb.sheetnames[0] == "Sommaire"
    summary = sheet_values(wb["Sommaire"])
    assert summary[0][0] == "Rapport mensuel de la direction — février 2026"
    sheet = sheet_values(wb[DossiersReport.title[:28].strip()])
    assert sheet[0][0] == "Dossiers ouverts (test)"
    assert ["Dossiers ouverts", 2] in [r[:2] for r in sheet]
    assert ["Cautions", 550.0] in [r[:2] for r in sheet]
    assert ["Bir Rami", 1, 300.0] in [r[:3] for r in sheet]
    assert ["Saknia", 1, 250.0] in [r[:3] for r in sheet]
    assert ["Total", 2, 550.0] in [r[:3] for r in sheet]

    # every report sent (the real ones too): its sheet holds the indicators of its page for February
    february = ReportFilters(month_from=FEBRUARY, month_to=FEBRUARY)
    titles = {sheet_values(ws)[0][0]: ws for ws in wb.worksheets[1:]}
    for report in reports_registered():
        if report.slug not in record.reports:
            continue
        result = report.build(february, now=FIRST_OF_MARCH)
        values = [r[:2] for r in sheet_values(titles[str(report.title)])]
        for kpi in result.kpis:
            assert [str(kpi.label), xlsx_cell(kpi.value, kpi.kind)] in values, (report.slug, kpi.label)

    # the PDF: every report's title, the test report's figures
    assert pdf.startswith(b"%PDF")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Rapport mensuel de la direction" in text
    for report in reports_registered():
        if report.slug in record.reports:
            assert str(report.title) in text
    assert "550,00" in text and "Bir Rami" in text
    assert "777" not in text and "999" not in text  # January and March left out


def test_sent_once_per_month(dossiers):
    staff_in("direction", email="directeur@rak.example")
    only_the_monthly_job(FIRST_OF_MARCH)
    run_scheduler(FIRST_OF_MARCH)
    assert Message.objects.filter(kind=monthly.MESSAGE_KIND).count() == 1
    for later in (FIRST_OF_MARCH + timedelta(hours=1), FIRST_OF_MARCH + timedelta(days=2)):
        assert run_scheduler(later) == [monthly.JOB_NAME]
        assert "déjà envoyé" in ScheduledJob.objects.get(name=monthly.JOB_NAME).last_result
    assert Message.objects.filter(kind=monthly.MESSAGE_KIND).count() == 1
    assert MonthlyReport.objects.get().sent_count == 1
    # the service itself refuses a second time unless asked « again »
    assert monthly.monthly_report_send(month=FEBRUARY, now=FIRST_OF_MARCH) is None


def test_no_direction_member_is_recorded_and_nothing_is_sent(dossiers):
    staff_in("superviseur", email="sup@rak.example")
    only_the_monthly_job(FIRST_OF_MARCH)
    run_scheduler(FIRST_OF_MARCH)
    job = ScheduledJob.objects.get(name=monthly.JOB_NAME)
    assert job.last_outcome == ScheduledJob.Outcome.OK
    assert "rien envoyé" in job.last_result
    record = MonthlyReport.objects.get()
    assert record.month == FEBRUARY and record.recipients == [] and record.sent_at == FIRST_OF_MARCH
    assert not Message.objects.filter(kind=monthly.MESSAGE_KIND).exists()


def test_after_the_first_week_nothing_is_sent(dossiers):
    staff_in("direction", email="directeur@rak.example")
    only_the_monthly_job(FIRST_OF_MARCH)
    run_scheduler(datetime(2026, 3, 8, 0, 30, tzinfo=CASABLANCA))
    assert "rien à faire" in ScheduledJob.objects.get(name=monthly.JOB_NAME).last_result
    assert not MonthlyReport.objects.exists() and not Message.objects.exists()


def test_a_failing_report_is_left_out_and_reported_on_the_job(dossiers, monkeypatch):
    staff_in("direction", email="directeur@rak.example")
    _reports[BrokenReport.slug] = BrokenReport()
    monkeypatch.setattr(monthly, "monthly_pdf", lambda **kwargs: b"%PDF-1.7 test")  # the PDF: first test
    only_the_monthly_job(FIRST_OF_MARCH)
    run_scheduler(FIRST_OF_MARCH)
    job = ScheduledJob.objects.get(name=monthly.JOB_NAME)
    assert job.last_outcome == ScheduledJob.Outcome.ITEM_ERRORS
    assert "test-casse" in job.last_error and "ZeroDivisionError" in job.last_error
    record = MonthlyReport.objects.get()
    assert record.failed_reports == ["test-casse"] and DossiersReport.slug in record.reports
    message = Message.objects.get(kind=monthly.MESSAGE_KIND)
    assert "Rapport en panne (test)" in message.body
    assert [a.name for a in message.attachments.all()] == [
        "rapport-mensuel-2026-02.xlsx",
        "rapport-mensuel-2026-02.pdf",
    ]


def test_send_now_sends_again_and_says_who(dossiers, monkeypatch):
    staff_in("direction", email="directeur@rak.example")
    supervisor = staff_in("superviseur")
    monkeypatch.setattr(monthly, "monthly_pdf", lambda **kwargs: b"%PDF-1.7 test")
    only_the_monthly_job(FIRST_OF_MARCH)
    run_scheduler(FIRST_OF_MARCH)
    record = monthly.monthly_report_send_now(now=FIRST_OF_MARCH + timedelta(days=3), by=supervisor)
    assert record.month == FEBRUARY and record.sent_count == 2 and record.sent_by == supervisor
    assert Message.objects.filter(kind=monthly.MESSAGE_KIND).count() == 2
