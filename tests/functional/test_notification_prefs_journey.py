"""« Mes notifications » in a real browser (issue 13): on a 390 px phone the table becomes cards
with each channel named, no sideways scrolling; a customer unticks « Factures disponibles » by SMS
and « Coupures et travaux » by SMS, saves, reads the confirmation, and the « toujours envoyé »
boxes cannot be unticked. With VAPID keys the « Activer sur cet appareil » button is offered."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from rak_base.models import NotificationPreference
from rak_base.push import vapid_keys_generate
from rak_customer.models import Customer
from tests.factories import TEST_PASSWORD, customer_with_account

pytestmark = pytest.mark.functional


def _login(page, code):
    page.goto("/")
    page.get_by_label("Code client, e-mail ou téléphone").fill(code)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Connexion").click()


def test_a_customer_turns_off_bill_sms_on_a_phone(page, settings):
    settings.WEBPUSH_VAPID_PRIVATE_KEY, settings.WEBPUSH_VAPID_PUBLIC_KEY = vapid_keys_generate()
    customer, user = customer_with_account()
    page.set_viewport_size({"width": 390, "height": 844})
    _login(page, customer.code)
    page.goto("/profil/notifications/")
    expect(page.get_by_role("heading", name="Mes notifications")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    bills_sms = page.get_by_label("Factures disponibles — SMS")
    expect(bills_sms).to_be_checked()
    payments_sms = page.get_by_label("Paiements — SMS")
    expect(payments_sms).to_be_checked()
    expect(payments_sms).to_be_disabled()
    bills_sms.uncheck()
    page.get_by_label("Coupures et travaux — SMS").uncheck()
    page.get_by_role("button", name="Enregistrer mes préférences").click()

    expect(page.get_by_text("Vos préférences de notification ont été enregistrées.")).to_be_visible()
    expect(page.get_by_label("Factures disponibles — SMS")).not_to_be_checked()
    expect(page.get_by_label("Factures disponibles — E-mail")).to_be_checked()
    assert list(NotificationPreference.objects.filter(user=user).values_list("category", "channel", "enabled")) == [
        ("BILLS", "SMS", False)
    ]
    assert Customer.objects.get(pk=customer.pk).sms_service_notices is False
    expect(page.get_by_test_id("push-section")).to_be_visible()
