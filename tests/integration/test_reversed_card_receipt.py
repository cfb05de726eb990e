"""A card payment reversed in the back office (« Annuler le paiement »: chargeback, refund to the
card) no longer shows to the customer as « accepté » with a printable receipt."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from rak_billing.ledger import payment_reverse
from tests.factories import StaffFactory
from tests.integration.test_money_hostile import _card_paid_order, text

pytestmark = pytest.mark.django_db


def test_a_reversed_card_payment_no_longer_shows_as_paid_nor_its_receipt(client, now):
    """After « Annuler le paiement » of a card payment, the customer's return page and receipt page
    say it was cancelled: no « paiement accepté », no printable receipt of refunded money."""
    from tests.factories import customer_with_account
    from tests.integration.test_cmi_callback import make_bill

    customer, user = customer_with_account(first_name="Youssef", last_name="Alaoui", email="y@example.ma")
    order = _card_paid_order(customer, [make_bill(customer, "113.02", due=datetime.date(2018, 4, 14))], now)
    client.force_login(user)
    receipt_url = reverse("portal:payment_receipt", args=[order.oid])
    assert client.get(receipt_url).status_code == 200

    payment_reverse(payment=order.payment, reason="Rétrofacturation", by=StaffFactory(), at=now)

    receipt = client.get(receipt_url, follow=True)
    page = text(receipt)
    assert "Reçu de paiement n°" not in page and "annulé" in page
    status = client.get(reverse("cmi:order_status", args=[order.oid])).json()
    assert status["paid"] is False and status["receipt_url"] is None and "annulé" in status["message"]
    returned = text(client.get(reverse("cmi:order_return", args=[order.oid])))
    assert "Votre paiement a été accepté" not in returned and "receipt-link" not in returned


def test_the_back_office_order_says_its_payment_was_reversed(client, now):
    """Staff reading the payment order of a reversed card payment see « Payé puis annulé » in the
    list and who reversed it, when and why on its page — not a plain « Payé »."""
    from tests.factories import customer_with_account
    from tests.integration.test_cmi_callback import make_bill

    customer, _user = customer_with_account(email="r@example.ma")
    order = _card_paid_order(customer, [make_bill(customer, "113.02", due=datetime.date(2018, 4, 14))], now)
    agent = StaffFactory(username="agent.recouvrement", first_name="Nadia", last_name="Tazi")
    payment_reverse(payment=order.payment, reason="Rétrofacturation de la banque", by=agent, at=now)

    client.force_login(StaffFactory(username="root.orders", is_superuser=True))
    listing = text(client.get(reverse("admin:rak_payment_cmi_paymentorder_changelist")))
    assert "Payé puis annulé" in listing
    page = text(client.get(reverse("admin:rak_payment_cmi_paymentorder_change", args=[order.pk])))
    assert "Rétrofacturation de la banque" in page and "Nadia Tazi" in page
