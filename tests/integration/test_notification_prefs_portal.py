"""« Mes notifications » (/profil/notifications/, issue 13): the table category × channel, the
« toujours envoyé » rows checked and disabled, saving with a confirmation, the outage SMS cell shared
with the profile's « avis de coupure par SMS »; the push buttons only with VAPID keys; the JSON
endpoints the web app's script posts a subscription to (CSRF header, validation, never a 500)."""

from __future__ import annotations

import base64
import json
import os
import re

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client
from django.urls import reverse

from rak_base.models import NotificationPreference, PushSubscription
from rak_base.push import MAX_PER_USER, vapid_keys_generate
from tests.factories import customer_with_account

pytestmark = pytest.mark.django_db

PAGE = "/profil/notifications/"
SUBSCRIBE = "/notifications/push/abonnement/"
UNSUBSCRIBE = "/notifications/push/desabonnement/"


def b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def subscription_json(endpoint="https://fcm.googleapis.com/fcm/send/abc123") -> dict:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    point = key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return {"endpoint": endpoint, "keys": {"p256dh": b64e(point), "auth": b64e(os.urandom(16))}}


@pytest.fixture
def vapid(settings):
    settings.WEBPUSH_VAPID_PRIVATE_KEY, settings.WEBPUSH_VAPID_PUBLIC_KEY = vapid_keys_generate()
    return settings.WEBPUSH_VAPID_PUBLIC_KEY


@pytest.fixture
def signed_in(client):
    customer, user = customer_with_account()
    client.force_login(user)
    return client, customer, user


def checkbox(html: str, name: str) -> str:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert tag, name
    return tag.group(0)


def test_the_route_and_its_name():
    assert reverse("portal:notification_preferences") == PAGE


def test_anonymous_visitors_are_sent_to_the_login(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and "next=" in response["Location"]


def test_the_page_shows_every_category_and_channel_all_on_by_default(signed_in):
    client, _customer, _user = signed_in
    html = client.get(PAGE).content.decode()
    assert "Mes notifications" in html
    for label in ("Factures disponibles", "Paiements", "Demandes", "Réclamations", "Coupures et travaux", "Relevés"):
        assert label in html
    for header in ("SMS", "E-mail", "Notification sur l&#x27;appareil", "Espace client"):
        assert f'data-label="{header}"' in html
    assert " checked" in checkbox(html, "BILLS__SMS") and " disabled" not in checkbox(html, "BILLS__SMS")
    locked = checkbox(html, "PAYMENTS__EMAIL")
    assert " checked" in locked and " disabled" in locked and 'aria-describedby="always-note"' in locked
    assert "toujours envoyé" in html and "ne peuvent pas être désactivés" in html
    assert "data-push-subscribe" not in html  # no VAPID keys: no push offered


def test_saving_turns_off_what_is_unchecked_and_says_so(signed_in):
    client, customer, user = signed_in
    html = client.get(PAGE).content.decode()
    names = re.findall(r'<input type="checkbox"[^>]*name="([A-Z_]+)"[^>]*checked(?![^>]*disabled)', html)
    posted = {name: "on" for name in names if name not in ("BILLS__SMS", "OUTAGES__SMS")}
    posted["PAYMENTS__SMS"] = ""  # a disabled box: never read, whatever is posted
    response = client.post(PAGE, posted, follow=True)
    assert response.redirect_chain[-1][0].endswith(PAGE)
    page = response.content.decode()
    assert "Vos préférences de notification ont été enregistrées." in page
    assert " checked" not in checkbox(page, "BILLS__SMS") and " checked" not in checkbox(page, "OUTAGES__SMS")
    assert " checked" in checkbox(page, "BILLS__EMAIL") and " checked" in checkbox(page, "PAYMENTS__SMS")
    assert set(NotificationPreference.objects.filter(user=user).values_list("category", "channel", "enabled")) == {
        ("BILLS", "SMS", False)
    }
    customer.refresh_from_db()
    assert customer.sms_service_notices is False  # the outage SMS cell is the profile's « avis de coupure »
    profile = client.get(reverse("portal:profile")).content.decode()
    assert " checked" not in checkbox(profile, "sms_service_notices")


def test_the_page_works_on_a_phone_layout(signed_in):
    client, _customer, _user = signed_in
    html = client.get(PAGE).content.decode()
    assert 'class="table-cards notification-prefs"' in html  # cards under 40em (portal.css)
    assert 'role="region"' in html and "<caption" in html


def test_push_buttons_only_with_vapid_keys(signed_in, vapid):
    client, _customer, _user = signed_in
    html = client.get(PAGE).content.decode()
    assert "data-push-subscribe" in html and "data-push-unsubscribe" in html and "data-push-status" in html


def post_json(client, url, data, **extra):
    body = data if isinstance(data, str | bytes) else json.dumps(data)
    return client.post(url, body, content_type="application/json", **extra)


def test_subscribe_and_unsubscribe_with_the_csrf_header(vapid):
    customer, user = customer_with_account()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get(PAGE)
    token = client.cookies["csrftoken"].value
    data = subscription_json()
    assert post_json(client, SUBSCRIBE, data).status_code == 403  # no CSRF header
    response = post_json(client, SUBSCRIBE, data, HTTP_X_CSRFTOKEN=token, HTTP_USER_AGENT="Firefox Android")
    assert response.status_code == 201, response.content
    subscription = PushSubscription.objects.get(user=user)
    assert subscription.endpoint == data["endpoint"] and subscription.user_agent == "Firefox Android"
    response = post_json(client, UNSUBSCRIBE, {"endpoint": data["endpoint"]}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200 and response.json()["removed"] is True
    assert not PushSubscription.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"endpoint": "http://fcm.googleapis.com/fcm/send/x"}, "endpoint"),
        ({"endpoint": "https://evil.example.com/push"}, "endpoint"),
        ({"endpoint": "https://127.0.0.1/push"}, "endpoint"),
        ({"endpoint": "https://user:pw@fcm.googleapis.com/x"}, "endpoint"),
        ({"endpoint": "https://fcm.googleapis.com:8443/x"}, "endpoint"),
        ({"endpoint": "https://fcm.googleapis.com/" + "x" * 1100}, "endpoint"),
        ({"endpoint": 12}, "endpoint"),
        ({"keys": {"p256dh": "abc", "auth": b64e(os.urandom(16))}}, "p256dh"),
        ({"keys": {"p256dh": b64e(b"\x04" + os.urandom(64)), "auth": b64e(os.urandom(16))}}, "p256dh"),
        ({"keys": {"auth": b64e(os.urandom(16))}}, "p256dh"),
        ({"keys": "nope"}, "p256dh"),
    ],
)
def test_invalid_subscriptions_are_refused_with_the_field(signed_in, vapid, change, field):
    client, _customer, _user = signed_in
    data = {**subscription_json(), **change}
    response = post_json(client, SUBSCRIBE, data)
    assert response.status_code == 400 and response.json()["field"] == field
    assert not PushSubscription.objects.exists()


