"""Hostile input in the transport rather than in a form field (security probe, three findings):
a crafted cookie or token, a deeply nested JSON body, a form announced in a charset other than
UTF-8. None of them may answer 500 — nor crash the error page itself: each is a 4xx with a French
message, and a regular visitor's session, CSRF token, language and API token keep working."""

from __future__ import annotations

import json

import pytest
from django.http import HttpRequest
from django.test import Client, RequestFactory

from config import urls as root_urls
from rak_base.http import JSON_MAX_DEPTH, json_too_deep
from rak_payment_cmi.models import CmiCallback
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


# --- 3. a form in a charset other than UTF-8 ---------------------------------------------------

FORM_URLS = [
    "/contact/",
    "/connexion/",
    "/langue/",
    "/payer-mes-factures/",
    "/paiement/cmi/callback/",
    "/paiement/cmi/ok/",
    "/backoffice/login/",
]
BAD_CHARSETS = ["utf-16", "rot13", "base64", "x-unknown", "latin-1"]


@pytest.mark.parametrize("charset", BAD_CHARSETS)
@pytest.mark.parametrize("url", FORM_URLS)
@pytest.mark.parametrize("kind", ["application/x-www-form-urlencoded", "multipart/form-data; boundary=XyZ"])
def test_a_form_in_another_charset_is_a_french_400(url, charset, kind):
    client = _client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = "a" * 32  # any visitor who has seen a form holds one
    body = (
        "a=b"
        if kind.startswith("application")
        else '--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--XyZ--\r\n'
    )
    # generic(): post() would encode the body in the announced charset
    response = client.generic("POST", url, body.encode(), content_type=f"{kind}; charset={charset}")
    assert response.status_code == 400, (url, response.status_code)
    assert "Requête invalide" in response.content.decode()
    assert "Content-Security-Policy" in response.headers  # the site's security headers too


@pytest.mark.parametrize("charset", ["UTF-8", "utf8", "utf_8"])
def test_a_utf8_form_still_goes_through(charset):
    client = _client()
    response = client.generic(
        "POST", "/langue/", b"language=ar&next=/", content_type=f"application/x-www-form-urlencoded; charset={charset}"
    )
    assert response.status_code == 302
    assert client.cookies["rak_language"].value == "ar"


def test_malformed_json_is_told_in_french():
    body = assert_error(api_client().post("/api/v1/session/", data="{not json", content_type="application/json"), 400)
    assert body["code"] == "parse_error"
    assert body["message"] == "Requête invalide : le corps n'est pas un JSON lisible."


def test_a_cmi_callback_in_another_charset_is_refused_without_storing_garbage():
    client = _client()
    response = client.generic(
        "POST",
        "/paiement/cmi/callback/",
        b"oid=RAK1&ProcReturnCode=00&HASH=x",
        content_type="application/x-www-form-urlencoded; charset=utf-16",
    )
    assert response.status_code == 400
    assert not CmiCallback.objects.exists()


@pytest.mark.parametrize("charset", ["utf-16", "rot13"])
def test_api_json_in_another_charset_is_a_french_400(charset):
    response = api_client().generic(
        "POST",
        "/api/v1/session/",
        b'{"username": "a", "password": "b"}',
        content_type=f"application/json; charset={charset}",
    )
    body = assert_error(response, 400, "parse_error")
    assert "UTF-8" in body["message"] and "encod" in body["message"]


def _unreadable_post_request() -> HttpRequest:
    request = RequestFactory().post(
        "/contact/", data="a=b", content_type="application/x-www-form-urlencoded; charset=utf-16"
    )
    request.COOKIES["csrftoken"] = "a" * 32
    return request


def test_the_error_pages_do_not_crash_on_an_unreadable_form():
    response = root_urls.handler500(_unreadable_post_request())
    assert response.status_code == 500
    response = root_urls.handler400(_unreadable_post_request(), ValueError("x"))
    assert response.status_code == 400
    assert "Requête invalide" in response.content.decode()


@pytest.mark.parametrize("charset", ["rot13", "base64", "hex", "punycode", "undefined", "utf-16"])
def test_a_charset_that_cannot_decode_the_query_is_a_400_from_the_wsgi_application(charset):
    """Django decodes the query string with the announced charset while it builds the request,
    before any middleware: through the WSGI application gunicorn runs (config.wsgi)."""
    from io import BytesIO
    from wsgiref.util import setup_testing_defaults

    from django.core import signals
    from django.db import close_old_connections

    from config.wsgi import application

    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/contact/",
        "QUERY_STRING": "a=1&b=%C3%A9",
        "CONTENT_TYPE": f"application/x-www-form-urlencoded; charset={charset}",
        "CONTENT_LENGTH": "3",
        "HTTP_HOST": "testserver",
        "HTTP_COOKIE": "csrftoken=" + "a" * 32,
        "wsgi.input": BytesIO(b"a=b"),
    }
    setup_testing_defaults(environ)
    started: list[str] = []
    # as Django's test client does: the test's transaction stays open across the request
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        body = b"".join(application(environ, lambda status, headers, exc_info=None: started.append(status)))
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    assert started == ["400 Bad Request"]
    assert "Requête invalide" in body.decode()
