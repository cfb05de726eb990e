"""Seed 001 in a real browser: « Payer mes factures en ligne » from the home page, identification
with the captcha, the bill list (totals follow the boxes, the exigible bill stays checked), the
recap and its conditions, « Payer » to the local CMI sandbox, the card page, the signed callback
to this live server, the return page, the receipt and its PDF; and a declined card."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from captcha.models import CaptchaStore
from playwright.sync_api import expect

from rak_billing.models import Bill, Payment
from rak_customer.models import Service
from rak_payment_cmi.models import PaymentOrder
from tests.factories import CustomerFactory, DossierFactory
from tests.integration.test_payment_pages import seed_bill


@pytest.fixture
def customer(live_server, settings):
    # the sandbox posts its callback to the live server, and « Payer » posts to the sandbox there
    settings.SITE_URL = live_server.url
    settings.CMI_GATEWAY_URL = f"{live_server.url}/cmi-sandbox/fim/est3Dgate"
    customer = CustomerFactory(first_name="Salma", last_name="Benjelloun")
    dossier = DossierFactory(customer=customer, service=Service.ELECTRICITE)
    today = datetime.date.today()  # noqa: DTZ011 - the live server reads the real clock
    seed_bill(
        dossier,
        "113.02",
        period=today.replace(day=1) - datetime.timedelta(days=60),
        due=today - datetime.timedelta(days=5),
    )
    seed_bill(
        dossier,
        "105.81",
        period=today.replace(day=1) - datetime.timedelta(days=30),
        due=today + datetime.timedelta(days=20),
    )
    return customer


def quick_pay_to_the_card_page(page, customer) -> None:
    page.goto("/")
    page.get_by_role("link", name="Payer mes factures en ligne").first.click()
    page.get_by_label("Code Client").fill(customer.code)
    page.locator("#id_email").fill("salma@example.ma")
    page.get_by_label("Confirmer votre email").fill("salma@example.ma")
    key = page.locator("input[name=captcha_0]").input_value()
    page.get_by_label("Code de vérification").fill(CaptchaStore.objects.get(hashkey=key).response)
    page.get_by_label("Carte Bancaire Marocaine").check()
    page.get_by_role("button", name="Valider").click()

    totals = page.get_by_test_id("pay-totals")
    expect(totals).to_contain_text("Total des factures : 218,83 DH -- Frais du service en ligne : 2,41 DH")
    expect(totals).to_contain_text("Total Général : 221,24 DH")
    boxes = page.locator("input[type=checkbox][name=facture]")
    expect(boxes.nth(0)).to_be_disabled()  # exigible: mandatory
    boxes.nth(1).uncheck()
    expect(totals).to_contain_text("Total des factures : 113,02 DH -- Frais du service en ligne : 1,24 DH")
    expect(totals).to_contain_text("Total Général : 114,26 DH")
    page.get_by_role("button", name="Valider").click()

    expect(page.get_by_role("heading", name="Récapitulatif des factures à payer")).to_be_visible()
    page.get_by_role("button", name="Payer").click()  # the conditions are not accepted yet
    expect(page.get_by_role("alert")).to_contain_text("j'ai lu et j'accepte les conditions générales")
    page.get_by_label("J'ai lu et j'accepte les conditions générales").check()
    page.get_by_role("button", name="Payer").click()
    expect(page.get_by_role("heading", name="Demande de paiement")).to_be_visible()  # the sandbox's card page
    expect(page.get_by_test_id("sandbox-amount")).to_have_text("114.26 MAD")


def fill_card(page, number: str) -> None:
    page.get_by_label("Nom du porteur de la carte").fill("Salma Benjelloun")
    page.get_by_label("Numéro de carte de paiement").fill(number)
    page.get_by_label("Date d'expiration (MM/AA)").fill("12/35")
    page.get_by_label("Code de vérification").fill("123")
    page.get_by_role("button", name="Valider le paiement").click()


def test_quick_pay_from_the_home_page_to_the_receipt_and_its_pdf(page, customer):
    quick_pay_to_the_card_page(page, customer)
    fill_card(page, "4111 1111 1111 1111")

    expect(page.get_by_test_id("payment-status")).to_contain_text("Votre paiement a été accepté", timeout=20_000)
    page.get_by_test_id("receipt-link").click()
    receipt = page.get_by_test_id("receipt")
    expect(receipt).to_contain_text("REÇU DE PAIEMENT")
    order = PaymentOrder.objects.get()
    expect(receipt).to_contain_text(order.trans_id)
    expect(receipt).to_contain_text(order.auth_code)
    expect(page.get_by_test_id("receipt-total")).to_contain_text("114,26 MAD")
    expect(page.get_by_role("button", name="Imprimer")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_test_id("receipt-pdf").click()
    assert download.value.suggested_filename.startswith("recu-") and download.value.suggested_filename.endswith(".pdf")
    with open(download.value.path(), "rb") as handle:
        assert handle.read(5) == b"%PDF-"

    assert order.status == PaymentOrder.Status.PAID
    assert Payment.objects.get().amount == Decimal("114.26")  # the bill + the fee invoice it settles (1,24)
    assert Bill.objects.filter(settled_at__isnull=False).exclude(kind=Bill.Kind.ONLINE_FEE).count() == 1
    assert Bill.objects.get(kind=Bill.Kind.ONLINE_FEE).settled_at is not None


def test_declined_card_shows_the_refusal_and_pays_nothing(page, customer):
    quick_pay_to_the_card_page(page, customer)
    fill_card(page, "4000 0000 0000 0002")
    expect(page.get_by_test_id("payment-status")).to_contain_text("Votre paiement a été refusé par votre banque")
    assert not Payment.objects.exists()
    assert not Bill.objects.filter(settled_at__isnull=False).exists()
    assert PaymentOrder.objects.get().status == PaymentOrder.Status.DECLINED


def test_annuler_on_the_card_page_comes_back_unpaid_then_abandon_and_pay_again(page, customer):
    """« Annuler » on CMI's page sends the browser to the order's shopurl without a callback (as
    CMI does): the page says nothing was paid and offers to resume or abandon; abandoned, the bills
    can be paid by a new order at once (not after the 2-hour expiry)."""
    quick_pay_to_the_card_page(page, customer)
    page.get_by_role("button", name="Annuler").click()

    status = page.get_by_test_id("payment-status")
    expect(status).to_contain_text("Paiement non effectué")
    expect(status).to_contain_text("aucun montant n'a été prélevé")
    first = PaymentOrder.objects.get()
    assert first.status == PaymentOrder.Status.SENT  # CMI said nothing: the order awaits, untouched
    assert page.url.endswith(f"/paiement/commande/{first.oid}/quitte/")

    page.get_by_role("button", name="Abandonner ce paiement").click()
    expect(page.get_by_text("Paiement abandonné : vous pouvez sélectionner vos factures et payer")).to_be_visible()
    first.refresh_from_db()
    assert first.status == PaymentOrder.Status.CANCELLED
    quick_pay_to_the_card_page(page, customer)  # the identification was for one order: again
    fill_card(page, "4111 1111 1111 1111")
    expect(page.get_by_test_id("payment-status")).to_contain_text("Votre paiement a été accepté", timeout=20_000)
    assert PaymentOrder.objects.exclude(pk=first.pk).get().status == PaymentOrder.Status.PAID
    assert Payment.objects.count() == 1
