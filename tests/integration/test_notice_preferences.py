"""The customer's choice « Recevoir par SMS les avis de coupure et de travaux »
(Customer.sms_service_notices): on the profile page (« Mes préférences », CSRF, « Vos préférences ont
été enregistrées. »), and in the back office's customer page, where the counter (accueil) records it;
every change is in the customer's history with who made it."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from rak_customer.models import Customer
from tests.factories import customer_with_account, staff_in
from tests.integration.test_backoffice import changeform_data

pytestmark = pytest.mark.django_db

PROFILE = reverse("portal:profile")
NOTICES = reverse("portal:profile_notices")


def checkbox_checked(html: str) -> bool:
    tag = re.search(r'<input[^>]*name="sms_service_notices"[^>]*>', html)
    assert tag, "pas de case « Recevoir par SMS les avis de coupure et de travaux »"
    return " checked" in tag.group(0)


@pytest.fixture
def customer_client(client):
    customer, user = customer_with_account()
    client.force_login(user)
    return client, customer, user


def test_the_profile_shows_the_choice_checked_by_default(customer_client):
    client, customer, _ = customer_client
    html = client.get(PROFILE).content.decode()
    assert "Mes préférences" in html
    assert "Recevoir par SMS les avis de coupure et de travaux" in html
    assert checkbox_checked(html) is True


def test_unchecking_stops_the_notices_by_sms_and_says_so(customer_client):
    client, customer, user = customer_client
    response = client.post(NOTICES, {}, follow=True)  # an unchecked box posts nothing
    assert response.redirect_chain[-1][0].endswith(PROFILE)
    assert "Vos préférences ont été enregistrées." in response.content.decode()
    customer.refresh_from_db()
    assert customer.sms_service_notices is False
    last = customer.history.first()
    assert last.history_user == user and last.history_change_reason == "Avis de coupure par SMS : refusés"
    assert checkbox_checked(client.get(PROFILE).content.decode()) is False
    client.post(NOTICES, {"sms_service_notices": "on"})
    customer.refresh_from_db()
    assert customer.sms_service_notices is True


def test_the_same_choice_again_writes_no_history(customer_client):
    client, customer, _ = customer_client
    before = customer.history.count()
    client.post(NOTICES, {"sms_service_notices": "on"})
    assert customer.history.count() == before


def test_only_post_with_csrf_from_a_logged_in_customer(customer_client):
    client, customer, user = customer_client
    assert client.get(NOTICES).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    assert strict.post(NOTICES, {}).status_code == 403
    anonymous = Client()
    response = anonymous.post(NOTICES, {})
    assert response.status_code == 302 and "next=" in response["Location"]
    customer.refresh_from_db()
    assert customer.sms_service_notices is True


def test_the_counter_records_the_choice_in_the_back_office(client):
    customer, _ = customer_with_account(cin="AB123456")
    agent = staff_in("accueil", client=client)
    url = reverse("admin:rak_customer_customer_change", args=[customer.pk])
    page = client.get(url)
    html = page.content.decode()
    assert 'name="sms_service_notices"' in html and 'name="cin"' not in html  # editable; identity read only
    data = changeform_data(page)
    data.pop("sms_service_notices", None)  # unchecked
    response = client.post(url, data)
    assert response.status_code == 302, response.context and response.context["errors"]
    customer.refresh_from_db()
    assert customer.sms_service_notices is False and customer.cin == "AB123456"
    last = customer.history.first()
    assert last.history_user == agent and last.history_change_reason == "Avis de coupure par SMS : refusés"


def test_the_supervisor_sees_it_and_technique_only_reads_it(client):
    customer, _ = customer_with_account()
    Customer.objects.filter(pk=customer.pk).update(sms_service_notices=False)
    url = reverse("admin:rak_customer_customer_change", args=[customer.pk])
    staff_in("superviseur", client=client)
    assert 'name="sms_service_notices"' in client.get(url).content.decode()
    staff_in("technique", client=client)
    html = client.get(url).content.decode()
    assert 'name="sms_service_notices"' not in html
    assert "recevoir par sms les avis de coupure et de travaux" in html.lower()
