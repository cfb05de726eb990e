"""Paying in Arabic and in English in a real browser (issue 12): the quick-pay bill list right to left
in Arabic, the totals recomputed by pay.js as the boxes change in the page's number format (Arabic
« 113,02 », English « 113.02 »), the recap in the page's language."""

from __future__ import annotations

import pytest
from captcha.models import CaptchaStore
from playwright.sync_api import expect

from tests.functional.test_quick_pay import customer  # noqa: F401 (fixture)


def identify(page, customer, *, submit: str) -> None:  # noqa: F811
    page.goto("/payer-mes-factures/")
    page.locator("#id_code").fill(customer.code)
    page.locator("#id_email").fill("salma@example.ma")
    page.locator("#id_email_confirm").fill("salma@example.ma")
    key = page.locator("input[name=captcha_0]").input_value()
    page.locator("#id_captcha_1").fill(CaptchaStore.objects.get(hashkey=key).response)
    page.locator("input[name=card_type][value=MOROCCAN]").check()
    page.get_by_role("button", name=submit).click()


@pytest.mark.parametrize(
    ("language", "submit", "before", "after", "recap"),
    [
        ("ar", "تأكيد", "218,83", "113,02", "ملخص الفواتير المطلوب أداؤها"),
        ("en", "Confirm", "218.83", "113.02", "Summary of the bills to pay"),
    ],
)
def test_bill_list_totals_follow_the_boxes_in_the_page_language(
    transactional_db,
    live_server,
    browser,
    customer,  # noqa: F811 (the fixture imported above)
    language,
    submit,
    before,
    after,
    recap,  # noqa: F811
):
    context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    context.add_cookies([{"name": "rak_language", "value": language, "url": live_server.url}])
    page = context.new_page()
    identify(page, customer, submit=submit)
    if language == "ar":
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
    totals = page.get_by_test_id("pay-totals")
    expect(totals.locator("[data-total-bills]")).to_have_text(before)
    page.locator("input[type=checkbox][name=facture]").nth(1).uncheck()
    expect(totals.locator("[data-total-bills]")).to_have_text(after)
    expect(totals).not_to_contain_text("Total des factures")
    page.locator("button[name=valider]").click()
    expect(page.get_by_role("heading", name=recap)).to_be_visible()
    context.close()
