"""The portal's menu (private_base.html): its links are rendered once per language and page in each
process (cache « fragments »), while what belongs to the visitor — the unread badge, the customer
switch, the logout form and its CSRF token — is rendered for each request."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core.cache import caches
from django.test import Client
from django.urls import reverse
from django.utils import translation

from rak_requests.services import request_accept_phase
from tests.factories import StaffFactory, customer_with_account
from tests.request_factories import ServiceRequestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def cold_fragments():
    caches["fragments"].clear()
    yield
    caches["fragments"].clear()


def menu_of(html: str) -> str:
    return re.search(r'<nav id="menu-nav".*?</nav>', html, re.S).group(0)


def active_links(html: str) -> list[str]:
    return re.findall(r'<a href="([^"]+)" class="active"', menu_of(html))


def test_the_active_link_follows_the_page_with_the_links_cached(client):
    _customer, user = customer_with_account(phone="+212612000011")
    client.force_login(user)
    for _ in range(2):  # rendered, then from the cache
        assert active_links(client.get(reverse("portal:dashboard")).content.decode()) == [reverse("portal:dashboard")]
        html = client.get(reverse("portal:consumptions")).content.decode()
        assert active_links(html) == [reverse("portal:consumptions")]
        assert active_links(client.get(reverse("portal:profile")).content.decode()) == [reverse("portal:profile")]
    assert caches["fragments"]._cache, "the menu's links are kept in the « fragments » cache"  # noqa: SLF001


def test_each_language_gets_its_own_links(client):
    _customer, user = customer_with_account(phone="+212612000012")
    client.force_login(user)
    french = menu_of(client.get(reverse("portal:dashboard")).content.decode())
    assert ">Tableau de bord<" in french
    with translation.override("ar"):
        arabic_label = translation.gettext("Tableau de bord")
    assert arabic_label != "Tableau de bord"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"  # the header's language switch
    arabic = menu_of(client.get(reverse("portal:dashboard")).content.decode())
    assert f">{arabic_label}<" in arabic and ">Tableau de bord<" not in arabic
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    assert ">Tableau de bord<" in menu_of(client.get(reverse("portal:dashboard")).content.decode())


def test_the_unread_badge_is_not_cached(client, now):
    customer, user = customer_with_account(phone="+212612000013", email="nadia@example.ma")
    client.force_login(user)
    assert '<span class="badge">' not in menu_of(client.get(reverse("portal:dashboard")).content.decode())
    request_accept_phase(
        request_id=ServiceRequestFactory(customer=customer).pk, staff=StaffFactory(), now=now, expect_phase=None
    )
    assert '<span class="badge">1</span>' in menu_of(client.get(reverse("portal:dashboard")).content.decode())


def test_the_logout_form_carries_each_visitors_own_csrf_token():
    tokens = []
    for phone in ("+212612000014", "+212612000015"):
        _customer, user = customer_with_account(phone=phone)
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(user)
        menu = menu_of(browser.get(reverse("portal:dashboard")).content.decode())
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', menu).group(1)
        tokens.append(token)
        response = browser.post(reverse("portal:logout"), {"csrfmiddlewaretoken": token})
        assert response.status_code == 302, response.status_code  # the token was this visitor's
    assert tokens[0] != tokens[1]
