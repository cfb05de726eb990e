"""The local CMI sandbox, end to end over real HTTP (live server, ``requests`` as the browser):
the portal's signed request is checked as CMI would, the card page decides, the signed callback
reaches the portal, the browser comes back signed; replays and duplicates; and production
settings never load it."""

from __future__ import annotations

import datetime
import html
import os
import re
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
import requests
from django.core.management import CommandError, call_command

from rak_billing.models import Payment
from rak_cmi_sandbox import cards, views
from rak_cmi_sandbox.models import SandboxTransaction
from rak_payment_cmi import hashing, services
from rak_payment_cmi.models import CmiCallback, PaymentOrder
from tests.factories import CustomerFactory
from tests.integration.test_cmi_callback import make_bill

ROOT = Path(__file__).resolve().parents[2]
INPUT_RE = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ACTION_RE = re.compile(r'<form id="return-form"[^>]* action="([^"]+)">')


@pytest.fixture
def portal(live_server, settings, transactional_db):
    """The portal and the sandbox served by one live server, wired as in the demo."""
    settings.SITE_URL = live_server.url
    settings.CMI_GATEWAY_URL = f"{live_server.url}/cmi-sandbox/fim/est3Dgate"
    return live_server


@pytest.fixture
def order(portal):
    customer = CustomerFactory()
    bills = [
        make_bill(customer, "113.02", due=datetime.date(2018, 4, 14)),
        make_bill(customer, "105.81", due=datetime.date(2018, 5, 14)),
    ]
    return services.payment_order_create(
        customer=customer,
        bills=bills,
        email="client@example.ma",
        fee_amount="2.19",
        fee_vat="0.22",
        now=datetime.datetime.now(tz=datetime.UTC),
    )


def open_gateway(browser: requests.Session, order: PaymentOrder) -> requests.Response:
    """« Payer »: the browser posts the checkout form to the gateway."""
    url, fields = services.order_checkout_form(order)
    return browser.post(url, data=fields, timeout=30)


def pay(browser: requests.Session, card_page: requests.Response, number: str, mode: str = "before", **extra):
    token = CSRF_RE.search(card_page.text).group(1)
    form = {
        "csrfmiddlewaretoken": token,
        "holder": "Youssef Alaoui",
        "number": number,
        "expiry": "12/35",
        "cvv": "123",
        "callback_mode": mode,
        "pay": "1",
        **extra,
    }
    return browser.post(card_page.url, data=form, timeout=30)


def follow_return(browser: requests.Session, redirect_page: requests.Response) -> requests.Response:
    """What the auto-submitting form does: post the signed fields to okUrl / failUrl."""
    action = html.unescape(ACTION_RE.search(redirect_page.text).group(1))
    fields = {html.unescape(name): html.unescape(value) for name, value in INPUT_RE.findall(redirect_page.text)}
    return browser.post(action, data=fields, timeout=30)


def test_round_trip_approved_card(portal, order):
    browser = requests.Session()
    card_page = open_gateway(browser, order)
    assert card_page.status_code == 200
    assert "Demande de paiement" in card_page.text and "221.24 MAD" in card_page.text
    assert "4111 1111 1111 1111" in card_page.text  # documented test cards

    redirect_page = pay(browser, card_page, "4111 1111 1111 1111")
    assert "Votre paiement a été accepté" in redirect_page.text
    order.refresh_from_db()
    assert order.status == PaymentOrder.Status.PAID  # the callback came before the browser

    landing = follow_return(browser, redirect_page)
    assert landing.url.endswith(f"/paiement/commande/{order.oid}/")
    assert "Votre paiement a été accepté" in landing.text

    tx = SandboxTransaction.objects.get(oid=order.oid)
    assert tx.outcome == "APPROVED"
    assert [answer["body"] for answer in tx.answers] == ["ACTION=POSTAUTH"]
    callback = tx.callback
    for name in ("ProcReturnCode", "Response", "AuthCode", "TransId", "maskedCreditCard", "EXTRA.TRXDATE", "mdStatus"):
        assert callback[name], name
    assert callback["callbackCall"] == "true" and callback["amount"] == "221.24" and callback["oid"] == order.oid
    assert hashing.hash_verify(callback, portal_store_key())
    assert Payment.objects.get().external_id == f"CMI:{callback['TransId']}"
    messages = list(CmiCallback.objects.order_by("id").values_list("kind", "hash_valid", "outcome"))
    assert messages == [("CALLBACK", True, "APPLIED"), ("OK_RETURN", True, "RETURN")]


def portal_store_key() -> str:
    from django.conf import settings

    return settings.CMI_STORE_KEY


def test_declined_card_returns_to_fail_url(portal, order):
    browser = requests.Session()
    redirect_page = pay(browser, open_gateway(browser, order), "4000 0000 0000 0002")
    assert "Provision insuffisante" in redirect_page.text
    landing = follow_return(browser, redirect_page)
    assert "Votre paiement a été refusé par votre banque" in landing.text
    order.refresh_from_db()
    assert order.status == PaymentOrder.Status.DECLINED
    assert not Payment.objects.exists()
    tx = SandboxTransaction.objects.get(oid=order.oid)
    assert tx.callback["ProcReturnCode"] == "51" and tx.answers[0]["body"] == "APPROVED"


