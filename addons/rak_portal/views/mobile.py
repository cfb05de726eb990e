"""The installable web app (issue 13): the manifest, the service worker and the offline page.

- ``/manifest.webmanifest?lang=ar``: the manifest in the page's language (a browser fetches the
  manifest without cookies, so base.html names the language in the link); colours from portal.css,
  icons rasterised once from logo.svg (static PNGs).
- ``/sw.js``: the service worker, served from the site's root so that its scope is the whole site
  (``Service-Worker-Allowed: /``), never cached by HTTP (``no-cache``: the browser checks it at each
  navigation). Its source is the static file rak_portal/service-worker.js, preceded by one line of
  configuration: the version (a hash of the worker and of the files it precaches: a new deployment
  that changes any of them installs a new worker, which drops the old caches), the static files and
  offline pages to precache, and the pages kept readable offline.
- ``/hors-ligne/?lang=ar``: the offline page, public and the same for everyone (rendered as an
  anonymous visitor, without the session's messages): the worker precaches it in each language.
"""

from __future__ import annotations

import hashlib
import json
import re

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

THEME_COLOR = "#0b5fa5"  # portal.css --blue
BACKGROUND_COLOR = "#f4f7fa"  # portal.css --bg
WORKER_SOURCE = "rak_portal/service-worker.js"
# what any page needs, precached at install (other static files are cached as pages load them)
PRECACHED_STATIC = (
    "rak_portal/portal.css",
    "rak_portal/portal.js",
    "rak_portal/pwa.js",
    "rak_portal/logo.svg",
    "rak_portal/icon-192.png",
    "rak_base/fonts/arabic.css",
    "rak_base/fonts/noto-sans-arabic-arabic-400-normal.woff2",
    "rak_base/fonts/noto-sans-arabic-arabic-700-normal.woff2",
)
# the customer's pages kept readable offline (the last copy of each): dashboard and bills
OFFLINE_READABLE = ("portal:dashboard", "portal:consumptions", "portal:unpaid", "portal:other_bills", "portal:efacture")
OFFLINE_READABLE_WITH_ID = ("portal:bill_detail",)


def _language(request: HttpRequest) -> str:
    """``?lang=`` when it names a site language, else the request's (cookie, Accept-Language)."""
    asked = request.GET.get("lang", "")
    codes = [code for code, _name in settings.LANGUAGES]
    return asked if asked in codes else translation.get_language()


@require_GET
def manifest(request: HttpRequest) -> HttpResponse:
    language = _language(request)
    with translation.override(language):
        data = {
            "id": "/",
            "name": gettext("RAK — Agence en ligne"),
            "short_name": gettext("RAK"),
            "description": gettext("Vos factures, paiements, relevés et demandes à la RAK, depuis votre téléphone."),
            "lang": language,
            "dir": "rtl" if translation.get_language_bidi() else "ltr",
            "start_url": reverse("portal:dashboard"),
            "scope": "/",
            "display": "standalone",
            "orientation": "any",
            "theme_color": THEME_COLOR,
            "background_color": BACKGROUND_COLOR,
            "categories": ["utilities", "finance"],
            "icons": [
                {"src": static("rak_portal/icon-192.png"), "sizes": "192x192", "type": "image/png", "purpose": "any"},
                {"src": static("rak_portal/icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any"},
                {
                    "src": static("rak_portal/icon-maskable-192.png"),
                    "sizes": "192x192",
                    "type": "image/png",
                    "purpose": "maskable",
                },
                {
                    "src": static("rak_portal/icon-maskable-512.png"),
                    "sizes": "512x512",
                    "type": "image/png",
                    "purpose": "maskable",
                },
            ],
            "shortcuts": [
                {
                    "name": gettext("Mes consommations"),
                    "url": reverse("portal:consumptions"),
                    "icons": [{"src": static("rak_portal/icon-192.png"), "sizes": "192x192", "type": "image/png"}],
                },
                {
                    "name": gettext("Payer en ligne"),
                    "url": reverse("portal:pay_online"),
                    "icons": [{"src": static("rak_portal/icon-192.png"), "sizes": "192x192", "type": "image/png"}],
                },
            ],
        }
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=1), content_type="application/manifest+json; charset=utf-8"
    )
    response["Content-Language"] = language
    response["Cache-Control"] = "public, max-age=3600"
    response["Vary"] = "Cookie, Accept-Language"
    return response


