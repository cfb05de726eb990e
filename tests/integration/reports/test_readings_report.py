"""« Relèves et estimations » (rak_reports.reports.readings): self-read share and estimated bills
share checked against the readings and bills, the held readings and their outcome (decided by
staff through ``reading_review``, corrected by the customer, still pending), each filter
narrowing, XLSX cells equal to the page, PDF, a bounded number of queries."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from rak_billing.models import Bill, MeterReading
from rak_billing.readings.services import reading_review
from rak_customer.models import Customer, Service
from rak_reports.matviews import matviews_refresh_all
from rak_reports.query import ReportFilters
from rak_reports.reports import report_get
from tests.billing_factories import bill_create
from tests.factories import AgencyFactory, CustomerFactory, DossierFactory, staff_in
from tests.reading_factories import MeterReadingFactory

pytestmark = pytest.mark.django_db

DEC, JAN, FEB, MAR = (datetime.date(2025, 12, 1), *(datetime.date(2026, m, 1) for m in (1, 2, 3)))
PERIOD = ReportFilters(month_from=JAN, month_to=MAR)
S, A, E = MeterReading.Source.SELF, MeterReading.Source.AGENT, MeterReading.Source.ESTIMATED
ST = MeterReading.Status


def reading(dossier, day: datetime.date, source, status=ST.ACCEPTED, **kwargs) -> MeterReading:
    return MeterReadingFactory(dossier=dossier, reading_date=day, source=source, status=status, **kwargs)


@pytest.fixture
def scenario(now):
    """Two customers in two districts, agencies, services and types; readings from December to
    March of every source, held ones of every outcome; consumption bills, estimated or not."""
    staff = staff_in("technique")
    centre, saknia = AgencyFactory(name="Agence Centre"), AgencyFactory(name="Agence Saknia")
    c1 = CustomerFactory(agency=centre)
    c2 = CustomerFactory(agency=saknia, kind=Customer.Kind.ENTREPRISE, cin="", ice="001122334455667")
    d1 = DossierFactory(customer=c1, premises__district="Saknia", service=Service.EAU)
    d2 = DossierFactory(customer=c2, premises__district="Bir Rami", service=Service.ELECTRICITE)
    d = datetime.date
    reading(d1, d(2025, 12, 5), A)  # before the period
    reading(d1, d(2026, 1, 5), S)
    corrected = reading(d1, d(2026, 1, 10), S, ST.HELD)  # held, then corrected by the customer
    corrected.status, corrected.review_note = ST.REJECTED, "Corrigé par le client le 10/01/2026."
    corrected.save()
    reading(d1, d(2026, 1, 10), S)  # the correction
    reading(d1, d(2026, 2, 5), A)
    reading(d1, d(2026, 2, 20), S, ST.HELD)  # pending
    reading(d1, d(2026, 3, 5), E)
    reading(d1, d(2026, 3, 8), A, ST.REJECTED, review_note="Doublon")  # withdrawn, never held: not counted
    reading(d2, d(2026, 1, 6), A)
    accepted = reading(d2, d(2026, 2, 6), S, ST.HELD)
    rejected = reading(d2, d(2026, 3, 6), A, ST.HELD)
    reading(d2, d(2026, 3, 7), A, ST.CONTESTED)  # pending
    day = datetime.timedelta(days=1)
    MeterReading.objects.filter(pk=accepted.pk).update(created_at=now - 2 * day)
    MeterReading.objects.filter(pk=rejected.pk).update(created_at=now - 4 * day)
    reading_review(reading_id=accepted.pk, staff_user=staff, accept=True, now=now)
    reading_review(reading_id=rejected.pk, staff_user=staff, accept=False, reason="Index illisible", now=now)

    bill_create(dossier=d1, period_start=DEC, estimated=True)  # issued 01/01
    bill_create(dossier=d1, period_start=JAN)  # issued 01/02
    bill_create(dossier=d2, period_start=JAN, estimated=True)  # issued 01/02
    bill_create(dossier=d2, period_start=FEB)  # issued 01/03
    bill_create(dossier=d1, period_start=FEB, estimated=True)  # issued 01/03
    bill_create(customer=c2, kind=Bill.Kind.WORKS, issue_date=d(2026, 2, 10))  # not a consumption bill
    bill_create(dossier=d1, period_start=MAR)  # issued 01/04: after the period
    matviews_refresh_all(now=now)
    return {"c1": c1, "c2": c2, "centre": centre, "saknia": saknia}


def build(now, **kwargs):
    return report_get("releves").build(ReportFilters(month_from=JAN, month_to=MAR, **kwargs), now=now)


def kpis(result) -> dict:
    return {k.key: k.value for k in result.kpis}


def table(result, key: str):
    return next(t for t in result.tables if t.key == key)


def pct(part, whole) -> Decimal:
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


def test_shares_against_the_source_rows(scenario, now):
    result = build(now)
    figures = kpis(result)
    kept = MeterReading.objects.filter(reading_date__gte=JAN, reading_date__lt=datetime.date(2026, 4, 1)).exclude(
        status=ST.REJECTED
    )
    assert kept.count() == 8
    assert kept.filter(source=S).count() == 4
    assert figures["readings"] == 8 and figures["self"] == 4
    assert figures["self-share"] == pct(4, 8)
    consumption = Bill.objects.filter(
        kind=Bill.Kind.CONSUMPTION, issue_date__gte=JAN, issue_date__lt=datetime.date(2026, 4, 1)
    )
    assert consumption.count() == 5 and consumption.filter(estimated=True).count() == 3
    assert figures["estimated"] == 3 and figures["estimated-share"] == pct(3, 5)
    by_month = {r["month"]: r for r in table(result, "by-month").rows}
    assert (by_month["01/2026"]["SELF"], by_month["01/2026"]["AGENT"], by_month["01/2026"]["total"]) == (2, 1, 3)
    assert (by_month["03/2026"]["ESTIMATED"], by_month["03/2026"]["total"]) == (1, 2)
    assert (by_month["02/2026"]["bills"], by_month["02/2026"]["estimated"]) == (2, 1)
    assert by_month["02/2026"]["estimated_share"] == Decimal("50.0")


def test_held_readings_and_their_outcome(scenario, now):
    result = build(now)
    figures = kpis(result)
    assert figures["held"] == 5  # corrected, pending ×2, accepted, rejected (the plain withdrawal is not)
    assert figures["held-pending"] == 2
    assert figures["held-accepted-share"] == pct(1, 3)  # accepted / (accepted + corrected + rejected)
    assert figures["decision-days"] == Decimal("3.0")  # 2 and 4 days
    held = {r["month"]: r for r in table(result, "held").rows}
    assert held["01/2026"]["CORRECTED"] == 1
    assert (held["02/2026"]["PENDING"], held["02/2026"]["ACCEPTED"]) == (1, 1)
    assert (held["03/2026"]["PENDING"], held["03/2026"]["REJECTED"]) == (1, 1)
    by_source = {r["source"]: r for r in table(result, "held-by-source").rows}
    assert by_source["Auto-relève client"]["total"] == 3 and by_source["Releveur"]["total"] == 2


@pytest.mark.parametrize(
    ("filters", "readings", "held", "bills"),
    [
        ({"district": "Saknia"}, 5, 2, 3),
        ({"district": "Bir Rami"}, 3, 3, 2),
        ({"service": "ELECTRICITE"}, 3, 3, 2),
        ({"customer_kind": "ENTREPRISE"}, 3, 3, 2),
        ({"district": "Inconnu"}, 0, 0, 0),
    ],
)
def test_each_filter_narrows(scenario, now, filters, readings, held, bills):
    figures = kpis(build(now, **filters))
    assert (figures["readings"], figures["held"]) == (readings, held)
    assert sum(r["bills"] for r in table(build(now, **filters), "by-month").rows) == bills


def test_agency_filter(scenario, now):
    assert kpis(build(now, agency_id=scenario["saknia"].pk))["readings"] == 3
    assert kpis(build(now, agency_id=scenario["centre"].pk))["readings"] == 5


def test_period_narrows(scenario, now):
    result = report_get("releves").build(ReportFilters(month_from=DEC, month_to=DEC), now=now)
    figures = kpis(result)
    assert (figures["readings"], figures["self"], figures["estimated"]) == (1, 0, 0)
    assert figures["self-share"] == Decimal("0.0") and figures["held"] == 0


def test_page_xlsx_pdf(client, scenario, now, django_assert_max_num_queries):
    staff_in("direction", client=client)
    params = {"du": "2026-01", "au": "2026-03", "quartier": "Saknia"}
    with django_assert_max_num_queries(40):
        page = client.get(reverse("reports:report", args=["releves"]), params)
    assert page.status_code == 200
    html = page.content.decode()
    for key in ("kpi-self-share", "kpi-estimated-share", "kpi-held", "chart-readings-by-source", "table-held"):
        assert f'data-testid="{key}"' in html
    result = build(now, district="Saknia")
    xlsx = client.get(reverse("reports:report_xlsx", args=["releves"]), params)
    wb = load_workbook(io.BytesIO(xlsx.content))
    summary = {row[0].value: row[1].value for row in wb["Résumé"].iter_rows() if len(row) > 1}
    assert summary["Part des auto-relèves"] == float(kpis(result)["self-share"])
    assert summary["Relevés mis en attente"] == kpis(result)["held"]
    sheet = next(ws for ws in wb.worksheets if ws.title.startswith("Relevés et factures par"))
    month_table = table(result, "by-month")
    for line, row in zip(list(sheet.iter_rows(values_only=True))[1:], month_table.rows, strict=False):
        assert line[0] == row["month"]
        assert list(line[1:5]) == [row["SELF"], row["AGENT"], row["ESTIMATED"], row["total"]]
    pdf = client.get(reverse("reports:report_pdf", args=["releves"]), params)
    assert pdf.content.startswith(b"%PDF")


def test_dashboard_headline(client, scenario):
    staff_in("direction", client=client)
    response = client.get(reverse("reports:dashboard"))
    assert response.status_code == 200
    assert 'data-testid="dashboard-section-releves"' in response.content.decode()
