"""« Appareils connectés » (issue 13): the section of « Mon profil » and its « Déconnecter », the
portal's password change and « Mot de passe oublié » signing the API devices out, and the back
office's devices card on the customer 360 with « Déconnecter » and its reason."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from rak_base.models import Message
from rak_customer.device_models import Device
from tests.api_helpers import api_client, assert_error
from tests.factories import TEST_PASSWORD, customer_with_account, staff_in

pytestmark = pytest.mark.django_db

PROFILE = reverse("portal:profile")


def _html(response) -> str:
    return response.content.decode().replace("&#x27;", "'").replace("&quot;", '"')


def test_profile_lists_the_active_devices_with_their_system_and_activity(client, django_assert_max_num_queries):
    customer, user = customer_with_account()
    api_client(user)  # « Pixel 8 de test », Android
    gone = api_client(user)
    Device.objects.filter(pk=gone.device_tokens.device.pk).update(name="Ancien iPhone", platform="IOS")
    gone_device = Device.objects.get(pk=gone.device_tokens.device.pk)
    from rak_base import clock
    from rak_customer.devices import device_revoke

    device_revoke(device_id=gone_device.pk, user=user, by=user, reason="test", now=clock.now())
    _other, other_user = customer_with_account(phone="+212612000999")
    other = api_client(other_user)
    Device.objects.filter(pk=other.device_tokens.device.pk).update(name="Téléphone d'un autre")
    client.force_login(user)
    response = client.get(PROFILE)
    html = _html(response)
    assert 'id="appareils"' in html and "Appareils connectés" in html
    assert html.count('data-testid="device"') == 1
    assert "Pixel 8 de test" in html and "Android" in html
    assert "Ancien iPhone" not in html and "Téléphone d'un autre" not in html
    assert 'class="table-cards"' in html and 'data-label="Dernière activité"' in html  # phone layout: cards


def test_profile_without_devices_says_so(client):
    _customer, user = customer_with_account()
    client.force_login(user)
    assert 'data-testid="devices-empty"' in _html(client.get(PROFILE))


def test_customer_signs_a_device_out_from_the_profile(client):
    _customer, user = customer_with_account()
    phone = api_client(user)
    device_id = phone.device_tokens.device.pk
    client.force_login(user)
    url = reverse("portal:device_revoke", args=[device_id])
    assert client.get(url).status_code == 405  # POST only
    response = client.post(url, follow=True)
    assert response.redirect_chain[-1][0].endswith(PROFILE + "#appareils")
    assert "L'appareil « Pixel 8 de test » a été déconnecté" in _html(response)
    device = Device.objects.get(pk=device_id)
    assert device.revoked_at and device.revoked_by == user
    assert_error(phone.get("/api/v1/devices/"), 401, "token_invalid")


def test_another_accounts_device_is_404_and_untouched(client):
    _customer, user = customer_with_account()
    _other, other_user = customer_with_account(phone="+212612000999")
    stranger = api_client(other_user)
    client.force_login(user)
    assert client.post(reverse("portal:device_revoke", args=[stranger.device_tokens.device.pk])).status_code == 404
    assert Device.objects.get(pk=stranger.device_tokens.device.pk).revoked_at is None


def test_revoke_needs_login_and_csrf(client):
    _customer, user = customer_with_account()
    phone = api_client(user)
    url = reverse("portal:device_revoke", args=[phone.device_tokens.device.pk])
    assert client.post(url).status_code == 302  # to the login page
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(user)
    assert csrf_client.post(url).status_code == 403
    assert Device.objects.get(pk=phone.device_tokens.device.pk).revoked_at is None


def test_portal_password_change_signs_every_api_device_out(client):
    customer, user = customer_with_account()
    phone = api_client(user)
    client.force_login(user)
    client.post(
        reverse("portal:profile_password"),
        {"old_password": TEST_PASSWORD, "new_password1": "Sebou-Nouveau-9", "new_password2": "Sebou-Nouveau-9"},
    )
    assert_error(phone.get("/api/v1/devices/"), 401, "token_invalid")
    assert Device.objects.get(pk=phone.device_tokens.device.pk).revoked_reason == "mot de passe modifié"


def test_portal_first_login_change_signs_api_devices_out(client):
    customer, user = customer_with_account(must_change=True)
    phone = api_client(user)
    client.force_login(user)
    client.post(
        reverse("portal:password_first_change"),
        {
            "old_password": TEST_PASSWORD,
            "new_password1": "Sebou-Nouveau-9",
            "new_password2": "Sebou-Nouveau-9",
            "accept_terms": "on",
            "accept_data_processing": "on",
        },
    )
    user.refresh_from_db()
    assert not user.must_change_password
    assert Device.objects.get(pk=phone.device_tokens.device.pk).revoked_at is not None


def test_forgotten_password_signs_devices_out_once_the_new_one_is_used(client):
    customer, user = customer_with_account(phone="+212612345678", cin="G123456")
    phone = api_client(user)
    client.post(reverse("portal:forgot_password"), {"customer_code": customer.code, "identity": "G123456"})
    assert phone.get("/api/v1/devices/").status_code == 200  # not used yet: nothing changes
    sms = Message.objects.filter(recipient="+212612345678", kind="password").latest("id")
    password = re.search(r"mot de passe (\S+)\.", sms.body).group(1)
    client.post(reverse("portal:login"), {"username": customer.code, "password": password})
    assert_error(phone.get("/api/v1/devices/"), 401, "token_invalid")


# --- back office -------------------------------------------------------------------------------


def test_staff_see_the_devices_on_the_customer_360_and_sign_one_out_with_a_reason(client):
    customer, user = customer_with_account()
    phone = api_client(user)
    device_id = phone.device_tokens.device.pk
    staff = staff_in("accueil", client=client)
    page = _html(client.get(reverse("admin:rak_customer_customer_change", args=[customer.pk])))
    assert 'data-testid="customer-devices"' in page and "Pixel 8 de test" in page
    revoke_url = reverse("admin:rak_customer_device_revoke", args=[device_id])
    assert revoke_url in page
    form = client.get(revoke_url)
    assert form.status_code == 200 and "Motif de la déconnexion" in _html(form)
    missing = client.post(revoke_url, {"reason": ""})
    assert missing.status_code == 200 and Device.objects.get(pk=device_id).revoked_at is None
    done = client.post(revoke_url, {"reason": "téléphone perdu signalé au CRC"}, follow=True)
    assert "est déconnecté" in _html(done)
    device = Device.objects.get(pk=device_id)
    assert device.revoked_by == staff and device.revoked_reason == "téléphone perdu signalé au CRC"
    assert_error(phone.get("/api/v1/devices/"), 401, "token_invalid")
    after = _html(client.get(reverse("admin:rak_customer_customer_change", args=[customer.pk])))
    assert "téléphone perdu signalé au CRC" in after and revoke_url not in after
    listing = client.get(reverse("admin:rak_customer_device_changelist"), {"q": customer.code})
    assert listing.status_code == 200 and "Pixel 8 de test" in _html(listing)


def test_staff_without_the_permission_cannot_sign_a_device_out(client):
    customer, user = customer_with_account()
    phone = api_client(user)
    staff_in("facturation", client=client)
    revoke_url = reverse("admin:rak_customer_device_revoke", args=[phone.device_tokens.device.pk])
    assert client.post(revoke_url, {"reason": "essai"}).status_code == 403
    assert Device.objects.get(pk=phone.device_tokens.device.pk).revoked_at is None
