"""Issue 9 §1, the account findings, met the way a customer (or an attacker) meets them:

- one identifier, one account, one failure counter: a phone is a login identifier only once
  verified by OTP, and for one account only (a partial unique index, and the services say so);
- « Mot de passe oublié » and the CIN/ICE checks of « Créer mon compte » and of the subscription
  step 1 are throttled per address and per code client / CIN; a reset password waits until it is
  used (the old one works until then);
- « Créer mon compte » moving the SMS number to a new phone tells the old number and the e-mail;
- the first-login page asks for the received password, the new one and its confirmation."""

from __future__ import annotations

import importlib
import re

import pytest
from django.apps import apps
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from rak_base.models import Message
from rak_customer.models import Contact, Customer, PortalAccount
from rak_portal.throttling import IDENTITY_CHECKS_PER_IP, IDENTITY_CHECKS_PER_TARGET
from tests.factories import TEST_PASSWORD, CustomerFactory, EmailFactory, PhoneFactory, customer_with_account

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Gharb-Sebou-2026"  # noqa: S105 - test value


def text(response) -> str:
    return response.content.decode().replace("&#x27;", "'").replace("&quot;", '"')


def login(client, username, password=TEST_PASSWORD, **extra):
    return client.post(reverse("portal:login"), {"username": username, "password": password}, **extra)


def password_in(message: Message) -> str:
    return re.search(r"mot de passe (\S+)\.", message.body).group(1)


def last_sms(to: str, kind: str) -> Message:
    return Message.objects.filter(recipient=to, kind=kind).order_by("-id").first()


# --- 1. one identifier, one account, one counter ---------------------------------------------------


def test_stranger_phone_on_a_prospect_does_not_split_the_failure_counter(client):
    """The finding: a prospect registered (no OTP) with the victim's phone made the phone match two
    accounts, and each spelling of it got its own counter — 48 wrong passwords went through."""
    victim, _ = customer_with_account(phone="+212655443322", phone_verified=True)
    client.post(
        reverse("portal:register_start"),
        {"identity": "GK998877", "phone": "0655443322", "accept_terms": "on", "accept_data_processing": "on"},
    )
    client.post(
        reverse("portal:register_prospect"),
        {
            "kind": "PARTICULIER",
            "last_name": "Intrus",
            "first_name": "Ali",
            "accept_terms": "on",
            "accept_data_processing": "on",
        },
    )
    prospect = Customer.objects.get(cin="GK998877")
    assert PortalAccount.objects.filter(customer=prospect).exists()
    assert not Contact.objects.get(customer=prospect, kind="PHONE").verified  # no OTP: not a login phone

    spellings = ["0655443322", "+212655443322", "06 55 44 33 22", "+212 6 55 44 33 22", "06.55.44.33.22"]
    statuses = [login(client, spellings[i % len(spellings)], "mauvais").status_code for i in range(48)]
    # five wrong passwords checked whatever the spelling: four answered, the fifth locks the account
    assert statuses[:4] == [401] * 4
    assert set(statuses[4:]) == {429}
    response = login(client, victim.code)  # the right password, by code client: locked too
    assert response.status_code == 429 and "Trop de tentatives de connexion" in text(response)
    assert "_auth_user_id" not in client.session


def test_unverified_phone_does_not_log_in_until_confirmed_by_otp(client, sms_outbox):
    customer, _ = customer_with_account(phone="+212612345678")
    assert login(client, "0612345678").status_code == 401
    assert login(client, customer.code).status_code == 302
    assert "vous permet aussi de vous connecter" in text(client.get(reverse("portal:profile")))
    client.post(reverse("portal:profile_phone_confirm"))
    code = sms_outbox.last_code("+212612345678")
    client.post(reverse("portal:profile_phone_confirm"), {"otp": code}, follow=True)
    assert Contact.objects.get(customer=customer, kind="PHONE").verified
    client.post(reverse("portal:logout"))
    response = login(client, "06 12 34 56 78")
    assert response.status_code == 302 and response["Location"] == reverse("portal:dashboard")


def test_a_second_account_cannot_claim_a_verified_phone(client, sms_outbox):
    owner, _ = customer_with_account(phone="+212612345678", phone_verified=True)
    other, _ = customer_with_account(phone="+212612000001", cin="GB111222")
    login(client, other.code)

    # profile: « changer de numéro » to the owner's phone — refused before any code is sent
    response = client.post(reverse("portal:profile_phone"), {"phone": "06 12 34 56 78"})
    assert response.status_code == 400
    assert "déjà associé à un autre compte" in text(response)
    assert not sms_outbox.all("+212612345678")

    # « Créer mon compte » of a known customer on the owner's phone — refused before the OTP
    third = CustomerFactory(cin="GC333444")
    PhoneFactory(customer=third, value="+212612999999")
    client.post(reverse("portal:logout"))
    response = client.post(
        reverse("portal:register_start"),
        {"identity": "GC333444", "phone": "0612345678", "accept_terms": "on", "accept_data_processing": "on"},
    )
    assert "déjà associé à un autre compte" in text(response)
    assert not sms_outbox.all("+212612345678")
    assert not PortalAccount.objects.filter(customer=third).exists()

    # the phone still designates the owner only
    response = login(client, "+212612345678")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(owner.portal_account.user_id)

    # and the database refuses a second verified copy, whatever the path
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.filter(customer=other, kind="PHONE").update(value="+212612345678", verified_at=timezone.now())


