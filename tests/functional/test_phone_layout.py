"""The portal on a 390 × 844 phone screen (issue 9 §2), in Debian's Chromium:

- the private pages start with their content: the menu is folded behind a « Menu » button
  (aria-expanded, works without JavaScript), the dashboard's balance is in the first screen;
- no horizontal scrolling on the private pages, the quick-pay bill list and subscription step 4;
- every link, button, checkbox and select is at least 24 × 24 px (WCAG 2.2 « taille de la cible »),
  except links inside a sentence and small targets with 24 px of room around them (the criterion's
  two exceptions);
- the long « GERANCE:… » descriptions of the bill list wrap instead of being clipped.
"""

from __future__ import annotations

import datetime
import importlib
import re
from decimal import Decimal

import pytest
from captcha.models import CaptchaStore
from django.apps import apps
from django.utils import timezone
from playwright.sync_api import expect

from rak_base import clock
from rak_customer.models import Service
from tests.factories import TEST_PASSWORD, customer_with_account
from tests.integration.test_payment_pages import seed_bill
from tests.reading_factories import MeterReadingFactory, ReadingRoundFactory, dossier_in_round
from tests.request_factories import pdf_bytes

PHONE = {"width": 390, "height": 844}

# Targets smaller than 24 × 24 px that meet neither exception of WCAG 2.2 SC 2.5.8.
SMALL_TARGETS_JS = """() => {
  const seen = (el) => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden'; };
  const targets = [...document.querySelectorAll(
    'a[href], button, select, summary, input[type=checkbox], input[type=radio], input[type=submit], label.menu-toggle'
  )].filter(seen).filter((el) => !el.closest('.sr-only'));
  const inSentence = (el) => {
    if (getComputedStyle(el).display !== 'inline') return false;
    const block = el.parentElement.closest('p, li, td, dd, small, figcaption, span, label');
    if (!block) return false;
    const own = el.textContent.trim();
    const rest = block.textContent.replace(own, '').replace(/[\\s·:|,.-]/g, '');
    return rest.length > 0;
  };
  const boxes = targets.map((el) => ({el, r: el.getBoundingClientRect()}));
  const centre = (r) => [r.left + r.width / 2, r.top + r.height / 2];
  const small = boxes.filter(({r}) => r.width < 23.5 || r.height < 23.5);
  const failures = [];
  for (const {el, r} of small) {
    if (inSentence(el)) continue;
    // spacing exception: a 24 px circle on the target's centre meets no other target nor another
    // small target's circle
    const [cx, cy] = centre(r);
    const crowded = boxes.some((o) => {
      if (o.el === el || o.el.contains(el) || el.contains(o.el)) return false;
      const small2 = o.r.width < 23.5 || o.r.height < 23.5;
      if (small2) { const [ox, oy] = centre(o.r); return Math.hypot(cx - ox, cy - oy) < 24; }
      const nx = Math.max(o.r.left, Math.min(cx, o.r.right)), ny = Math.max(o.r.top, Math.min(cy, o.r.bottom));
      return Math.hypot(cx - nx, cy - ny) < 12;
    });
    const name = (el.textContent || el.name || el.id).trim().slice(0, 40);
    if (crowded) failures.push(`${el.tagName} « ${name} » ${Math.round(r.width)}×${Math.round(r.height)}`);
  }
  return failures;
}"""

CLIPPED_JS = """(selector) => [...document.querySelectorAll(selector)]
  .filter((el) => el.scrollWidth > el.clientWidth + 1)
  .map((el) => `${el.textContent.trim().slice(0, 60)}: ${el.scrollWidth} > ${el.clientWidth}`)"""


def assert_fits(page, where: str) -> None:
    overflow = page.evaluate("() => document.documentElement.scrollWidth") - PHONE["width"]
    assert overflow <= 0, f"{where} : {overflow} px de défilement horizontal sur un écran de 390 px"
    failures = page.evaluate(SMALL_TARGETS_JS)
    assert not failures, f"{where} : cibles de moins de 24 × 24 px : {failures}"


