"""The back office's login refuses an address after ``[server] login_ip_failure_limit`` failed
logins, like the portal's and the API's: one counter per address for the three doors (django-axes'
attempts), so spraying one password over many staff usernames stops at the limit. Probe finding:
76 failures from one address, /backoffice/login/ still answered 200 and checked every password."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from tests.factories import TEST_PASSWORD, StaffFactory, customer_with_account

pytestmark = pytest.mark.django_db


def html_of(response) -> str:
    return response.content.decode().replace("&#x27;", "'")


def backoffice_login(client, username, password="Password1!", **extra):  # noqa: S107 - the probe's spray
    return client.post(reverse("admin:login"), {"username": username, "password": password}, **extra)


def failures_from(ip: str) -> int:
    return sum(AccessAttempt.objects.filter(ip_address=ip).values_list("failures_since_start", flat=True))


def test_password_spraying_on_the_back_office_is_refused_per_address(client, settings):
    settings.LOGIN_IP_FAILURE_LIMIT = 4
    staff = StaffFactory(username="nadia.agent")
    for i in range(4):
        response = backoffice_login(client, f"spray{i:02d}")
        assert response.status_code == 200  # the form again, « incorrect »
    assert failures_from("127.0.0.1") == 4  # the back office's failures are counted
    # the address is over the limit: even the right password is not evaluated
    blocked = backoffice_login(client, staff.username, TEST_PASSWORD)
    assert blocked.status_code == 429
    assert "Trop de tentatives de connexion échouées depuis votre connexion internet" in html_of(blocked)
    assert "_auth_user_id" not in client.session
    assert failures_from("127.0.0.1") == 4
    # the portal's and the API's doors read the same counter
    portal = client.post(reverse("portal:login"), {"username": "100000001", "password": "x"})
    assert portal.status_code == 429
    api = client.post("/api/v1/session/", {"username": "100000001", "password": "x"}, content_type="application/json")
    assert api.status_code == 429
    # another address is not concerned
    other = backoffice_login(client, staff.username, TEST_PASSWORD, REMOTE_ADDR="10.1.2.3")
    assert other.status_code == 302 and client.session["_auth_user_id"] == str(staff.pk)


def test_portal_failures_count_for_the_back_office_too(client, settings):
    settings.LOGIN_IP_FAILURE_LIMIT = 3
    customers = [customer_with_account(phone=f"+2126120003{i:02d}")[0] for i in range(3)]
    for customer in customers:
        client.post(reverse("portal:login"), {"username": customer.code, "password": "mauvais"})
    staff = StaffFactory()
    blocked = backoffice_login(client, staff.username, TEST_PASSWORD)
    assert blocked.status_code == 429 and "_auth_user_id" not in client.session
    assert client.get(reverse("admin:login")).status_code == 200  # the page itself still opens
