"""Hostile input in the transport rather than in a form field (security probe, three findings):
a crafted cookie or token, a deeply nested JSON body, a form announced in a charset other than
UTF-8. None of them may answer 500 — nor crash the error page itself: each is a 4xx with a French
message, and a regular visitor's session, CSRF token, language and API token keep working."""

from __future__ import annotations

import json

import pytest
from django.test import Client, RequestFactory

from rak_base.http import JSON_MAX_DEPTH, json_too_deep
from tests.api_helpers import api_client, assert_error
from tests.factories import customer_with_account

pytestmark = pytest.mark.django_db

NUL_SESSION = 'sessionid="abcdefgh\\000xyz12345"'  # the quoted cookie's octal escape: a NUL once parsed
HOSTILE_SESSION_KEYS = [
    NUL_SESSION,
    'sessionid="abcdefghijklmnopqrstuvwxyz\\000123456"',
    "sessionid=ABCDEFGHIJKLMNOPQRSTUVWXYZ012345",  # outside the key alphabet
    "sessionid=abcdefgh'or'1'='1xyz",
    "sessionid=" + "a" * 5000,  # far longer than any key a backend generates
    "sessionid=%C3%A9t%C3%A9%00",
]
SESSION_ENGINES = [
    "django.contrib.sessions.backends.db",
    "rak_base.redis_sessions_cached_db",
    "rak_base.redis_sessions",
]


def _client(**kwargs) -> Client:
    return Client(raise_request_exception=False, **kwargs)


# --- 1. cookies and tokens ---------------------------------------------------------------------


@pytest.mark.parametrize("engine", SESSION_ENGINES)
@pytest.mark.parametrize("cookie", HOSTILE_SESSION_KEYS)
def test_a_hostile_session_cookie_is_no_session(engine, cookie, settings):
    settings.SESSION_ENGINE = engine
    client = _client()
    for url in ("/", "/espace/", "/payer-mes-factures/", "/connexion/"):
        response = client.get(url, HTTP_COOKIE=cookie)
        assert response.status_code in (200, 302), (url, response.status_code)
    # the visitor is anonymous: the customer area sends them to the login page
    assert client.get("/espace/", HTTP_COOKIE=cookie).status_code == 302


@pytest.mark.parametrize("engine", SESSION_ENGINES)
def test_a_hostile_session_cookie_is_replaced_by_a_new_session(engine, settings):
    from rak_base.redis_sessions import SessionMiddleware as RakSessionMiddleware

    settings.SESSION_ENGINE = engine
    request = RequestFactory().get("/", HTTP_COOKIE=NUL_SESSION)
    RakSessionMiddleware(lambda r: None).process_request(request)
    assert request.session.session_key is None
    assert dict(request.session) == {}
    request.session["rak_language"] = "fr"
    request.session.save()
    assert request.session.session_key != "abcdefgh\x00xyz12345"
    assert set(request.session.session_key) <= set("abcdefghijklmnopqrstuvwxyz0123456789")


@pytest.mark.parametrize("engine", SESSION_ENGINES)
def test_a_signed_in_session_still_works(engine, settings):
    settings.SESSION_ENGINE = engine
    _customer, user = customer_with_account(phone_verified=True)
    client = _client()
    client.force_login(user)
    assert client.get("/espace/").status_code == 200


@pytest.mark.parametrize(
    "cookie",
    [
        'csrftoken="abc\\000def"',
        "csrftoken=" + "x" * 5000,
        'rak_language="fr\\000"',
        'rak_language="ar\\000en"',
        "rak_language=" + "z" * 5000,
        'messages="\\000"',
    ],
)
def test_other_hostile_cookies_are_ignored(cookie):
    client = _client(enforce_csrf_checks=True)
    assert client.get("/", HTTP_COOKIE=cookie).status_code == 200
    response = client.post("/contact/", {"a": "b"}, HTTP_COOKIE=cookie)
    assert response.status_code == 403  # no valid CSRF token: Django's refusal, never a 500


@pytest.mark.parametrize("token", ["rak_a_\x00", "rak_a_abc\x00def", "\x00", "rak_a_" + "x" * 5000])
def test_a_hostile_bearer_token_is_401(token):
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert_error(client.get("/api/v1/account/profile/"), 401, "token_invalid")


# --- 2. deeply nested JSON ---------------------------------------------------------------------

API_JSON_ENDPOINTS = ["/api/v1/session/", "/api/v1/contact/", "/api/v1/simulator/", "/api/v1/complaints/"]
NESTED = {
    "array 500": "[" * 500 + "]" * 500,
    "array 5000": "[" * 5000 + "]" * 5000,
    "object 500": '{"a":' * 500 + "1" + "}" * 500,
    "object in a field 900": '{"username": ' + "[" * 900 + "]" * 900 + ', "password": "x"}',
}


@pytest.mark.parametrize("url", API_JSON_ENDPOINTS)
@pytest.mark.parametrize("body", list(NESTED.values()), ids=list(NESTED))
def test_deeply_nested_json_is_a_400_parse_error(url, body):
    _customer, user = customer_with_account(phone_verified=True)
    client = api_client(user if url.endswith("complaints/") else None)
    response = client.post(url, data=body, content_type="application/json")
    body = assert_error(response, 400, "parse_error")
    assert "imbriqu" in body["message"]


def test_reasonably_nested_json_still_parses():
    from rak_api.parsers import _ascii_digits

    value = {"a": [{"b": ["١٢٣", {"password": "١"}]}]}
    assert _ascii_digits(value) == {"a": [{"b": ["123", {"password": "١"}]}]}
    assert not json_too_deep(value)
    assert not json_too_deep(json.loads("[" * JSON_MAX_DEPTH + "]" * JSON_MAX_DEPTH))
    assert json_too_deep(json.loads("[" * (JSON_MAX_DEPTH + 1) + "]" * (JSON_MAX_DEPTH + 1)))
    assert json_too_deep([{"a": [1, 2]}, {"b": [[[]]]}], limit=4)
    assert not json_too_deep([{"a": [1, 2]}, {"b": [[[]]]}], limit=5)


@pytest.mark.parametrize("url", ["/notifications/push/abonnement/", "/notifications/push/desabonnement/"])
@pytest.mark.parametrize("depth", [500, 2000])
def test_deeply_nested_json_on_the_portal_is_a_400(url, depth):
    _customer, user = customer_with_account(phone_verified=True)
    client = _client()
    client.force_login(user)
    body = '{"endpoint": ' + "[" * depth + "]" * depth + "}"
    response = client.post(url, data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"code": "bad_request", "message": "Requête invalide.", "field": ""}