def min_size(page, selector: str) -> float:
    """The smallest width or height among the elements ``selector`` finds (there must be some)."""
    sizes = page.evaluate(
        "(s) => [...document.querySelectorAll(s)].map((e) => e.getBoundingClientRect())"
        ".map((r) => Math.min(r.width, r.height))",
        selector,
    )
    assert sizes, f"rien ne correspond à {selector}"
    return min(sizes)


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, locale="fr-FR", timezone_id="Africa/Casablanca", viewport=PHONE, is_mobile=True
    )
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def customer(transactional_db, live_server, settings):
    settings.SITE_URL = live_server.url
    today = timezone.localdate(clock.now())
    ReadingRoundFactory(code="TF1", window_start_day=min(today.day, 28), window_days=7)
    customer, _ = customer_with_account(first_name="Salma", last_name="Benjelloun")
    dossier = dossier_in_round("TF1", customer=customer, service=Service.ELECTRICITE)
    MeterReadingFactory(dossier=dossier, reading_date=today - datetime.timedelta(days=40), index=Decimal(1250))
    first = today.replace(day=1)
    for months_back, total in ((3, "113.02"), (2, "105.81"), (1, "98.40")):
        period = (first - datetime.timedelta(days=30 * months_back)).replace(day=1)
        seed_bill(dossier, total, period=period, due=today + datetime.timedelta(days=20 - 30 * (months_back - 1)))
    return customer


def login(page, customer) -> None:
    page.goto("/")
    page.get_by_label("Code client, e-mail ou téléphone").fill(customer.code)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    expect(page.get_by_test_id("customer-name")).to_be_visible()


PRIVATE_PAGES = (
    "/espace/",
    "/espace/consommations/",
    "/espace/impayes/",
    "/espace/autres-factures/",
    "/espace/e-facture/",
    "/espace/paiement/",
    "/espace/releve/",
    "/espace/releves/",
    "/espace/avances/",
    "/espace/devis/",
    "/espace/demandes/",
    "/espace/notifications/",
    "/espace/profil/",
)


def test_private_pages_on_a_phone_start_with_the_content(phone, customer):
    page = phone.new_page()
    login(page, customer)

    # the balance is in the first screen; the menu is folded behind « Menu »
    balance = page.get_by_test_id("balance").bounding_box()
    assert balance["y"] + balance["height"] <= PHONE["height"], f"solde à {balance['y']:.0f} px"
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_role("link", name="Historique des relevés")).to_have_count(0)
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("link", name="Historique des relevés")).to_be_visible()
    page.get_by_role("link", name="Relève de mon index").click()
    expect(page.get_by_role("heading", name="Relève de mon index de consommation")).to_be_visible()
    expect(page.get_by_role("button", name="Menu")).to_have_attribute("aria-expanded", "false")

    # « Relever » on screen, not past the right edge
    relever = page.get_by_role("link", name="Relever").bounding_box()
    assert relever["x"] + relever["width"] <= PHONE["width"], "« Relever » hors de l'écran"

    for path in PRIVATE_PAGES:
        page.goto(path)
        assert_fits(page, path)

    # « Payer en ligne »: the descriptions wrap, the checkboxes are big enough (were 13 px)
    page.goto("/espace/paiement/")
    assert page.evaluate(CLIPPED_JS, "[data-testid=pay-bills] td") == []
    expect(page.get_by_test_id("pay-bills")).to_contain_text("GERANCE:ELECTRICITE")
    assert min_size(page, "[data-testid=pay-bills] input[type=checkbox]") >= 24

    # e-facture: the bill number and PDF links of each row are full targets (were 22 px high)
    page.goto("/espace/e-facture/")
    assert min_size(page, "[data-testid=efacture-table] a, [data-testid=efacture-filters] button") >= 24


