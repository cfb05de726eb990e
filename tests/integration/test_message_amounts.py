"""Amounts in e-mails and SMS texts use the French format (« 1 070,00 DH », not « 1070.00 DH »)."""

from __future__ import annotations

import datetime

import pytest

from rak_base.models import Message
from rak_customer.models import Service
from rak_payment_cmi import paying
from tests.factories import DossierFactory, customer_with_account
from tests.integration.test_cmi_callback import callback_for, post_callback
from tests.integration.test_payment_pages import NOW, seed_bill

pytestmark = pytest.mark.django_db


def test_payment_confirmation_email_amounts_in_french_format(client):
    customer, _user = customer_with_account(email="amal@example.ma")
    dossier = DossierFactory(customer=customer, service=Service.EAU)
    bill = seed_bill(dossier, "1070.00", period=datetime.date(2026, 1, 1), due=datetime.date(2026, 3, 14))
    order = paying.order_create_for_bills(customer=customer, bills=[bill], email="amal@example.ma", now=NOW)
    assert post_callback(client, callback_for(order)) == "ACTION=POSTAUTH"  # paid: the e-mail is queued
    email = Message.objects.filter(channel=Message.Channel.EMAIL, recipient="amal@example.ma").latest("id")
    assert "1 070,00 DH" in email.body and "1070.00" not in email.body
    assert "1070.00" not in email.subject
