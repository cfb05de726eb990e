"""Back office (issue 13): the outbox lists PUSH copies and SKIPPED ones (« non envoyé (préférence du
client) ») with their filters; the customer's choices summarised for staff; the push subscriptions."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rak_base import clock
from rak_base.admin_preferences import notification_preferences_summary
from rak_base.models import Message, PushSubscription
from rak_base.notification_preferences import notification_preferences_set
from rak_base.outbox import message_queue_email
from tests.factories import StaffFactory, customer_with_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user(client):
    user = StaffFactory(is_superuser=True)
    client.force_login(user)
    return user


def test_the_outbox_shows_skipped_and_push_copies(client, admin_user):
    _customer, user = customer_with_account()
    notification_preferences_set(user=user, choices={("REFUNDS", "EMAIL"): False}, now=clock.now())
    skipped = message_queue_email(to="a@example.ma", subject="Remboursement", body="x", user=user, kind="refund")
    Message.objects.create(channel="PUSH", user=user, kind="payment", subject="Paiement", body="Reçu", event="e1")
    changelist = reverse("admin:rak_base_message_changelist")
    page = client.get(changelist, {"status": "SKIPPED"}).content.decode()
    assert "Non envoyé (préférence du client)" in page
    assert client.get(changelist, {"channel": "PUSH"}).status_code == 200
    assert "Push" in client.get(changelist, {"channel": "PUSH"}).content.decode()
    detail = client.get(reverse("admin:rak_base_message_change", args=[skipped.pk])).content.decode()
    assert "Non envoyé (préférence du client)" in detail


def test_the_summary_staff_read():
    _customer, user = customer_with_account()
    assert "Tout est activé" in notification_preferences_summary(user)
    notification_preferences_set(
        user=user, choices={("BILLS", "SMS"): False, ("BILLS", "EMAIL"): False}, now=clock.now()
    )
    PushSubscription.objects.create(
        user=user, endpoint="https://fcm.googleapis.com/fcm/send/z", p256dh="p", auth="a", created_at=clock.now()
    )
    summary = notification_preferences_summary(user)
    assert "Factures disponibles : E-mail, SMS désactivé(s)" in summary
    assert "1 navigateur(s)" in summary
    assert notification_preferences_summary(None) == "—"


def test_push_subscriptions_list_and_search(client, admin_user):
    _customer, user = customer_with_account()
    PushSubscription.objects.create(
        user=user,
        endpoint="https://fcm.googleapis.com/fcm/send/z",
        p256dh="p",
        auth="a",
        user_agent="Chrome Android",
        created_at=clock.now(),
    )
    changelist = reverse("admin:rak_base_pushsubscription_changelist")
    assert "Chrome Android" in client.get(changelist, {"q": user.username}).content.decode()
    assert "Chrome Android" not in client.get(changelist, {"q": "nobody"}).content.decode()
