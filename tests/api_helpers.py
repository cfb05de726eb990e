"""The mobile API in tests: a device signed in for a user, an APIClient carrying its token."""

from __future__ import annotations

from rest_framework.test import APIClient

from rak_base import clock
from rak_customer.devices import DeviceTokens, device_sign_in


def device_tokens(user, *, name: str = "Pixel 8 de test", platform: str = "ANDROID") -> DeviceTokens:
    return device_sign_in(user=user, name=name, platform=platform, ip="127.0.0.1", now=clock.now())


def api_client(user=None, *, customer_code: str | None = None, language: str = "fr") -> APIClient:
    """An API client; with ``user``, signed in on a new device (Authorization: Bearer …);
    ``customer_code`` sends X-Customer-Code (a linked code client)."""
    client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
    if user is not None:
        tokens = device_tokens(user)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.access_token}")
        client.device_tokens = tokens
    if customer_code:
        client.defaults["HTTP_X_CUSTOMER_CODE"] = customer_code
    return client


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The API's error format (docs/API.md): ``status``, a JSON body {code, message, fields}."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert set(body) == {"code", "message", "fields"}, body
    assert body["message"], body
    if code is not None:
        assert body["code"] == code, body
    return body
