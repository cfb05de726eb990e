"""The installable web app in a real browser (issue 13): Chromium finds the home page and the
dashboard installable (the DevTools calls behind Lighthouse's « installable-manifest » audit), the
service worker is active, the offline page shows when the network is gone, the last dashboard and
bills pages stay readable offline with their « Hors ligne — données du … » banner, and signing
out drops them."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.factories import TEST_PASSWORD
from tests.reading_factories import portal_customer_with_reading_window_and_unpaid_bill

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture
def customer(transactional_db):
    customer, _water, unpaid = portal_customer_with_reading_window_and_unpaid_bill(
        round_code="PW1", power_number="D400000031"
    )
    return customer, unpaid


def until(page, expression: str, arg=None, timeout: float = 30.0) -> None:
    """Poll ``expression`` (it may return a promise: page.evaluate awaits it, where
    wait_for_function takes the promise itself for a truthy answer) until it is truthy."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression, arg):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {expression}")
        page.wait_for_timeout(100)


def worker_active(page) -> None:
    """Wait until a service worker controls the site, activated (installing precaches every static
    file: slower on a loaded machine)."""
    until(page, "navigator.serviceWorker.ready.then(r => r.active.state === 'activated')")
    state = page.evaluate(
        "navigator.serviceWorker.ready.then(r => ({scope: r.scope, script: r.active.scriptURL, state: r.active.state}))"
    )
    assert state["state"] == "activated"
    assert state["scope"].endswith("/") and state["script"].endswith("/sw.js")
    assert state["scope"].count("/") == 3  # the site's root: http://host:port/


def installability(page, *, incognito: bool = True) -> tuple[list, dict]:
    """Chromium's installability errors (as Lighthouse reads them) and its parsed manifest. A
    Playwright context is an incognito profile, where Chromium never offers to install: that one
    error (« in-incognito ») is the browser's, left out unless ``incognito=False`` (a persistent
    profile, where the list must be empty as it is)."""
    cdp = page.context.new_cdp_session(page)
    try:
        errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
        manifest = cdp.send("Page.getAppManifest")
    finally:
        cdp.detach()
    if incognito:
        errors = [error for error in errors if error["errorId"] != "in-incognito"]
    return errors, manifest


def kept_pages(page) -> list[str]:
    return page.evaluate(
        "caches.open('rak-private').then(c => c.keys()).then(keys => keys.map(k => new URL(k.url).pathname))"
    )


def wait_kept(page, path: str) -> None:
    until(page, "(path) => caches.open('rak-private').then(c => c.match(path)).then(Boolean)", path)


def axe_violations(page) -> list[dict]:
    # evaluated through DevTools, which the page's CSP does not apply to (no inline <script> added)
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        TAGS,
    )
    return [{"rule": v["id"], "targets": [n["target"] for n in v["nodes"][:5]]} for v in result["violations"]]


