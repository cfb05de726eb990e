"""« Messages envoyés » (rak_reports.reports.outbox): messages sent, failed, not sent by kind,
channel and month checked against the outbox rows, SMS segments (the cost: Arabic in UCS-2) of the
SMS sent only, the month taken in Casablanca time, XLSX cells equal to the page, PDF, a bounded
number of queries."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.urls import reverse
from openpyxl import load_workbook

from rak_base.models import Message
from rak_base.outbox import message_queue_email, message_queue_sms
from rak_reports.matviews import matviews_refresh_all
from rak_reports.query import ReportFilters
from rak_reports.reports import report_get
from tests.factories import staff_in

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
DEC, JAN, FEB, MAR = (datetime.date(2025, 12, 1), *(datetime.date(2026, m, 1) for m in (1, 2, 3)))
ARABIC_100 = ("فاتورتك متوفرة " * 7)[:100]  # 100 Arabic characters: 2 SMS (UCS-2)
FRENCH = "RAK : votre facture est disponible sur l'agence en ligne."


def at(day: int, month: int, year: int = 2026, hour: int = 10) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, 0, tzinfo=UTC)


def stamped(message: Message, *, created_at, status) -> Message:
    Message.objects.filter(pk=message.pk).update(created_at=created_at, status=status)
    return message


@pytest.fixture
def scenario(now):
    sent, failed = Message.Status.SENT, Message.Status.FAILED
    for _ in range(3):
        stamped(
            message_queue_sms(to="+212612345678", body=ARABIC_100, kind="bill_available:42"),
            created_at=at(10, 1),
            status=sent,
        )
    stamped(message_queue_sms(to="+212612345678", body="Code 123456", kind="otp"), created_at=at(11, 1), status=sent)
    stamped(message_queue_sms(to="+212612345679", body=FRENCH, kind="payment"), created_at=at(12, 1), status=failed)
    stamped(
        message_queue_email(to="a@example.ma", subject="Reçu", body=FRENCH, kind="payment"),
        created_at=at(12, 1),
        status=sent,
    )
    # 23:30 UTC on 31 January is 00:30 on 1 February in Casablanca: a February message
    stamped(
        message_queue_sms(to="+212612345678", body=FRENCH, kind="bill_available:43"),
        created_at=datetime.datetime(2026, 1, 31, 23, 30, tzinfo=UTC),
        status=sent,
    )
    bell = Message.objects.create(
        channel=Message.Channel.BELL, kind="reading_held", body="x", status=Message.Status.SKIPPED
    )
    stamped(bell, created_at=at(3, 2), status=Message.Status.SKIPPED)
    stamped(
        message_queue_sms(to="+212612345678", body=ARABIC_100, kind="outage:7:notice"),
        created_at=at(4, 2),
        status=Message.Status.QUEUED,
    )
    stamped(
        message_queue_sms(to="+212612345678", body=FRENCH, kind="bill_available:1"),
        created_at=at(10, 12, 2025),
        status=sent,
    )
    matviews_refresh_all(now=now)


def build(now, month_from=JAN, month_to=MAR):
    return report_get("messages").build(ReportFilters(month_from=month_from, month_to=month_to), now=now)


def kpis(result) -> dict:
    return {k.key: k.value for k in result.kpis}


def table(result, key: str):
    return next(t for t in result.tables if t.key == key)


def test_figures_against_the_outbox(scenario, now):
    result = build(now)
    figures = kpis(result)
    period = Message.objects.filter(
        created_at__gte=at(1, 1, hour=0) - datetime.timedelta(hours=1),
        created_at__lt=at(1, 4, hour=0) - datetime.timedelta(hours=1),
    )
    assert figures["sent"] == period.filter(status="SENT").count() == 6
    assert figures["failed"] == 1 and figures["skipped"] == 1
    assert figures["failure-rate"] == Decimal("14.3")  # 1 / 7
    sms_sent = period.filter(status="SENT", channel="SMS")
    assert figures["sms-sent"] == sms_sent.count() == 5
    assert figures["segments"] == sms_sent.aggregate(n=Sum("sms_segments"))["n"] == 8
    assert figures["ucs2-share"] == Decimal("75.0")  # 6 of 8 segments
    assert figures["segments-per-sms"] == Decimal("1.60")
    by_month = {r["month"]: r for r in table(result, "by-month").rows}
    assert (by_month["01/2026"]["SENT"], by_month["01/2026"]["FAILED"], by_month["01/2026"]["segments"]) == (5, 1, 7)
    assert (by_month["01/2026"]["ucs"], by_month["01/2026"]["gsm"]) == (6, 1)
    assert (by_month["02/2026"]["SENT"], by_month["02/2026"]["SKIPPED"], by_month["02/2026"]["QUEUED"]) == (1, 1, 1)
    assert by_month["02/2026"]["segments"] == 1  # the queued Arabic SMS is not billed yet
    assert by_month["03/2026"]["SENT"] == 0


def test_by_kind_and_channel(scenario, now):
    rows = {(r["kind"], r["channel"]): r for r in table(build(now), "by-kind").rows}
    bills = rows[("bill_available (Factures disponibles)", "SMS")]
    assert (bills["SENT"], bills["segments"], bills["total"]) == (4, 7, 4)
    assert rows[("payment (Paiements)", "SMS")]["FAILED"] == 1
    assert rows[("payment (Paiements)", "E-mail")]["SENT"] == 1
    assert rows[("reading_held (Relevés)", "Notification")]["SKIPPED"] == 1
    assert rows[("outage (Coupures et travaux)", "SMS")]["QUEUED"] == 1
    channels = {r["channel"]: r for r in table(build(now), "by-channel").rows}
    assert channels["SMS"]["failure_rate"] == Decimal("16.7")  # 1 / 6


def test_sent_by_kind_per_month(scenario, now):
    chart = next(c for c in build(now).charts if c.key == "sent-by-kind")
    series = {s.name: s.values for s in chart.series}
    assert chart.labels == ["01/2026", "02/2026", "03/2026"]
    assert series["bill_available"] == [3, 1, 0]
    assert series["otp"] == [1, 0, 0] and series["payment"] == [1, 0, 0]  # the e-mail; the SMS failed


def test_period_narrows(scenario, now):
    figures = kpis(build(now, DEC, DEC))
    assert (figures["sent"], figures["segments"], figures["failed"]) == (1, 1, 0)
    assert kpis(build(now, MAR, MAR))["sent"] == 0


def test_page_xlsx_pdf(client, scenario, now, django_assert_max_num_queries):
    staff_in("direction", client=client)
    params = {"du": "2026-01", "au": "2026-03"}
    with django_assert_max_num_queries(40):
        page = client.get(reverse("reports:report", args=["messages"]), params)
    assert page.status_code == 200
    html = page.content.decode()
    for key in ("kpi-sent", "kpi-segments", "chart-sms-segments", "table-by-kind"):
        assert f'data-testid="{key}"' in html
    assert 'name="quartier"' not in html  # only the period applies
    result = build(now)
    wb = load_workbook(io.BytesIO(client.get(reverse("reports:report_xlsx", args=["messages"]), params).content))
    summary = {row[0].value: row[1].value for row in wb["Résumé"].iter_rows() if len(row) > 1}
    assert summary["Segments SMS facturés"] == kpis(result)["segments"] == 8
    sheet = next(ws for ws in wb.worksheets if ws.title == "Messages par mois")
    lines = list(sheet.iter_rows(values_only=True))
    for line, row in zip(lines[1:4], table(result, "by-month").rows, strict=True):
        assert list(line) == [
            row["month"],
            row["SENT"],
            row["FAILED"],
            row["SKIPPED"],
            row["QUEUED"],
            row["gsm"],
            row["ucs"],
            row["segments"],
        ]
    assert lines[4][-1] == 8  # totals
    pdf = client.get(reverse("reports:report_pdf", args=["messages"]), params)
    assert pdf.content.startswith(b"%PDF")


def test_dashboard_headline(client, scenario):
    staff_in("direction", client=client)
    html = client.get(reverse("reports:dashboard"), {"du": "2026-01", "au": "2026-03"}).content.decode()
    section = html[html.index('data-testid="dashboard-section-messages"') :]
    for key in ("kpi-sent", "kpi-failure-rate", "kpi-segments"):
        assert f'data-testid="{key}"' in section
