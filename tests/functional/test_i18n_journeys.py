"""The main journeys in Arabic and in English, in a real browser on a 390 px phone (issue 12): the
browser's language (Accept-Language) chooses the page's language on the first visit; log in, the
dashboard, « Mes consommations » and a bill, « Payer en ligne » through the CMI simulator to the
receipt, a request filed (« Demande d'attestation ») and found in « Suivi des demandes », the meter
reading sent with a photo. On every page: the document is in that language (lang, dir), no
horizontal scrolling at 390 px, no French label left where a translation exists; on a desktop the
menu sits on the right in Arabic, on the left in English. Screenshots of each page are written to
the test's directory.

Labels are looked up through the catalogues themselves (``gettext`` in the target language), so
the journey follows the words a customer reads, and fails if the word was not translated."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import translation
from playwright.sync_api import expect

from rak_billing.models import MeterReading, Payment
from tests.factories import TEST_PASSWORD
from tests.reading_factories import png_bytes, portal_customer_with_reading_window_and_unpaid_bill

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
BROWSER_LOCALE = {"ar": "ar-MA", "en": "en-GB"}


def t(language: str, french: str) -> str:
    """What a customer reads for ``french`` in ``language`` — and it must be translated."""
    with translation.override(language):
        text = translation.gettext(french)
    assert text != french, f"« {french} » has no {language} translation"
    return text


class Journey:
    def __init__(self, page, language: str, shots: Path):
        self.page, self.language, self.shots, self.count = page, language, shots, 0

    def check(self, name: str) -> None:
        """The page is in the journey's language, fits the phone, and is photographed."""
        page = self.page
        expect(page.locator("html")).to_have_attribute("lang", self.language)
        expect(page.locator("html")).to_have_attribute("dir", "rtl" if self.language == "ar" else "ltr")
        width = page.evaluate("() => document.documentElement.clientWidth")
        overflow = page.evaluate("() => document.documentElement.scrollWidth") - width
        assert overflow <= 0, f"{name} ({self.language}): {overflow}px of horizontal scrolling at {width}px"
        self.count += 1
        shot = self.shots / f"{self.language}-{self.count:02d}-{name}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 1000

    def menu(self, french: str) -> None:
        """Open a link of the private menu (folded behind « Menu » on a phone)."""
        page = self.page
        link = page.locator("#menu-nav").get_by_role("link", name=t(self.language, french), exact=True).first
        if not link.is_visible():
            page.locator("[data-menu-button], .menu-toggle").filter(visible=True).first.click()
        link.click()


@pytest.fixture
def customer_ready(transactional_db, live_server, settings):
    settings.SITE_URL = live_server.url
    settings.CMI_GATEWAY_URL = f"{live_server.url}/cmi-sandbox/fim/est3Dgate"
    return portal_customer_with_reading_window_and_unpaid_bill(round_code="TJ1", power_number="D300000002")


@pytest.mark.parametrize("language", ["ar", "en"])
def test_main_journeys_in_arabic_and_english(browser, live_server, customer_ready, language, tmp_path):
    customer, water, open_bill = customer_ready
    context = browser.new_context(
        base_url=live_server.url,
        locale=BROWSER_LOCALE[language],
        timezone_id="Africa/Casablanca",
        viewport=PHONE,
        is_mobile=True,
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    journey = Journey(page, language, tmp_path)
    try:
        # first visit: the browser's language, then log in
        page.goto("/")
        journey.check("login")
        page.get_by_label(t(language, "Code client, e-mail ou téléphone")).fill(customer.code)
        page.get_by_label(t(language, "Mot de passe")).fill(TEST_PASSWORD)
        page.get_by_role("button", name=t(language, "Connexion")).click()
        expect(page.get_by_test_id("customer-name")).to_have_text("Salma Benjelloun")
        journey.check("dashboard")

        # bills: « Mes consommations », then the unpaid bill's page
        journey.menu("Mes consommations")
        expect(page.get_by_role("heading", level=1)).to_have_text(t(language, "Mes consommations"))
        journey.check("consumptions")
        page.goto(f"/espace/consommations/?dossier={open_bill.dossier.number}")
        expect(page.get_by_test_id("consumption-bills")).to_be_visible()
        page.goto(f"/espace/factures/{open_bill.pk}/")
        expect(page.get_by_test_id("bill-number")).to_have_text(open_bill.number)
        journey.check("bill")

        # pay online through the CMI simulator, back to the receipt
        journey.menu("Payer en ligne")
        page.locator(f"input[name=facture][value='{open_bill.pk}']").check()
        page.locator("input[type=email]").fill("salma@example.ma")
        page.get_by_role("button", name=t(language, "Valider"), exact=True).click()
        expect(page.get_by_test_id("recap-total")).to_be_visible()
        journey.check("pay-recap")
        page.locator("input[name=conditions]").check()
        page.get_by_role("button", name=t(language, "Payer"), exact=True).click()
        # the bank's page (the simulator stands for CMI's own, which speaks its own languages)
        page.get_by_label("Nom du porteur de la carte").fill("Salma Benjelloun")
        page.get_by_label("Numéro de carte de paiement").fill("4111 1111 1111 1111")
        page.get_by_label("Date d'expiration (MM/AA)").fill("12/35")
        page.get_by_label("Code de vérification").fill("123")
        page.get_by_role("button", name="Valider le paiement").click()
        status = page.get_by_test_id("payment-status")
        expect(status).to_contain_text(t(language, "Votre paiement a été accepté"), timeout=25_000)
        journey.check("paid")
        assert Payment.objects.filter(allocations__bill=open_bill).exists()

        # a request: « Demande d'attestation », then « Suivi des demandes »
        journey.menu("Demande d'attestation")
        page.get_by_label(t(language, "Type d'attestation")).select_option(index=1)
        page.get_by_label(t(language, "Dossier d'abonnement")).select_option(water.number)
        page.get_by_role("button", name=t(language, "Générer")).click()
        expect(page.locator(".flash-success, .flash-info").first).to_be_visible()
        journey.check("attestation")
        journey.menu("Suivi des demandes")
        journey.check("requests")

        # the meter reading with a photo
        photo = tmp_path / "compteur.png"
        photo.write_bytes(png_bytes(size=(320, 200)))
        journey.menu("Relève de mon index")
        page.get_by_label(t(language, "Index relevé")).fill("1263")
        page.get_by_label(t(language, "Photo de l'index")).set_input_files(str(photo))
        page.get_by_role("button", name=t(language, "Envoyer mon index")).click()
        expect(page.locator(".flash-success")).to_be_visible()
        expect(page.locator(".flash-error")).to_have_count(0)
        journey.check("self-reading")
        assert MeterReading.objects.filter(dossier=water, source=MeterReading.Source.SELF).exists()

        # on a desktop screen the menu is on the right in Arabic, on the left in English
        page.set_viewport_size(DESKTOP)
        page.goto("/espace/")
        sidebar = page.locator("aside.sidebar").bounding_box()
        content = page.locator("main#contenu").bounding_box()
        if language == "ar":
            assert sidebar["x"] > content["x"], "Arabic: the menu must be on the right of the content"
        else:
            assert sidebar["x"] < content["x"], "English: the menu must be on the left of the content"
        page.screenshot(path=str(tmp_path / f"{language}-desktop-dashboard.png"), full_page=True)
        # the account now remembers the language (SMS, e-mails and documents follow it)
        customer.refresh_from_db()
        assert customer.language == language
    finally:
        context.close()
