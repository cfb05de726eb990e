"""« Contactez-nous »: one per-address budget of messages an hour for the portal's form and the
mobile API's (rak_portal.throttling.CONTACT_PER_IP_HOURLY). Probe finding: 15 posts of /contact/
from one address stored 15 messages while /api/v1/contact/ answered 429 after 10."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rak_customer.models import ContactMessage

pytestmark = pytest.mark.django_db

MESSAGE = {"name": "Amina", "email": "amina@example.ma", "subject": "Horaires", "body": "Quels horaires ?"}


def html_of(response) -> str:
    return response.content.decode().replace("&#x27;", "'")


def test_the_portal_form_is_limited_per_address(client):
    for _ in range(10):  # the API's limit before: 10 an hour
        assert client.post(reverse("portal:contact"), MESSAGE).status_code == 302
    refused = client.post(reverse("portal:contact"), MESSAGE)
    assert refused.status_code == 429
    html = html_of(refused)
    assert "Trop de messages envoyés depuis votre connexion. Veuillez réessayer plus tard." in html
    assert 'value="Horaires"' in html  # the form again, nothing typed lost
    assert ContactMessage.objects.count() == 10
    # another address is not concerned
    assert client.post(reverse("portal:contact"), MESSAGE, REMOTE_ADDR="10.1.2.3").status_code == 302


def test_the_portal_and_the_api_share_the_budget(client, monkeypatch):
    monkeypatch.setattr("rak_portal.throttling.CONTACT_PER_IP_HOURLY", 2)
    assert client.post("/api/v1/contact/", MESSAGE, content_type="application/json").status_code == 201
    assert client.post(reverse("portal:contact"), MESSAGE).status_code == 302
    assert client.post(reverse("portal:contact"), MESSAGE).status_code == 429
    assert client.post("/api/v1/contact/", MESSAGE, content_type="application/json").status_code == 429
    assert ContactMessage.objects.count() == 2


def test_invalid_posts_do_not_use_the_budget(client, monkeypatch):
    monkeypatch.setattr("rak_portal.throttling.CONTACT_PER_IP_HOURLY", 1)
    assert client.post(reverse("portal:contact"), {**MESSAGE, "email": "pas-un-email"}).status_code == 400
    assert client.post(reverse("portal:contact"), MESSAGE).status_code == 302
