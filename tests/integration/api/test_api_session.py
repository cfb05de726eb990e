"""POST/DELETE /api/v1/session/, /session/refresh/: device tokens, lockout, revocation, errors."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from rak_base import clock
from rak_customer.device_models import Device
from rak_customer.devices import device_revoke
from tests.api_helpers import api_client, assert_error
from tests.factories import TEST_PASSWORD, customer_with_account

pytestmark = pytest.mark.django_db

SESSION = "/api/v1/session/"
REFRESH = "/api/v1/session/refresh/"


def _login(client, username, password=TEST_PASSWORD, **extra):
    return client.post(SESSION, {"username": username, "password": password, **extra}, format="json")


def test_login_by_code_client_issues_a_device_and_tokens():
    customer, user = customer_with_account()
    response = _login(api_client(), customer.code, device_name="Galaxy A54 de Samira", platform="ANDROID")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["access_token"].startswith("rak_a_") and body["refresh_token"].startswith("rak_r_")
    assert body["customer"] == {"code": customer.code, "name": customer.display_name}
    expires = datetime.fromisoformat(body["access_expires_at"])  # local time with its offset (docs/API.md)
    assert expires.utcoffset() == timezone.localtime(expires).utcoffset() and not body["access_expires_at"].endswith(
        "Z"
    )
    assert body["password_change_required"] is False
    device = Device.objects.get(pk=body["device_id"])
    assert (device.user, device.name, device.platform) == (user, "Galaxy A54 de Samira", "ANDROID")
    assert body["access_token"] not in (device.access_hash, device.refresh_hash)  # only digests stored


def test_login_by_verified_phone_and_email():
    customer, _user = customer_with_account(phone="+212612000111", email="samira@example.ma", phone_verified=True)
    assert _login(api_client(), "0612000111").status_code == 201
    assert _login(api_client(), "SAMIRA@example.ma").status_code == 201


def test_wrong_password_is_401_with_the_portal_message():
    customer, _user = customer_with_account()
    body = assert_error(_login(api_client(), customer.code, "mauvais-mot-de-passe"), 401, "login_failed")
    assert "Code client ou mot de passe incorrect" in body["message"]


def test_staff_cannot_sign_in_through_the_api():
    from tests.factories import StaffFactory

    staff = StaffFactory()
    staff.set_password(TEST_PASSWORD)
    staff.save()
    assert_error(_login(api_client(), staff.username), 401, "login_failed")


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_account_locked_after_failures_like_the_portal(settings):
    settings.AXES_FAILURE_LIMIT = 3
    customer, _user = customer_with_account()
    client = api_client()
    for _ in range(3):
        _login(client, customer.code, "faux")
    body = assert_error(_login(client, customer.code), 429, "locked_out")
    assert "bloqué" in body["message"]


def test_missing_fields_give_field_errors():
    body = assert_error(api_client().post(SESSION, {}, format="json"), 400, "invalid")
    assert set(body["fields"]) == {"username", "password"}
    assert body["fields"]["username"][0]["code"] == "required"


def test_malformed_json_is_a_400_parse_error():
    response = api_client().post(SESSION, data="{not json", content_type="application/json")
    assert_error(response, 400, "parse_error")


def test_refresh_rotates_and_a_replayed_refresh_token_signs_the_device_out():
    customer, user = customer_with_account()
    first = _login(api_client(), customer.code).json()
    second = api_client().post(REFRESH, {"refresh_token": first["refresh_token"]}, format="json")
    assert second.status_code == 200, second.content
    renewed = second.json()
    assert renewed["access_token"] != first["access_token"] and renewed["device_id"] == first["device_id"]
    # the old access token no longer works, the new one does
    old = api_client()
    old.credentials(HTTP_AUTHORIZATION=f"Bearer {first['access_token']}")
    assert_error(old.delete(SESSION), 401, "token_invalid")
    # someone replays the first refresh token: refused, and the device is signed out
    assert_error(api_client().post(REFRESH, {"refresh_token": first["refresh_token"]}, format="json"), 401)
    assert Device.objects.get(pk=first["device_id"]).revoked_at is not None
    assert_error(api_client().post(REFRESH, {"refresh_token": renewed["refresh_token"]}, format="json"), 401)


def test_expired_access_token_is_401_token_expired(settings):
    customer, user = customer_with_account()
    client = api_client(user)
    Device.objects.filter(pk=client.device_tokens.device.pk).update(
        access_expires_at=clock.now() - timedelta(seconds=1)
    )
    response = client.delete(SESSION)
    assert_error(response, 401, "token_expired")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_revoked_device_is_refused_at_once():
    customer, user = customer_with_account()
    client = api_client(user)
    device_revoke(device_id=client.device_tokens.device.pk, user=user, by=None, reason="test", now=clock.now())
    assert_error(client.delete(SESSION), 401, "token_invalid")


def test_logout_revokes_this_device_only():
    customer, user = customer_with_account()
    phone, tablet = api_client(user), api_client(user)
    assert phone.delete(SESSION).status_code == 204
    assert Device.objects.get(pk=phone.device_tokens.device.pk).revoked_at is not None
    assert Device.objects.get(pk=tablet.device_tokens.device.pk).revoked_at is None


def test_logout_without_token_is_401():
    assert_error(api_client().delete(SESSION), 401, "not_authenticated")


def test_unknown_api_url_is_a_json_404():
    assert_error(api_client().get("/api/v1/nulle-part/"), 404, "not_found")


def test_schema_and_docs_are_served_without_cdn(client):
    schema = client.get("/api/v1/schema/?format=json")
    assert schema.status_code == 200
    document = schema.json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/session/" in document["paths"]
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html and "https://" not in html.split("<body", 1)[1].split("url", 1)[0]