def test_an_email_shared_by_two_accounts_logs_in_only_the_one_that_confirmed_it(client):
    """A family sharing one mailbox (or someone adding a stranger's address): the e-mail does not
    designate two accounts; the account that confirmed it by the link keeps it as a login."""
    first, _ = customer_with_account(phone="+212612000011", email="famille@example.ma")
    second, _ = customer_with_account(phone="+212612000012", email="famille@example.ma", cin="GE555666")
    assert login(client, "famille@example.ma").status_code == 401
    assert login(client, first.code).status_code == 302
    client.post(reverse("portal:profile_email"), {"email": "Famille@example.ma"})
    link = re.search(r"(/email/confirmer/\S+/)", last_sms("famille@example.ma", "email_confirm").body).group(1)
    client.post(reverse("portal:logout"))
    client.get(link)
    response = login(client, "FAMILLE@example.ma")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(first.portal_account.user_id)
    client.post(reverse("portal:logout"))
    for _ in range(5):  # wrong passwords by e-mail count on the first account's counter
        login(client, "Famille@Example.ma", "mauvais")
    assert login(client, first.code).status_code == 429
    assert login(client, second.code).status_code == 302


def test_a_phone_left_behind_stops_being_a_login_identifier(client, sms_outbox):
    """A number the customer moved away from can be taken by its next owner (operators recycle them)."""
    customer, _ = customer_with_account(phone="+212612345678", phone_verified=True)
    login(client, customer.code)
    client.post(reverse("portal:profile_phone"), {"phone": "0770998877"})
    client.post(reverse("portal:profile_phone"), {"otp": sms_outbox.last_code("+212770998877")})
    client.post(reverse("portal:logout"))
    assert login(client, "0612345678").status_code == 401
    assert login(client, "0770998877").status_code == 302


# --- 2. throttled identity checks; a reset password waits until used -----------------------------


def fresh(client):
    """An attacker keeps no cookie: each attempt is a new visitor (no per-session limit applies)."""
    client.cookies.clear()
    return client


def test_forgot_password_wrong_cins_are_throttled_per_code_client(client):
    customer, _ = customer_with_account(phone="+212612345678", cin="G123456")
    answers = []
    for i in range(40):
        fresh(client)
        response = client.post(
            reverse("portal:forgot_password"), {"customer_code": customer.code, "identity": f"G{200000 + i}"}
        )
        answers.append((response.status_code, "Code client ou CIN/ICE incorrect" in text(response)))
    assert answers[:IDENTITY_CHECKS_PER_TARGET] == [(200, True)] * IDENTITY_CHECKS_PER_TARGET
    assert set(answers[IDENTITY_CHECKS_PER_TARGET:]) == {(429, False)}
    refused = fresh(client).post(
        reverse("portal:forgot_password"), {"customer_code": customer.code, "identity": "G123456"}
    )
    assert refused.status_code == 429 and "Trop de vérifications" in text(refused)
    # from another address too: the code client itself is protected
    elsewhere = fresh(client).post(
        reverse("portal:forgot_password"),
        {"customer_code": customer.code, "identity": "G123456"},
        REMOTE_ADDR="192.0.2.44",
    )
    assert elsewhere.status_code == 429
    assert not Message.objects.filter(kind="password").exists()


def test_forgot_password_many_code_clients_from_one_address_are_throttled(client):
    statuses = [
        fresh(client)
        .post(reverse("portal:forgot_password"), {"customer_code": str(100_500_000 + i), "identity": f"G{400000 + i}"})
        .status_code
        for i in range(40)
    ]
    assert statuses.count(200) == IDENTITY_CHECKS_PER_IP
    assert set(statuses[IDENTITY_CHECKS_PER_IP:]) == {429}
    other = fresh(client).post(
        reverse("portal:forgot_password"),
        {"customer_code": "100600000", "identity": "G123456"},
        REMOTE_ADDR="192.0.2.9",
    )
    assert other.status_code == 200 and "Code client ou CIN/ICE incorrect" in text(other)


