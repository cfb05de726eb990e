"""Quick-pay's per-address limit counts failed identifications only: a family paying several
contracts from one mobile address (one public IP) is never blocked by its own successes, while
10 wrong codes in 15 minutes still close the door, exactly, even when they arrive at once."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from rak_base import clock
from rak_customer.models import Service
from tests.factories import DossierFactory, customer_with_account
from tests.integration.test_payment_pages import NOW, html_of, quickpay_post, seed_bill

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


def customer_owing(n: int):
    customer, _user = customer_with_account(phone=f"+2126120000{n:02d}")
    dossier = DossierFactory(customer=customer, service=Service.EAU)
    seed_bill(dossier, "100.00", period=datetime.date(2026, 1, 1), due=datetime.date(2026, 3, 14))
    return customer


def test_successful_identifications_do_not_count(client):
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