def _static_bytes(name: str) -> bytes:
    path = finders.find(name)
    if path is None:  # production: collected files only (the finders still see the apps' files)
        from django.contrib.staticfiles.storage import staticfiles_storage

        with staticfiles_storage.open(name) as handle:
            return handle.read()
    with open(path, "rb") as handle:
        return handle.read()


def _offline_readable_patterns() -> list[str]:
    """Regular expressions (JavaScript syntax too) of the paths kept readable offline."""
    patterns = [f"^{re.escape(reverse(name))}$" for name in OFFLINE_READABLE]
    for name in OFFLINE_READABLE_WITH_ID:
        sample = reverse(name, args=[123456789])
        patterns.append("^" + re.escape(sample).replace("123456789", "[0-9]+") + "$")
    return patterns


def _offline_page_sources() -> list[bytes]:
    """What the precached offline pages are made of besides static files: their templates and the
    compiled translations (a new wording or translation gives a new worker, which re-fetches them)."""
    from pathlib import Path

    from django.template.loader import get_template

    sources = []
    for name in ("rak_portal/offline.html", "rak_portal/base.html"):
        template = get_template(name).template  # type: ignore[attr-defined]  # the Django backend's Template
        sources.append(Path(template.origin.name).read_bytes())
    for locale_path in settings.LOCALE_PATHS:
        sources.extend(path.read_bytes() for path in sorted(Path(locale_path).glob("*/LC_MESSAGES/django.mo")))
    return sources


def offline_urls() -> list[str]:
    return [f"{reverse('portal:offline')}?lang={code}" for code, _name in settings.LANGUAGES]


def worker_config() -> dict:
    source = _static_bytes(WORKER_SOURCE)
    digest = hashlib.sha256(source)
    static_urls = []
    for name in PRECACHED_STATIC:
        digest.update(_static_bytes(name))
        url = static(name)
        digest.update(url.encode())
        static_urls.append(url)
    for text in _offline_page_sources():
        digest.update(text)
    offline = offline_urls()
    readable = _offline_readable_patterns()
    digest.update(json.dumps([offline, readable]).encode())
    return {
        "version": digest.hexdigest()[:16],
        "precache": static_urls,
        "offline": {code: url for (code, _name), url in zip(settings.LANGUAGES, offline, strict=True)},
        "defaultLanguage": settings.LANGUAGE_CODE,
        "staticPrefix": settings.STATIC_URL,
        "readable": readable,
        # the pages after which no private copy may stay: signing in or out, the login page itself
        "login": reverse("portal:login"),
        "logout": reverse("portal:logout"),
        "home": reverse("portal:home"),
        "start": reverse("portal:dashboard"),
        "icon": static("rak_portal/icon-192.png"),
        # never touched by the worker (no cache, no offline page): back office, API, payment
        "bypass": ["/backoffice/", "/api/", "/paiement/", "/cmi-sandbox/", "/captcha/"],
    }


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    source = _static_bytes(WORKER_SOURCE).decode()
    config = json.dumps(worker_config(), ensure_ascii=False)
    response = HttpResponse(f"self.RAK_SW = {config};\n{source}", content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache, max-age=0"
    return response


@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    language = _language(request)
    with translation.override(language):
        # the same page for everyone: as an anonymous visitor, without the session's flash messages
        response = render(
            request,
            "rak_portal/offline.html",
            {"user": AnonymousUser(), "unread_count": 0, "messages": []},
        )
    response["Content-Language"] = language
    response["Cache-Control"] = "no-cache"
    return response
