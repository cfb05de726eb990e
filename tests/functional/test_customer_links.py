"""« Mes codes clients » in a real browser (issue 13): a landlord links the code client of a flat
(its holder's CIN, then the code sent by SMS to the flat's phone, read from the test outbox),
switches to it from the menu's « Code client affiché », sees its unpaid bill in « Mes impayés » and
which code client is shown (at 1280 px and on a 390 px phone, without sideways scrolling), then
switches back to their own."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from rak_base.models import Message
from tests.billing_factories import bill_create
from tests.factories import TEST_PASSWORD, CustomerFactory, DossierFactory, PhoneFactory, customer_with_account

FLAT_PHONE = "+212661000111"


def _last_code(phone: str) -> str:
    body = Message.objects.filter(channel=Message.Channel.SMS, recipient=phone).order_by("-id").first().body
    return re.search(r"\b(\d{6})\b", body).group(1)


def _no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_link_a_second_code_client_switch_to_it_and_back(page):
    own, _user = customer_with_account(phone="+212612345678", first_name="Karim", last_name="Tazi")
    flat = CustomerFactory(first_name="Nadia", last_name="Mehdia", cin="AB123456")
    PhoneFactory(customer=flat, value=FLAT_PHONE)
    bill = bill_create(dossier=DossierFactory(customer=flat))

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/")
    page.get_by_label("Code client, e-mail ou téléphone").fill(own.code)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    expect(page.get_by_test_id("customer-switch")).to_have_count(0)  # nothing to switch between yet

    page.get_by_test_id("menu-customer-links").click()
    expect(page.get_by_role("heading", name="Mes codes clients")).to_be_visible()
    page.get_by_label("Code client à rattacher").fill(flat.code)
    page.get_by_label("CIN / ICE du titulaire").fill("AB123456")
    page.get_by_label("Libellé (facultatif)").fill("Appartement Mehdia")
    page.get_by_role("button", name="Recevoir un code de confirmation").click()

    otp_step = page.get_by_test_id("customer-link-otp")
    expect(otp_step).to_contain_text(flat.code)
    expect(otp_step).to_contain_text("11")
    page.get_by_label("Code de confirmation (OTP)").fill(_last_code(FLAT_PHONE))
    page.get_by_role("button", name="Rattacher ce code client").click()
    expect(page.locator(".flash-success")).to_contain_text(f"Le code client {flat.code} est rattaché")
    expect(page.get_by_test_id("customer-link-row")).to_contain_text("Nadia Mehdia")
    expect(page.get_by_label(f"Libellé du code client {flat.code}")).to_have_value("Appartement Mehdia")

    # switch to the flat's code client from the menu, then read its unpaid bill
    switch = page.get_by_test_id("customer-switch-form")
    switch.get_by_label("Code client affiché").select_option(flat.code)
    switch.get_by_role("button", name="Afficher").click()
    expect(page.get_by_test_id("active-customer")).to_contain_text(f"Vous consultez le code client {flat.code}")
    page.get_by_role("link", name="Mes impayés").first.click()
    expect(page.get_by_role("main")).to_contain_text(bill.number)
    expect(page.get_by_test_id("active-customer")).to_contain_text(flat.code)

    # on a phone: the code client shown stays visible above the folded menu, no sideways scrolling
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(page.get_by_test_id("active-customer")).to_be_visible()
    expect(page.get_by_test_id("customer-switch-form").get_by_role("button", name="Afficher")).to_be_visible()
    assert _no_sideways_scroll(page)

    # back to the account's own code client: the flat's bill is gone from « Mes impayés »
    switch = page.get_by_test_id("customer-switch-form")
    switch.get_by_label("Code client affiché").select_option(own.code)
    switch.get_by_role("button", name="Afficher").click()
    expect(page.get_by_test_id("active-customer")).to_contain_text(own.code)
    expect(page.get_by_test_id("active-customer")).not_to_contain_text("Vous consultez")
    expect(page.get_by_role("main")).not_to_contain_text(bill.number)
    assert _no_sideways_scroll(page)