def test_three_d_secure_failure(portal, order):
    browser = requests.Session()
    redirect_page = pay(browser, open_gateway(browser, order), "4000000000003063")
    follow_return(browser, redirect_page)
    order.refresh_from_db()
    assert order.status == PaymentOrder.Status.FAILED
    assert SandboxTransaction.objects.get().callback["mdStatus"] == "0"


def test_annuler_goes_back_to_the_shop_url_without_a_callback(portal, order):
    """CMI's « Annuler »: the browser goes to the merchant's shopurl (a plain GET, nothing signed)
    and the merchant is told nothing — no callback, no post to failUrl."""
    browser = requests.Session()
    card_page = open_gateway(browser, order)
    token = CSRF_RE.search(card_page.text).group(1)
    left = browser.post(card_page.url, data={"csrfmiddlewaretoken": token, "cancel": "1"}, timeout=30)
    assert left.history and left.history[0].status_code == 302
    assert left.url == f"{portal.url}/paiement/commande/{order.oid}/quitte/"
    assert left.request.method == "GET"
    assert "Paiement non effectué" in left.text and "aucun montant n'a été prélevé" in left.text
    assert SandboxTransaction.objects.get(oid=order.oid).outcome == "CANCELLED"
    assert not CmiCallback.objects.exists()  # nothing reached the portal
    order.refresh_from_db()
    assert order.status == PaymentOrder.Status.SENT and not Payment.objects.exists()
    # nothing to replay either: the list offers no « Envoyer », a forged replay sends nothing
    tx = SandboxTransaction.objects.get(oid=order.oid)
    listing = browser.get(f"{portal.url}/cmi-sandbox/", timeout=30)
    assert "(aucune notification)" in listing.text
    replay = browser.post(
        f"{portal.url}/cmi-sandbox/transactions/{tx.pk}/rejouer/",
        data={"csrfmiddlewaretoken": browser.cookies.get("csrftoken", ""), "duplicates": "3"},
        timeout=30,
    )
    assert replay.status_code == 409 and "aucune notification à rejouer" in replay.text
    assert not CmiCallback.objects.exists()
    with pytest.raises(CommandError):
        call_command("cmi_sandbox_replay", order.oid, stdout=StringIO())


def test_callback_after_the_browser_is_back(portal, order, monkeypatch):
    monkeypatch.setattr(views, "AFTER_DELAY_SECONDS", 1.0)
    browser = requests.Session()
    redirect_page = pay(browser, open_gateway(browser, order), "4111111111111111", mode="after")
    landing = follow_return(browser, redirect_page)
    assert "Paiement en cours de confirmation" in landing.text
    status_url = f"{portal.url}/paiement/commande/{order.oid}/statut/"
    for _ in range(100):
        if browser.get(status_url, timeout=10).json()["paid"]:
            break
        time.sleep(0.1)
    assert "Votre paiement a été accepté" in browser.get(landing.url, timeout=10).text
    assert Payment.objects.count() == 1


def test_replay_twenty_duplicates_changes_nothing(portal, order):
    browser = requests.Session()
    follow_return(browser, pay(browser, open_gateway(browser, order), "5555555555554444"))
    out = StringIO()
    call_command("cmi_sandbox_replay", order.oid, duplicates=20, stdout=out)
    assert "20 × 200 ACTION=POSTAUTH" in out.getvalue()
    assert Payment.objects.count() == 1
    assert CmiCallback.objects.filter(outcome=CmiCallback.Outcome.DUPLICATE).count() == 20

    # the same from the sandbox's page
    index = browser.get(f"{portal.url}/cmi-sandbox/", timeout=10)
    assert order.oid in index.text
    tx = SandboxTransaction.objects.get(oid=order.oid)
    page = browser.post(
        f"{portal.url}/cmi-sandbox/transactions/{tx.pk}/rejouer/",
        data={"csrfmiddlewaretoken": CSRF_RE.search(index.text).group(1), "duplicates": "5"},
        timeout=60,
    )
    assert "5 × « 200 ACTION=POSTAUTH »" in html.unescape(page.text)
    assert Payment.objects.count() == 1


def test_sandbox_checks_the_request_hash_like_cmi(portal, order):
    url, fields = services.order_checkout_form(order)
    tampered = {**fields, "amount": "1.00"}
    response = requests.post(url, data=tampered, timeout=30)
    assert response.status_code == 400
    assert "La signature de la requête (HASH) est invalide." in html.unescape(response.text)
    wrong_merchant = hashing.sign({**fields, "clientid": "600999999"}, portal_store_key())
    response = requests.post(url, data=wrong_merchant, timeout=30)
    assert response.status_code == 400 and "clientid" in response.text
    assert not SandboxTransaction.objects.exists()


