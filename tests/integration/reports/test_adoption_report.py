"""« Agence en ligne » (rak_reports.reports.adoption): portal accounts against customers, accounts
opened per month, active accounts per month (distinct), e-facture opt-ins, top pages, devices of
the app — checked against the source rows, each filter narrowing, XLSX cells equal to the page,
PDF, a bounded number of queries."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from rak_customer.device_models import Device
from rak_customer.models import Customer, PortalAccount
from rak_reports.matviews import matviews_refresh_all
from rak_reports.models import ActiveDay, PageHit
from rak_reports.query import ReportFilters
from rak_reports.reports import report_get
from tests.api_helpers import device_tokens
from tests.factories import AgencyFactory, CustomerFactory, DossierFactory, customer_with_account, staff_in

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
DEC, JAN, FEB, MAR = (datetime.date(2025, 12, 1), *(datetime.date(2026, m, 1) for m in (1, 2, 3)))
d = datetime.date


def at(day: int, month: int, year: int = 2026) -> datetime.datetime:
    return datetime.datetime(year, month, day, 10, 0, tzinfo=UTC)


@pytest.fixture
def scenario(now):
    """Three customers (two with an account), a prospect with an account; active days, page views,
    devices (one signed out)."""
    centre, saknia = AgencyFactory(name="Agence Centre"), AgencyFactory(name="Agence Saknia")
    c1, u1 = customer_with_account(phone="+212612000001", agency=centre)
    c2, u2 = customer_with_account(
        phone="+212612000002", agency=saknia, kind=Customer.Kind.ENTREPRISE, cin="", ice="001122334455667"
    )
    c3 = CustomerFactory(agency=centre)
    prospect, u4 = customer_with_account(phone="+212612000004", status=Customer.Status.PROSPECT)
    DossierFactory(customer=c1, premises__district="Saknia")
    DossierFactory(customer=c2, premises__district="Bir Rami")
    DossierFactory(customer=c3, premises__district="Saknia")
    PortalAccount.objects.filter(customer=c1).update(created_at=at(15, 1))
    PortalAccount.objects.filter(customer=c2).update(created_at=at(3, 2))
    PortalAccount.objects.filter(customer=prospect).update(created_at=at(20, 2))
    Customer.objects.filter(pk=c1.pk).update(e_invoice_since=at(2, 2))
    Customer.objects.filter(pk=c3.pk).update(e_invoice_since=at(5, 12, 2025))  # before the period
    ActiveDay.objects.bulk_create(
        [
            ActiveDay(day=d(2026, 1, 5), user=u1),
            ActiveDay(day=d(2026, 1, 6), user=u1),
            ActiveDay(day=d(2026, 2, 3), user=u1),
            ActiveDay(day=d(2026, 2, 10), user=u2),
            ActiveDay(day=d(2025, 12, 10), user=u2),
        ]
    )
    PageHit.objects.bulk_create(
        [
            PageHit(day=d(2026, 1, 5), route="portal:dashboard", hits=10),
            PageHit(day=d(2026, 2, 3), route="portal:bills", hits=4),
            PageHit(day=d(2026, 2, 4), route="portal:dashboard", hits=2),
            PageHit(day=d(2025, 12, 10), route="portal:home", hits=100),
        ]
    )
    device_tokens(u1, platform="ANDROID")
    old = device_tokens(u1, name="Ancien navigateur", platform="WEB")
    Device.objects.filter(pk=old.device.pk).update(revoked_at=now)
    device_tokens(u2, name="iPhone", platform="IOS")
    matviews_refresh_all(now=now)
    return {"centre": centre, "saknia": saknia, "u1": u1, "u2": u2}


def build(now, month_from=JAN, month_to=MAR, **kwargs):
    return report_get("agence-en-ligne").build(
        ReportFilters(month_from=month_from, month_to=month_to, **kwargs), now=now
    )


def kpis(result) -> dict:
    return {k.key: k.value for k in result.kpis}


def table(result, key: str):
    return next(t for t in result.tables if t.key == key)


def test_figures_against_the_source_rows(scenario, now):
    result = build(now)
    figures = kpis(result)
    clients = Customer.objects.filter(status=Customer.Status.CLIENT)
    assert figures["customers"] == clients.count() == 3
    assert figures["accounts"] == PortalAccount.objects.filter(customer__in=clients).count() == 2
    assert figures["account-share"] == Decimal("66.7")
    assert figures["e-invoices"] == 2 and figures["e-invoice-share"] == Decimal("66.7")
    assert figures["e-invoice-optins"] == 1  # c3 opted in before the period
    assert figures["accounts-created"] == 3  # the prospect's account too
    by_month = {r["month"]: r for r in table(result, "by-month").rows}
    assert (by_month["01/2026"]["accounts_created"], by_month["02/2026"]["accounts_created"]) == (1, 2)
    assert (by_month["01/2026"]["active_users"], by_month["01/2026"]["active_days"]) == (1, 2)
    assert by_month["01/2026"]["days_per_user"] == Decimal("2.00")
    feb_users = ActiveDay.objects.filter(day__gte=FEB, day__lt=MAR).values("user").distinct().count()
    assert by_month["02/2026"]["active_users"] == feb_users == 2
    assert figures["active-last"] == 0  # nobody in March
    assert figures["active-average"] == Decimal("1.0")  # (1 + 2 + 0) / 3
    pages = [(r["route"], r["hits"]) for r in table(result, "top-pages").rows]
    assert pages == [("Tableau de bord (portal:dashboard)", 12), ("portal:bills", 4)]
    assert {r["channel"] for r in table(result, "top-pages").rows} == {"Portail"}
    devices = {r["platform"]: (r["devices"], r["users"]) for r in table(result, "devices").rows}
    assert devices == {"Android": (1, 1), "iOS": (1, 1)}  # the signed-out browser is not counted


@pytest.mark.parametrize(
    ("filters", "customers", "accounts", "created", "feb_active", "platforms"),
    [
        ({"district": "Saknia"}, 2, 1, 1, 1, {"Android"}),
        ({"district": "Bir Rami"}, 1, 1, 1, 1, {"iOS"}),
        ({"customer_kind": "ENTREPRISE"}, 1, 1, 1, 1, {"iOS"}),
        ({"district": "Inconnu"}, 0, 0, 0, 0, set()),
    ],
)
def test_each_filter_narrows(scenario, now, filters, customers, accounts, created, feb_active, platforms):
    result = build(now, **filters)
    figures = kpis(result)
    assert (figures["customers"], figures["accounts"], figures["accounts-created"]) == (customers, accounts, created)
    feb = next(r for r in table(result, "by-month").rows if r["month"] == "02/2026")
    assert feb["active_users"] == feb_active
    assert {r["platform"] for r in table(result, "devices").rows} == platforms
    assert [r["route"] for r in table(result, "top-pages").rows] == [
        "Tableau de bord (portal:dashboard)",
        "portal:bills",
    ]


def test_agency_and_period(scenario, now):
    assert kpis(build(now, agency_id=scenario["saknia"].pk))["customers"] == 1
    assert kpis(build(now, agency_id=scenario["centre"].pk))["customers"] == 2
    december = build(now, DEC, DEC)
    assert kpis(december)["e-invoice-optins"] == 1
    assert kpis(december)["active-last"] == 1
    assert [r["route"] for r in table(december, "top-pages").rows] == ["Accueil (portal:home)"]


def test_page_xlsx_pdf(client, scenario, now, django_assert_max_num_queries):
    staff_in("direction", client=client)
    params = {"du": "2026-01", "au": "2026-03", "quartier": "Saknia"}
    with django_assert_max_num_queries(40):
        page = client.get(reverse("reports:report", args=["agence-en-ligne"]), params)
    assert page.status_code == 200
    html = page.content.decode()
    for key in (
        "kpi-account-share",
        "kpi-accounts-created",
        "kpi-active-last",
        "chart-accounts-active",
        "table-top-pages",
    ):
        assert f'data-testid="{key}"' in html
    assert 'name="metier"' not in html  # a customer has no single service
    result = build(now, district="Saknia")
    wb = load_workbook(io.BytesIO(client.get(reverse("reports:report_xlsx", args=["agence-en-ligne"]), params).content))
    summary = {row[0].value: row[1].value for row in wb["Résumé"].iter_rows() if len(row) > 1}
    assert summary["Part des clients ayant un compte"] == float(kpis(result)["account-share"]) == 50.0
    assert summary["Comptes créés"] == kpis(result)["accounts-created"]
    sheet = next(ws for ws in wb.worksheets if ws.title == "Agence en ligne par mois")
    for line, row in zip(list(sheet.iter_rows(values_only=True))[1:4], table(result, "by-month").rows, strict=True):
        assert list(line[:4]) == [row["month"], row["accounts_created"], row["active_users"], row["active_days"]]
    pdf = client.get(reverse("reports:report_pdf", args=["agence-en-ligne"]), params)
    assert pdf.content.startswith(b"%PDF")


@pytest.mark.parametrize("slug", ["releves", "agence-en-ligne", "messages"])
def test_hostile_filters_never_500(client, slug):
    staff_in("direction", client=client)
    for params in (
        {"du": "x\x00"},
        {"quartier": "a" * 5000},
        {"agence": "-1"},
        {"type_client": "<script>"},
        {"du": "2026-01", "au": "2026-02", "metier": "' OR 1=1 --"},
    ):
        for name in ("reports:report", "reports:report_xlsx"):
            response = client.get(reverse(name, args=[slug]), params)
            assert response.status_code in (200, 400), (slug, params, response.status_code)


def test_only_direction_reads_the_usage_reports(client):
    staff_in("accueil", client=client)
    for slug in ("releves", "agence-en-ligne", "messages"):
        assert client.get(reverse("reports:report", args=[slug])).status_code == 403
