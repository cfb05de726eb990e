"""Production hardening (issue 9 §1): a Content-Security-Policy without 'unsafe-inline' on the
portal (every page really has no inline script, handler or style), a separate policy scoped to
the back office (unfold's Alpine.js needs inline scripts and eval), Permissions-Policy, and the
contact form's « back » link never leaves the site."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.factories import StaffFactory, customer_with_account
from tests.integration.test_hostile_input import portal_urls

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.IGNORECASE)
HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.IGNORECASE)
STYLE_BLOCK = re.compile(r"<style[\s>]", re.IGNORECASE)


def directives(header: str) -> dict[str, list[str]]:
    parts = [part.strip().split() for part in header.split(";") if part.strip()]
    return {part[0]: part[1:] for part in parts}


def test_portal_policy_has_no_unsafe_inline(client):
    response = client.get("/")
    policy = directives(response["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert "'self'" in policy["form-action"]
    assert "camera=()" in response["Permissions-Policy"] and "geolocation=()" in response["Permissions-Policy"]


def test_card_gateway_is_an_allowed_form_target(client, settings):
    from urllib.parse import urlsplit

    gateway = urlsplit(settings.CMI_GATEWAY_URL)
    policy = directives(client.get("/")["Content-Security-Policy"])
    assert policy["form-action"] == ["'self'", f"{gateway.scheme}://{gateway.netloc}"]


def test_back_office_has_its_own_scoped_policy():
    staff = StaffFactory(is_superuser=True)
    client = Client()
    client.force_login(staff)
    response = client.get("/backoffice/")
    assert response.status_code == 200
    policy = directives(response["Content-Security-Policy"])
    # unfold renders inline <script> and Alpine.js evaluates x-data expressions: allowed there only
    assert "'unsafe-inline'" in policy["script-src"] and "'unsafe-eval'" in policy["script-src"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]


@pytest.mark.parametrize("who", ["anonymous", "customer"])
def test_no_portal_page_carries_what_the_policy_would_block(who):
    client = Client(raise_request_exception=False)
    if who == "customer":
        _customer, user = customer_with_account(phone_verified=True)
        client.force_login(user)
    offenders = []
    pages = 0
    for url in portal_urls():
        response = client.get(url)
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        pages += 1
        html = response.content.decode()
        assert "'unsafe-inline'" not in response["Content-Security-Policy"], url
        for label, pattern in (
            ("script", INLINE_SCRIPT),
            ("handler", HANDLER),
            ("style=", STYLE_ATTRIBUTE),
            ("<style>", STYLE_BLOCK),
        ):
            found = pattern.search(html)
            if found:
                offenders.append(f"{url}: {label} {html[found.start() : found.start() + 80]!r}")
    assert pages > (15 if who == "customer" else 5)
    assert offenders == []


CONTACT = {"name": "Karim Idrissi", "email": "karim@example.ma", "subject": "Question", "body": "Bonjour"}


@pytest.mark.parametrize(
    "back",
    [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "///evil.example",
    ],
)
def test_contact_back_link_never_leaves_the_site(client, back):
    response = client.post("/contact/", {**CONTACT, "back": back})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_contact_back_link_to_a_page_of_the_site_is_kept(client):
    response = client.post("/contact/", {**CONTACT, "back": "/agences/"})
    assert response.status_code == 302 and response["Location"] == "/agences/"


def test_no_site_template_has_inline_script_handler_or_style():
    """Every template a browser receives outside the back office (PDF templates are WeasyPrint's,
    the admin's run under the back-office policy)."""
    from pathlib import Path

    addons = Path(__file__).resolve().parents[2] / "addons"
    offenders = []
    templates = [
        path
        for path in addons.glob("*/templates/**/*.html")
        if "/pdf/" not in str(path) and "/templates/admin/" not in str(path) and not path.stem.endswith("_pdf")
    ]
    for path in templates:
        text = path.read_text(encoding="utf-8")
        for label, pattern in (
            ("script", INLINE_SCRIPT),
            ("handler", HANDLER),
            ("style=", STYLE_ATTRIBUTE),
            ("<style>", STYLE_BLOCK),
        ):
            for found in pattern.finditer(text):
                offenders.append(f"{path.relative_to(addons)}: {label} {text[found.start() : found.start() + 60]!r}")
    assert len(templates) > 50
    assert offenders == []


def test_answers_for_a_signed_in_person_are_never_stored_by_the_browser(client):
    """Probe: a signed-in customer's pages and API answers had no Cache-Control, so « Précédent »
    after signing out of a shared computer (the browser's HTTP or back/forward cache) or a proxy
    could show them again. Answers with their own policy keep it."""
    from tests.api_helpers import api_client

    _customer, user = customer_with_account()
    client.force_login(user)
    for url in ("/espace/", "/espace/impayes/", "/espace/profil/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == "private, no-store", url
    own = client.get("/sw.js")  # the service worker sets its own: unchanged
    assert own.status_code == 200 and own["Cache-Control"] == "no-cache, max-age=0"
    staff = Client()
    staff.force_login(StaffFactory(is_superuser=True))
    assert "no-store" in staff.get("/backoffice/")["Cache-Control"]  # the admin's own never_cache
    answer = api_client(user).get("/api/v1/bills/")
    assert answer.status_code == 200 and answer["Cache-Control"] == "private, no-store"
