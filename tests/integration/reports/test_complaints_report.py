"""« Réclamations » (rak_reports.reports.complaints): figures checked against the complaints handled
through their own services (filing, reply, closure, reopening, rating), each filter narrowing, the
XLSX equal to the page, a bounded number of queries."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from rak_customer.models import Customer, Service
from rak_reports.matviews import matviews_refresh_all
from rak_reports.query import ReportFilters
from rak_reports.reports import report_get
from rak_requests.complaint_models import Complaint, ComplaintCategory
from rak_requests.complaints import services
from tests.factories import (
    AgencyFactory,
    DossierFactory,
    PremisesFactory,
    StaffFactory,
    customer_with_account,
    staff_in,
)

CASABLANCA = ZoneInfo("Africa/Casablanca")
PERIOD = ReportFilters(month_from=date(2026, 1, 1), month_to=date(2026, 3, 1))

pytestmark = pytest.mark.django_db


def at(day: str, hour: int = 9) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=CASABLANCA)


def category(code: str) -> ComplaintCategory:
    return ComplaintCategory.objects.get(code=code)


def _file(code, when, *, customer=None, agent, dossier=None, district="") -> Complaint:
    filing = services.ComplaintFiling(
        category=category(code),
        name="Amina Alaoui",
        phone="0612345678",
        message="Ma facture de février est trop élevée.",
        dossier_id=dossier.pk if dossier else None,
        district=district,
        channel=Complaint.Channel.AGENCY,
    )
    return services.complaint_file(filing=filing, customer=customer, staff_user=agent, now=when)


def _close(complaint, agent, when):
    return services.complaint_close(complaint_id=complaint.pk, staff_user=agent, result="Facture corrigée.", now=when)


@pytest.fixture
def data(now):
    centre, nord = AgencyFactory(name="Agence Centre"), AgencyFactory(name="Agence Nord")
    amina, amina_user = customer_with_account(phone="+212611111111", agency=centre)
    omar, omar_user = customer_with_account(phone="+212622222222", agency=nord)
    sebou, _sebou_user = customer_with_account(phone="+212633333333", agency=nord, kind=Customer.Kind.ENTREPRISE)
    water = DossierFactory(customer=amina, service=Service.EAU, premises=PremisesFactory(district="Saknia"))
    power = DossierFactory(customer=omar, service=Service.ELECTRICITE, premises=PremisesFactory(district="Bir Rami"))
    agent = StaffFactory(first_name="Salma", last_name="Idrissi")

    c1 = _file("facturation", at("2026-01-05"), customer=amina, agent=agent, dossier=water)
    services.complaint_reply(complaint_id=c1.pk, staff_user=agent, body="Nous vérifions.", now=at("2026-01-05", 12))
    _close(c1, agent, at("2026-01-07"))  # 2 days
    services.complaint_rate(complaint_id=c1.pk, customer=amina, user=amina_user, rating=4, now=at("2026-01-08"))

    c2 = _file("facturation", at("2026-02-10"), customer=omar, agent=agent, dossier=power)
    _close(
        c2, agent, at("2026-02-19")
    )  # first answer: the closure, 217 h (the clock went back an hour for Ramadan), late
    services.complaint_reopen(
        complaint_id=c2.pk, customer=omar, user=omar_user, reason="Toujours trop élevée.", now=at("2026-02-20")
    )
    _close(c2, agent, at("2026-02-22"))  # 12 days after filing, within the deadline set at the reopening
    services.complaint_rate(complaint_id=c2.pk, customer=omar, user=omar_user, rating=2, now=at("2026-02-23"))

    c3 = _file("fuite", at("2026-02-20"), agent=agent, district="Saknia")  # not a customer
    services.complaint_reply(complaint_id=c3.pk, staff_user=agent, body="Équipe envoyée.", now=at("2026-02-20", 10))

    c4 = _file("coupure", at("2026-03-01"), customer=sebou, agent=agent)  # waiting for an answer

    c5 = _file("facturation", at("2025-06-02"), customer=amina, agent=agent, dossier=water)  # before the period
    _close(c5, agent, at("2025-06-03"))

    c6 = _file("releve-compteur", at("2026-01-15"), customer=omar, agent=agent, dossier=power)
    _close(c6, agent, at("2026-01-26"))  # 11 days: after its deadline (5 working days)
    services.complaint_rate(complaint_id=c6.pk, customer=omar, user=omar_user, rating=5, now=at("2026-01-27"))
    matviews_refresh_all(now=now)
    return {"agencies": (centre, nord), "complaints": (c1, c2, c3, c4, c5, c6)}


def build(now, **kwargs):
    return report_get("reclamations").build(replace(PERIOD, **kwargs), now=now)


def kpis(result) -> dict:
    return {k.key: k.value for k in result.kpis}


def table(result, key) -> list[dict]:
    return next(t for t in result.tables if t.key == key).rows


def q1(value) -> Decimal:
    return Decimal(value).quantize(Decimal("0.1"), ROUND_HALF_UP)


def test_figures_match_the_complaints(data, now):
    result = build(now)
    figures = kpis(result)
    source = list(Complaint.objects.filter(filed_at__gte=at("2026-01-01", 0), filed_at__lt=at("2026-04-01", 0)))
    assert figures["filed"] == len(source) == 5
    assert figures["open"] == sum(c.status != "CLOSED" for c in source) == 2
    answered = [(c.first_answered_at - c.filed_at).total_seconds() / 3600 for c in source if c.first_answered_at]
    assert figures["answer_hours"] == q1(Decimal(sum(answered)) / len(answered)) == Decimal("121.3")
    closed = [(c.closed_at - c.filed_at).total_seconds() / 86400 for c in source if c.status == "CLOSED"]
    assert figures["closure_days"] == q1(Decimal(sum(closed)) / len(closed)) == Decimal("8.3")
    assert figures["reopen_rate"] == Decimal("33.3")  # c2 of c1, c2, c6
    ratings = [c.rating for c in source if c.rating]
    assert sorted(ratings) == [2, 4, 5]
    assert figures["rating_avg"] == Decimal("3.67")

    by_category = {r["name"]: r for r in table(result, "by_category")}
    billing = by_category["Facturation"]
    assert (billing["filed"], billing["closed"], billing["reopened"], billing["reopen_rate"]) == (
        2,
        2,
        1,
        Decimal("50.0"),
    )
    assert billing["closure_days"] == Decimal("7.0") and billing["rating_avg"] == Decimal("3.00")
    for row in table(result, "by_category"):  # closed after the deadline (the category's, working hours)
        late = [c for c in source if c.category.name == row["name"] and c.status == "CLOSED" and c.closed_at > c.due_at]
        assert row["closed_late"] == len(late)
    assert {r["name"]: r["closed_late"] for r in table(result, "by_category") if r["closed_late"]} == {
        "Relevé / compteur": 1
    }
    assert by_category["Fuite"]["open"] == 1 and by_category["Fuite"]["answer_hours"] == Decimal("1.0")
    stars = {r["stars"]: r["count"] for r in table(result, "ratings")}
    assert stars == {"1/5": 0, "2/5": 1, "3/5": 0, "4/5": 1, "5/5": 1}
    ratings_chart = next(c for c in result.charts if c.key == "ratings")
    assert ratings_chart.series[0].values == [0, 1, 0, 1, 1]


def test_by_agency(data, now):
    agencies = {r["name"]: r for r in table(build(now), "by_agency")}
    assert agencies["Agence Centre"]["filed"] == 1  # c1 (c5 before the period)
    assert agencies["Agence Nord"]["filed"] == 3
    assert agencies["Agence Nord"]["rating_avg"] == Decimal("3.50")
    assert agencies["(sans agence)"]["filed"] == 1  # the public complaint


def test_each_filter_narrows(data, now):
    centre, nord = data["agencies"]
    assert kpis(build(now, district="Saknia"))["filed"] == 2  # c1 (its dossier), c3 (given)
    assert kpis(build(now, agency_id=centre.pk))["filed"] == 1
    assert kpis(build(now, agency_id=nord.pk))["open"] == 1
    assert kpis(build(now, service=Service.ELECTRICITE))["filed"] == 2  # the dossier's service
    assert kpis(build(now, service=Service.EAU))["filed"] == 2  # a dossier's, and « Fuite »'s own
    assert kpis(build(now, customer_kind=Customer.Kind.ENTREPRISE))["filed"] == 1
    assert kpis(build(now, month_from=date(2026, 2, 1), month_to=date(2026, 2, 1)))["filed"] == 2
    assert kpis(build(now, month_from=date(2025, 4, 1)))["filed"] == 6
    assert kpis(build(now, district="Nulle part"))["filed"] == 0
    assert kpis(build(now, district="Nulle part"))["rating_avg"] is None


def test_page_xlsx_pdf_and_queries(data, client, now, django_assert_max_num_queries):
    staff_in("direction", client=client)
    query = {"du": "2026-01", "au": "2026-03", "metier": "ELECTRICITE"}
    with django_assert_max_num_queries(24):
        page = client.get(reverse("reports:report", args=["reclamations"]), query)
    assert page.status_code == 200
    html = page.content.decode()
    for key in ("kpi-filed", "kpi-reopen_rate", "chart-by_category", "chart-ratings", "table-by_agency"):
        assert f'data-testid="{key}"' in html
    result = build(now, service=Service.ELECTRICITE)
    xlsx = client.get(reverse("reports:report_xlsx", args=["reclamations"]), query)
    wb = load_workbook(io.BytesIO(xlsx.content))
    rows = {r[0]: r for r in wb["Par catégorie"].iter_rows(min_row=2, values_only=True)}
    for row in table(result, "by_category"):
        assert rows[row["name"]][1] == row["filed"]
        assert rows[row["name"]][3] == row["closed"]
    assert rows["Total"][1] == kpis(result)["filed"] == 2
    summary = {r[0]: r[1] for r in wb["Résumé"].iter_rows(values_only=True) if r and r[0]}
    assert summary["Réclamations déposées"] == 2
    assert summary["Taux de réouverture"] == pytest.approx(float(kpis(result)["reopen_rate"]))
    pdf = client.get(reverse("reports:report_pdf", args=["reclamations"]), query)
    assert pdf.content.startswith(b"%PDF")


def test_a_reopened_complaint_counts_again_once_closed(data, now):
    c1 = data["complaints"][0]
    services.complaint_reopen(
        complaint_id=c1.pk, customer=c1.customer, user=c1.user, reason="Pas d'avoir.", now=at("2026-01-10")
    )
    matviews_refresh_all(now=now)
    figures = kpis(build(now))
    assert figures["open"] == 3 and figures["reopen_rate"] == Decimal("66.7")
    assert figures["rating_avg"] == Decimal("3.50")  # its rating went with the reopening


def test_dashboard_shows_both_activity_reports(data, client):
    staff_in("direction", client=client)
    html = client.get(reverse("reports:dashboard"), {"du": "2026-01", "au": "2026-03"}).content.decode()
    assert 'data-testid="dashboard-section-reclamations"' in html
    assert 'data-testid="dashboard-section-demandes"' in html
    assert "Réclamations déposées" in html and "Demandes en cours" in html
