"""A customer looks at their bills in a real browser: log in, switch dossier on the dashboard's
histogram, open « Mes consommations » and a bill, download its PDF, export the e-facture table
to Excel; then the same pages on a 390 px wide phone screen, without horizontal scrolling."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import expect

from rak_customer.models import Service
from tests.billing_factories import bill_create, bill_history
from tests.factories import TEST_PASSWORD, DossierFactory, MeterFactory, customer_with_account

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def customer_with_bills(transactional_db):
    customer, _user = customer_with_account(first_name="Salma", last_name="Benjelloun")
    water = DossierFactory(customer=customer, number="D200000001", service=Service.EAU)
    power = DossierFactory(
        customer=customer,
        number="D200000002",
        service=Service.ELECTRICITE,
        meter=MeterFactory(service=Service.ELECTRICITE, caliber="10 A"),
    )
    today = timezone.localdate()
    last = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    bill_history(water, months=8, last_period=last, consumption=14)
    bills = bill_history(power, months=8, last_period=last, consumption=180)
    bills[-1].allocations.all().delete()
    type(bills[-1]).objects.filter(pk=bills[-1].pk).update(settled_at=None)
    bill_create(dossier=water, kind="CUT_FEE", total_ht="120.00", issue_date=today - datetime.timedelta(days=3))
    return customer, water, power, bills[-1]


def login(page, code: str) -> None:
    page.goto("/")
    page.get_by_label("Code client, e-mail ou téléphone").fill(code)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    expect(page.get_by_test_id("customer-name")).to_have_text("Salma Benjelloun")


def test_dashboard_switch_bill_pdf_and_excel_export(page, customer_with_bills, tmp_path: Path):
    customer, water, power, open_bill = customer_with_bills
    login(page, customer.code)

    # dashboard: balance, six bars for the first dossier, then the other dossier
    expect(page.get_by_test_id("balance")).not_to_have_text("0,00 DH")
    chart = page.get_by_test_id("consumption-chart")
    expect(chart.get_by_test_id("chart-dossier-number")).to_have_text(water.number)
    expect(chart.locator("rect.chart-bar")).to_have_count(6)
    chart.get_by_label("N° de dossier").select_option(power.number)
    # choosing an option changes nothing by itself (WCAG 3.2.2): « Afficher » does
    page.wait_for_timeout(500)
    expect(chart.get_by_test_id("chart-dossier-number")).to_have_text(water.number)
    assert "dossier=" not in page.url
    chart.get_by_role("button", name="Afficher").click()
    expect(chart.get_by_test_id("chart-dossier-number")).to_have_text(power.number)
    expect(chart.locator("svg text").filter(has_text="180")).to_have_count(6)
    assert f"dossier={power.number}" in page.url

    # « Mes consommations » of that dossier, then the unpaid bill
    chart.get_by_role("link", name="Voir mes factures de ce dossier").click()
    table = page.get_by_test_id("consumption-bills")
    expect(table.locator("tbody tr")).to_have_count(8)
    page.get_by_role("link", name="Factures non réglées").click()
    expect(table.locator("tbody tr")).to_have_count(1)
    table.get_by_role("link", name="Détail").click()
    expect(page.get_by_test_id("bill-number")).to_have_text(open_bill.number)
    expect(page.get_by_test_id("amount-due")).to_contain_text(f"{open_bill.total_ttc:.2f}".replace(".", ","))

    # the bill's PDF
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Télécharger la facture (PDF)").click()
    download = download_info.value
    assert download.suggested_filename == f"facture-{open_bill.number}.pdf"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    assert target.read_bytes().startswith(b"%PDF")

    # e-facture: filter on the electricity dossier, export to Excel
    page.get_by_role("link", name="Consulter mes factures").first.click()
    expect(page.get_by_role("heading", name="Consulter mes factures")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("Evolution des montants facturés"))).to_be_visible()
    page.get_by_label("N° dossier").select_option(power.number)
    page.get_by_role("button", name="Afficher").click()
    expect(page.get_by_test_id("efacture-table").locator("tbody tr")).to_have_count(8)
    with page.expect_download() as download_info:
        page.get_by_test_id("export-xlsx").click()
    download = download_info.value
    assert download.suggested_filename == f"factures-{customer.code}.xlsx"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    rows = list(load_workbook(target).active.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 8 and {r[1] for r in rows} == {power.number}
    assert open_bill.number in {r[9] for r in rows}


def test_bill_pages_fit_a_phone_screen(browser, live_server, customer_with_bills):
    customer, _water, power, open_bill = customer_with_bills
    context = browser.new_context(
        base_url=live_server.url, locale="fr-FR", timezone_id="Africa/Casablanca", viewport=PHONE, is_mobile=True
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        login(page, customer.code)
        for path in (
            "/espace/",
            f"/espace/?dossier={power.number}",
            f"/espace/consommations/?dossier={power.number}",
            f"/espace/factures/{open_bill.pk}/",
            "/espace/impayes/",
            "/espace/autres-factures/",
            "/espace/e-facture/",
            "/espace/paiement/",
        ):
            page.goto(path)
            overflow = page.evaluate("() => document.documentElement.scrollWidth") - PHONE["width"]
            assert overflow <= 0, f"{path}: {overflow}px de défilement horizontal sur un écran de 390 px"
        page.goto("/espace/impayes/")
        # on a phone each row is a card whose cells carry their label (the header row is hidden)
        expect(page.get_by_test_id("unpaid-bills").locator("thead")).to_have_css("position", "absolute")
        expect(page.get_by_test_id("unpaid-bills").locator("tbody td").first).to_have_css("display", "flex")
    finally:
        context.close()
