"""The account through the API: « Créer mon compte » (every branch), « Mot de passe oublié », the
first-login change, « Mon profil » (language, notices, password, phone, e-mail, change requests)
and the « appareils connectés »; each refusal (field errors, domain codes, throttles, wrong OTP)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from rak_base.models import Message, OneTimeCode
from rak_customer.device_models import Device
from rak_customer.models import ChangeRequest, Contact, Customer, PortalAccount
from tests.api_helpers import api_client, assert_error
from tests.factories import TEST_PASSWORD, CustomerFactory, DossierFactory, PhoneFactory, customer_with_account

pytestmark = pytest.mark.django_db

ACCEPT = {"accept_terms": True, "accept_data_processing": True}
NEW_PASSWORD = "Sebou-Nouveau-9"


def _last(to: str, kind: str) -> Message:
    return Message.objects.filter(recipient=to, kind=kind).order_by("-id").first()


def _code(to: str) -> str:
    return re.search(r"\b(\d{6})\b", _last(to, "otp").body).group(1)


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def _password_from(message: Message) -> str:
    return re.search(r"mot de passe (\S+)\.", message.body).group(1)


def _post(client, url, data):
    return client.post(url, data, format="json")


# --- « Créer mon compte » ----------------------------------------------------------------------

REGISTER = "/api/v1/account/register/"
NEW_PHONE = "/api/v1/account/register/new-phone/"
PROSPECT = "/api/v1/account/register/prospect/"
RESEND = "/api/v1/account/register/otp/resend/"


def test_register_known_customer_known_phone_creates_the_account():
    customer = CustomerFactory(cin="AB123456")
    PhoneFactory(customer=customer, value="+212661234578")
    response = _post(api_client(), REGISTER, {"identity": "ab 123456", "phone": "0661234578", **ACCEPT})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["outcome"] == "CREATED" and body["registration_token"] is None
    assert body["delivery"]["channel"] == "SMS" and body["delivery"]["hint"] == "78"
    assert "se terminant par 78" in body["delivery"]["message"]
    account = PortalAccount.objects.get(customer=customer)
    assert account.origin == PortalAccount.Origin.KNOWN_PHONE and account.terms_accepted_at
    assert account.user.check_password(_password_from(_last("+212661234578", "password")))
    # twice: refused with its code
    again = _post(api_client(), REGISTER, {"identity": "AB123456", "phone": "0661234578", **ACCEPT})
    assert_error(again, 400, "account_already_exists")


def test_register_known_customer_on_a_new_phone_needs_code_client_and_otp():
    customer = CustomerFactory(cin="AB123456")
    PhoneFactory(customer=customer, value="+212661234578")
    client = api_client()
    started = _post(client, REGISTER, {"identity": "AB123456", "phone": "0700112233", **ACCEPT}).json()
    assert started["outcome"] == "NEEDS_OTP" and started["phone_hint"] == "33" and started["delivery"] is None
    token, code = started["registration_token"], _code("+212700112233")
    base = {"registration_token": token, "customer_code": customer.code, "otp": code, **ACCEPT}

    assert_error(_post(client, NEW_PHONE, {**base, "accept_data_processing": False}), 400, "terms_not_accepted")
    assert_error(_post(client, NEW_PHONE, {**base, "customer_code": "100000000"}), 400, "customer_code_mismatch")
    body = assert_error(_post(client, NEW_PHONE, {**base, "otp": _wrong(code)}), 400, "otp_invalid")
    assert "Il vous reste 4 essais" in body["message"]
    assert_error(_post(client, NEW_PHONE, {**base, "registration_token": token + "x"}), 400, "registration_expired")
    assert_error(_post(client, RESEND, {"registration_token": token}), 400, "otp_resend_too_early")

    response = _post(client, NEW_PHONE, base)
    assert response.status_code == 201, response.content
    assert response.json()["delivery"]["hint"] == "33"
    account = PortalAccount.objects.get(customer=customer)
    assert account.origin == PortalAccount.Origin.NEW_PHONE
    assert Contact.objects.get(customer=customer, is_sms=True).value == "+212700112233"


def test_register_expired_otp_is_refused():
    customer = CustomerFactory(cin="AB123456")
    PhoneFactory(customer=customer, value="+212661234578")
    started = _post(api_client(), REGISTER, {"identity": "AB123456", "phone": "0700112233", **ACCEPT}).json()
    code = _code("+212700112233")
    OneTimeCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = _post(
        api_client(),
        NEW_PHONE,
        {"registration_token": started["registration_token"], "customer_code": customer.code, "otp": code, **ACCEPT},
    )
    assert_error(response, 400, "otp_expired")
    assert not PortalAccount.objects.exists()


def test_register_unknown_person_creates_a_prospect():
    client = api_client()
    started = _post(client, REGISTER, {"identity": "GK998877", "phone": "0655443322", **ACCEPT}).json()
    assert started["outcome"] == "UNKNOWN" and started["registration_token"]
    token = started["registration_token"]
    missing = assert_error(_post(client, PROSPECT, {"registration_token": token, **ACCEPT}), 400, "invalid")
    assert set(missing["fields"]) == {"last_name", "first_name"}
    # a NEEDS_OTP step cannot be replayed with this token, nor the other way round
    assert_error(
        _post(client, NEW_PHONE, {"registration_token": token, "customer_code": "1", "otp": "123456", **ACCEPT}),
        400,
        "registration_expired",
    )
    response = _post(
        client,
        PROSPECT,
        {
            "registration_token": token,
            "customer_kind": "PARTICULIER",
            "civility": "MME",
            "last_name": "El Idrissi",
            "first_name": "Khadija",
            "email": "khadija@example.ma",
            **ACCEPT,
        },
    )
    assert response.status_code == 201, response.content
    prospect = Customer.objects.get(cin="GK998877")
    assert prospect.status == Customer.Status.PROSPECT
    assert prospect.portal_account.user.check_password(_password_from(_last("+212655443322", "password")))


def test_register_input_errors_are_field_errors():
    body = assert_error(
        _post(api_client(), REGISTER, {"identity": "123", "phone": "0537123456", "accept_terms": "oui"}), 400, "invalid"
    )
    assert {"identity", "phone", "accept_terms", "accept_data_processing"} <= set(body["fields"])
    typed = assert_error(_post(api_client(), REGISTER, {"identity": 12345678, "phone": ["06"], **ACCEPT}), 400)
    assert {"identity", "phone"} <= set(typed["fields"])
    assert_error(
        _post(
            api_client(),
            REGISTER,
            {"identity": "AB123456", "phone": "0661234578", "accept_terms": False, "accept_data_processing": True},
        ),
        400,
        "terms_not_accepted",
    )


def test_register_arabic_digits_are_read_as_ascii():
    customer = CustomerFactory(cin="AB123456")
    PhoneFactory(customer=customer, value="+212661234578")
    response = _post(api_client(), REGISTER, {"identity": "AB١٢٣٤٥٦", "phone": "٠٦٦١٢٣٤٥٧٨", **ACCEPT})
    assert response.json()["outcome"] == "CREATED"


def test_register_identity_checks_are_throttled_per_cin():
    for _ in range(5):
        _post(api_client(), REGISTER, {"identity": "GK998877", "phone": "0655443322", **ACCEPT})
    body = assert_error(
        _post(api_client(), REGISTER, {"identity": "GK998877", "phone": "0655443322", **ACCEPT}), 429, "throttled"
    )
    assert "Trop de vérifications" in body["message"]


def test_register_sms_are_throttled_per_address(settings):
    settings.SMS_PER_IP_HOURLY = 1
    _post(api_client(), REGISTER, {"identity": "GK998877", "phone": "0655443322", **ACCEPT})
    response = _post(api_client(), REGISTER, {"identity": "GK998878", "phone": "0655443323", **ACCEPT})
    assert_error(response, 429, "throttled")
    assert response["Retry-After"]


# --- « Mot de passe oublié » -------------------------------------------------------------------

FORGOT = "/api/v1/account/password/forgot/"


def test_forgot_password_sends_a_password_that_signs_other_devices_out_once_used():
    customer, user = customer_with_account(phone="+212612345678", cin="G123456")
    old_device = api_client(user)
    response = _post(api_client(), FORGOT, {"customer_code": customer.code, "identity": "g 123456"})
    assert response.status_code == 200, response.content
    assert response.json()["delivery"]["hint"] == "78"
    # the current password still works, and the old device too, until the new one is used
    assert old_device.get("/api/v1/devices/").status_code == 200
    password = _password_from(_last("+212612345678", "password"))
    signed_in = _post(api_client(), "/api/v1/session/", {"username": customer.code, "password": password})
    assert signed_in.status_code == 201 and signed_in.json()["password_change_required"] is True
    assert_error(old_device.get("/api/v1/devices/"), 401, "token_invalid")


def test_forgot_password_refusals():
    customer, _user = customer_with_account(cin="G123456")
    wrong = _post(api_client(), FORGOT, {"customer_code": customer.code, "identity": "G654321"})
    assert_error(wrong, 400, "reset_identity_mismatch")
    assert not Message.objects.filter(kind="password").exists()
    assert_error(_post(api_client(), FORGOT, {"customer_code": customer.code}), 400, "invalid")
    for _ in range(3):
        _post(api_client(), FORGOT, {"customer_code": customer.code, "identity": "G123456"})
    assert_error(
        _post(api_client(), FORGOT, {"customer_code": customer.code, "identity": "G123456"}),
        400,
        "too_many_password_messages",
    )
    _post(api_client(), FORGOT, {"customer_code": customer.code, "identity": "G123456"})
    assert_error(_post(api_client(), FORGOT, {"customer_code": customer.code, "identity": "G123456"}), 429, "throttled")


# --- first login -------------------------------------------------------------------------------

FIRST = "/api/v1/account/password/first/"


def test_first_login_change_with_the_acceptances():
    customer, user = customer_with_account(must_change=True)
    other, client = api_client(user), api_client(user)
    assert_error(client.get("/api/v1/account/profile/"), 403, "password_change_required")
    info = client.get(FIRST).json()
    assert info["password_change_required"] is True and info["acceptance_required"] is True
    assert "conditions d'utilisation" in info["terms_label"] and info["terms_url"].endswith(
        "/conditions-d-utilisation/"
    )
    base = {"old_password": TEST_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    refused = assert_error(_post(client, FIRST, base), 400, "invalid")
    assert {"accept_terms", "accept_data_processing"} <= set(refused["fields"])
    same = assert_error(
        _post(client, FIRST, {**base, "new_password1": TEST_PASSWORD, "new_password2": TEST_PASSWORD, **ACCEPT}), 400
    )
    assert "différent du mot de passe reçu" in same["fields"]["new_password1"][0]["message"]
    weak = assert_error(
        _post(client, FIRST, {**base, "new_password1": "12345678", "new_password2": "12345678", **ACCEPT}), 400
    )
    assert "new_password1" in weak["fields"]
    response = _post(client, FIRST, {**base, **ACCEPT})
    assert response.status_code == 200, response.content
    user.refresh_from_db()
    assert not user.must_change_password and user.check_password(NEW_PASSWORD)
    assert PortalAccount.objects.get(user=user).terms_accepted_at
    assert client.get("/api/v1/account/profile/").status_code == 200
    assert_error(other.get("/api/v1/account/profile/"), 401, "token_invalid")  # the other device signed out
    assert_error(_post(client, FIRST, {**base, **ACCEPT}), 400, "password_already_changed")
    assert_error(api_client().get(FIRST), 401, "not_authenticated")


# --- profile -----------------------------------------------------------------------------------

PROFILE = "/api/v1/account/profile/"


def test_profile_shows_identity_contacts_and_dossiers(django_assert_max_num_queries):
    customer, user = customer_with_account(phone="+212612345678", email="salma@example.ma", phone_verified=True)
    for _ in range(3):
        DossierFactory(customer=customer)
    client = api_client(user)
    with django_assert_max_num_queries(12):
        response = client.get(PROFILE)
    body = response.json()
    assert body["code"] == customer.code and body["identity"] == customer.cin and body["identity_kind"] == "CIN"
    assert body["sms_phone"] == {"value": "+212612345678", "verified": True}
    assert body["email"] == {"value": "salma@example.ma", "verified": False}
    assert body["language"] == "fr" and body["sms_service_notices"] is True
    assert len(body["dossiers"]) == 3 and body["dossiers"][0]["meter_number"]
    assert_error(api_client().get(PROFILE), 401, "not_authenticated")
    assert_error(api_client(user, customer_code="999999999").get(PROFILE), 404, "not_found")


def test_language_and_notices():
    customer, user = customer_with_account()
    client = api_client(user)
    response = client.put("/api/v1/account/language/", {"language": "ar"}, format="json")
    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.language == "ar"
    assert_error(client.put("/api/v1/account/language/", {"language": "de"}, format="json"), 400, "invalid")
    response = client.put("/api/v1/account/notices/", {"sms_service_notices": False}, format="json")
    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.sms_service_notices is False
    assert_error(client.put("/api/v1/account/notices/", {"sms_service_notices": "non"}, format="json"), 400)
    assert_error(api_client().put("/api/v1/account/notices/", {"sms_service_notices": True}, format="json"), 401)


def test_password_change_signs_the_other_devices_out():
    customer, user = customer_with_account()
    client, other = api_client(user), api_client(user)
    url = "/api/v1/account/password/"
    wrong = _post(client, url, {"old_password": "faux", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert (
        "Le mot de passe actuel est incorrect."
        in assert_error(wrong, 400, "invalid")["fields"]["old_password"][0]["message"]
    )
    mismatch = _post(client, url, {"old_password": TEST_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": "x"})
    assert "new_password2" in assert_error(mismatch, 400)["fields"]
    response = _post(
        client, url, {"old_password": TEST_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert client.get(PROFILE).status_code == 200
    assert_error(other.get(PROFILE), 401, "token_invalid")
    revoked = Device.objects.get(pk=other.device_tokens.device.pk)
    assert revoked.revoked_reason == "mot de passe modifié" and revoked.revoked_by == user
    assert_error(_post(api_client(), url, {}), 401)


def test_phone_change_with_otp_and_a_signed_token():
    customer, user = customer_with_account(phone="+212612345678")
    client = api_client(user)
    assert_error(_post(client, "/api/v1/account/phone/", {"phone": "0537123456"}), 400, "invalid")
    started = _post(client, "/api/v1/account/phone/", {"phone": "0770998877"})
    assert started.status_code == 200, started.content
    token = started.json()["phone_change_token"]
    assert started.json()["phone_hint"] == "77"
    code = _code("+212770998877")
    confirm = "/api/v1/account/phone/confirm/"
    assert_error(_post(client, confirm, {"phone_change_token": token, "otp": _wrong(code)}), 400, "otp_invalid")
    assert_error(_post(client, confirm, {"phone_change_token": token + "x", "otp": code}), 400, "phone_change_expired")
    # another account cannot use this token
    _other_customer, other_user = customer_with_account(phone="+212612000999")
    assert_error(
        _post(api_client(other_user), confirm, {"phone_change_token": token, "otp": code}), 400, "phone_change_expired"
    )
    assert_error(
        _post(client, "/api/v1/account/phone/resend/", {"phone_change_token": token}), 400, "otp_resend_too_early"
    )
    assert _post(client, confirm, {"phone_change_token": token, "otp": code}).status_code == 200
    sms = Contact.objects.get(customer=customer, is_sms=True)
    assert sms.value == "+212770998877" and sms.verified
    assert "a été modifié" in _last("+212612345678", "security").body


def test_phone_change_sms_are_throttled_per_device(settings):
    settings.SMS_PER_SESSION_HOURLY = 1
    _customer, user = customer_with_account(phone="+212612345678")
    client = api_client(user)
    assert _post(client, "/api/v1/account/phone/", {"phone": "0770998877"}).status_code == 200
    assert_error(_post(client, "/api/v1/account/phone/", {"phone": "0770998866"}), 429, "throttled")


def test_current_phone_verification():
    customer, user = customer_with_account(phone="+212612345678")
    client = api_client(user)
    assert _post(client, "/api/v1/account/phone/verify/", {}).status_code == 200
    code = _code("+212612345678")
    url = "/api/v1/account/phone/verify/confirm/"
    assert_error(_post(client, url, {"otp": _wrong(code)}), 400, "otp_invalid")
    assert_error(_post(client, url, {"otp": "12"}), 400, "invalid")
    assert _post(client, url, {"otp": code}).status_code == 200
    assert Contact.objects.get(customer=customer, is_sms=True).verified


def test_email_confirmation_link_is_sent():
    customer, user = customer_with_account()
    client = api_client(user)
    response = _post(client, "/api/v1/account/email/", {"email": "Nouvel.Email@example.ma"})
    assert response.status_code == 202
    assert _last("nouvel.email@example.ma", "email_confirm") is not None
    assert_error(_post(client, "/api/v1/account/email/", {"email": "pas-un-email"}), 400, "invalid")


def test_change_requests_create_and_list(django_assert_max_num_queries):
    customer, user = customer_with_account()
    other, _ = customer_with_account(phone="+212612000999")
    ChangeRequest.objects.create(customer=other, field="NAME", current_value="x", requested_value="y")
    client = api_client(user)
    url = "/api/v1/account/change-requests/"
    created = _post(client, url, {"field": "IDENTITY", "requested_value": "ab 654321", "reason": "Nouvelle CIN"})
    assert created.status_code == 201, created.content
    assert created.json()["requested_value"] == "AB654321" and created.json()["status"] == "PENDING"
    assert_error(_post(client, url, {"field": "IDENTITY", "requested_value": "AB654322"}), 400, "account_error")
    assert_error(_post(client, url, {"field": "AGE", "requested_value": "x"}), 400, "invalid")
    _post(client, url, {"field": "NAME", "requested_value": "Salma Bennani"})
    with django_assert_max_num_queries(8):
        listed = client.get(url).json()
    assert listed["count"] == 2 and {r["field"] for r in listed["results"]} == {"IDENTITY", "NAME"}
    assert_error(api_client().get(url), 401)


# --- « appareils connectés » -------------------------------------------------------------------


def test_devices_list_marks_the_calling_device(django_assert_max_num_queries):
    customer, user = customer_with_account()
    phone, tablet = api_client(user), api_client(user)
    _other_customer, other_user = customer_with_account(phone="+212612000999")
    api_client(other_user)
    with django_assert_max_num_queries(8):
        body = phone.get("/api/v1/devices/").json()
    assert body["count"] == 2
    current = {d["id"]: d["current"] for d in body["results"]}
    assert current == {phone.device_tokens.device.pk: True, tablet.device_tokens.device.pk: False}
    assert body["results"][0]["platform"] == "ANDROID" and body["results"][0]["platform_label"] == "Android"
    assert_error(api_client().get("/api/v1/devices/"), 401, "not_authenticated")


def test_device_revoke():
    customer, user = customer_with_account()
    phone, tablet = api_client(user), api_client(user)
    _other_customer, other_user = customer_with_account(phone="+212612000999")
    stranger = api_client(other_user)
    assert_error(phone.delete(f"/api/v1/devices/{stranger.device_tokens.device.pk}/"), 404, "not_found")
    assert_error(phone.delete("/api/v1/devices/999999/"), 404, "not_found")
    assert stranger.get("/api/v1/devices/").status_code == 200
    assert phone.delete(f"/api/v1/devices/{tablet.device_tokens.device.pk}/").status_code == 204
    assert_error(tablet.get("/api/v1/devices/"), 401, "token_invalid")
    device = Device.objects.get(pk=tablet.device_tokens.device.pk)
    assert device.revoked_by == user and device.revoked_at
    assert_error(phone.delete(f"/api/v1/devices/{tablet.device_tokens.device.pk}/"), 404)  # already signed out
    assert_error(api_client().delete(f"/api/v1/devices/{phone.device_tokens.device.pk}/"), 401)


def test_messages_follow_the_request_language():
    _customer, user = customer_with_account()
    response = api_client(user, language="en").put("/api/v1/account/language/", {"language": "en"}, format="json")
    assert response.json()["message"] == "Your communication language has been saved."


def test_a_page_size_that_is_not_a_number_is_refused():
    _customer, user = customer_with_account()
    client = api_client(user)
    for url in ("/api/v1/devices/", "/api/v1/account/change-requests/"):
        body = assert_error(client.get(url, {"page_size": "null"}), 400, "invalid")
        assert "page_size" in body["fields"]
        assert client.get(url, {"page_size": "5"}).status_code == 200
