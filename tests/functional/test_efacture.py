"""« Facture électronique » in a real browser (issue 13): a customer opts in from the portal's page
(the explanation: bills stay in « Mes factures », announced by SMS / e-mail), staff see it in the
back office (list filter, column, history on the customer's page), and the print run's « Factures à
imprimer » lists the paper customer's bill but not theirs.

The back office is served with the e-facture screens mixed in (tests.integration.test_efacture's
``urlpatterns``) until the lead wires them into CustomerAdmin / BillingRunAdmin."""

from __future__ import annotations

import datetime

import pytest
from playwright.sync_api import expect

from rak_billing.models import BillingRun
from tests.billing_factories import BillFactory
from tests.factories import TEST_PASSWORD, DossierFactory, StaffFactory, customer_with_account

pytestmark = pytest.mark.functional


def test_customer_opts_in_staff_sees_it_and_the_print_list_leaves_them_out(page, browser, live_server, settings):
    settings.ROOT_URLCONF = "tests.integration.test_efacture"
    customer, _user = customer_with_account(first_name="Salma", last_name="Benjelloun")
    mine = DossierFactory(customer=customer, premises__address="7 rue Ibn Sina")
    neighbour = DossierFactory(premises__address="12 rue des Orangers")
    run = BillingRun.objects.create(
        period_start=datetime.date(2026, 1, 1),
        period_end=datetime.date(2026, 2, 1),
        issue_date=datetime.date(2026, 2, 1),
        due_date=datetime.date(2026, 2, 16),
    )
    my_bill = BillFactory(dossier=mine, run=run)
    their_bill = BillFactory(dossier=neighbour, run=run)
    StaffFactory(username="agent", is_superuser=True)

    # --- the customer --------------------------------------------------------------------------------
    page.goto("/")
    page.get_by_label("Code client, e-mail ou téléphone").fill(customer.code)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    expect(page.get_by_test_id("customer-name")).to_be_visible()
    page.goto("/espace/facture-electronique/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Facture électronique")
    expect(page.get_by_test_id("efacture-state")).to_contain_text("Vous recevez vos factures sur papier")
    expect(page.get_by_test_id("efacture")).to_contain_text("Mes factures")
    page.get_by_label("Facture électronique — plus de facture papier").check()
    page.get_by_role("button", name="Enregistrer mon choix").click()
    expect(page.get_by_test_id("efacture-state")).to_contain_text("plus de facture papier")
    expect(page.get_by_test_id("efacture-history")).to_contain_text("Facture électronique activée")
    customer.refresh_from_db()
    assert customer.e_invoice_since is not None

    # --- staff ---------------------------------------------------------------------------------------
    staff = browser.new_context(base_url=live_server.url, locale="fr-FR", timezone_id="Africa/Casablanca")
    staff_page = staff.new_page()
    staff_page.goto("/backoffice/login/")
    staff_page.fill("input[name=username]", "agent")
    staff_page.fill("input[name=password]", TEST_PASSWORD)
    with staff_page.expect_navigation():
        staff_page.keyboard.press("Enter")
    staff_page.goto("/backoffice/rak_customer/customer/?facture_electronique=oui")
    expect(staff_page.locator("#result_list")).to_contain_text(customer.code)
    expect(staff_page.locator("#result_list")).to_contain_text("Électronique depuis le")
    expect(staff_page.locator("#result_list")).not_to_contain_text(neighbour.customer.code)
    staff_page.goto(f"/backoffice/rak_customer/customer/{customer.pk}/change/")
    expect(staff_page.get_by_test_id("efacture-history")).to_contain_text("par le client")

    staff_page.goto(f"/backoffice/rak_billing/billingrun/print-run/?run={run.pk}")
    rows = staff_page.get_by_test_id("print-rows")
    expect(rows).to_contain_text(their_bill.number)
    expect(rows).to_contain_text("12 rue des Orangers")
    expect(rows).not_to_contain_text(my_bill.number)
    expect(staff_page.get_by_test_id("print-counts")).to_contain_text("1 en facture électronique")
    staff.close()
