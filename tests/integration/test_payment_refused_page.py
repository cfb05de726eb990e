"""After a refused, failed or cancelled card payment the customer lands on a page in the portal's
look that says why, offers « Réessayer » and the way back to the bills or the request the payment
was for (seed 001, step 5)."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse

from rak_base import clock
from rak_cmi_sandbox import cards
from rak_cmi_sandbox.gateway import answer_fields, return_fields
from rak_customer.models import Service
from rak_payment_cmi import paying
from rak_payment_cmi.models import PaymentOrder
from tests.factories import DossierFactory, customer_with_account
from tests.integration.test_cmi_callback import request_of
from tests.integration.test_payment_pages import NOW, html_of, quickpay_post, seed_bill
from tests.request_factories import ServiceRequestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


@pytest.fixture
def seed_customer():
    customer, user = customer_with_account(first_name="Youssef", last_name="Alaoui", email="youssef@example.ma")
    dossier = DossierFactory(customer=customer, number="D300000001", service=Service.ELECTRICITE)
    first = seed_bill(dossier, "113.02", period=datetime.date(2026, 1, 1), due=datetime.date(2026, 3, 14))
    second = seed_bill(dossier, "105.81", period=datetime.date(2026, 2, 1), due=datetime.date(2026, 4, 14))
    return customer, user, dossier, first, second


def fail_return(client, order, result):
    answer = answer_fields(
        request=request_of(order), result=result, number="4000000000000002", client_ip="1.2.3.4", now=order.created_at
    )
    response = client.post(reverse("cmi:fail"), return_fields(answer))
    assert response.status_code == 302
    return client.get(response["Location"])


def portal_order(client, seed_customer) -> PaymentOrder:
    _customer, user, _dossier, first, _second = seed_customer
    client.force_login(user)
    client.post(
        reverse("portal:pay_online"),
        {"facture": [first.pk], "email": "youssef@example.ma", "card_type": "MOROCCAN", "valider": "1"},
    )
    client.post(reverse("portal:pay_recap"), {"conditions": "on"})
    return PaymentOrder.objects.get()


def test_declined_card_page_in_portal_look_with_reason_retry_and_way_back(client, seed_customer):
    order = portal_order(client, seed_customer)
    response = fail_return(client, order, cards.TEST_CARDS["4000000000000002"][1])
    html = html_of(response)
    assert response.status_code == 200
    assert 'id="menu-nav"' in html  # the portal's private layout (menu), not a bare page
    assert "Votre paiement a été refusé par votre banque" in html
    assert "Provision insuffisante" in html  # the reason
    retry = re.search(r'<form[^>]*action="([^"]+)"[^>]*>(?:(?!</form>).)*Réessayer', html, re.S)
    assert retry and retry.group(1) == reverse("portal:payment_pending", args=[order.oid])
    assert f'href="{reverse("portal:pay_online")}"' in html and "Retour à mes factures" in html
    # « Réessayer » sends the same order to the payment platform again
    again = client.post(reverse("portal:payment_pending", args=[order.oid]), {"action": "reprendre"})
    assert again.status_code == 200 and order.oid in html_of(again)


def test_cancelled_on_the_payment_page_says_so(client, seed_customer):
    order = portal_order(client, seed_customer)
    html = html_of(fail_return(client, order, cards.CANCELLED))
    assert "Vous avez annulé le paiement" in html
    assert "Réessayer" in html and 'id="menu-nav"' in html


def test_quick_pay_visitor_can_retry_the_same_order_or_go_back_to_quick_pay(client, seed_customer):
    customer, _user, _dossier, first, _second = seed_customer
    quickpay_post(client, customer.code, email="youssef@example.ma")
    client.post(reverse("portal:quickpay_bills"), {"facture": [first.pk], "valider": "1"})
    client.post(reverse("portal:quickpay_recap"), {"conditions": "on"})
    order = PaymentOrder.objects.get()
    html = html_of(fail_return(client, order, cards.EXPIRED))
    assert "Carte expirée" in html
    assert f'href="{reverse("portal:quickpay")}"' in html  # the identification was for one order
    assert 'id="menu-nav"' not in html and "Réessayer" in html
    assert f'action="{reverse("portal:payment_pending", args=[order.oid])}"' in html
    # a stranger opening the same return page gets no link to the order
    from django.test import Client

    other = html_of(Client().get(reverse("cmi:order_return", args=[order.oid])))
    assert "Réessayer" not in other and reverse("portal:payment_pending", args=[order.oid]) not in other


def test_request_fee_payment_leads_back_to_the_request(client, seed_customer):
    customer, user, dossier, _first, _second = seed_customer
    fee_bill = seed_bill(dossier, "500.00", period=None, due=datetime.date(2026, 4, 1), kind="SUBSCRIPTION")
    request_ = ServiceRequestFactory(customer=customer, fee_bill=fee_bill)
    order = paying.order_create_for_bills(
        customer=customer, bills=[fee_bill], purpose=PaymentOrder.Purpose.REQUEST_FEE, email="y@example.ma", now=NOW
    )
    client.force_login(user)
    html = html_of(fail_return(client, order, cards.DO_NOT_HONOUR))
    assert "refusée par votre banque" in html
    assert f'href="{reverse("portal:request_detail", args=[request_.number])}"' in html
    assert "Retour à ma demande" in html


def test_return_page_amounts_in_french_format(client, seed_customer):
    customer, _user, dossier, _first, _second = seed_customer
    big = seed_bill(dossier, "1070.00", period=datetime.date(2025, 12, 1), due=datetime.date(2026, 3, 1))
    order = paying.order_create_for_bills(
        customer=customer, bills=[big, _first], purpose=PaymentOrder.Purpose.BILLS, email="y@example.ma", now=NOW
    )
    html = client.get(reverse("cmi:order_return", args=[order.oid])).content.decode()
    assert "1\u202f070,00\u00a0DH" in html and "1070.00" not in html and "1070,00" not in html


def test_left_with_annuler_says_unpaid_and_offers_resume_or_abandon_to_its_maker_only(client, seed_customer):
    """The order's shopurl, where CMI's « Annuler » sends the browser: « Paiement non effectué »,
    no « en cours de confirmation » poll; its maker may resume or abandon it, a stranger reads the
    status only; once the gateway has answered, the return page tells that answer instead."""
    from django.test import Client

    order = portal_order(client, seed_customer)
    left_url = reverse("cmi:order_left", args=[order.oid])
    assert left_url == f"/paiement/commande/{order.oid}/quitte/"
    response = client.get(left_url)
    html = html_of(response)
    assert response.status_code == 200 and response["Cache-Control"].startswith("max-age=0")
    assert "Paiement non effectué" in html and "aucun montant n'a été prélevé" in html
    assert "data-poll-url" not in html and "Nous attendons la confirmation" not in html
    form = re.search(
        r'<form[^>]*action="([^"]+)"[^>]*>((?:(?!</form>).)*)</form>', html[html.index("payment-next") :], re.S
    )
    assert form and form.group(1) == reverse("portal:payment_pending", args=[order.oid])
    assert 'value="abandonner"' in form.group(2) and 'value="reprendre"' in form.group(2)
    assert "Abandonner ce paiement" in form.group(2) and "Reprendre le paiement" in form.group(2)
    assert 'id="menu-nav"' in html  # the portal's look

    stranger = html_of(Client().get(left_url))
    assert "Paiement non effectué" in stranger
    assert (
        "Abandonner ce paiement" not in stranger and reverse("portal:payment_pending", args=[order.oid]) not in stranger
    )

    # abandoned from there: CANCELLED, and the bills can be paid by a new order at once
    done = client.post(reverse("portal:payment_pending", args=[order.oid]), {"action": "abandonner"})
    assert done.status_code == 302 and done["Location"] == reverse("portal:pay_online")
    order.refresh_from_db()
    assert order.status == PaymentOrder.Status.CANCELLED
    # an order the gateway has answered (or that was abandoned) is shown by its return page
    again = client.get(left_url)
    assert again.status_code == 302 and again["Location"] == reverse("cmi:order_return", args=[order.oid])
    assert Client().get(reverse("cmi:order_left", args=["RAKNOSUCHORDER"])).status_code == 404
