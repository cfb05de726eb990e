"""Hostile input never answers 500 (issue 9 §1): every URL of the portal, the payment endpoints
and the back office's login, resolved from the URLconf, is requested with a NUL byte in its path,
in its query string and in every form field its page shows (anonymous and as a customer). A NUL
byte is answered 400 with the French « Requête invalide » page — except CMI's callback and
browser returns, which store the raw message (NUL escaped: PostgreSQL text cannot hold it) and
answer FAILURE / 400."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from rak_billing.models import Bill
from rak_customer.models import Dossier
from rak_payment_cmi.models import CmiCallback
from tests.factories import DossierFactory, customer_with_account

pytestmark = pytest.mark.django_db

SAMPLE = {"int": "1", "str": "x", "slug": "x", "path": "x"}
CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")
SKIP_PREFIXES = ("backoffice/", "cmi-sandbox/", "captcha/")
NUL_VALUE = "a\x00b"
HOSTILE_NUMBERS = ("1e309", "-1E+999999999", "NaN")  # finite-looking or not, every numeric field


def _routes(patterns, prefix: str = ""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route


def portal_urls() -> list[str]:
    """Every route of the URLconf (back office, sandbox and captcha images left to their own
    tests), its converters filled with sample values."""
    urls = []
    for route in _routes(get_resolver().url_patterns):
        if route.startswith(SKIP_PREFIXES) or route.startswith("^"):
            continue
        urls.append("/" + CONVERTER.sub(lambda m: SAMPLE.get(m.group(1) or "str", "x"), route))
    return sorted(set(urls))


def field_names(html: str) -> set[str]:
    return set(re.findall(r'<(?:input|select|textarea)[^>]*\sname="([^"]+)"', html)) - {"csrfmiddlewaretoken"}


def hostile_requests(client: Client, url: str):
    """(label, response) for each hostile variant of ``url``."""
    nul_path = url.rstrip("/") + "%00/" if url.endswith("/") else url + "%00"
    yield "GET path", client.get(nul_path)
    if "/x/" in url:
        yield "GET path parameter", client.get(url.replace("/x/", "/x%00/", 1))
    yield "GET query", client.get(url, {"q": NUL_VALUE, "next": NUL_VALUE, "back": NUL_VALUE, "page": NUL_VALUE})
    page = client.get(url)
    names = field_names(page.content.decode("utf-8", "replace")) if page.status_code == 200 else set()
    names |= {"code", "username", "password", "phone", "email", "amount", "back", "message"}
    yield "POST form", client.post(url, dict.fromkeys(names, NUL_VALUE))
    for number in HOSTILE_NUMBERS:
        yield f"POST {number}", client.post(url, dict.fromkeys(names, number))


@pytest.fixture
def customer_client():
    _customer, user = customer_with_account(phone_verified=True)
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


@pytest.mark.parametrize("who", ["anonymous", "customer"])
def test_no_url_answers_500_to_a_nul_byte(who, request):
    client = request.getfixturevalue("customer_client") if who == "customer" else Client(raise_request_exception=False)
    urls = portal_urls()
    assert len(urls) > 60  # the sweep really walks the URLconf
    failures = []
    for url in urls:
        for label, response in hostile_requests(client, url):
            if response.status_code >= 500:
                failures.append(f"{label} {url} -> {response.status_code}")
    assert failures == []


def test_nul_byte_gets_the_french_bad_request_page(client):
    response = client.get("/contact/", {"back": NUL_VALUE})
    assert response.status_code == 400
    assert "Requête invalide" in response.content.decode()
    response = client.post("/mot-de-passe-oublie/", {"code": NUL_VALUE})
    assert response.status_code == 400
    assert "Requête invalide" in response.content.decode()


@pytest.mark.parametrize("url", ["/paiement/cmi/callback/", "/paiement/cmi/ok/", "/paiement/cmi/echec/"])
def test_cmi_message_with_nul_is_stored_escaped_and_refused(url):
    client = Client(raise_request_exception=False)
    response = client.post(url, {"oid": "RAK\x001", "ProcReturnCode": "00", "BillToName": NUL_VALUE, "HASH": "x"})
    assert response.status_code < 500
    message = CmiCallback.objects.get()
    assert message.raw["BillToName"] == "a\\u0000b"
    assert message.raw["oid"] == "RAK\\u00001"
    assert message.oid == "RAK\\u00001"
    assert not message.hash_valid
    if url.endswith("callback/"):
        assert response.content.decode() == "FAILURE"


@pytest.mark.parametrize("amount", ["1e309", "1E+999999999", "-1e309", "NaN", "sNaN", "Infinity", "-inf", "1e-400"])
def test_hostile_advance_amount_is_refused_in_french(amount):
    customer, user = customer_with_account(email="karim@example.ma")
    dossier = DossierFactory(customer=customer, number="D400000001", billing_mode=Dossier.BillingMode.ADVANCE)
    client = Client(raise_request_exception=False)
    client.force_login(user)
    response = client.post(
        reverse("portal:advance"),
        {"dossier": dossier.number, "amount": amount, "email": "karim@example.ma", "card_type": "MOROCCAN"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Saisissez un montant en dirhams" in html or "avance doit être compris entre" in html
    assert not Bill.objects.exists()


@pytest.mark.parametrize(
    ("url", "limit_setting"),
    [
        ("/espace/releve/", "REQUEST_MAX_BYTES"),
        ("/backoffice/rak_billing/readingimport/add/", "BACKOFFICE_REQUEST_MAX_BYTES"),
    ],
)
def test_oversize_body_is_refused_from_its_length_before_it_is_read(url, limit_setting, settings):
    client = Client(raise_request_exception=False)
    limit = getattr(settings, limit_setting)
    response = client.post(url, {"a": "b"}, CONTENT_LENGTH=str(limit + 1))
    assert response.status_code == 413
    assert "Envoi trop volumineux" in response.content.decode()
    # at the limit the request goes on to the view (redirected to the login page here)
    assert client.post(url, {"a": "b"}).status_code in (302, 200)


def test_back_office_answers_nul_bytes_with_400():
    from tests.factories import StaffFactory

    client = Client(raise_request_exception=False)
    client.force_login(StaffFactory(is_superuser=True))
    assert client.get("/backoffice/rak_customer/customer/", {"q": NUL_VALUE}).status_code == 400
    assert client.get("/backoffice/rak_customer/customer/1%00/change/").status_code == 400
    assert client.post("/backoffice/rak_customer/agency/add/", {"name": NUL_VALUE}).status_code == 400
    assert client.get("/backoffice/rak_customer/customer/", {"q": "Alaoui"}).status_code == 200
