"""The language switch and the page's language and direction (issue 12): every portal page says its
language and direction on <html>, carries a switch form (CSRF token, ``next`` = this page, one
button per language in its own name, the current one marked), loads the self-hosted Arabic font,
and the switch, POSTed with its token, changes the language of the next page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tests.factories import TEST_PASSWORD, customer_with_account

pytestmark = pytest.mark.django_db

SWITCH = re.compile(
    r'<form class="lang-switch" method="post" action="(?P<action>[^"]+)"[^>]*>(?P<body>.*?)</form>', re.S
)


def switch_of(html: str) -> re.Match:
    found = SWITCH.search(html)
    assert found, "the language switch form is missing"
    return found


def buttons(body: str) -> list[tuple[str, str, bool]]:
    """(language, its name, marked current) for each button of the switch."""
    return [
        (m["value"], m["name"].strip(), bool(m["current"]))
        for m in re.finditer(
            r'<button type="submit" name="language" value="(?P<value>\w+)" lang="(?P=value)"'
            r'(?P<current> aria-current="true")?>(?P<name>[^<]+)</button>',
            body,
        )
    ]


def test_home_in_french_has_the_switch_with_csrf_and_next(client):
    html = client.get("/?next=/espace/").content.decode()
    assert '<html lang="fr" dir="ltr">' in html
    found = switch_of(html)
    assert found["action"] == reverse("portal:set_language")
    body = found["body"]
    assert re.search(r'name="csrfmiddlewaretoken" value="[^"]{32,}"', body)
    assert 'name="next" value="/?next=/espace/"' in body
    assert buttons(body) == [("fr", "Français", True), ("ar", "العربية", False), ("en", "English", False)]
    assert "<legend" in body  # the group is named for screen readers
    # the Arabic font is self-hosted, from the shared fonts folder
    assert "/static/rak_base/fonts/arabic.css" in html
    assert "Connexion à votre espace client" in html  # French unchanged


def test_arabic_page_is_right_to_left_and_marks_arabic_current(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"
    html = client.get("/").content.decode()
    assert '<html lang="ar" dir="rtl">' in html
    assert buttons(switch_of(html)["body"]) == [
        ("fr", "Français", False),
        ("ar", "العربية", True),
        ("en", "English", False),
    ]
    assert "تسجيل الدخول إلى فضائك الخاص" in html
    assert "Connexion à votre espace client" not in html


def test_english_follows_accept_language_on_a_first_visit(client):
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9").content.decode()
    assert '<html lang="en" dir="ltr">' in html
    assert "Log in to your customer area" in html
    assert ("en", "English", True) in buttons(switch_of(html)["body"])


def test_switch_posted_with_its_csrf_token_changes_the_language():
    client = Client(enforce_csrf_checks=True)
    html = client.get("/agences/").content.decode()
    body = switch_of(html)["body"]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
    # without the token: refused
    assert client.post(reverse("portal:set_language"), {"language": "ar", "next": "/agences/"}).status_code == 403
    response = client.post(
        reverse("portal:set_language"), {"language": "ar", "next": "/agences/", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302 and response["Location"] == "/agences/"
    html = client.get("/agences/").content.decode()
    assert '<html lang="ar" dir="rtl">' in html and "وكالاتنا" in html


def test_private_pages_have_the_switch_and_the_translated_menu(client):
    customer, _user = customer_with_account(first_name="Salma", last_name="Benjelloun")
    client.post(reverse("portal:login"), {"username": customer.code, "password": TEST_PASSWORD})
    html = client.get(reverse("portal:dashboard")).content.decode()
    assert '<html lang="fr" dir="ltr">' in html
    body = switch_of(html)["body"]
    assert 'name="next" value="/espace/"' in body and "csrfmiddlewaretoken" in body
    assert "Tableau de bord" in html and "Déconnexion" in html
    client.post(reverse("portal:set_language"), {"language": "ar", "next": "/espace/"})
    html = client.get(reverse("portal:dashboard")).content.decode()
    assert '<html lang="ar" dir="rtl">' in html
    assert "لوحة التحكم" in html and "تسجيل الخروج" in html and ">Tableau de bord<" not in html
    # the account's name (Latin letters, digits) is isolated from the Arabic text around it
    assert '<a class="username" href="/espace/profil/"><bdi>' in html
    customer.refresh_from_db()
    assert customer.language == "ar"


def test_footer_phone_and_email_stay_left_to_right(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"
    html = client.get("/").content.decode()
    assert re.search(r'<a href="tel:[^"]+" dir="ltr">', html)
    assert re.search(r'<a href="mailto:[^"]+" dir="ltr">', html)


def test_arabic_fonts_and_licence_are_shipped():
    fonts = Path(settings.BASE_DIR) / "addons" / "rak_base" / "static" / "rak_base" / "fonts"
    for family in ("noto-sans-arabic", "noto-naskh-arabic"):
        for weight in (400, 700):
            for ext in ("woff2", "woff"):
                assert (fonts / f"{family}-arabic-{weight}-normal.{ext}").stat().st_size > 10_000
    assert "SIL OPEN FONT LICENSE" in (fonts / "OFL.txt").read_text().upper()
    css = (fonts / "arabic.css").read_text()
    assert "http" not in css.replace("http://scripts.sil.org", "")  # no CDN


def test_back_link_include_marks_its_arrow_as_a_mirrored_icon():
    with translation.override("ar"):
        html = render_to_string("rak_portal/includes/back_link.html", {"href": "/espace/", "label": "شكاياتي"})
    assert html.strip() == (
        '<a class="back-link" href="/espace/"><span class="icon-dir" aria-hidden="true">←</span> شكاياتي</a>'
    )
