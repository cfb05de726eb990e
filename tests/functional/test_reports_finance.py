"""The finance reports in a real browser (issue 14): a « direction » user logs in to the back office,
opens « Facturé et encaissé » and « Créances et impayés » filtered on a district, reads the figures
(checked against the ledger's bills and payments written here) and downloads the XLSX and the PDF."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import expect

from rak_base import clock
from rak_billing.models import Payment
from rak_customer.models import Customer, Service
from rak_reports.matviews import matviews_refresh_all
from rak_reports.query import add_months
from tests.billing_factories import bill_create, bill_pay
from tests.factories import TEST_PASSWORD, CustomerFactory, DossierFactory, staff_in

pytestmark = pytest.mark.functional


def _login(page, username: str) -> None:
    page.goto("/backoffice/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", TEST_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit() or ch == ",")


def test_direction_reads_finance_reports_and_downloads_them(page, live_server, tmp_path):
    now = clock.now()
    today = timezone.localdate(now)
    this_month = today.replace(day=1)
    last_month = add_months(this_month, -1)
    staff_in("direction", username="direction1", first_name="Nadia", last_name="Alami")
    c1 = CustomerFactory(first_name="Amina", last_name="Bennani")
    c2 = CustomerFactory(kind=Customer.Kind.ENTREPRISE, cin="", ice="001122334455667", company_name="Atlas SARL")
    d1 = DossierFactory(customer=c1, premises__district="Saknia", service=Service.EAU)
    d2 = DossierFactory(customer=c2, premises__district="Bir Rami", service=Service.ELECTRICITE)
    # issued on the 1st of last month, due 15 days later: overdue today (at least 15 days)
    b1 = bill_create(dossier=d1, period_start=add_months(last_month, -1), total_ht="100.00")  # 118.00
    b2 = bill_create(dossier=d2, period_start=add_months(last_month, -1), total_ht="500.00")  # 590.00
    paid_at = datetime.datetime.combine(last_month + datetime.timedelta(days=3), datetime.time(10), tzinfo=datetime.UTC)
    bill_pay(b1, "18.00", paid_at=paid_at, method=Payment.Method.CASH)
    bill_pay(b2, paid_at=paid_at, method=Payment.Method.CARD_CMI)
    matviews_refresh_all(now=now)

    _login(page, "direction1")
    page.goto("/backoffice/rapports/")
    expect(page.get_by_test_id("dashboard-section-encaissements")).to_be_visible()

    # « Facturé et encaissé », all districts, then Saknia through the filter form
    period = f"du={last_month:%Y-%m}&au={this_month:%Y-%m}"
    page.goto(f"/backoffice/rapports/encaissements/?{period}")
    assert _digits(page.get_by_test_id("kpi-billed").get_by_test_id("kpi-value").inner_text()) == "708,00"
    assert _digits(page.get_by_test_id("kpi-collected").get_by_test_id("kpi-value").inner_text()) == "608,00"
    page.get_by_label("Quartier").select_option("Saknia")
    page.get_by_test_id("report-apply").click()
    page.wait_for_url("**quartier=Saknia**")
    assert _digits(page.get_by_test_id("kpi-billed").get_by_test_id("kpi-value").inner_text()) == "118,00"
    assert _digits(page.get_by_test_id("kpi-collected").get_by_test_id("kpi-value").inner_text()) == "18,00"
    expect(page.get_by_test_id("table-channels")).to_contain_text("Guichet")
    expect(page.get_by_test_id("report-note").first).to_contain_text("relevé CMI")

    with page.expect_download() as download:
        page.get_by_test_id("export-xlsx").click()
    path = tmp_path / "encaissements.xlsx"
    download.value.save_as(path)
    wb = load_workbook(path)
    summary = {r[0].value: r[1].value for r in wb["Résumé"].iter_rows() if len(r) > 1}
    assert summary["Facturé net"] == 118.0 and summary["Encaissé net"] == 18.0
    assert summary["Quartier"] == "Saknia"
    with page.expect_download() as download:
        page.get_by_test_id("export-pdf").click()
    pdf = tmp_path / "encaissements.pdf"
    download.value.save_as(pdf)
    assert Path(pdf).read_bytes().startswith(b"%PDF")

    # « Créances et impayés » for Saknia: the 100.00 left on Amina's bill, her line a link to her page
    page.goto("/backoffice/rapports/creances/?quartier=Saknia")
    assert _digits(page.get_by_test_id("kpi-overdue").get_by_test_id("kpi-value").inner_text()) == "100,00"
    debtors = page.get_by_test_id("table-debtors")
    expect(debtors).to_contain_text("Amina Bennani")
    expect(debtors).not_to_contain_text("Atlas SARL")
    href = debtors.get_by_role("link", name=str(c1)).get_attribute("href")
    assert href.endswith(f"/rak_customer/customer/{c1.pk}/change/")
    with page.expect_download() as download:
        page.get_by_test_id("export-xlsx").click()
    path = tmp_path / "creances.xlsx"
    download.value.save_as(path)
    rows = list(load_workbook(path)["Principaux débiteurs"].iter_rows(values_only=True))
    assert rows[1][1] == str(c1) and Decimal(str(rows[1][4])) == Decimal("100.00")
    with page.expect_download() as download:
        page.get_by_test_id("export-pdf").click()
    pdf = tmp_path / "creances.pdf"
    download.value.save_as(pdf)
    assert Path(pdf).read_bytes().startswith(b"%PDF")
