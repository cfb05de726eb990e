"""The reports framework (rak_reports): materialised views built at migrate and refreshed by the
scheduler's job, filters checked with a message, one result drawn as a page, an XLSX and a PDF,
the Direction permission."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from rak_reports import matviews
from rak_reports.matviews import MatView, matview_refresh, matview_register
from rak_reports.models import ReportView
from rak_reports.query import ReportFilters, rows, where
from rak_reports.reports import MONEY, Chart, Column, Kpi, Report, ReportResult, Series, Table, _reports
from tests.factories import DossierFactory, staff_in

pytestmark = pytest.mark.django_db

PREMISES = matview_register(
    MatView(
        name="test_premises_by_district",
        sql="SELECT district, count(*) AS premises FROM rak_customer_premises GROUP BY district",
        unique=("district",),
    )
)


class PremisesReport(Report):
    slug = "test-locaux"
    title = "Locaux par quartier (test)"
    filters = ("period", "district")
    matviews = ("test_premises_by_district",)

    def build(self, filters: ReportFilters, *, now):
        sql, params = where(filters, month=None, dims=("district",))
        found = rows(f"SELECT district, premises FROM {PREMISES.table} WHERE {sql} ORDER BY district", params)  # noqa: S608
        total = sum(r["premises"] for r in found)
        return ReportResult(
            kpis=[Kpi("Locaux", total, key="premises"), Kpi("Montant", Decimal("1234.5"), MONEY, key="money")],
            charts=[
                Chart(
                    "premises",
                    "Locaux",
                    [r["district"] for r in found],
                    [Series("Locaux", [r["premises"] for r in found])],
                    kind="count",
                )
            ],
            tables=[
                Table(
                    "districts",
                    "Par quartier",
                    [Column("district", "Quartier"), Column("premises", "Locaux", "count")],
                    found,
                    totals={"district": "Total", "premises": total},
                )
            ],
            data_as_of=matviews.matviews_freshness(self.matviews),
        )


@pytest.fixture(autouse=True)
def _test_report():
    _reports[PremisesReport.slug] = PremisesReport()
    matviews.matviews_sync(now=__import__("rak_base.clock", fromlist=["now"]).now())
    yield
    _reports.pop(PremisesReport.slug, None)


def test_view_is_built_and_refreshed_concurrently(now):
    DossierFactory(premises__district="Saknia")
    DossierFactory(premises__district="Saknia")
    DossierFactory(premises__district="Bir Rami")
    table = PREMISES.table
    assert rows(f"SELECT count(*) AS n FROM {table}")[0]["n"] == 0  # noqa: S608 - built before the rows
    assert matview_refresh("test_premises_by_district", now=now) == 2
    counts = {r["district"]: r["premises"] for r in rows(f"SELECT * FROM {table}")}  # noqa: S608
    assert counts == {"Saknia": 2, "Bir Rami": 1}
    assert ReportView.objects.get(name="test_premises_by_district").refreshed_at == now


def test_changed_definition_is_rebuilt(now):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"COMMENT ON MATERIALIZED VIEW {PREMISES.table} IS 'an older definition'")
    assert matviews.matviews_sync(now=now) == ["test_premises_by_district"]
    assert matviews.matviews_sync(now=now) == []  # the hash is kept with the view


def test_a_flush_empties_the_views(now):
    """Tests that commit end with a flush of the tables (post_migrate without a plan): the views
    must not keep a previous test's figures."""
    DossierFactory(premises__district="Saknia")
    matview_refresh("test_premises_by_district", now=now)
    from django.apps import apps

    from rak_customer.models import Dossier, Premises

    Dossier.objects.all().delete()
    Premises.objects.all().delete()
    matviews.on_post_migrate(sender=None, app_config=apps.get_app_config("rak_reports"), plan=None)
    assert rows(f"SELECT * FROM {PREMISES.table}") == []  # noqa: S608


def test_page_xlsx_pdf_share_the_filters(client, now):
    staff_in("direction", client=client)
    DossierFactory(premises__district="Saknia")
    DossierFactory(premises__district="Bir Rami")
    matviews.matviews_refresh_all(now=now)
    url = reverse("reports:report", args=["test-locaux"])
    page = client.get(url, {"du": "2026-01", "au": "2026-03", "quartier": "Saknia"})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="chart-premises"' in html and "Saknia" in html
    xlsx = client.get(
        reverse("reports:report_xlsx", args=["test-locaux"]), {"du": "2026-01", "au": "2026-03", "quartier": "Saknia"}
    )
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(xlsx.content))
    sheet = wb["Par quartier"]
    assert [c.value for c in sheet[2]] == ["Saknia", 1]
    assert "quartier" in " ".join(str(c.value) for c in wb["Résumé"]["A"]).lower()
    pdf = client.get(reverse("reports:report_pdf", args=["test-locaux"]), {"quartier": "Saknia"})
    assert pdf.content.startswith(b"%PDF")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"du": "2026-13"}, "Mois invalide"),
        ({"du": "2026-05", "au": "2026-01"}, "doit précéder"),
        ({"du": "2020-01", "au": "2026-01"}, "36 mois au plus"),
        ({"du": "mars"}, "Mois invalide"),
        ({"du": "9999-01"}, "Mois invalide"),
    ],
)
def test_bad_filters_get_a_message(client, params, message):
    staff_in("direction", client=client)
    for name in ("reports:report", "reports:report_xlsx"):
        response = client.get(reverse(name, args=["test-locaux"]), params)
        assert response.status_code == 400
        assert message in response.content.decode()


def test_hostile_filters_never_500(client):
    staff_in("direction", client=client)
    for params in ({"du": "x\x00"}, {"quartier": "a" * 5000}, {"agence": "-1"}, {"agence": "abc"}, {"metier": "GAZ"}):
        response = client.get(reverse("reports:dashboard"), params)  # every filter
        assert response.status_code == 400, params


def test_only_direction_and_supervisors(client):
    staff_in("accueil", client=client)
    assert client.get(reverse("reports:report", args=["test-locaux"])).status_code == 403
    assert client.get(reverse("reports:dashboard")).status_code == 403
    client.logout()
    assert client.get(reverse("reports:dashboard")).status_code == 302  # to the back office's login


def test_dashboard_lists_each_report(client):
    staff_in("direction", client=client)
    response = client.get(reverse("reports:dashboard"))
    assert response.status_code == 200
    assert 'data-testid="dashboard-section-test-locaux"' in response.content.decode()


def test_filters_sql_binds_values():
    f = ReportFilters(month_from=date(2026, 1, 1), month_to=date(2026, 3, 1), district="x' OR 1=1 --", agency_id=3)
    sql, params = where(f, dims=("district",))
    assert "x'" not in sql and params == [date(2026, 1, 1), date(2026, 4, 1), "x' OR 1=1 --"]
