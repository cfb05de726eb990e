"""GET /api/v1/customers/, POST /api/v1/customers/links/ (+ confirm/, resend/), PATCH/DELETE
/api/v1/customers/links/{id}/, and X-Customer-Code on a customer-scoped endpoint (issue 13)."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import include, path
from rest_framework.response import Response

from rak_api.base import CustomerAPIView
from rak_base import clock
from rak_customer import links
from rak_customer.link_models import CustomerLink
from tests.api_helpers import api_client, assert_error
from tests.billing_factories import bill_create
from tests.factories import CustomerFactory, DossierFactory, PhoneFactory, customer_with_account

pytestmark = pytest.mark.django_db

CUSTOMERS = "/api/v1/customers/"
LINKS = "/api/v1/customers/links/"
CONFIRM = "/api/v1/customers/links/confirm/"
RESEND = "/api/v1/customers/links/resend/"
FLAT_PHONE = "+212661000111"


# a customer-scoped endpoint of this test module only: which customer a call acts for
class WhoView(CustomerAPIView):
    def get(self, request):
        from rak_billing.models import Bill

        bills = list(Bill.objects.filter(customer=request.customer).values_list("number", flat=True))
        return Response({"code": request.customer.code, "bills": bills})


urlpatterns = [
    path("api/v1/test-who/", WhoView.as_view()),
    path("", include("config.urls")),
]


@pytest.fixture
def landlord():
    return customer_with_account(phone="+212612345678", first_name="Karim", last_name="Tazi")


@pytest.fixture
def flat():
    customer = CustomerFactory(first_name="Nadia", last_name="Mehdia", cin="AB123456")
    PhoneFactory(customer=customer, value=FLAT_PHONE)
    return customer


def _link(user, customer, sms_outbox, label=""):
    pending = links.customer_link_start(
        user=user, customer_code=customer.code, identity=customer.cin, label=label, now=clock.now()
    )
    code = sms_outbox.last_code(to=customer.contacts.get(is_sms=True).value)
    return links.customer_link_confirm(user=user, token=pending.token, otp_code=code, now=clock.now())


def test_link_journey_through_the_api(landlord, flat, sms_outbox):
    own, user = landlord
    client = api_client(user)
    response = client.post(
        LINKS, {"customer_code": flat.code, "identity": "ab123456", "label": "Appartement"}, format="json"
    )
    assert response.status_code == 202, response.content
    pending = response.json()
    assert pending["customer_code"] == flat.code and pending["phone_hint"] == "11"
    assert FLAT_PHONE not in str(pending)
    code = sms_outbox.last_code(to=FLAT_PHONE)
    wrong = "000000" if code != "000000" else "111111"
    assert_error(
        client.post(CONFIRM, {"link_token": pending["link_token"], "otp": wrong}, format="json"), 400, "otp_invalid"
    )
    response = client.post(CONFIRM, {"link_token": pending["link_token"], "otp": code}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["code"] == flat.code and body["label"] == "Appartement" and body["own"] is False
    listing = client.get(CUSTOMERS).json()
    assert [row["code"] for row in listing["results"]] == [own.code, flat.code]
    assert listing["results"][0]["own"] and listing["results"][0]["active"]
    # the same list acting for the linked code: it is the active one
    acting = api_client(user, customer_code=flat.code).get(CUSTOMERS).json()
    assert [row["active"] for row in acting["results"]] == [False, True]


def test_list_without_links_is_the_own_code_and_query_bounded(
    landlord, flat, sms_outbox, django_assert_max_num_queries
):
    own, user = landlord
    client = api_client(user)
    assert [row["code"] for row in client.get(CUSTOMERS).json()["results"]] == [own.code]
    _link(user, flat, sms_outbox)
    for i in range(3):
        other = CustomerFactory(cin=f"XY{100000 + i}")
        CustomerLink.objects.create(user=user, customer=other, linked_at=clock.now())
    with django_assert_max_num_queries(8):
        response = client.get(CUSTOMERS)
    assert response.json()["count"] == 5


def test_401_without_token():
    assert_error(api_client().get(CUSTOMERS), 401, "not_authenticated")
    assert_error(api_client().post(LINKS, {}, format="json"), 401)


def test_start_refusals(landlord, flat):
    own, user = landlord
    client = api_client(user)
    body = assert_error(client.post(LINKS, {}, format="json"), 400, "invalid")
    assert set(body["fields"]) == {"customer_code", "identity"}
    assert_error(client.post(LINKS, {"customer_code": "12", "identity": "?"}, format="json"), 400, "invalid")
    assert_error(
        client.post(LINKS, {"customer_code": own.code, "identity": own.cin}, format="json"), 400, "link_own_code"
    )
    body = assert_error(
        client.post(LINKS, {"customer_code": flat.code, "identity": "ZZ999999"}, format="json"),
        400,
        "link_identity_mismatch",
    )
    assert body["message"].startswith("Code client ou CIN/ICE incorrect")
    assert_error(
        client.post(LINKS, {"customer_code": "999999999", "identity": "ZZ999999"}, format="json"),
        400,
        "link_identity_mismatch",
    )
    nophone = CustomerFactory(cin="GH222333")
    assert_error(
        client.post(LINKS, {"customer_code": nophone.code, "identity": "GH222333"}, format="json"),
        400,
        "link_no_sms_phone",
    )


def test_already_linked_and_another_accounts_token(landlord, flat, sms_outbox):
    _own, user = landlord
    client = api_client(user)
    pending = client.post(LINKS, {"customer_code": flat.code, "identity": flat.cin}, format="json").json()
    code = sms_outbox.last_code(to=FLAT_PHONE)
    _stranger, stranger_user = customer_with_account(phone="+212663000333", cin="EF111222")
    assert_error(
        api_client(stranger_user).post(CONFIRM, {"link_token": pending["link_token"], "otp": code}, format="json"),
        400,
        "link_request_expired",
    )
    assert client.post(CONFIRM, {"link_token": pending["link_token"], "otp": code}, format="json").status_code == 201
    assert_error(
        client.post(LINKS, {"customer_code": flat.code, "identity": flat.cin}, format="json"),
        400,
        "link_already_linked",
    )
    assert_error(
        client.post(CONFIRM, {"link_token": "abc", "otp": "123456"}, format="json"), 400, "link_request_expired"
    )


def test_resend_is_refused_within_the_minute(landlord, flat, sms_outbox):
    _own, user = landlord
    client = api_client(user)
    pending = client.post(LINKS, {"customer_code": flat.code, "identity": flat.cin}, format="json").json()
    body = assert_error(client.post(RESEND, {"link_token": pending["link_token"]}, format="json"), 400)
    assert "nouveau" in body["message"]


def test_identity_checks_throttled_429(landlord, flat):
    from rak_portal.throttling import IDENTITY_CHECKS_PER_TARGET

    client = api_client(landlord[1])
    for _ in range(IDENTITY_CHECKS_PER_TARGET):
        client.post(LINKS, {"customer_code": flat.code, "identity": "ZZ999999"}, format="json")
    response = client.post(LINKS, {"customer_code": flat.code, "identity": flat.cin}, format="json")
    assert_error(response, 429, "throttled")
    assert response["Retry-After"]


def test_per_account_throttle_429(landlord, monkeypatch):
    monkeypatch.setattr(links, "LINK_STARTS_PER_HOUR", 1)
    client = api_client(landlord[1])
    client.post(LINKS, {"customer_code": "999999990", "identity": "ZZ999999"}, format="json")
    assert_error(
        client.post(LINKS, {"customer_code": "999999991", "identity": "ZZ999998"}, format="json"), 429, "throttled"
    )


def test_rename_and_delete_a_link_and_404_for_another_accounts(landlord, flat, sms_outbox):
    _own, user = landlord
    link = _link(user, flat, sms_outbox)
    client = api_client(user)
    response = client.patch(f"{LINKS}{link.pk}/", {"label": "Garage"}, format="json")
    assert response.status_code == 200 and response.json()["label"] == "Garage"
    _other, other_user = customer_with_account(phone="+212666000666", cin="QR121212")
    stranger = api_client(other_user)
    assert_error(stranger.delete(f"{LINKS}{link.pk}/"), 404, "not_found")
    assert_error(stranger.patch(f"{LINKS}{link.pk}/", {"label": "x"}, format="json"), 404, "not_found")
    assert_error(client.delete(f"{LINKS}99999999999999999999999/"), 404, "not_found")
    assert client.delete(f"{LINKS}{link.pk}/").status_code == 204
    assert_error(client.delete(f"{LINKS}{link.pk}/"), 404, "not_found")
    assert CustomerLink.objects.get(pk=link.pk).unlinked_at is not None


@override_settings(ROOT_URLCONF=__name__)
def test_x_customer_code_acts_for_a_linked_code_only(landlord, flat, sms_outbox):
    own, user = landlord
    bill = bill_create(dossier=DossierFactory(customer=flat))
    link = _link(user, flat, sms_outbox)
    assert api_client(user).get("/api/v1/test-who/").json()["code"] == own.code
    acting = api_client(user, customer_code=flat.code).get("/api/v1/test-who/").json()
    assert acting["code"] == flat.code and bill.number in acting["bills"]
    stranger = CustomerFactory(cin="ST000111")
    assert_error(api_client(user, customer_code=stranger.code).get("/api/v1/test-who/"), 404, "not_found")
    assert_error(api_client(user, customer_code="1 OR 1=1").get("/api/v1/test-who/"), 404, "not_found")
    links.customer_link_unlink(link_id=link.pk, user=user, by=user, now=clock.now())
    assert_error(api_client(user, customer_code=flat.code).get("/api/v1/test-who/"), 404, "not_found")


def test_x_customer_code_on_the_bills_endpoint(landlord, flat, sms_outbox):
    """Another helper's customer-scoped endpoint (GET /api/v1/bills/) honours the header too."""
    _own, user = landlord
    bill = bill_create(dossier=DossierFactory(customer=flat))
    _link(user, flat, sms_outbox)
    own_numbers = str(api_client(user).get("/api/v1/bills/").json())
    assert bill.number not in own_numbers
    response = api_client(user, customer_code=flat.code).get("/api/v1/bills/")
    assert response.status_code == 200, response.content
    assert bill.number in str(response.json())
    stranger = CustomerFactory(cin="ST000222")
    assert_error(api_client(user, customer_code=stranger.code).get("/api/v1/bills/"), 404, "not_found")
