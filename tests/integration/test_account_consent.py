"""Issue 9 §2: every path that creates a portal account asks for the two acceptances — the
« conditions d'utilisation » (or « conditions générales » of a subscription), linked to their text,
and the loi 09-08 personal-data consent — refuses without them, and records when they were given.

« Créer mon compte » with a CIN/ICE and the phone already on record created the account at once,
with no box at all (terms_accepted_at empty): that path now asks for both boxes too."""

from __future__ import annotations

import importlib
import re
from datetime import datetime

import pytest
from django.apps import apps
from django.urls import reverse

from rak_customer import services
from rak_customer.models import Customer, PortalAccount
from tests.factories import CustomerFactory, PhoneFactory
from tests.integration.test_subscription_filing import INFO, required_files, step, verified_step1

pytestmark = pytest.mark.django_db

ACCEPT = {"accept_terms": "on", "accept_data_processing": "on"}


def text(response) -> str:
    return response.content.decode().replace("&#x27;", "'").replace("&quot;", '"')


def asks_both_acceptances_linked_to_the_terms(page: str) -> None:
    assert 'name="accept_terms"' in page and 'type="checkbox"' in page
    assert 'name="accept_data_processing"' in page
    assert "loi 09-08" in page
    assert f'href="{reverse("portal:terms")}' in page  # the words « conditions … » open their text


def known_customer(cin="AB123456", phone="+212661234578"):
    customer = CustomerFactory(cin=cin)
    PhoneFactory(customer=customer, value=phone)
    return customer


def test_register_with_the_known_phone_asks_both_acceptances_and_records_them(client):
    customer = known_customer()
    url = reverse("portal:register_start")
    asks_both_acceptances_linked_to_the_terms(text(client.get(url)))

    refused = client.post(url, {"identity": "AB123456", "phone": "0661234578"})
    page = text(refused)
    assert "Vous devez accepter les conditions d'utilisation." in page
    assert "Vous devez donner votre accord au traitement de vos données personnelles." in page
    # the error summary links to the box with the label's words only: no link nested in its link
    assert (
        "<a href=\"#id_accept_terms\">J'accepte les conditions d'utilisation de l'agence en ligne : "
        "Vous devez accepter les conditions d'utilisation.</a>" in page
    )
    only_terms = client.post(url, {"identity": "AB123456", "phone": "0661234578", "accept_terms": "on"})
    assert "Vous devez donner votre accord au traitement de vos données personnelles." in text(only_terms)
    assert not PortalAccount.objects.exists()

    response = client.post(url, {"identity": "AB123456", "phone": "0661234578", **ACCEPT}, follow=True)
    assert "se terminant par 78" in text(response)
    account = PortalAccount.objects.get(customer=customer)
    assert account.origin == PortalAccount.Origin.KNOWN_PHONE
    assert account.terms_accepted_at is not None and account.data_processing_accepted_at is not None


@pytest.mark.parametrize(
    "accept_terms, accept_data_processing", [(False, False), (True, False), (False, True)], ids=str
)
def test_the_service_refuses_to_create_an_account_without_both_acceptances(accept_terms, accept_data_processing):
    known_customer()
    with pytest.raises(services.TermsNotAccepted) as refused:
        services.account_register_start(
            identity="AB123456",
            phone="0661234578",
            accept_terms=accept_terms,
            accept_data_processing=accept_data_processing,
            now=datetime.now().astimezone(),
        )
    assert "loi 09-08" in refused.value.message
    assert not PortalAccount.objects.exists()


def test_every_account_creation_path_asks_both_acceptances_linked_to_the_terms(client, sms_outbox):
    """The list of the paths that create a portal account: « Créer mon compte » (known phone, new
    phone with code client + OTP, unknown person → prospect form) and the subscription / connection
    request of a new person (step 4 « Valider » creates the prospect's account). The back office's
    « Renvoyer un mot de passe » creates no account."""
    known_customer()
    start = reverse("portal:register_start")
    asks_both_acceptances_linked_to_the_terms(text(client.get(start)))

    response = client.post(start, {"identity": "AB123456", "phone": "0700112233", **ACCEPT})
    assert response["Location"] == reverse("portal:register_new_phone")
    asks_both_acceptances_linked_to_the_terms(text(client.get(reverse("portal:register_new_phone"))))

    other = client.__class__()
    response = other.post(start, {"identity": "GK998877", "phone": "0655443322", **ACCEPT})
    assert response["Location"] == reverse("portal:register_prospect")
    asks_both_acceptances_linked_to_the_terms(text(other.get(reverse("portal:register_prospect"))))

    importlib.import_module("rak_requests.migrations.0002_seed_request_types").seed(apps, None)
    visitor = client.__class__()
    verified_step1(visitor, sms_outbox)
    visitor.post(step(2), {**INFO, "action": "next"})
    visitor.post(step(3), {**required_files(), "action": "next"})
    page = text(visitor.get(step(4)))
    asks_both_acceptances_linked_to_the_terms(page)
    assert "conditions générales" in page and f'href="{reverse("portal:terms")}#abonnement"' in page
    visitor.post(step(4), {**ACCEPT, "action": "submit"})
    account = PortalAccount.objects.get(customer=Customer.objects.get(cin="GK123456"))
    assert account.terms_accepted_at is not None and account.data_processing_accepted_at is not None


def test_an_account_created_by_forgot_password_asks_both_acceptances_at_first_login(client, sms_outbox):
    """« Mot de passe oublié » (code client + CIN) creates the account of a customer who has none —
    no box on that form, which also serves existing accounts: the acceptances are asked on the
    first-login page, with the new password, and recorded there."""
    customer = known_customer(cin="G123456", phone="+212612345678")
    client.post(reverse("portal:forgot_password"), {"customer_code": customer.code, "identity": "G123456"})
    account = PortalAccount.objects.get(customer=customer)
    assert account.origin == PortalAccount.Origin.PASSWORD_RESET and account.terms_accepted_at is None
    received = re.search(r"mot de passe (\S+)\.", sms_outbox.last("+212612345678").body).group(1)
    assert client.post(reverse("portal:login"), {"username": customer.code, "password": received}).status_code == 302

    url = reverse("portal:password_first_change")
    asks_both_acceptances_linked_to_the_terms(text(client.get(url)))
    new = {"old_password": received, "new_password1": "Gharb-Sebou-2026", "new_password2": "Gharb-Sebou-2026"}
    refused = client.post(url, new)
    assert "Vous devez accepter les conditions d'utilisation." in text(refused)
    account.refresh_from_db()
    assert account.user.must_change_password and account.terms_accepted_at is None

    assert client.post(url, {**new, **ACCEPT})["Location"] == reverse("portal:dashboard")
    account.refresh_from_db()
    assert not account.user.must_change_password
    assert account.terms_accepted_at is not None and account.data_processing_accepted_at is not None


def test_first_login_of_an_account_that_accepted_does_not_ask_again(client):
    customer = known_customer()
    client.post(reverse("portal:register_start"), {"identity": "AB123456", "phone": "0661234578", **ACCEPT})
    account = PortalAccount.objects.get(customer=customer)
    account.user.set_password("Recu-Par-Sms-1")
    account.user.save()
    client.force_login(account.user)
    page = text(client.get(reverse("portal:password_first_change")))
    assert 'name="old_password"' in page and 'name="accept_terms"' not in page