def test_register_cin_checks_are_throttled(client):
    statuses = [
        fresh(client)
        .post(
            reverse("portal:register_start"),
            {
                "identity": f"GK{300000 + i}",
                "phone": f"06612{i:05d}",
                "accept_terms": "on",
                "accept_data_processing": "on",
            },
        )
        .status_code
        for i in range(40)
    ]
    assert statuses.count(302) == IDENTITY_CHECKS_PER_IP  # each unknown CIN answered « prospect »
    assert set(statuses[IDENTITY_CHECKS_PER_IP:]) == {429}


def test_register_new_phone_wrong_code_clients_are_throttled(client, sms_outbox):
    customer = CustomerFactory(cin="AB123456")
    PhoneFactory(customer=customer, value="+212661234578")
    client.post(
        reverse("portal:register_start"),
        {"identity": "AB123456", "phone": "0700112233", "accept_terms": "on", "accept_data_processing": "on"},
    )
    code = sms_outbox.last_code("+212700112233")
    url = reverse("portal:register_new_phone")
    base = {"otp": code, "accept_terms": "on", "accept_data_processing": "on"}
    answers = [
        "Le code client ne correspond pas" in text(client.post(url, {**base, "customer_code": str(100_700_000 + i)}))
        for i in range(20)
    ]
    # the CIN was checked once at the first step: the rest of its budget goes to code clients
    assert answers.count(True) == IDENTITY_CHECKS_PER_TARGET - 1
    response = client.post(url, {**base, "customer_code": customer.code})
    assert response.status_code == 429 and "Trop de vérifications" in text(response)
    assert not PortalAccount.objects.filter(customer=customer).exists()


def test_subscription_step1_cin_checks_are_throttled(client):
    importlib.import_module("rak_requests.migrations.0002_seed_request_types").seed(apps, None)
    url = reverse("portal:request_step", kwargs={"kind": "abonnement", "step": 1})
    person = {
        "kind": "PARTICULIER",
        "civility": "M",
        "last_name": "Alaoui",
        "first_name": "Youssef",
        "email": "youssef@example.ma",
        "phone": "06 61 23 45 67",
        "action": "next",
    }
    CustomerFactory(cin="GK300039")
    answers = []
    for i in range(40):
        response = fresh(client).post(url, {**person, "identity": f"GK{300000 + i}"})
        answers.append((response.status_code, "Trop de vérifications" in text(response)))
    assert [a for a in answers if not a[1]] == answers[:IDENTITY_CHECKS_PER_IP]
    assert set(answers[IDENTITY_CHECKS_PER_IP:]) == {(429, True)}
    # the known CIN (the 40th) was never answered « existe déjà »
    assert all(status == 400 for status, _ in answers[:IDENTITY_CHECKS_PER_IP])


def test_subscription_step1_same_cin_posted_again_is_not_counted_again(client, sms_outbox):
    importlib.import_module("rak_requests.migrations.0002_seed_request_types").seed(apps, None)
    url = reverse("portal:request_step", kwargs={"kind": "abonnement", "step": 1})
    person = {
        "kind": "PARTICULIER",
        "civility": "M",
        "last_name": "Alaoui",
        "first_name": "Youssef",
        "identity": "GK 123456",
        "email": "youssef@example.ma",
        "phone": "06 61 23 45 67",
    }
    for _ in range(IDENTITY_CHECKS_PER_TARGET + 3):  # « suivant » without the code, again and again
        response = client.post(url, {**person, "action": "next"})
        assert response.status_code == 400 and "Trop de vérifications" not in text(response)
    client.post(url, {**person, "action": "verify"})
    response = client.post(url, {**person, "otp": sms_outbox.last_code("+212661234567"), "action": "next"})
    assert response.status_code == 302


def test_reset_password_waits_until_used_and_the_old_one_works_meanwhile(client):
    customer, user = customer_with_account(phone="+212612345678", cin="G123456")
    assert "Votre mot de passe actuel reste valable" in text(client.get(reverse("portal:forgot_password")))
    response = client.post(
        reverse("portal:forgot_password"), {"customer_code": customer.code, "identity": "G123456"}, follow=True
    )
    assert "se terminant par 78" in text(response)
    received = password_in(last_sms("+212612345678", "password"))

    # someone else asked for it? the customer's own password still works, nothing forced
    assert login(client, customer.code).status_code == 302
    assert client.get(reverse("portal:dashboard")).status_code == 200
    client.post(reverse("portal:logout"))

    # the received password, used: it becomes the password, to be changed at once
    response = login(client, customer.code, received)
    assert response.status_code == 302
    assert client.get(reverse("portal:dashboard"))["Location"] == reverse("portal:password_first_change")
    client.post(reverse("portal:logout"))
    user.refresh_from_db()
    assert user.check_password(received) and user.must_change_password

    # the old one has stopped working
    assert login(client, customer.code).status_code == 401


