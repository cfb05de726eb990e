"""« Simulateur de consommation » in a real browser, as a visitor would use it: from the home page's
services, fill in the form with the old and new index, click « Simuler ma facture », read the
tranche warning and the total; then water, whose bill carries the sanitation lines; on a phone
screen the page does not overflow sideways."""

from __future__ import annotations

import os
import re

from playwright.sync_api import expect

SCREENSHOTS = os.environ.get("RAK_SCREENSHOTS")  # a folder: save what the browser showed


def shot(page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


def test_simulate_electricity_by_index_then_water(page):
    page.goto("/")
    page.get_by_role("link", name="Simuler votre consommation").first.click()
    expect(page.get_by_role("heading", name="Simuler votre consommation")).to_be_visible()

    page.get_by_text("Électricité", exact=True).click()
    page.get_by_label("Catégorie tarifaire").select_option(label="Domestique")
    page.get_by_text("Mes index (ancien et nouveau)").click()
    expect(page.get_by_label("Consommation (kWh ou m³)")).to_be_hidden()  # only the chosen way shows
    page.get_by_label("Ancien index").fill("12 000".replace(" ", ""))
    page.get_by_label("Nouvel index").fill("12180")
    page.get_by_label("Durée de la période (jours)").fill("30")
    page.get_by_role("button", name="Simuler ma facture").click()

    notice = page.get_by_test_id("tranche-notice")
    expect(notice).to_contain_text("a dépassé 150 kWh")
    expect(notice).to_contain_text("151 à 210 kWh")
    expect(page.get_by_test_id("consumption")).to_have_text("180 kWh sur 30 jours")
    expect(page.get_by_test_id("lines-electricite")).to_contain_text("Électricité — tranche 151 à 210 kWh (sélective)")
    expect(page.get_by_test_id("lines-electricite")).to_contain_text("TPPAN")
    expect(page.get_by_test_id("total-ttc")).to_have_text(re.compile(r"^\d[\d\s\u202f]*,\d\d DH$"))
    shot(page, "simulator-electricity")

    # a wrong index is explained on the field, the form keeps what was typed
    page.get_by_label("Nouvel index").fill("11000")
    page.get_by_role("button", name="Simuler ma facture").click()
    expect(page.locator("#id_new_index_error")).to_contain_text(
        "Le nouvel index doit être supérieur ou égal à l'ancien index"
    )
    expect(page.get_by_test_id("error-summary")).to_be_focused()
    expect(page.get_by_label("Ancien index")).to_have_value("12000")

    page.get_by_text("Eau (avec l'assainissement)").click()
    page.get_by_text("Ma consommation", exact=True).click()
    page.get_by_label("Consommation (kWh ou m³)").fill("15")
    page.get_by_role("button", name="Simuler ma facture").click()
    expect(page.get_by_test_id("lines-eau")).to_contain_text("Eau potable — tranche 0 à 6 m³")
    expect(page.get_by_test_id("lines-assainissement")).to_contain_text("Redevance fixe d'assainissement")
    expect(page.get_by_test_id("tranche-notice").first).to_contain_text("Vous avez dépassé la tranche 0 à 6 m³")
    expect(page.get_by_test_id("total-ttc")).to_have_text("125,82 DH")
    shot(page, "simulator-water")


def test_simulator_fits_a_phone_screen(page):
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto("/services/simulation/")
    page.get_by_label("Consommation (kWh ou m³)").fill("320")
    page.get_by_role("button", name="Simuler ma facture").click()
    expect(page.get_by_test_id("tranche-notice")).to_be_visible()
    expect(page.get_by_test_id("total-ttc")).to_be_visible()
    shot(page, "simulator-phone")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    if overflow > 0:
        wide = page.evaluate(
            """[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth)
            .slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""
        )
        print(wide)
    assert overflow <= 0, f"la page déborde de {overflow}px sur un téléphone"


def test_category_list_follows_the_chosen_service(page):
    page.goto("/services/simulation/")
    select = page.locator('select[name="category"]')
    for service, label in (("EAU", "Eau"), ("ELECTRICITE", "Électricité")):
        page.locator(f'input[name="service"][value="{service}"]').check()
        offered = select.evaluate(
            "s => Array.from(s.options).filter(o => o.value && !o.disabled).map(o => o.dataset.services)"
        )
        hidden = select.evaluate(
            "s => Array.from(s.options).filter(o => o.value && o.disabled).map(o => o.dataset.services)"
        )
        assert offered, label
        assert all(service in services.split() for services in offered)
        assert all(service not in services.split() for services in hidden)
