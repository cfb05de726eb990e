"""GET/PUT /api/v1/notification-preferences/, POST/DELETE /api/v1/push-subscriptions/ (issue 13)."""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from rak_base.models import NotificationPreference, PushSubscription
from rak_base.push import vapid_keys_generate
from tests.api_helpers import api_client, assert_error
from tests.factories import customer_with_account

pytestmark = pytest.mark.django_db

PREFS = "/api/v1/notification-preferences/"
PUSH = "/api/v1/push-subscriptions/"


def b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def subscription(endpoint="https://fcm.googleapis.com/fcm/send/dev1") -> dict:
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return {"endpoint": endpoint, "keys": {"p256dh": b64e(point), "auth": b64e(os.urandom(16))}}


@pytest.fixture
def vapid(settings):
    settings.WEBPUSH_VAPID_PRIVATE_KEY, settings.WEBPUSH_VAPID_PUBLIC_KEY = vapid_keys_generate()
    return settings.WEBPUSH_VAPID_PUBLIC_KEY


@pytest.fixture
def user():
    return customer_with_account()[1]


def test_get_lists_every_category_all_on(user, django_assert_max_num_queries):
    client = api_client(user)
    with django_assert_max_num_queries(8):
        response = client.get(PREFS)
    assert response.status_code == 200
    body = response.json()
    categories = {c["category"]: c for c in body["categories"]}
    assert "STAFF" not in categories
    assert categories["BILLS"]["channels"] == {"SMS": True, "EMAIL": True, "PUSH": True, "BELL": True}
    assert categories["PAYMENTS"]["always_sent"] is True and categories["BILLS"]["always_sent"] is False
    assert categories["BILLS"]["label"] == "Factures disponibles"
    assert body["push_available"] is False and body["vapid_public_key"] == ""


def test_get_in_english(user):
    body = api_client(user, language="en").get(PREFS).json()
    assert body["categories"][0]["label"]  # translated when the catalogues are merged


def test_put_changes_the_given_cells_only(user):
    client = api_client(user)
    response = client.put(
        PREFS,
        {
            "preferences": [
                {"category": "BILLS", "channel": "SMS", "enabled": False},
                {"category": "OUTAGES", "channel": "SMS", "enabled": False},
            ]
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    categories = {c["category"]: c for c in response.json()["categories"]}
    assert categories["BILLS"]["channels"]["SMS"] is False and categories["BILLS"]["channels"]["EMAIL"] is True
    assert categories["OUTAGES"]["channels"]["SMS"] is False
    assert list(NotificationPreference.objects.values_list("category", "channel", "enabled")) == [
        ("BILLS", "SMS", False)
    ]
    user.portal_account.customer.refresh_from_db()
    assert user.portal_account.customer.sms_service_notices is False
    client.put(PREFS, {"preferences": [{"category": "BILLS", "channel": "SMS", "enabled": True}]}, format="json")
    assert client.get(PREFS).json()["categories"][0]["channels"]["SMS"] is True


def test_put_refuses_to_turn_off_an_always_sent_category(user):
    response = api_client(user).put(
        PREFS, {"preferences": [{"category": "PAYMENTS", "channel": "EMAIL", "enabled": False}]}, format="json"
    )
    assert "toujours envoyés" in assert_error(response, 400, "preference_locked")["message"]
    assert not NotificationPreference.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"preferences": []},
        {"preferences": [{"category": "STAFF", "channel": "SMS", "enabled": False}]},
        {"preferences": [{"category": "BILLS", "channel": "FAX", "enabled": False}]},
        {"preferences": [{"category": "BILLS", "channel": "SMS"}]},
        {"preferences": "BILLS"},
    ],
)
def test_put_invalid_input_gives_field_errors(user, body):
    body = assert_error(api_client(user).put(PREFS, body, format="json"), 400, "invalid")
    assert body["fields"]


def test_without_token_401():
    assert_error(api_client().get(PREFS), 401)
    assert_error(api_client().post(PUSH, subscription(), format="json"), 401)


def test_push_subscription_create_and_delete(user, vapid):
    client = api_client(user)
    data = subscription()
    response = client.post(PUSH, {**data, "user_agent": "RAK PWA"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["endpoint"] == data["endpoint"]
    assert PushSubscription.objects.get(user=user).user_agent == "RAK PWA"
    assert client.get(PREFS).json()["push_available"] is True
    assert client.delete(PUSH + "?endpoint=" + data["endpoint"]).status_code == 204
    assert not PushSubscription.objects.exists()


def test_push_subscription_of_another_account_is_not_deleted(user, vapid):
    data = subscription()
    api_client(user).post(PUSH, data, format="json")
    other = customer_with_account(phone="+212612000099")[1]
    assert api_client(other).delete(PUSH + "?endpoint=" + data["endpoint"]).status_code == 204
    assert PushSubscription.objects.get().user == user


def test_push_subscription_refusals(user, vapid):
    client = api_client(user)
    bad_endpoint = {**subscription(), "endpoint": "https://attacker.example/hook"}
    assert "endpoint" in assert_error(client.post(PUSH, bad_endpoint, format="json"), 400, "invalid")["fields"]
    bad_key = subscription()
    bad_key["keys"]["p256dh"] = "not-a-key"
    assert "keys.p256dh" in assert_error(client.post(PUSH, bad_key, format="json"), 400, "invalid")["fields"]
    assert "keys" in assert_error(client.post(PUSH, {"endpoint": "x"}, format="json"), 400, "invalid")["fields"]
    assert "endpoint" in assert_error(client.delete(PUSH), 400, "invalid")["fields"]


def test_push_not_configured(user):
    assert_error(api_client(user).post(PUSH, subscription(), format="json"), 400, "push_unavailable")
