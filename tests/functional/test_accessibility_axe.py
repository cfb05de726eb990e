"""WCAG 2.1 AA on the main pages, in French, Arabic and English (issue 12): axe-core (vendored from
npm in tests/functional/vendor/axe-core, never a CDN) runs in the real browser on each page, public
and logged in, on a desktop and on a 390 px phone, and must find no violation of the rules tagged
wcag2a, wcag2aa, wcag21a, wcag21aa."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.factories import TEST_PASSWORD
from tests.reading_factories import portal_customer_with_reading_window_and_unpaid_bill
from tests.request_factories import ServiceRequestFactory

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BROWSER_LOCALE = {"fr": "fr-FR", "ar": "ar-MA", "en": "en-GB"}
PUBLIC_PAGES = [
    "/",
    "/creer-mon-compte/",
    "/mot-de-passe-oublie/",
    "/services/simulation/",
    "/verifier-document/",
    "/agences/",
    "/payer-mes-factures/",
    "/services/reclamation/",
    "/services/signaler-fuite-ou-coupure/",
    "/coupures-et-travaux/",
    "/contacter-la-rak/",
    "/conditions-d-utilisation/",
    "/paiement-en-ligne/conditions-generales/",
    "/services/demande-branchement/",
    "/services/reclamation/envoyee/",
]
PRIVATE_PAGES = [
    "/espace/",
    "/espace/consommations/",
    "/espace/impayes/",
    "/espace/e-facture/",
    "/espace/paiement/",
    "/espace/demandes/",
    "/espace/profil/",
    "/espace/notifications/",
    "/espace/services/",
    "/espace/releve/",
    "/espace/releves/",
    "/espace/reclamations/",
    "/espace/abonnements/",
    "/espace/abonnements/D400000002/",
    "/espace/autres-factures/",
    "/espace/provisions/",
    "/espace/devis/",
    "/espace/attestations/",
    "/espace/remboursements/demande/",
    "/espace/mes-remboursements/",
    "/espace/services/resiliation/",
    "/espace/services/domiciliation-bancaire/",
    "/services/demande-abonnement/",
    "/espace/avances/",
    "/espace/profil/avis/",
    "/espace/profil/email/",
    "/espace/profil/modification/",
    "/espace/profil/mot-de-passe/",
    "/espace/profil/telephone/",
    "/espace/services/compteurs-collectifs/",
    "/espace/paiement/recapitulatif/",
]


VIEWPORTS = ({"width": 1280, "height": 900}, {"width": 390, "height": 844})  # desktop, phone


def axe_violations(page) -> list[dict]:
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        TAGS,
    )
    return [
        {
            "rule": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "targets": [n["target"] for n in v["nodes"][:5]],
            "html": [n["html"][:160] for n in v["nodes"][:3]],
        }
        for v in result["violations"]
    ]


def axe_on_each_viewport(page, path: str, found: dict[str, list[dict]]) -> None:
    """Load ``path`` on the desktop viewport, run axe there, then on the phone's (the same document
    resized: the portal's layout is CSS media queries only, no script reads the viewport size at
    load and no CSS transition runs, so the phone's layout is the one a phone loading the page
    gets). One load and one injection of axe per page instead of one per viewport."""
    page.set_viewport_size(VIEWPORTS[0])
    page.goto(path)
    page.add_script_tag(path=str(AXE))
    for viewport in VIEWPORTS:
        page.set_viewport_size(viewport)
        if violations := axe_violations(page):
            found[f"{viewport['width']}px {path}"] = violations


@pytest.fixture
def customer(transactional_db):
    customer, _water, unpaid = portal_customer_with_reading_window_and_unpaid_bill(
        round_code="AX1", power_number="D400000002"
    )
    ServiceRequestFactory(customer=customer, number="AB26000777")
    return customer, unpaid


@pytest.mark.parametrize("language", ["fr", "ar", "en"])
def test_main_pages_have_no_wcag_aa_violation(browser, live_server, customer, language):
    customer, bill = customer
    found: dict[str, list[dict]] = {}
    # one context (one login) for both viewports: see axe_on_each_viewport
    context = browser.new_context(
        base_url=live_server.url,
        locale=BROWSER_LOCALE[language],
        timezone_id="Africa/Casablanca",
        viewport=VIEWPORTS[0],
        bypass_csp=True,  # axe is injected as an inline script; the pages' own CSP forbids that
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        for path in PUBLIC_PAGES:
            axe_on_each_viewport(page, path, found)
            assert page.locator("html").get_attribute("lang") == language
        page.goto("/")
        page.fill("input[name=username]", customer.code)
        page.fill("input[name=password]", TEST_PASSWORD)
        page.locator("form[action$='/connexion/'] [type=submit]").click()
        page.wait_for_url("**/espace/**")
        for path in [*PRIVATE_PAGES, f"/espace/factures/{bill.pk}/", "/espace/demandes/AB26000777/"]:
            axe_on_each_viewport(page, path, found)
        # the back link's arrow is not read out and points back: to the right in Arabic (both viewports)
        arrow = page.locator(".back-link .icon-dir")
        for viewport in VIEWPORTS:
            page.set_viewport_size(viewport)
            assert arrow.get_attribute("aria-hidden") == "true"
            mirrored = arrow.evaluate("e => getComputedStyle(e).transform") == "matrix(-1, 0, 0, 1, 0, 0)"
            assert mirrored == (language == "ar"), f"{viewport['width']}px"
    finally:
        context.close()
    assert not found, f"axe-core ({language}):\n" + json.dumps(found, ensure_ascii=False, indent=1)


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_a_long_unbroken_word_wraps_on_a_phone(browser, live_server, customer, language):
    """An order id « RAK261205Q7J37RFFC5SV » (the payment return page's title), a reference or an
    e-mail address in a heading, a paragraph or a list item wraps inside a 390 px phone instead of
    pushing the page sideways (portal.css: overflow-wrap on text blocks)."""
    customer, _bill = customer
    context = browser.new_context(
        base_url=live_server.url, locale=BROWSER_LOCALE[language], viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    try:
        long_word = "RAK261205Q7J37RFFC5SVRAK261205Q7J37RFFC5SV"
        for path in ("/", "/agences/"):
            page.goto(path)
            page.evaluate(
                """(word) => {
                    const main = document.querySelector("main") || document.body;
                    for (const tag of ["h1", "h2", "p", "li"]) {
                        const el = document.createElement(tag);
                        el.textContent = `${word}${word}`;
                        (tag === "li" ? main.appendChild(document.createElement("ul")) : main).appendChild(el);
                    }
                    const h1 = document.querySelector("h1");
                    if (h1) h1.textContent = `${h1.textContent} ${word}`;
                }""",
                long_word,
            )
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{path} ({language}) is {overflow}px wider than the phone"
    finally:
        context.close()