def test_bad_auth_secret(signed_in, vapid):
    client, _customer, _user = signed_in
    data = subscription_json()
    data["keys"]["auth"] = b64e(os.urandom(8))
    assert post_json(client, SUBSCRIBE, data).json()["field"] == "auth"


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", '"text"', "\x00", "{}" + " " * 5000, b"\xff\xfe"])
def test_hostile_bodies_are_400_never_500(signed_in, vapid, body):
    client, _customer, _user = signed_in
    assert post_json(client, SUBSCRIBE, body).status_code == 400
    assert post_json(client, UNSUBSCRIBE, body).status_code == 400


def test_without_keys_or_signed_out(client, signed_in):
    signed_in_client, _customer, _user = signed_in
    assert post_json(signed_in_client, SUBSCRIBE, subscription_json()).json()["code"] == "push_unavailable"
    anonymous = Client()
    assert post_json(anonymous, SUBSCRIBE, subscription_json()).status_code == 403
    assert anonymous.get(SUBSCRIBE).status_code == 405 or anonymous.get(SUBSCRIBE).status_code == 403


def test_per_account_cap_drops_the_oldest_browser(signed_in, vapid):
    client, _customer, user = signed_in
    endpoints = [f"https://updates.push.services.mozilla.com/wpush/v2/{i}" for i in range(MAX_PER_USER + 2)]
    for endpoint in endpoints:
        assert post_json(client, SUBSCRIBE, subscription_json(endpoint)).status_code == 201
    kept = set(PushSubscription.objects.filter(user=user).values_list("endpoint", flat=True))
    assert kept == set(endpoints[2:])


def test_an_endpoint_moves_to_the_account_that_sends_it(vapid):
    data = subscription_json("https://web.push.apple.com/QGx")
    _c1, first = customer_with_account(phone="+212612000010")
    _c2, second = customer_with_account(phone="+212612000011")
    for user in (first, second):
        client = Client()
        client.force_login(user)
        assert post_json(client, SUBSCRIBE, data).status_code == 201
    assert PushSubscription.objects.get().user == second
    other = Client()
    other.force_login(first)
    assert post_json(other, UNSUBSCRIBE, {"endpoint": data["endpoint"]}).json()["removed"] is False
    assert PushSubscription.objects.exists()  # someone else's browser is not removed