def test_installable_offline_and_signed_out(page, customer):
    customer, bill = customer
    csp_errors: list[str] = []
    page.on("console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None)

    page.goto("/")
    worker_active(page)
    errors, manifest = installability(page)
    assert errors == [], errors
    assert manifest["errors"] == [], manifest["errors"]
    assert manifest["url"].endswith("/manifest.webmanifest?lang=fr")
    data = json.loads(manifest["data"])
    assert data["name"] == "RAK — Agence en ligne" and data["display"] == "standalone"
    expect(page.get_by_role("link", name="Disponible sur Google Play")).to_be_visible()
    expect(page.get_by_role("link", name="Télécharger dans l'App Store")).to_be_visible()

    # signed in: the dashboard is installable too; it and the bills pages are kept as they are seen
    page.get_by_label("Code client, e-mail ou téléphone").fill(customer.code)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    page.wait_for_url("**/espace/")
    errors, manifest = installability(page)
    assert errors == [] and manifest["errors"] == []
    assert page.evaluate("navigator.serviceWorker.controller !== null")
    wait_kept(page, "/espace/")
    page.goto("/espace/consommations/")
    wait_kept(page, "/espace/consommations/")
    page.goto(f"/espace/factures/{bill.pk}/")
    wait_kept(page, f"/espace/factures/{bill.pk}/")
    page.goto("/espace/profil/")  # not kept: only the dashboard and bills
    page.goto("/espace/paiement/")  # never kept: payment
    assert sorted(kept_pages(page)) == sorted(["/espace/", "/espace/consommations/", f"/espace/factures/{bill.pk}/"])
    expect(page.locator("[data-offline-banner]")).to_be_hidden()  # online: no banner

    # offline: the kept pages with their date, any other page the offline page
    page.context.set_offline(True)
    for path in ("/espace/", "/espace/consommations/", f"/espace/factures/{bill.pk}/"):
        page.goto(path)
        banner = page.locator("[data-offline-banner]")
        expect(banner).to_be_visible()
        expect(banner).to_contain_text("Hors ligne — données du ")
        assert page.locator("html").get_attribute("data-offline-copy") is not None
        if path == "/espace/":
            expect(page.get_by_test_id("customer-name")).to_have_text("Salma Benjelloun")
    for path in ("/espace/profil/", "/agences/", "/espace/paiement/"):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_have_text("Vous êtes hors ligne")
        expect(page.get_by_role("button", name="Réessayer")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "fr"
    assert axe_violations(page) == []

    # back online, signing out drops the kept pages: offline again, the dashboard is not readable
    page.context.set_offline(False)
    page.goto("/espace/")
    page.locator("header form[action$='/deconnexion/'] button").click()
    page.wait_for_url(lambda url: url.endswith("/"))
    until(page, "caches.has('rak-private').then(has => !has)")
    page.context.set_offline(True)
    page.goto("/espace/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Vous êtes hors ligne")
    expect(page.locator("[data-offline-banner]")).to_have_count(0)
    page.context.set_offline(False)
    assert csp_errors == []


def test_installable_in_a_real_profile(browser, live_server, transactional_db, tmp_path):
    """Outside incognito (a persistent profile, as a customer's browser): no installability error
    at all on the home page, in each language."""
    context = browser.browser_type.launch_persistent_context(
        str(tmp_path / "profile"),
        executable_path=str(CHROMIUM),
        args=CHROMIUM_ARGS,
        headless=True,
        base_url=live_server.url,
        locale="fr-FR",
    )
    context.set_default_timeout(10_000)
    try:
        page = context.pages[0] if context.pages else context.new_page()
        page.goto("/")
        worker_active(page)
        for language in ("fr", "ar", "en"):
            if language != "fr":
                page.locator(f".lang-switch button[value={language}]").click()
                page.wait_for_load_state()
            errors, manifest = installability(page, incognito=False)
            assert errors == [], (language, errors)
            assert manifest["errors"] == [], (language, manifest["errors"])
            assert json.loads(manifest["data"])["lang"] == language
    finally:
        context.close()


def test_offline_page_follows_the_language_of_the_last_page(browser, live_server, transactional_db):
    context = browser.new_context(base_url=live_server.url, locale="ar-MA", timezone_id="Africa/Casablanca")
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto("/")
        worker_active(page)
        assert installability(page)[0] == []
        page.goto("/agences/")  # a page seen through the worker: its language is remembered
        context.set_offline(True)
        page.goto("/verifier-document/")
        assert page.locator("html").get_attribute("lang") == "ar"
        assert page.locator("html").get_attribute("dir") == "rtl"
        expect(page.get_by_role("heading", level=1)).to_have_text("أنت غير متصل بالإنترنت")
        assert axe_violations(page) == []
    finally:
        context.close()


def test_a_push_shows_a_notification_that_opens_its_page(browser, live_server, transactional_db):
    """The worker's « push » handler: a payload {title, body, url, tag} becomes a notification
    (checked through the registration's notifications; the push itself is dispatched by DevTools)."""
    context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    context.grant_permissions(["notifications"])
    page = context.new_page()
    try:
        page.goto("/")
        worker_active(page)
        cdp = context.new_cdp_session(page)
        registrations: list[dict] = []
        cdp.on("ServiceWorker.workerRegistrationUpdated", lambda e: registrations.extend(e["registrations"]))
        cdp.send("ServiceWorker.enable")
        registration = page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
        page.wait_for_timeout(300)
        registration_id = next(r["registrationId"] for r in registrations if r["scopeURL"] == registration)
        payload = {"title": "Facture disponible", "body": "Votre facture de mars", "url": "/espace/", "tag": "bill-1"}
        cdp.send(
            "ServiceWorker.deliverPushMessage",
            {"origin": live_server.url, "registrationId": registration_id, "data": json.dumps(payload)},
        )
        until(page, "navigator.serviceWorker.ready.then(r => r.getNotifications()).then(list => list.length > 0)")
        shown = page.evaluate(
            "navigator.serviceWorker.ready.then(r => r.getNotifications())"
            ".then(list => list.map(n => ({title: n.title, body: n.body, tag: n.tag, url: n.data.url})))"
        )
        assert shown == [
            {
                "title": "Facture disponible",
                "body": "Votre facture de mars",
                "tag": "bill-1",
                "url": f"{live_server.url}/espace/",
            }
        ]
        cdp.detach()
    finally:
        context.close()