def test_card_page_validates_what_is_typed(portal, order):
    browser = requests.Session()
    card_page = open_gateway(browser, order)
    response = pay(browser, card_page, "4111 1111 1111 1112")
    assert response.status_code == 422 and "Numéro de carte invalide." in html.unescape(response.text)
    assert SandboxTransaction.objects.get().outcome == "PENDING"
    assert not CmiCallback.objects.exists()


def test_test_cards_are_valid_numbers_and_documented():
    today = datetime.date(2026, 3, 1)
    for number, (_label, result) in cards.TEST_CARDS.items():
        assert cards.luhn_valid(number), number
        assert cards.card_decide(holder="X", number=number, expiry="12/30", cvv="123", today=today) == result
    this_month = cards.card_decide(holder="X", number="4111111111111111", expiry="03/26", cvv="123", today=today)
    assert this_month == cards.APPROVED
    expired = cards.card_decide(holder="X", number="4111111111111111", expiry="02/26", cvv="123", today=today)
    assert expired.proc_return_code == "54"
    with pytest.raises(cards.CardError, match="3 chiffres"):
        cards.card_decide(holder="X", number="4111111111111111", expiry="03/26", cvv="12", today=today)
    docs = (ROOT / "docs" / "OPERATIONS.md").read_text(encoding="utf-8")
    for number in cards.TEST_CARDS:
        assert f"{number[:4]} {number[4:8]} {number[8:12]} {number[12:]}" in docs


# --- production never loads the sandbox ------------------------------------------------------------------

PROBE = (
    "import django; django.setup(); from django.conf import settings; from django.urls import resolve, Resolver404\n"
    "try:\n    resolve('/cmi-sandbox/fim/est3Dgate'); routed = True\n"
    "except Resolver404:\n    routed = False\n"
    "print('rak_cmi_sandbox' in settings.INSTALLED_APPS, routed, settings.CMI_GATEWAY)"
)
PRODUCTION = {
    "RAK_SERVER_MODE": "production",
    "RAK_SERVER_SECRET_KEY": "Kx7-pQ2_vR9mZ4wL8nB3tY6hJ1cF5dG0sA-eU7iO2kN9qW4zX8b",
    "RAK_SERVER_SITE_URL": "https://agence.rak.ma",
    "RAK_SERVER_ALLOWED_HOSTS": "agence.rak.ma",
    "RAK_SERVER_DEBUG": "false",
    "RAK_SMS_BACKEND": "http",
    "RAK_SMS_HTTP_URL": "https://sms.example.ma/send",
    "RAK_MAIL_BACKEND": "smtp",
    "DATABASE_URL": "postgres://rak@db.example.ma:5432/rak",
    # the régie's real identity: production refuses the demo ones of rak.conf.sample
    "RAK_COMPANY_ADDRESS": "Avenue Mohammed V, BP 237, 14000 Kénitra",
    "RAK_COMPANY_PHONE": "05 37 37 00 00",
    "RAK_COMPANY_ICE": "001234567000089",
    "RAK_COMPANY_IF": "40123456",
    "RAK_COMPANY_TP": "20145678",
}


def load(code: str, settings_module: str = "config.settings", pythonpath: str = "", **env: str):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("RAK_") and k != "DATABASE_URL"}
    environ.update({"RAK_CONF": "/nonexistent/rak.conf", "DJANGO_SETTINGS_MODULE": settings_module, **env})
    if pythonpath:
        environ["PYTHONPATH"] = os.pathsep.join(filter(None, [pythonpath, environ.get("PYTHONPATH", "")]))
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60
    )


def test_production_settings_never_install_or_route_the_sandbox():
    result = load(PROBE, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False", "production"]
    development = load(PROBE, RAK_SERVER_SECRET_KEY="k" * 50)
    assert development.stdout.split() == ["True", "True", "sandbox"], development.stderr


def test_production_refuses_the_sandbox_gateway_and_its_demo_key():
    result = load(PROBE, **PRODUCTION, RAK_CMI_GATEWAY="sandbox")
    assert result.returncode != 0
    assert "[cmi] gateway = sandbox est réservé au développement" in result.stderr
    result = load(PROBE, **PRODUCTION, RAK_CMI_GATEWAY_URL="http://127.0.0.1:8000/cmi-sandbox/fim/est3Dgate")
    assert result.returncode != 0 and "[cmi] gateway = sandbox" in result.stderr
    result = load(PROBE, **PRODUCTION, RAK_CMI_STORE_KEY="RAK-SANDBOX-STORE-KEY")
    assert result.returncode != 0 and "store_key de démonstration refusée" in result.stderr


def test_the_sandbox_app_refuses_to_start_in_production(tmp_path):
    # Even listed by hand in a production configuration, the app stops start-up.
    (tmp_path / "forced_settings.py").write_text(
        "from config.settings import *  # noqa\nINSTALLED_APPS = [*INSTALLED_APPS, 'rak_cmi_sandbox']\n",
        encoding="utf-8",
    )
    result = load(PROBE, settings_module="forced_settings", pythonpath=str(tmp_path), **PRODUCTION)
    assert result.returncode != 0
    assert "rak_cmi_sandbox (simulateur CMI) est interdit en production." in result.stderr