def test_changing_the_password_drops_a_pending_reset(client):
    customer, user = customer_with_account(phone="+212612345678", cin="G123456")
    client.post(reverse("portal:forgot_password"), {"customer_code": customer.code, "identity": "G123456"})
    received = password_in(last_sms("+212612345678", "password"))
    login(client, customer.code)
    client.post(
        reverse("portal:profile_password"),
        {"old_password": TEST_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    client.post(reverse("portal:logout"))
    assert login(client, customer.code, received).status_code == 401
    assert login(client, customer.code, NEW_PASSWORD).status_code == 302


# --- 3. the SMS number moved by « Créer mon compte » ------------------------------------------------


def test_register_on_a_new_phone_tells_the_old_number_and_the_email(client, sms_outbox):
    customer = CustomerFactory(cin="AB123456")
    PhoneFactory(customer=customer, value="+212661234578")
    EmailFactory(customer=customer, value="salma@example.ma")
    client.post(
        reverse("portal:register_start"),
        {"identity": "AB123456", "phone": "0700112233", "accept_terms": "on", "accept_data_processing": "on"},
    )
    code = sms_outbox.last_code("+212700112233")
    client.post(
        reverse("portal:register_new_phone"),
        {"customer_code": customer.code, "otp": code, "accept_terms": "on", "accept_data_processing": "on"},
    )
    assert PortalAccount.objects.filter(customer=customer).exists()

    notice = last_sms("+212661234578", "security")
    assert notice is not None
    assert "se terminant par 33" in notice.body
    assert "CRC" in notice.body and "agence" in notice.body

    email = Message.objects.get(recipient="salma@example.ma", kind="security")
    assert email.channel == Message.Channel.EMAIL
    assert "se terminant par 33" in email.body and "78" in email.body
    assert "CRC" in email.body and "agence" in email.body
    assert email.event and email.event == notice.event


def test_register_on_the_phone_already_on_record_tells_nobody(client, sms_outbox):
    customer = CustomerFactory(cin="AB123456")
    PhoneFactory(customer=customer, value="+212661234578")
    EmailFactory(customer=customer, value="salma@example.ma")
    client.post(
        reverse("portal:register_start"),
        {"identity": "AB123456", "phone": "0661234578", "accept_terms": "on", "accept_data_processing": "on"},
    )
    assert PortalAccount.objects.filter(customer=customer).exists()
    assert not Message.objects.filter(kind="security").exists()


# --- 4. first login: received password, new, confirmation -----------------------------------------


def test_first_login_page_has_three_fields_and_refuses_the_received_password(client):
    customer, user = customer_with_account(must_change=True)
    login(client, customer.code)
    url = reverse("portal:password_first_change")
    page = text(client.get(url))
    assert page.count('type="password"') == 3
    assert "Mot de passe reçu" in page and "Nouveau mot de passe" in page and "Confirmation" in page

    reused = client.post(
        url, {"old_password": TEST_PASSWORD, "new_password1": TEST_PASSWORD, "new_password2": TEST_PASSWORD}
    )
    assert reused.status_code == 200 and "différent du mot de passe reçu" in text(reused)
    wrong = client.post(
        url, {"old_password": "pas-le-bon", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert "Le mot de passe reçu est incorrect" in text(wrong)
    user.refresh_from_db()
    assert user.must_change_password and user.check_password(TEST_PASSWORD)

    response = client.post(
        url,
        {
            "old_password": TEST_PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
            "accept_terms": "on",  # an account opened by the staff accepts at its first login
            "accept_data_processing": "on",
        },
    )
    assert response["Location"] == reverse("portal:dashboard")
    user.refresh_from_db()
    assert not user.must_change_password and user.check_password(NEW_PASSWORD)


@pytest.mark.django_db(transaction=True)
def test_two_customers_verifying_the_same_phone_at_once_one_wins():
    """On real threads: both pass the service check (neither sees the other's uncommitted row);
    the partial unique index lets one commit and the other gets the French refusal."""
    import threading

    from django.db import connection

    from rak_base import clock
    from rak_customer import services

    first = CustomerFactory(cin="GD100001")
    second = CustomerFactory(cin="GD100002")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def claim(customer):
        try:
            with transaction.atomic():
                services._check_phone_free(customer=customer, phone="+212612345678")
                barrier.wait(timeout=10)  # both checked before either writes
                services._set_sms_phone(customer=customer, phone="+212612345678", now=clock.now())
            outcomes.append("ok")
        except services.PhoneAlreadyUsed as exc:
            outcomes.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(c,)) for c in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes)[1] == "ok" and "déjà associé à un autre compte" in sorted(outcomes)[0]
    assert Contact.objects.filter(value="+212612345678", verified_at__isnull=False).count() == 1
