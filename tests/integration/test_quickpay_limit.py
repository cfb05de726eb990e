"""Quick-pay's per-address limits: 10 wrong codes in 15 minutes close the door, exactly, even when
they arrive at once; successful identifications have their own, generous budget
(``[payments] quickpay_found_per_ip_hourly``, 60 an hour): a family paying several contracts from
one mobile address (one public IP) or a cybercafé is not blocked, a script walking the sequential
codes client is stopped (probe: 10 of 12 consecutive codes showed a masked name, address and bills)."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from rak_base import clock
from rak_customer.models import Service
from tests.factories import DossierFactory, customer_with_account
from tests.integration.test_payment_pages import NOW, captcha_answer, html_of, quickpay_post, seed_bill

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


def customer_owing(n: int):
    customer, _user = customer_with_account(phone=f"+2126120000{n:02d}")
    dossier = DossierFactory(customer=customer, service=Service.EAU)
    seed_bill(dossier, "100.00", period=datetime.date(2026, 1, 1), due=datetime.date(2026, 3, 14))
    return customer


def test_a_family_s_successful_identifications_are_not_blocked(client):
    customers = [customer_owing(n) for n in range(12)]
    for customer in customers:  # twelve contracts of one family, one public address
        client.cookies.clear()
        response = quickpay_post(client, customer.code)
        assert response.status_code == 302, html_of(response)
    client.cookies.clear()
    assert quickpay_post(client, customers[0].code).status_code == 302


def test_ten_failed_identifications_block_the_address(client):
    customer = customer_owing(1)
    for _ in range(10):
        response = quickpay_post(client, "XX999999")
        assert response.status_code == 200 and "Aucune Facture à payer" in html_of(response)
    blocked = quickpay_post(client, customer.code)
    assert blocked.status_code == 429 and "Trop de tentatives" in html_of(blocked)
    # another address is not concerned
    other = client.post(reverse("portal:quickpay"), {}, REMOTE_ADDR="10.9.9.9")
    assert other.status_code == 200


def test_successful_identifications_are_limited_per_address(client, settings, monkeypatch):
    settings.QUICKPAY_FOUND_PER_IP_HOURLY = 3
    customers = [customer_owing(n) for n in range(5)]
    for customer in customers[:3]:
        client.cookies.clear()
        assert quickpay_post(client, customer.code).status_code == 302
    client.cookies.clear()
    refused = quickpay_post(client, customers[3].code)
    html = html_of(refused)
    assert refused.status_code == 429 and "rak_quickpay" not in client.session
    assert "Trop de factures consultées depuis votre connexion" in html
    # the refusal comes before the code is looked at: a known code and an unknown one read the same
    unknown = quickpay_post(client, "XX999999")
    assert unknown.status_code == 429 and "Trop de factures consultées" in html_of(unknown)
    # another address is not concerned
    client.cookies.clear()
    page = html_of(client.get(reverse("portal:quickpay")))
    data = {"code": customers[3].code, "email": "a@example.ma", "email_confirm": "a@example.ma"}
    other = client.post(
        reverse("portal:quickpay"),
        {**data, "card_type": "MOROCCAN", **captcha_answer(page)},
        REMOTE_ADDR="10.9.9.9",
    )
    assert other.status_code == 302
    # an hour later the address may pay again
    monkeypatch.setattr(clock, "now", lambda: NOW + datetime.timedelta(hours=1, minutes=1))
    client.cookies.clear()
    assert quickpay_post(client, customers[4].code).status_code == 302
