"""The client address behind per-IP limits: X-Forwarded-For is trusted only from the number of
proxies configured in rak.conf (``[server] trusted_proxies``, default 0: REMOTE_ADDR only), the
same function for the portal's limits and for django-axes."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.test import RequestFactory
from django.urls import reverse

from rak_base.http import client_ip
from tests.factories import customer_with_account

pytestmark = pytest.mark.django_db


def request_from(remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_trusted_proxy_the_forwarded_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = 0
    assert client_ip(request_from("203.0.113.7", "1.2.3.4")) == "203.0.113.7"
    assert client_ip(request_from("203.0.113.7")) == "203.0.113.7"


def test_with_one_proxy_the_entry_it_appended_is_the_client(settings):
    settings.TRUSTED_PROXIES = 1
    # nginx: proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; the client's own header
    # comes first, nginx appends the address it saw: only the last entry is trusted.
    assert client_ip(request_from("127.0.0.1", "1.2.3.4, 198.51.100.20")) == "198.51.100.20"
    assert client_ip(request_from("127.0.0.1", "198.51.100.20")) == "198.51.100.20"


def test_with_two_proxies_the_second_entry_from_the_right(settings):
    settings.TRUSTED_PROXIES = 2
    assert client_ip(request_from("10.0.0.2", "6.6.6.6, 198.51.100.20, 10.0.0.1")) == "198.51.100.20"


def test_missing_or_malformed_forwarded_entry_falls_back_to_the_socket(settings):
    settings.TRUSTED_PROXIES = 1
    assert client_ip(request_from("127.0.0.1")) == "127.0.0.1"
    assert client_ip(request_from("127.0.0.1", "pas-une-adresse")) == "127.0.0.1"
    settings.TRUSTED_PROXIES = 2
    assert client_ip(request_from("10.0.0.2", "198.51.100.20")) == "10.0.0.2"


def login(client, username, **extra):
    return client.post(reverse("portal:login"), {"username": username, "password": "mauvais"}, **extra)


def test_per_ip_login_limit_is_not_bypassed_by_a_forged_header(client, settings):
    settings.TRUSTED_PROXIES = 0
    settings.LOGIN_IP_FAILURE_LIMIT = 4
    customers = [customer_with_account(phone=f"+2126120001{i:02d}")[0] for i in range(5)]
    for i, customer in enumerate(customers[:4]):
        login(client, customer.code, REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR=f"10.9.9.{i}")
    # django-axes records the socket address, not the forged one
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.7"}
    response = login(client, customers[4].code, REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="10.9.9.99")
    assert response.status_code == 429
    assert "depuis votre connexion internet" in response.content.decode().replace("&#x27;", "'")


def test_behind_one_proxy_axes_and_the_limit_use_the_appended_entry(client, settings):
    settings.TRUSTED_PROXIES = 1
    settings.LOGIN_IP_FAILURE_LIMIT = 2
    customers = [customer_with_account(phone=f"+2126120002{i:02d}")[0] for i in range(3)]
    for i, customer in enumerate(customers[:2]):
        login(client, customer.code, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=f"10.9.9.{i}, 198.51.100.20")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.20"}
    blocked = login(client, customers[2].code, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="1.1.1.1, 198.51.100.20")
    assert blocked.status_code == 429
    other = login(client, customers[2].code, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.21")
    assert other.status_code == 401
