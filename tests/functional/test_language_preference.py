"""The customer's language in a real browser (issue 12): an Arabic browser gets « Créer mon compte »
in Arabic and right to left, the account opened there is Arabic (its password SMS too); logged in,
« Mon profil » shows the « Langue de communication » and switching it to English changes the page
and the account."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from rak_customer.models import Customer
from tests.factories import TEST_PASSWORD, CustomerFactory, PhoneFactory, customer_with_account


def test_arabic_browser_registers_in_arabic(browser, live_server, transactional_db, sms_outbox):
    customer = CustomerFactory(cin="GA123456", first_name="Salma", last_name="Benjelloun")
    PhoneFactory(customer=customer, value="+212661234578")
    context = browser.new_context(base_url=live_server.url, locale="ar-MA", timezone_id="Africa/Casablanca")
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto("/")  # first visit: the browser's Accept-Language is Arabic
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        page.get_by_role("link", name="إنشاء حسابي").first.click()
        expect(page.get_by_role("heading", name="إنشاء حسابي")).to_be_visible()
        page.get_by_label("رقم البطاقة الوطنية / ICE").fill("GA123456")
        page.get_by_label("رقم الهاتف (المحمول)").fill("0661234578")
        page.get_by_role("button", name="متابعة").click()
        expect(page.get_by_text("يجب عليك قبول شروط الاستخدام.").first).to_be_visible()
        page.get_by_label(re.compile("أوافق على شروط الاستخدام")).check()
        page.get_by_label(re.compile("09-08")).check()
        page.get_by_role("button", name="متابعة").click()
        sent = "تم إرسال كلمة المرور إليك عبر SMS إلى الرقم المنتهي بـ 78"
        expect(page.get_by_test_id("password-sent")).to_contain_text(sent)
        customer.refresh_from_db()
        assert customer.language == "ar"
        assert sms_outbox.last("+212661234578").body.startswith("الوكالة الإلكترونية RAK")
    finally:
        context.close()


def test_profile_switches_the_communication_language(page, live_server, sms_outbox):
    customer, _user = customer_with_account()
    page.goto("/")
    page.get_by_label("Code client, e-mail ou téléphone").fill(customer.code)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    page.goto("/espace/profil/")
    expect(page.get_by_test_id("customer-language")).to_have_text("Français")
    form = page.get_by_test_id("language-form")
    form.get_by_label("English").check()
    form.get_by_role("button", name="Enregistrer ma langue").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_text("Your communication language has been saved.")).to_be_visible()
    expect(page.get_by_test_id("customer-language")).to_have_text("English")
    expect(page.get_by_role("heading", name="My profile")).to_be_visible()
    assert Customer.objects.get(pk=customer.pk).language == "en"