def test_menu_opens_without_javascript(browser, live_server, customer):
    context = browser.new_context(
        base_url=live_server.url, locale="fr-FR", viewport=PHONE, is_mobile=True, java_script_enabled=False
    )
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        login(page, customer)
        balance = page.get_by_test_id("balance").bounding_box()
        assert balance["y"] + balance["height"] <= PHONE["height"]
        expect(page.get_by_role("link", name="Historique des relevés")).to_have_count(0)
        page.locator("label.menu-toggle").click()
        expect(page.get_by_role("link", name="Historique des relevés")).to_be_visible()
    finally:
        context.close()


def test_quick_pay_bill_list_on_a_phone(phone, customer):
    page = phone.new_page()
    page.goto("/payer-mes-factures/")
    assert_fits(page, "/payer-mes-factures/")
    page.get_by_label("Code Client").fill(customer.code)
    page.locator("#id_email").fill("salma@example.ma")
    page.get_by_label("Confirmer votre email").fill("salma@example.ma")
    key = page.locator("input[name=captcha_0]").input_value()
    page.get_by_label("Code de vérification").fill(CaptchaStore.objects.get(hashkey=key).response)
    page.get_by_label("Carte Bancaire Marocaine").check()
    page.get_by_role("button", name="Valider").click()
    table = page.get_by_test_id("pay-bills")
    expect(table).to_contain_text("GERANCE:ELECTRICITE")
    assert page.evaluate(CLIPPED_JS, "[data-testid=pay-bills] td") == []
    box = page.locator("input[type=checkbox][name=facture]").last.bounding_box()
    assert box["width"] >= 24 and box["height"] >= 24, box
    assert_fits(page, "liste des factures du paiement rapide")


def test_subscription_step_4_on_a_phone(phone, sms_outbox, tmp_path):
    importlib.import_module("rak_requests.migrations.0002_seed_request_types").seed(apps, None)
    pdf = tmp_path / "piece.pdf"
    pdf.write_bytes(pdf_bytes())
    page = phone.new_page()
    page.goto("/services/demande-abonnement/")
    page.locator("#id_last_name").fill("Alaoui")
    page.locator("#id_first_name").fill("Youssef")
    page.locator("#id_identity").fill("gk 123456")
    page.locator("#id_email").fill("youssef.alaoui.tres.longue.adresse@example.ma")
    page.locator("#id_phone").fill("06 61 23 45 67")
    page.get_by_role("button", name="vérifier").click()
    expect(page.get_by_text("se terminant par 67")).to_be_visible()
    page.locator("#id_otp").fill(sms_outbox.last_code("+212661234567"))
    page.get_by_role("button", name="Suivant").click()
    expect(page.get_by_role("heading", name=re.compile("Étape 2"))).to_be_visible()
    page.locator("#id_services_0").check()
    page.locator("#id_services_1").check()
    page.locator("#id_address").fill("12 rue Tarik Ibn Ziad, lotissement Al Mostakbal")
    page.locator("#id_district").fill("Maamora")
    page.locator("#id_usage").select_option("DOMESTIQUE")
    page.locator("#id_tariff_category_eau").select_option(index=1)
    page.locator("#id_tariff_category_electricite").select_option(index=1)
    page.locator("#id_power_kva").fill("6")
    page.locator("#id_caliber_mm").select_option("15")
    page.get_by_role("button", name="Suivant").click()
    expect(page.get_by_role("heading", name=re.compile("Étape 3"))).to_be_visible()
    for code in ("cin", "titre_propriete", "attestation_residence"):
        page.locator(f"#doc_{code}").set_input_files(str(pdf))
    page.get_by_role("button", name="Suivant").click()
    expect(page.get_by_role("heading", name=re.compile("Étape 4"))).to_be_visible()
    assert_fits(page, "abonnement, étape 4")
    assert page.evaluate(CLIPPED_JS, "[data-testid=review] dd") == []
