"""Two holes an outside-in probe of issue 13 found, in the API and the portal alike:
- « confirmer mon e-mail » sent a link to any typed address without limit (one account could flood a
  stranger's inbox from the agency): 5 per account and 3 per address an hour;
- « changer mon mot de passe » let a stolen session or device token guess the current password
  without limit (django-axes counts logins only): 10 checks an hour, then 429 / a message."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rak_base.models import Message
from tests.api_helpers import api_client, assert_error
from tests.factories import TEST_PASSWORD, customer_with_account

pytestmark = pytest.mark.django_db


def _emails_to(address: str) -> int:
    return Message.objects.filter(channel="EMAIL", recipient=address).count()


def test_api_confirmation_emails_are_limited_per_account_and_per_address():
    _customer, user = customer_with_account(phone="+212612000021")
    client = api_client(user)
    for n in range(5):
        address = f"victim{n % 2}@example.ma"
        assert client.post("/api/v1/account/email/", {"email": address}, format="json").status_code == 202
    body = assert_error(client.post("/api/v1/account/email/", {"email": "other@example.ma"}, format="json"), 429)
    assert body["code"] == "throttled" and "heure" in body["message"]
    assert _emails_to("other@example.ma") == 0
    # another account cannot go on flooding the same address either
    _other, other_user = customer_with_account(phone="+212612000022")
    assert_error(
        api_client(other_user).post("/api/v1/account/email/", {"email": "victim0@example.ma"}, format="json"), 429
    )
    assert _emails_to("victim0@example.ma") == 3


def test_portal_confirmation_emails_are_limited(client):
    _customer, user = customer_with_account(phone="+212612000023")
    client.force_login(user)
    for _ in range(4):
        client.post(reverse("portal:profile_email"), {"email": "cible@example.ma"})
    assert _emails_to("cible@example.ma") == 3
    page = client.get(reverse("portal:profile"))
    assert "Trop de liens de confirmation" in page.content.decode()


def test_api_current_password_guessing_is_limited():
    _customer, user = customer_with_account(phone="+212612000024")
    client = api_client(user)
    wrong = {"old_password": "devine-moi", "new_password1": "Sebou-Kenitra-77", "new_password2": "Sebou-Kenitra-77"}
    for _ in range(10):
        assert_error(client.post("/api/v1/account/password/", wrong, format="json"), 400)
    right = dict(wrong, old_password=TEST_PASSWORD)
    assert_error(client.post("/api/v1/account/password/", right, format="json"), 429, "throttled")
    user.refresh_from_db()
    assert user.check_password(TEST_PASSWORD)


def test_portal_current_password_guessing_is_limited(client):
    _customer, user = customer_with_account(phone="+212612000025")
    client.force_login(user)
    wrong = {"old_password": "devine-moi", "new_password1": "Sebou-Kenitra-77", "new_password2": "Sebou-Kenitra-77"}
    for _ in range(10):
        assert client.post(reverse("portal:profile_password"), wrong).status_code == 400
    answer = client.post(reverse("portal:profile_password"), dict(wrong, old_password=TEST_PASSWORD), follow=True)
    assert "Trop de tentatives de changement de mot de passe" in answer.content.decode()
    user.refresh_from_db()
    assert user.check_password(TEST_PASSWORD)
