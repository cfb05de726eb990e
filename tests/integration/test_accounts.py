"""Portal account flows against the real database: login, « Créer mon compte », « Mot de passe
oublié », forced password change, profile, bell, logout, session lifetime."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from rak_base.models import Message, OneTimeCode
from rak_base.otp import otp_send
from rak_customer.models import ChangeRequest, Contact, ContactMessage, Customer, PortalAccount
from tests.factories import (
    TEST_PASSWORD,
    CompanyFactory,
    CustomerFactory,
    EmailFactory,
    PhoneFactory,
    StaffFactory,
    customer_with_account,
)

pytestmark = pytest.mark.django_db
User = get_user_model()


def last_message(to: str, kind: str | None = None) -> Message:
    qs = Message.objects.filter(recipient=to)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-id").first()


def password_from(message: Message) -> str:
    return re.search(r"mot de passe (\S+)\.", message.body).group(1)


def code_from(message: Message) -> str:
    return re.search(r"\b(\d{6})\b", message.body).group(1)


def login(client, username, password=TEST_PASSWORD, **extra):
    return client.post(reverse("portal:login"), {"username": username, "password": password}, **extra)


# --- home and public pages ------------------------------------------------------------------


def test_home_shows_login_contact_and_services(client):
    response = client.get("/")
    html = response.content.decode().replace("&#x27;", "'")
    assert response.status_code == 200
    assert "Connexion" in html and "Contactez-nous" in html
    for label in (
        "Envoyer une réclamation",
        "Demande d'abonnement",
        "Demande de branchement",
        "Simuler votre consommation",
        "Vérifier des documents",
        "Nos agences",
    ):
        assert label in html


def test_every_home_service_is_built_and_an_unknown_one_is_404(client):
    # « Envoyer une réclamation » was the last « bientôt disponible » tile (issue 11)
    response = client.get(reverse("portal:service", args=["reclamation"]))
    assert response.status_code == 200 and "Envoyer votre demande" in response.content.decode()
    assert client.get(reverse("portal:service", args=["inconnu"])).status_code == 404


def test_contact_form_is_stored_for_staff(client):
    response = client.post(
        reverse("portal:contact"),
        {
            "name": "Fatima Zahra Bennani",
            "email": "FZ@example.ma",
            "phone": "0612345678",
            "subject": "Facture",
            "body": "Je n'ai pas reçu ma facture.",
        },
    )
    assert response.status_code == 302
    message = ContactMessage.objects.get()
    assert message.email == "fz@example.ma" and message.phone == "+212612345678"
    assert message.status == ContactMessage.Status.NEW


def test_contact_form_rejects_bad_input_in_french(client):
    response = client.post(
        reverse("portal:contact"), {"name": "", "email": "pas-un-email", "subject": "x", "body": "y"}
    )
    html = response.content.decode().replace("&#x27;", "'")
    assert response.status_code == 400
    assert "Ce champ est obligatoire." in html and "Adresse e-mail invalide." in html
    assert ContactMessage.objects.count() == 0


# --- login --------------------------------------------------------------------------------------


@pytest.mark.parametrize("identifier", ["code", "email", "+212612345678", "06 12 34 56 78"])
def test_login_with_code_email_or_phone(client, identifier):
    customer, _ = customer_with_account(phone="+212612345678", email="amina@example.ma", phone_verified=True)
    username = {"code": customer.code, "email": "Amina@Example.ma"}.get(identifier, identifier)
    response = login(client, username)
    assert response.status_code == 302 and response["Location"] == reverse("portal:dashboard")
    dashboard = client.get(reverse("portal:dashboard"))
    assert customer.display_name in dashboard.content.decode().replace("&#x27;", "'")


def test_login_wrong_password_shows_seed_message(client):
    customer, _ = customer_with_account()
    response = login(client, customer.code, "mauvais")
    assert response.status_code == 401
    assert "Code client ou mot de passe incorrect" in response.content.decode().replace("&#x27;", "'")
    assert "_auth_user_id" not in client.session


def test_login_unknown_account_same_message(client):
    response = login(client, "999999999", "whatever")
    assert response.status_code == 401
    assert "Code client ou mot de passe incorrect" in response.content.decode().replace("&#x27;", "'")


def test_login_cycles_session_key(client):
    customer, _ = customer_with_account()
    client.get("/")
    client.session["probe"] = 1
    before = client.session.session_key
    login(client, customer.code)
    assert client.session.session_key != before


def test_account_locked_after_five_failures_even_with_right_password(client):
    customer, _ = customer_with_account(phone="+212612345678", phone_verified=True)
    for identifier in [customer.code, "0612345678", customer.code, "+212612345678", customer.code]:
        login(client, identifier, "mauvais")
    response = login(client, customer.code)
    assert response.status_code == 429
    assert "Trop de tentatives de connexion" in response.content.decode().replace("&#x27;", "'")
    assert "_auth_user_id" not in client.session


def test_ip_throttle_blocks_many_accounts_from_one_address(client, settings):
    settings.LOGIN_IP_FAILURE_LIMIT = 6
    customers = [customer_with_account(phone=f"+2126120000{i:02d}")[0] for i in range(4)]
    for customer in customers[:3]:
        for _ in range(2):
            login(client, customer.code, "mauvais")
    response = login(client, customers[3].code)
    assert response.status_code == 429
    assert "depuis votre connexion internet" in response.content.decode().replace("&#x27;", "'")
    other_ip = login(client, customers[3].code, REMOTE_ADDR="10.1.2.3")
    assert other_ip.status_code == 302


def test_staff_cannot_log_into_portal(client):
    staff = StaffFactory()
    response = login(client, staff.username)
    assert response.status_code == 401


def test_customer_pages_require_login(client):
    for name in ("portal:dashboard", "portal:profile", "portal:notifications"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith("/?next=")


# --- « Créer mon compte » ---------------------------------------------------------------------


def test_register_known_customer_known_phone_gets_password_by_sms(client):
    customer = CustomerFactory(cin="AB123456")
    PhoneFactory(customer=customer, value="+212661234578")
    response = client.post(
        reverse("portal:register_start"),
        {"identity": "ab 123456", "phone": "0661234578", "accept_terms": "on", "accept_data_processing": "on"},
        follow=True,
    )
    html = response.content.decode().replace("&#x27;", "'")
    assert "se terminant par 78" in html
    account = PortalAccount.objects.get(customer=customer)
    assert account.user.must_change_password and account.origin == PortalAccount.Origin.KNOWN_PHONE
    sms = last_message("+212661234578", "password")
    assert customer.code in sms.body and sms.user == account.user
    assert account.user.check_password(password_from(sms))


def test_register_twice_is_refused(client):
    customer, _ = customer_with_account(phone="+212661234578", cin="AB123456")
    response = client.post(
        reverse("portal:register_start"),
        {"identity": "AB123456", "phone": "0661234578", "accept_terms": "on", "accept_data_processing": "on"},
    )
    assert "Un compte existe déjà" in response.content.decode().replace("&#x27;", "'")


def test_register_known_customer_new_phone_needs_code_client_and_otp(client):
    customer = CustomerFactory(cin="AB123456")
    PhoneFactory(customer=customer, value="+212661234578")
    response = client.post(
        reverse("portal:register_start"),
        {"identity": "AB123456", "phone": "0700112233", "accept_terms": "on", "accept_data_processing": "on"},
    )
    assert response["Location"] == reverse("portal:register_new_phone")
    otp_sms = last_message("+212700112233", "otp")
    code = code_from(otp_sms)
    page = client.get(reverse("portal:register_new_phone")).content.decode().replace("&#x27;", "'")
    assert "se terminant par <strong>33</strong>" in page

    url = reverse("portal:register_new_phone")
    base = {"customer_code": customer.code, "otp": code, "accept_terms": "on", "accept_data_processing": "on"}
    refused = client.post(url, {**base, "accept_data_processing": ""})
    assert "traitement de vos données personnelles" in refused.content.decode().replace("&#x27;", "'")
    wrong_code = client.post(url, {**base, "customer_code": "100000000"})
    assert "Le code client ne correspond pas" in wrong_code.content.decode().replace("&#x27;", "'")
    wrong_otp = client.post(url, {**base, "otp": "000000" if code != "000000" else "111111"})
    assert "Il vous reste 4 essais" in wrong_otp.content.decode().replace("&#x27;", "'")

    response = client.post(url, base, follow=True)
    assert "se terminant par 33" in response.content.decode().replace("&#x27;", "'")
    account = PortalAccount.objects.get(customer=customer)
    assert account.origin == PortalAccount.Origin.NEW_PHONE
    assert account.terms_accepted_at and account.data_processing_accepted_at
    sms_contact = Contact.objects.get(customer=customer, is_sms=True)
    assert sms_contact.value == "+212700112233" and sms_contact.verified
    assert account.user.check_password(password_from(last_message("+212700112233", "password")))


def test_register_resend_too_early_is_refused_with_wait(client):
    customer = CustomerFactory(cin="AB123456")
    PhoneFactory(customer=customer, value="+212661234578")
    client.post(
        reverse("portal:register_start"),
        {"identity": "AB123456", "phone": "0700112233", "accept_terms": "on", "accept_data_processing": "on"},
    )
    response = client.post(reverse("portal:register_new_phone"), {"resend": "1"}, follow=True)
    assert "Vous pourrez en demander un nouveau dans" in response.content.decode().replace("&#x27;", "'")
    assert Message.objects.filter(recipient="+212700112233", kind="otp").count() == 1


def test_register_expired_otp_is_refused(client):
    customer = CustomerFactory(cin="AB123456")
    PhoneFactory(customer=customer, value="+212661234578")
    client.post(
        reverse("portal:register_start"),
        {"identity": "AB123456", "phone": "0700112233", "accept_terms": "on", "accept_data_processing": "on"},
    )
    code = code_from(last_message("+212700112233", "otp"))
    OneTimeCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.post(
        reverse("portal:register_new_phone"),
        {"customer_code": customer.code, "otp": code, "accept_terms": "on", "accept_data_processing": "on"},
    )
    assert "Ce code de confirmation a expiré" in response.content.decode().replace("&#x27;", "'")
    assert not PortalAccount.objects.exists()


def test_register_unknown_person_creates_prospect(client):
    response = client.post(
        reverse("portal:register_start"),
        {"identity": "GK998877", "phone": "0655443322", "accept_terms": "on", "accept_data_processing": "on"},
    )
    assert response["Location"] == reverse("portal:register_prospect")
    url = reverse("portal:register_prospect")
    missing = client.post(url, {"kind": "PARTICULIER", "accept_terms": "on", "accept_data_processing": "on"})
    assert "Veuillez indiquer votre nom." in missing.content.decode().replace("&#x27;", "'")
    response = client.post(
        url,
        {
            "kind": "PARTICULIER",
            "civility": "MME",
            "last_name": "El Idrissi",
            "first_name": "Khadija",
            "email": "khadija@example.ma",
            "accept_terms": "on",
            "accept_data_processing": "on",
        },
        follow=True,
    )
    assert "se terminant par 22" in response.content.decode().replace("&#x27;", "'")
    prospect = Customer.objects.get(cin="GK998877")
    assert prospect.status == Customer.Status.PROSPECT and prospect.code.isdigit()
    user = prospect.portal_account.user
    assert user.check_password(password_from(last_message("+212655443322", "password")))


def test_register_rejects_bad_identity_and_landline(client):
    response = client.post(
        reverse("portal:register_start"),
        {"identity": "123", "phone": "0537123456", "accept_terms": "on", "accept_data_processing": "on"},
    )
    html = response.content.decode().replace("&#x27;", "'")
    assert "Numéro ICE invalide" in html or "CIN invalide" in html
    assert "n'est pas un numéro de mobile" in html


def test_register_company_by_ice(client):
    company = CompanyFactory()
    PhoneFactory(customer=company, value="+212661000001")
    client.post(
        reverse("portal:register_start"),
        {"identity": company.ice, "phone": "0661000001", "accept_terms": "on", "accept_data_processing": "on"},
    )
    assert PortalAccount.objects.filter(customer=company).exists()


# --- « Mot de passe oublié » -------------------------------------------------------------------


def test_forgot_password_sends_new_password_by_sms(client):
    customer, user = customer_with_account(phone="+212612345678", cin="G123456")
    response = client.post(
        reverse("portal:forgot_password"), {"customer_code": customer.code, "identity": "g123456"}, follow=True
    )
    assert "se terminant par 78" in response.content.decode().replace("&#x27;", "'")
    received = password_from(last_message("+212612345678", "password"))
    assert login(client, customer.code, received).status_code == 302  # used: it becomes the password
    user.refresh_from_db()
    assert user.must_change_password
    assert user.check_password(received)
    assert not user.check_password(TEST_PASSWORD)


def test_forgot_password_by_email_when_no_phone(client):
    customer = CustomerFactory(cin="G123456")
    EmailFactory(customer=customer, value="sans.telephone@example.ma")
    response = client.post(
        reverse("portal:forgot_password"), {"customer_code": customer.code, "identity": "G123456"}, follow=True
    )
    assert "par e-mail" in response.content.decode().replace("&#x27;", "'")
    message = last_message("sans.telephone@example.ma", "password")
    assert message.channel == Message.Channel.EMAIL


def test_forgot_password_unknown_cin_is_refused(client):
    customer, _ = customer_with_account(cin="G123456")
    response = client.post(reverse("portal:forgot_password"), {"customer_code": customer.code, "identity": "G654321"})
    assert "Code client ou CIN/ICE incorrect" in response.content.decode().replace("&#x27;", "'")
    assert not Message.objects.filter(kind="password").exists()


def test_forgot_password_rate_limited(client):
    customer, _ = customer_with_account(phone="+212612345678", cin="G123456")
    for _ in range(3):
        client.post(reverse("portal:forgot_password"), {"customer_code": customer.code, "identity": "G123456"})
    response = client.post(reverse("portal:forgot_password"), {"customer_code": customer.code, "identity": "G123456"})
    assert "déjà été envoyé plusieurs fois" in response.content.decode().replace("&#x27;", "'")


# --- forced change, profile, bell, logout -----------------------------------------------------


def test_generated_password_must_be_changed_at_first_login(client):
    customer, user = customer_with_account(must_change=True)
    login(client, customer.code)
    response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 302 and response["Location"] == reverse("portal:password_first_change")
    weak = client.post(
        reverse("portal:password_first_change"),
        {"old_password": TEST_PASSWORD, "new_password1": "12345678", "new_password2": "12345678"},
    )
    assert weak.status_code == 200 and "entièrement numérique" in weak.content.decode().replace("&#x27;", "'")
    client.post(
        reverse("portal:password_first_change"),
        {
            "old_password": TEST_PASSWORD,
            "new_password1": "Sebou-Nouveau-9",
            "new_password2": "Sebou-Nouveau-9",
            "accept_terms": "on",  # an account opened by the staff accepts at its first login
            "accept_data_processing": "on",
        },
    )
    user.refresh_from_db()
    assert not user.must_change_password and user.check_password("Sebou-Nouveau-9")
    assert client.get(reverse("portal:dashboard")).status_code == 200


def test_profile_password_change_requires_current_password(client):
    customer, user = customer_with_account()
    login(client, customer.code)
    url = reverse("portal:profile_password")
    response = client.post(
        url, {"old_password": "faux", "new_password1": "Sebou-Nouveau-9", "new_password2": "Sebou-Nouveau-9"}
    )
    assert "Le mot de passe actuel est incorrect." in response.content.decode().replace("&#x27;", "'")
    client.post(
        url, {"old_password": TEST_PASSWORD, "new_password1": "Sebou-Nouveau-9", "new_password2": "Sebou-Nouveau-9"}
    )
    user.refresh_from_db()
    assert user.check_password("Sebou-Nouveau-9")
    assert "_auth_user_id" in client.session  # still logged in


def test_profile_phone_change_with_otp(client):
    customer, user = customer_with_account(phone="+212612345678")
    login(client, customer.code)
    client.post(reverse("portal:profile_phone"), {"phone": "0770998877"})
    code = code_from(last_message("+212770998877", "otp"))
    wrong = client.post(reverse("portal:profile_phone"), {"otp": "999999" if code != "999999" else "111111"})
    assert "Code de confirmation incorrect" in wrong.content.decode().replace("&#x27;", "'")
    client.post(reverse("portal:profile_phone"), {"otp": code})
    sms = Contact.objects.get(customer=customer, is_sms=True)
    assert sms.value == "+212770998877" and sms.verified
    notice = last_message("+212612345678", "security")
    assert notice is not None and "a été modifié" in notice.body


def test_profile_email_confirmation_link(client):
    customer, user = customer_with_account()
    login(client, customer.code)
    client.post(reverse("portal:profile_email"), {"email": "Nouvel.Email@example.ma"})
    message = last_message("nouvel.email@example.ma", "email_confirm")
    link = re.search(r"(/email/confirmer/\S+/)", message.body).group(1)
    client.post(reverse("portal:logout"))
    response = client.get(link)
    assert "Votre adresse e-mail est confirmée" in response.content.decode().replace("&#x27;", "'")
    assert Contact.objects.get(customer=customer, value="nouvel.email@example.ma").verified
    tampered = client.get(link[:-3] + "xx/")
    assert tampered.status_code == 400 and "invalide ou a expiré" in tampered.content.decode().replace("&#x27;", "'")


def test_profile_change_request_recorded_for_staff(client):
    customer, _ = customer_with_account()
    login(client, customer.code)
    client.post(
        reverse("portal:profile_change_request"),
        {"field": "IDENTITY", "requested_value": "ab 654321", "reason": "Nouvelle CIN"},
    )
    request = ChangeRequest.objects.get(customer=customer)
    assert request.requested_value == "AB654321" and request.status == ChangeRequest.Status.PENDING
    again = client.post(reverse("portal:profile_change_request"), {"field": "IDENTITY", "requested_value": "AB654322"})
    assert "déjà en cours" in again.content.decode().replace("&#x27;", "'")


def test_bell_lists_messages_and_counts_unread(client, django_assert_max_num_queries):
    customer, user = customer_with_account()
    login(client, customer.code)
    client.post(reverse("portal:forgot_password"), {"customer_code": customer.code, "identity": customer.cin})
    client.post(reverse("portal:logout"))
    user.must_change_password = False
    user.set_password(TEST_PASSWORD)
    user.save()
    login(client, customer.code)
    page = client.get(reverse("portal:dashboard")).content.decode().replace("&#x27;", "'")
    assert 'data-testid="unread-count">1<' in page
    with django_assert_max_num_queries(12):
        response = client.get(reverse("portal:notifications"))
    html = response.content.decode().replace("&#x27;", "'")
    assert "Un mot de passe vous a été envoyé." in html
    assert password_from(last_message(customer.contacts.get(is_sms=True).value, "password")) not in html
    assert 'data-testid="unread-count"' not in client.get(reverse("portal:dashboard")).content.decode().replace(
        "&#x27;", "'"
    )


def test_dashboard_query_count_does_not_grow_with_dossiers(client, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import DossierFactory

    customer, _ = customer_with_account()
    DossierFactory(customer=customer)
    login(client, customer.code)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("portal:dashboard"))
    for _ in range(5):
        DossierFactory(customer=customer)
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 200
    for dossier in customer.dossiers.all():
        assert dossier.number in response.content.decode()


def test_logout_requires_post_and_ends_session(client):
    customer, _ = customer_with_account()
    login(client, customer.code)
    assert client.get(reverse("portal:logout")).status_code == 405
    client.post(reverse("portal:logout"))
    assert client.get(reverse("portal:dashboard")).status_code == 302


def test_session_absolute_lifetime(client, settings):
    customer, _ = customer_with_account()
    login(client, customer.code)
    session = client.session
    session["rak_login_at"] = timezone.now().timestamp() - settings.SESSION_ABSOLUTE_SECONDS - 1
    session.save()
    response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_session_idle_timeout_is_30_minutes(settings):
    # slid at most once a minute, not saved on every request: tests/integration/test_session_refresh.py
    assert settings.SESSION_COOKIE_AGE == 30 * 60 and settings.SESSION_REFRESH_SECONDS == 60


def test_otp_messages_are_redacted_after_delivery(settings, tmp_path):
    from rak_base.outbox import message_deliver

    settings.SMS_DEV_FILE = tmp_path / "sms.log"
    otp_send(phone="+212612345678", purpose=OneTimeCode.Purpose.PHONE_CHANGE, now=timezone.now())
    message = last_message("+212612345678", "otp")
    code = code_from(message)
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == Message.Status.SENT and code not in message.body
    assert code in (tmp_path / "sms.log").read_text()
    assert not mail.outbox


def test_unknown_page_is_a_french_404(client):
    response = client.get("/nexiste-pas/")
    assert response.status_code == 404 and "Page introuvable" in response.content.decode()


def test_csrf_failure_is_explained_in_french():
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    response = csrf_client.post(reverse("portal:login"), {"username": "x", "password": "y"})
    assert response.status_code == 403
    assert "Votre formulaire a expiré" in response.content.decode()
