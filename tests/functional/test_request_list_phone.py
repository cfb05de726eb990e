"""« Suivi des demandes » on a 375 px phone: each row is a card whose « Statut de la demande » cell
holds the state and, under it, the current phase. The cell is a flex row (label, value): the state
and the phase were two flex items, the phase squeezed into a sliver (« Trai / tem / ent », one
syllable a line); they are one value now."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.factories import TEST_PASSWORD, customer_with_account
from tests.request_factories import ServiceRequestFactory, termination_type


def test_status_and_phase_read_as_one_value_on_a_phone(browser, live_server, transactional_db):
    customer, _user = customer_with_account(first_name="Salma", last_name="Benjelloun")
    ServiceRequestFactory(customer=customer, request_type=termination_type())
    context = browser.new_context(
        base_url=live_server.url,
        locale="fr-FR",
        timezone_id="Africa/Casablanca",
        viewport={"width": 375, "height": 800},
        is_mobile=True,
    )
    page = context.new_page()
    try:
        page.goto("/")
        page.get_by_label("Code client, e-mail ou téléphone").fill(customer.code)
        page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
        page.get_by_role("button", name="Connexion").click()
        page.goto("/espace/demandes/")
        cell = page.get_by_test_id("request-row").locator('td[data-label="Statut de la demande"]')
        expect(cell).to_contain_text("En cours : aucune action")
        expect(cell).to_contain_text("Traitement")
        phase = cell.locator(".muted")
        phase_box = phase.bounding_box()
        # one line of the phase's height: the word is not broken letter by letter
        assert phase_box["height"] < 30, f"« Traitement » sur plusieurs lignes : {phase_box}"
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
    finally:
        context.close()
