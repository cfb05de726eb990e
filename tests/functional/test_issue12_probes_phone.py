"""Issue 12 probes (helper « probe ») in a real browser, on a phone (390 px), in Arabic: the bill
simulator's lines (the tariff wording the engine writes in French) read in Arabic, right to left, and
the page never scrolls sideways."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)

OVERFLOW_JS = "() => ({scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth})"


def test_simulator_lines_in_arabic_on_a_phone(browser, live_server, settings, tmp_path):
    settings.SITE_URL = live_server.url
    context = browser.new_context(
        base_url=live_server.url,
        locale="ar-MA",
        timezone_id="Africa/Casablanca",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
    )
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        page.goto("/services/simulation/")
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        page.locator("input[name=service][value=EAU]").check()
        page.locator("input[name=consumption]").fill("25")
        page.locator("form.sim-form button[type=submit], main form button[type=submit]").first.click()
        table = page.locator("main table").first
        expect(table).to_contain_text("الماء الصالح للشرب — الشطر من 0 إلى 6 m³")
        expect(page.locator("main")).to_contain_text("إتاوة ثابتة للتطهير السائل")
        text = page.locator("main").inner_text()
        assert "tranche" not in text and "Assainissement" not in text and "Eau potable" not in text
        sizes = page.evaluate(OVERFLOW_JS)
        assert sizes["scroll"] <= sizes["client"], sizes
        page.screenshot(path=str(tmp_path / "simulator-ar-phone.png"), full_page=True)
    finally:
        context.close()
