"""Right-to-left done properly (issue 12), in Debian's Chromium, for French, Arabic and English, on a
390 px phone and a 1280 px desktop screen:

- the login page and a logged-in customer's dashboard say their language and direction on <html>
  (``dir="rtl"`` in Arabic), and never scroll sideways; Arabic is set in the self-hosted Arabic font;
- an arrow that means « back » (.icon-dir) is mirrored in Arabic;
- Latin-script fields (code client / e-mail / phone, password, e-mail, phone) stay left to right
  inside an Arabic form, their value starting from the form's start edge (the right);
- on a desktop the menu (sidebar) sits on the right half in Arabic, on the left in French and
  English; on a phone it stays folded behind its toggle, which still opens it;
- the header's language switch (a plain form) changes the language, marks the current one, works
  from the keyboard, and the choice sticks: made on the login page it is the account's language
  after login, and a later login from another browser finds it again.

Screenshots are written to the test's tmp_path (nothing is kept in git). The fields are found by
their names, not their labels, so that these tests follow the layout, whoever translates the
labels."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from rak_base import clock
from rak_customer.models import Service
from tests.factories import TEST_PASSWORD, customer_with_account
from tests.integration.test_payment_pages import seed_bill
from tests.reading_factories import MeterReadingFactory, ReadingRoundFactory, dossier_in_round

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
BROWSER_LOCALE = {"fr": "fr-FR", "ar": "ar-MA", "en": "en-GB"}

OVERFLOW_JS = """() => {
  const root = document.documentElement;
  const wide = [...document.body.querySelectorAll('*')].filter((el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && (r.right > root.clientWidth + 1 || r.left < -1) && !el.closest('.sr-only, .skip, .hp');
  }).slice(0, 5).map((el) => `${el.tagName}.${el.className}`);
  return {scroll: root.scrollWidth, client: root.clientWidth, wide};
}"""


# For the login page's fields: the text direction and the edge a typed value starts from.
FIELD_DIRECTION_JS = """() => Object.fromEntries(
  ['username', 'password', 'email', 'phone', 'subject'].map((name) => {
    const el = document.querySelector(`input[name=${name}]`);
    const s = getComputedStyle(el);
    const align = s.textAlign === 'start' || s.textAlign === 'end'
      ? ((s.textAlign === 'start') === (s.direction === 'ltr') ? 'left' : 'right') : s.textAlign;
    return [name, {direction: s.direction, edge: align}];
  }))"""


@pytest.fixture
def customer(transactional_db, live_server, settings):
    settings.SITE_URL = live_server.url
    today = timezone.localdate(clock.now())
    ReadingRoundFactory(code="TR1", window_start_day=min(today.day, 28), window_days=7)
    customer, _ = customer_with_account(first_name="Salma", last_name="Benjelloun")
    dossier = dossier_in_round("TR1", customer=customer, service=Service.ELECTRICITE)
    MeterReadingFactory(dossier=dossier, reading_date=today - datetime.timedelta(days=40), index=Decimal(1250))
    first = today.replace(day=1)
    for months_back, total in ((3, "113.02"), (2, "105.81"), (1, "98.40")):
        period = (first - datetime.timedelta(days=30 * months_back)).replace(day=1)
        seed_bill(dossier, total, period=period, due=today + datetime.timedelta(days=20 - 30 * (months_back - 1)))
    return customer


def new_context(browser, live_server, language: str, size: str):
    context = browser.new_context(
        base_url=live_server.url,
        locale=BROWSER_LOCALE[language],
        timezone_id="Africa/Casablanca",
        viewport=SIZES[size],
        is_mobile=size == "phone",
    )
    context.set_default_timeout(15_000)
    return context


def log_in(page, customer) -> None:
    page.locator(".login-card input[name=username]").fill(customer.code)
    page.locator(".login-card input[name=password]").fill(TEST_PASSWORD)
    page.locator(".login-card button[type=submit]").click()
    expect(page.get_by_test_id("customer-name")).to_be_visible()


def check_page(page, language: str, where: str, shot) -> None:
    html = page.locator("html")
    expect(html).to_have_attribute("lang", language)
    expect(html).to_have_attribute("dir", "rtl" if language == "ar" else "ltr")
    expect(page.locator(f".lang-switch button[value={language}]")).to_have_attribute("aria-current", "true")
    sizes = page.evaluate(OVERFLOW_JS)
    assert sizes["scroll"] <= sizes["client"], f"{where}: horizontal scrolling {sizes}"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 1000


@pytest.mark.parametrize("size", ["phone", "desktop"])
@pytest.mark.parametrize("language", ["ar", "fr", "en"])
def test_login_page_and_dashboard_layout(browser, live_server, customer, language, size, tmp_path):
    context = new_context(browser, live_server, language, size)
    try:
        page = context.new_page()
        page.goto("/")
        check_page(page, language, "login page", tmp_path / f"{language}-{size}-login.png")
        # the Arabic font is the self-hosted one, first in Arabic
        font = page.evaluate("() => getComputedStyle(document.body).fontFamily")
        assert font.startswith('"Noto Sans Arabic"') == (language == "ar"), font

        # Latin-script fields stay left to right, aligned on the form's start edge; text fields
        # follow the page
        direction = page.evaluate(FIELD_DIRECTION_JS)
        page_direction = "rtl" if language == "ar" else "ltr"
        for name in ("username", "password", "email", "phone"):
            assert direction[name]["direction"] == "ltr", (name, direction[name])
            assert direction[name]["edge"] == ("right" if language == "ar" else "left"), (name, direction[name])
        assert direction["subject"]["direction"] == page_direction, direction["subject"]
        # an arrow that means « back » (includes/back_link.html) points the other way in Arabic
        transform = page.evaluate(
            """() => { document.querySelector('main').insertAdjacentHTML('beforeend',
                 '<a class="back-link" href="/"><span class="icon-dir" aria-hidden="true">←</span> x</a>');
               return getComputedStyle(document.querySelector('.back-link .icon-dir')).transform; }"""
        )
        assert transform == ("matrix(-1, 0, 0, 1, 0, 0)" if language == "ar" else "none"), transform

        log_in(page, customer)
        check_page(page, language, "dashboard", tmp_path / f"{language}-{size}-dashboard.png")
        sidebar = page.locator("aside.sidebar").bounding_box()
        width = SIZES[size]["width"]
        if size == "desktop":
            centre = sidebar["x"] + sidebar["width"] / 2
            if language == "ar":
                assert centre > width / 2, f"Arabic: the menu must be on the right half ({sidebar})"
            else:
                assert centre < width / 2, f"{language}: the menu must be on the left half ({sidebar})"
        else:
            # folded behind its toggle, which opens it (JavaScript's button here)
            menu_links = page.locator("#menu-nav a")
            expect(menu_links.first).to_be_hidden()
            toggle = page.locator("[data-menu-button]")
            toggle.click()
            expect(toggle).to_have_attribute("aria-expanded", "true")
            expect(menu_links.first).to_be_visible()
            box = menu_links.first.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= width, box
            check_page(page, language, "dashboard, menu open", tmp_path / f"{language}-{size}-menu.png")
    finally:
        context.close()


def test_switch_changes_the_language_and_it_sticks_after_login(browser, live_server, customer, tmp_path):
    context = new_context(browser, live_server, "fr", "phone")
    try:
        page = context.new_page()
        page.goto("/")
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        switch = page.get_by_test_id("language-switch")
        expect(switch.get_by_role("button", name="Français")).to_have_attribute("aria-current", "true")

        # from the keyboard: focus « العربية » and press Enter
        switch.get_by_role("button", name="العربية").focus()
        page.keyboard.press("Enter")
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        check_page(page, "ar", "login page after the switch", tmp_path / "switch-1-login-ar.png")
        expect(switch.get_by_role("button", name="Français")).not_to_have_attribute("aria-current", "true")

        # chosen on the login page: the account takes it at login
        log_in(page, customer)
        check_page(page, "ar", "dashboard after login", tmp_path / "switch-2-dashboard-ar.png")
        customer.refresh_from_db()
        assert customer.language == "ar"

        # switched again on a private page: back to the same page, in English, stored on the account
        page.get_by_test_id("language-switch").get_by_role("button", name="English").click()
        expect(page).to_have_url(f"{live_server.url}/espace/")
        check_page(page, "en", "dashboard in English", tmp_path / "switch-3-dashboard-en.png")
        customer.refresh_from_db()
        assert customer.language == "en"
    finally:
        context.close()

    # another browser, in French: the account's language applies once logged in
    context = new_context(browser, live_server, "fr", "desktop")
    try:
        page = context.new_page()
        page.goto("/")
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        log_in(page, customer)
        check_page(page, "en", "dashboard, other browser", tmp_path / "switch-4-other-browser-en.png")
    finally:
        context.close()


def test_server_error_page_in_arabic_uses_the_self_hosted_font(browser, live_server, transactional_db):
    """500.html stands alone (no base.html): its stylesheet brings the Arabic font itself."""
    from django.template.loader import render_to_string
    from django.utils import translation

    with translation.override("ar"):
        html = render_to_string("500.html")
    context = new_context(browser, live_server, "ar", "phone")
    try:
        page = context.new_page()
        page.goto("/agences/")  # the live server's origin, so that /static/ resolves
        page.set_content(html)
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        page.wait_for_function("() => document.fonts.status === 'loaded'")
        loaded = page.evaluate(
            "() => [...document.fonts].filter((f) => f.status === 'loaded').map((f) => f.family.replaceAll('\"', ''))"
        )
        assert "Noto Sans Arabic" in loaded, loaded
        assert page.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    finally:
        context.close()
