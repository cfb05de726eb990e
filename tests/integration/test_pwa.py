"""The installable web app (issue 13): manifest, service worker, offline page, the tags base.html
carries for them, the Web Push key and the mobile app's store links."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from rak_base.push import vapid_keys_generate
from tests.factories import customer_with_account
from tests.integration.test_security_headers import HANDLER, INLINE_SCRIPT, STYLE_ATTRIBUTE, STYLE_BLOCK

pytestmark = pytest.mark.django_db


def worker_config(response) -> dict:
    first_line = response.content.decode().split("\n", 1)[0]
    assert first_line.startswith("self.RAK_SW = ") and first_line.endswith(";")
    return json.loads(first_line[len("self.RAK_SW = ") : -1])


# --- manifest ------------------------------------------------------------------------------------


def test_manifest_is_served_as_a_web_app_manifest(client):
    response = client.get("/manifest.webmanifest?lang=fr")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json; charset=utf-8"
    data = json.loads(response.content)
    assert data["name"] == "RAK — Agence en ligne" and data["short_name"] == "RAK"
    assert data["lang"] == "fr" and data["dir"] == "ltr"
    assert data["start_url"] == "/espace/" and data["scope"] == "/" and data["id"] == "/"
    assert data["display"] == "standalone"
    assert data["theme_color"] == "#0b5fa5" and data["background_color"] == "#f4f7fa"
    icons = {(icon["sizes"], icon["purpose"]): icon["src"] for icon in data["icons"]}
    assert set(icons) >= {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")}
    assert all(icon["type"] == "image/png" for icon in data["icons"])
    assert [shortcut["url"] for shortcut in data["shortcuts"]] == ["/espace/consommations/", "/espace/paiement/"]


@pytest.mark.parametrize(
    ("language", "name", "direction"),
    [("ar", "RAK — الوكالة الإلكترونية", "rtl"), ("en", "RAK — Online agency", "ltr")],
)
def test_manifest_speaks_the_page_language(client, language, name, direction):
    data = json.loads(client.get(f"/manifest.webmanifest?lang={language}").content)
    assert data["lang"] == language and data["dir"] == direction
    assert data["name"] == name
    assert data["shortcuts"][0]["name"] != "Mes consommations"


def test_manifest_without_language_follows_the_cookie_then_the_browser(client):
    client.cookies["rak_language"] = "ar"
    assert json.loads(client.get("/manifest.webmanifest").content)["lang"] == "ar"
    other = Client(HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    assert json.loads(other.get("/manifest.webmanifest").content)["lang"] == "en"
    assert json.loads(other.get("/manifest.webmanifest?lang=xx").content)["lang"] == "en"


def test_manifest_icons_are_served_png_files(client):
    from django.contrib.staticfiles import finders
    from PIL import Image

    data = json.loads(client.get("/manifest.webmanifest").content)
    for icon in data["icons"] + [{"src": "/static/rak_portal/apple-touch-icon.png", "sizes": "180x180"}]:
        path = finders.find(icon["src"].removeprefix("/static/"))
        assert path, icon["src"]
        with Image.open(path) as image:
            assert image.format == "PNG"
            assert "x".join(map(str, image.size)) == icon["sizes"]


def test_maskable_icon_fills_its_square(client):
    """A maskable icon has no transparent corner (the launcher cuts its own shape)."""
    from django.contrib.staticfiles import finders
    from PIL import Image

    with Image.open(finders.find("rak_portal/icon-maskable-512.png")) as image:
        rgb = image.convert("RGBA")
        assert rgb.getpixel((0, 0)) == (11, 95, 165, 255)
        assert rgb.getpixel((511, 511)) == (11, 95, 165, 255)


# --- service worker -------------------------------------------------------------------------------


def test_service_worker_is_served_from_the_root_never_cached(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response["Cache-Control"]
    body = response.content.decode()
    assert 'self.addEventListener("fetch"' in body and 'self.addEventListener("push"' in body


def test_service_worker_configuration(client):
    config = worker_config(client.get("/sw.js"))
    assert re.fullmatch(r"[0-9a-f]{16}", config["version"])
    assert "/static/rak_portal/portal.css" in config["precache"]
    assert "/static/rak_portal/pwa.js" in config["precache"]
    assert config["offline"] == {
        "fr": "/hors-ligne/?lang=fr",
        "ar": "/hors-ligne/?lang=ar",
        "en": "/hors-ligne/?lang=en",
    }
    readable = [re.compile(pattern) for pattern in config["readable"]]

    def kept(path: str) -> bool:
        return any(pattern.search(path) for pattern in readable)

    for path in ("/espace/", "/espace/consommations/", "/espace/impayes/", "/espace/factures/12/"):
        assert kept(path), path
    for path in (
        "/espace/factures/12/pdf/",
        "/espace/paiement/",
        "/espace/profil/",
        "/espace/notifications/",
        "/",
        "/api/v1/bills/",
        "/backoffice/",
        "/espace/x/",
    ):
        assert not kept(path), path
    assert {"/backoffice/", "/api/", "/paiement/"} <= set(config["bypass"])
    assert config["logout"] == "/deconnexion/" and config["login"] == "/connexion/" and config["home"] == "/"
    assert config["start"] == "/espace/"


def test_service_worker_version_follows_the_files(client, monkeypatch):
    from rak_portal.views import mobile

    before = worker_config(client.get("/sw.js"))["version"]
    assert worker_config(client.get("/sw.js"))["version"] == before  # stable while nothing changes
    real = mobile._static_bytes
    changed = {"rak_portal/portal.css": b"/* v2 */"}
    monkeypatch.setattr(mobile, "_static_bytes", lambda name: real(name) + changed.get(name, b""))
    assert worker_config(client.get("/sw.js"))["version"] != before


def test_precached_files_exist(client):
    config = worker_config(client.get("/sw.js"))
    for url in config["precache"]:
        assert client.get(url).status_code == 200, url
    for url in config["offline"].values():
        assert client.get(url).status_code == 200, url


def test_manifest_and_worker_accept_get_only(client):
    assert client.post("/sw.js").status_code == 405
    assert client.post("/manifest.webmanifest").status_code == 405


# --- offline page ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "title", "direction"),
    [("fr", "Vous êtes hors ligne", "ltr"), ("ar", "أنت غير متصل بالإنترنت", "rtl"), ("en", "You are offline", "ltr")],
)
def test_offline_page_in_each_language(client, language, title, direction):
    response = client.get(f"/hors-ligne/?lang={language}")
    assert response.status_code == 200
    assert response["Content-Language"] == language
    html = response.content.decode()
    assert f'<html lang="{language}" dir="{direction}">' in html
    assert title in html
    assert "data-offline-retry" in html


def test_offline_page_is_everyones_even_when_signed_in(client):
    """Precached by the worker without cookies; even asked with a session, it shows nothing of it."""
    _customer, user = customer_with_account(phone_verified=True)
    user.first_name = "Khadija"
    user.save()
    client.force_login(user)
    html = client.get("/hors-ligne/?lang=fr").content.decode()
    assert "Khadija" not in html
    assert 'action="/deconnexion/"' not in html
    assert "data-offline-banner" not in html


# --- base.html ------------------------------------------------------------------------------------


def test_every_page_links_the_manifest_and_the_worker_script(client):
    client.cookies["rak_language"] = "ar"
    html = client.get("/").content.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest?lang=ar">' in html
    assert '<meta name="theme-color" content="#0b5fa5">' in html
    assert '<link rel="apple-touch-icon" href="/static/rak_portal/apple-touch-icon.png">' in html
    assert 'src="/static/rak_portal/pwa.js" data-sw="/sw.js" data-logout="/deconnexion/" defer' in html
    for pattern in (INLINE_SCRIPT, HANDLER, STYLE_ATTRIBUTE, STYLE_BLOCK):
        assert not pattern.search(html)


def test_private_pages_carry_the_hidden_offline_banner(client):
    _customer, user = customer_with_account(phone_verified=True)
    client.force_login(user)
    html = client.get("/espace/").content.decode()
    banner = re.search(r'<p class="offline-banner" role="status" data-offline-banner hidden>([^<]+)</p>', html)
    assert banner, "the worker un-hides « data-offline-banner hidden »: keep the attributes in this order"
    assert banner.group(1).startswith("Hors ligne — données du ")


def test_public_pages_have_no_offline_banner(client):
    assert "data-offline-banner" not in client.get("/").content.decode()


def test_vapid_key_only_for_a_signed_in_customer_when_configured(client, settings):
    _customer, user = customer_with_account(phone_verified=True)
    settings.WEBPUSH_VAPID_PUBLIC_KEY = ""
    client.force_login(user)
    assert 'name="rak-vapid-key"' not in client.get("/espace/").content.decode()
    settings.WEBPUSH_VAPID_PUBLIC_KEY = "BPublicKeyWithoutItsPrivateHalf"  # push off: no key offered
    assert 'name="rak-vapid-key"' not in client.get("/espace/").content.decode()
    settings.WEBPUSH_VAPID_PRIVATE_KEY, settings.WEBPUSH_VAPID_PUBLIC_KEY = vapid_keys_generate()
    html = client.get("/espace/").content.decode()
    meta = re.search(r'<meta name="rak-vapid-key" content="([^"]+)"[^>]*>', html)
    assert meta and meta.group(1) == settings.WEBPUSH_VAPID_PUBLIC_KEY
    for state in ("subscribed", "unsubscribed", "denied", "unsupported", "error"):
        assert f"data-msg-{state}=" in meta.group(0)
    anonymous = Client()
    assert 'name="rak-vapid-key"' not in anonymous.get("/").content.decode()


# --- store links ----------------------------------------------------------------------------------


def test_home_page_links_the_mobile_app_stores(client, settings):
    settings.MOBILE_PLAY_STORE_URL = "https://play.google.com/store/apps/details?id=ma.rak.app"
    settings.MOBILE_APP_STORE_URL = "https://apps.apple.com/ma/app/rak/id1"
    html = client.get("/").content.decode()
    assert 'href="https://play.google.com/store/apps/details?id=ma.rak.app"' in html
    assert 'href="https://apps.apple.com/ma/app/rak/id1"' in html
    assert "Disponible sur Google Play" in html and "Télécharger dans l'App Store" in html
    client.cookies["rak_language"] = "en"
    html = client.get("/").content.decode()
    assert "Get it on Google Play" in html and "Download on the App Store" in html


def test_login_page_after_a_failed_login_keeps_the_store_links(client, settings):
    settings.MOBILE_PLAY_STORE_URL = "https://play.google.com/store/apps/details?id=ma.rak.app"
    response = client.post("/connexion/", {"username": "nobody", "password": "wrong"})
    assert response.status_code == 401
    assert 'data-store="play"' in response.content.decode()


def test_store_links_hidden_when_not_configured(client, settings):
    settings.MOBILE_PLAY_STORE_URL = ""
    settings.MOBILE_APP_STORE_URL = ""
    assert 'data-testid="store-links"' not in client.get("/").content.decode()
