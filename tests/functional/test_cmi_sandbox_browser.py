"""The CMI leg of a payment in a real browser: the auto-submitting checkout form, the sandbox's
card page, the signed return to the portal, and the return page that waits (JavaScript poll)
for the callback. The pages before « Payer » (quick-pay, bill list, recap) are tested with them."""

from __future__ import annotations

import datetime

import pytest
from django.template.loader import render_to_string
from playwright.sync_api import expect

from rak_billing.models import Payment
from rak_payment_cmi import services
from rak_payment_cmi.models import PaymentOrder
from tests.factories import CustomerFactory
from tests.integration.test_cmi_callback import make_bill


@pytest.fixture
def checkout_page(page, live_server, settings):
    settings.SITE_URL = live_server.url
    settings.CMI_GATEWAY_URL = f"{live_server.url}/cmi-sandbox/fim/est3Dgate"
    customer = CustomerFactory(first_name="Salma", last_name="Benjelloun")
    bill = make_bill(customer, "113.02", due=datetime.date(2018, 4, 14))
    order = services.payment_order_create(
        customer=customer,
        bills=[bill],
        email="salma@example.ma",
        fee_amount="1.13",
        fee_vat="0.11",
        now=datetime.datetime.now(tz=datetime.UTC),
    )
    gateway_url, fields = services.order_checkout_form(order)
    html = render_to_string("rak_payment_cmi/checkout_redirect.html", {"gateway_url": gateway_url, "fields": fields})
    # the page's own address, so that its script file (autosubmit.js: no inline script under the CSP) loads
    html = html.replace("<head>", f'<head><base href="{live_server.url}/">', 1)
    page.set_content(html)  # « Payer »: the form posts itself to the gateway
    expect(page.get_by_role("heading", name="Demande de paiement")).to_be_visible()
    expect(page.get_by_test_id("sandbox-amount")).to_have_text("114.26 MAD")  # seed 001 step 4 total
    return order


def fill_card(page, number: str) -> None:
    page.get_by_label("Nom du porteur de la carte").fill("Salma Benjelloun")
    page.get_by_label("Numéro de carte de paiement").fill(number)
    page.get_by_label("Date d'expiration (MM/AA)").fill("12/35")
    page.get_by_label("Code de vérification").fill("123")


def test_paid_order_page_waits_for_the_callback(page, checkout_page):
    fill_card(page, "4111 1111 1111 1111")
    page.get_by_label("Notification au site marchand (simulateur)").select_option("after")
    page.get_by_role("button", name="Valider le paiement").click()

    status = page.get_by_test_id("payment-status")
    expect(status).to_contain_text("Paiement en cours de confirmation")
    expect(status).to_contain_text("Votre paiement a été accepté", timeout=20_000)
    order = PaymentOrder.objects.get()
    assert order.status == PaymentOrder.Status.PAID
    assert Payment.objects.get().amount.to_eng_string() == "114.26"  # the bill + the fee (1,24)


def test_declined_card_comes_back_refused(page, checkout_page):
    fill_card(page, "4000 0000 0000 0002")
    page.get_by_role("button", name="Valider le paiement").click()
    expect(page.get_by_test_id("payment-status")).to_contain_text("Votre paiement a été refusé par votre banque")
    assert not Payment.objects.exists()
