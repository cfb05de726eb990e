"""SMS pumping (issue 9: one anonymous session sent 25 OTPs to 25 numbers). Every endpoint that
makes the agency send an SMS counts per browser session and per client address
(rak_base.sms_limits), and a global hourly budget ([sms] hourly_budget, counted in
message_queue_sms) stops non-essential SMS (anonymous requests) with an alert to superviseur."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from rak_base.models import Message
from rak_base.outbox import message_queue_sms
from tests.factories import CustomerFactory, StaffFactory, customer_with_account

pytestmark = pytest.mark.django_db

SESSION_LIMIT = "Vous avez demandé trop de SMS"
IP_LIMIT = "Trop de SMS ont été demandés depuis votre connexion internet"
BUDGET = "L'envoi de SMS est momentanément limité"


def text(response) -> str:
    return response.content.decode().replace("&#x27;", "'").replace("&quot;", '"').replace("&#39;", "'")


def otp_count() -> int:
    return Message.objects.filter(kind="otp").count()


def register(client, identity: str, i: int, **extra):
    return client.post(
        reverse("portal:register_start"),
        {"identity": identity, "phone": f"0661{i:06d}", "accept_terms": "on", "accept_data_processing": "on"},
        follow=True,
        **extra,
    )


@pytest.fixture
def limits(settings):
    settings.SMS_PER_SESSION_HOURLY = 3
    settings.SMS_PER_IP_HOURLY = 5
    settings.SMS_HOURLY_BUDGET = 1000
    return settings


def test_one_session_cannot_send_otps_to_many_numbers(client, limits):
    customers = CustomerFactory.create_batch(6)
    responses = [register(client, customer.cin, i) for i, customer in enumerate(customers)]
    assert otp_count() == 3
    assert all(SESSION_LIMIT not in text(r) for r in responses[:3])
    assert all(SESSION_LIMIT in text(r) for r in responses[3:])


def test_new_sessions_from_one_address_are_limited_too(limits):
    customers = CustomerFactory.create_batch(8)
    responses = [register(Client(), c.cin, i, REMOTE_ADDR="203.0.113.7") for i, c in enumerate(customers[:7])]
    assert otp_count() == 5
    assert IP_LIMIT in text(responses[5]) and IP_LIMIT in text(responses[6])
    other_address = register(Client(), customers[7].cin, 99, REMOTE_ADDR="198.51.100.1")
    assert IP_LIMIT not in text(other_address) and otp_count() == 6


def test_forged_forwarded_header_does_not_reset_the_address_limit(limits):
    limits.TRUSTED_PROXIES = 0
    for i, customer in enumerate(CustomerFactory.create_batch(7)):
        register(Client(), customer.cin, i, REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}")
    assert otp_count() == 5


def test_subscription_otp_and_resend_are_limited_per_session(client, limits):
    importlib.import_module("rak_requests.migrations.0002_seed_request_types").seed(apps, None)
    url = reverse("portal:request_step", kwargs={"kind": "abonnement", "step": 1})
    person = {
        "kind": "PARTICULIER",
        "civility": "M",
        "last_name": "Alaoui",
        "first_name": "Youssef",
        "company_name": "",
        "identity": "GK 123456",
        "email": "youssef.alaoui@example.ma",
    }
    answers = [
        client.post(url, {**person, "phone": f"0661{i:06d}", "action": "verify" if i % 2 else "resend"}, follow=True)
        for i in range(5)
    ]
    assert otp_count() == 3
    assert SESSION_LIMIT in text(answers[3]) and SESSION_LIMIT in text(answers[4])


def test_profile_phone_change_is_limited_per_session(client, limits):
    customer, user = customer_with_account(phone="+212612345678")
    client.force_login(user, backend="rak_customer.auth.PortalBackend")
    for i in range(4):
        client.post(reverse("portal:profile_phone"), {"phone": f"0662{i:06d}"})
    assert otp_count() == 3
    response = client.post(reverse("portal:profile_phone_confirm"), follow=True)
    assert SESSION_LIMIT in text(response)
    assert otp_count() == 3


def supervisor(**kwargs):
    user = StaffFactory(**kwargs)
    user.groups.set(Group.objects.filter(name="superviseur"))
    return user


def test_hourly_budget_stops_anonymous_otps_and_alerts_superviseur_once(client, settings):
    settings.SMS_HOURLY_BUDGET = 3
    chief = supervisor(email="chef@rak.ma")
    for i in range(3):
        message_queue_sms(to=f"+21266100000{i}", body="Votre facture est disponible.", kind="bill")
    customer = CustomerFactory()

    refused = register(client, customer.cin, 1)
    assert BUDGET in text(refused)
    assert otp_count() == 0
    again = register(Client(), customer.cin, 2)
    assert BUDGET in text(again)

    bells = Message.objects.filter(user=chief, channel=Message.Channel.BELL)
    assert bells.count() == 1, "one alert per hour, not one per refused SMS"
    assert "budget" in bells.get().subject.lower()
    emails = Message.objects.filter(user=chief, channel=Message.Channel.EMAIL)
    assert emails.count() == 1 and emails.get().recipient == "chef@rak.ma"


def test_budget_reached_still_lets_essential_sms_through(client, settings):
    settings.SMS_HOURLY_BUDGET = 1
    message_queue_sms(to="+212661000000", body="Votre facture est disponible.", kind="bill")
    # forgot password: to the number on record, essential
    customer, _ = customer_with_account(phone="+212612345678")
    response = client.post(
        reverse("portal:forgot_password"), {"customer_code": customer.code, "identity": customer.cin}, follow=True
    )
    assert BUDGET not in text(response)
    assert Message.objects.filter(kind="password", recipient="+212612345678").count() == 1
    # a logged-in customer changing their number
    _, user = customer_with_account(phone="+212612345679")
    other = Client()
    other.force_login(user, backend="rak_customer.auth.PortalBackend")
    other.post(reverse("portal:profile_phone"), {"phone": "0662000001"})
    assert otp_count() == 1


def test_budget_reached_by_notices_alerts_superviseur_once(settings):
    settings.SMS_HOURLY_BUDGET = 2
    chief = supervisor(email="chef@rak.ma")
    for i in range(5):
        message_queue_sms(to=f"+21266100000{i}", body="Votre facture est disponible.", kind="bill")
    assert Message.objects.filter(kind="bill").count() == 5, "notices are counted, never refused"
    assert Message.objects.filter(user=chief, channel=Message.Channel.BELL).count() == 1
