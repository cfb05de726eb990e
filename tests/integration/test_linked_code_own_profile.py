"""Acting for a linked code client never reaches the holder's identity or contacts: the profile,
its phone / e-mail / notices and change requests stay the account's own customer, in the portal and
in the API (a probe of issue 13: an account acting for a linked code could change that customer's
SMS phone, then take the holder's account over through « Mot de passe oublié »)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rak_base import clock
from rak_customer.link_models import CustomerLink
from rak_customer.models import Customer
from rak_portal.views.account import ACTIVE_CUSTOMER_SESSION_KEY
from tests.api_helpers import api_client
from tests.factories import customer_with_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def landlord_and_tenant():
    landlord, user = customer_with_account(phone="+212612000001", first_name="Karim", last_name="Alaoui")
    tenant, _tenant_user = customer_with_account(phone="+212612000002", first_name="Nadia", last_name="Berrada")
    CustomerLink.objects.create(user=user, customer=tenant, linked_at=clock.now(), proved_phone="+212612000002")
    return landlord, tenant, user


def test_portal_profile_acts_for_the_own_customer_while_a_linked_code_is_chosen(client, landlord_and_tenant):
    landlord, tenant, user = landlord_and_tenant
    client.force_login(user)
    session = client.session
    session[ACTIVE_CUSTOMER_SESSION_KEY] = tenant.code
    session.save()
    page = client.get(reverse("portal:profile"))
    assert page.status_code == 200
    assert page.context["customer"].pk == landlord.pk
    client.post(reverse("portal:profile_notices"), {})  # unticked: no outage SMS
    assert Customer.objects.get(pk=landlord.pk).sms_service_notices is False
    assert Customer.objects.get(pk=tenant.pk).sms_service_notices is True
    # the rest of the private area still shows the chosen code client
    assert client.get(reverse("portal:dashboard")).context["customer"].pk == tenant.pk


def test_api_account_endpoints_ignore_the_linked_code_header(landlord_and_tenant):
    landlord, tenant, user = landlord_and_tenant
    client = api_client(user, customer_code=tenant.code)
    profile = client.get("/api/v1/account/profile/")
    assert profile.status_code == 200, profile.content
    assert landlord.code in profile.content.decode() and tenant.code not in profile.content.decode()
    answer = client.put("/api/v1/account/notices/", {"sms_service_notices": False}, format="json")
    assert answer.status_code == 200, answer.content
    assert Customer.objects.get(pk=landlord.pk).sms_service_notices is False
    assert Customer.objects.get(pk=tenant.pk).sms_service_notices is True
