"""« Demande d'abonnement » / « Demande de branchement » (public, 4 steps): a new person files
with OTP and attachments and gets a customer, an account, a numbered request and its receipt;
a known CIN is asked to log in; the OTP is required, checked and not resent too early; a
renamed .exe or a file of 2 MB + 1 byte is refused; « précédent » keeps what was entered; the
terms are required; a logged-in customer starts at step 2; receipts are the owner's only."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.urls import reverse

from rak_base.models import Document, Message
from rak_customer.models import Customer, PortalAccount
from rak_requests.models import RequestEvent, RequestType, ServiceRequest
from tests.factories import CustomerFactory, customer_with_account
from tests.request_factories import exe_renamed_pdf, oversized_pdf, pdf_upload

pytestmark = pytest.mark.django_db

PHONE = "+212661234567"
PERSON = {
    "kind": "PARTICULIER",
    "civility": "M",
    "last_name": "Alaoui",
    "first_name": "Youssef",
    "company_name": "",
    "identity": "GK 123456",
    "email": "youssef.alaoui@example.ma",
    "phone": "06 61 23 45 67",
}
INFO = {
    "services": ["EAU", "ELECTRICITE"],
    "address": "12 rue Tarik Ibn Ziad",
    "district": "Maamora",
    "city": "Kénitra",
    "usage": "DOMESTIQUE",
    "tariff_category_eau": "EAU_DOMESTIQUE",
    "tariff_category_electricite": "BT_DOMESTIQUE",
    "power_kva": "6",
    "caliber_mm": "15",
}


@pytest.fixture(autouse=True)
def _request_types(db):
    importlib.import_module("rak_requests.migrations.0002_seed_request_types").seed(apps, None)


def step(n: int, kind: str = "abonnement") -> str:
    return reverse("portal:request_step", kwargs={"kind": kind, "step": n})


def text(response) -> str:
    return response.content.decode().replace("&#x27;", "'").replace("&quot;", '"')


def verified_step1(client, sms_outbox, person=PERSON, kind="abonnement"):
    response = client.post(step(1, kind), {**person, "action": "verify"}, follow=True)
    assert "se terminant par 67" in text(response)
    code = sms_outbox.last_code(PHONE)
    response = client.post(step(1, kind), {**person, "otp": code, "action": "next"})
    assert response.status_code == 302 and response["Location"] == step(2, kind)


def required_files(kind="abonnement") -> dict:
    code = RequestType.Code.SUBSCRIPTION if kind == "abonnement" else RequestType.Code.CONNECTION
    rtype = RequestType.objects.get(code=code)
    return {f"doc_{d.code}": pdf_upload(f"{d.code}.pdf") for d in rtype.documents.filter(required=True)}


def test_new_person_files_a_subscription_in_4_steps(client, sms_outbox):
    response = client.get(reverse("portal:subscription"), follow=True)
    assert "Étape 1 : Saisie des informations personnelles" in text(response)
    verified_step1(client, sms_outbox)

    response = client.post(step(2), {**INFO, "action": "next"})
    assert response["Location"] == step(3)
    page = text(client.get(step(3)))
    assert "Titre de propriété ou contrat de bail" in page and "PDF" in page and "2 Mo" in page
    response = client.post(step(3), {**required_files(), "action": "next"})
    assert response["Location"] == step(4)

    review = text(client.get(step(4)))
    for expected in (
        "Alaoui",
        "GK123456",
        "12 rue Tarik Ibn Ziad",
        "Eau potable, Électricité",
        "6 kVA".replace(" kVA", ""),
    ):
        assert expected in review
    response = client.post(
        step(4), {"accept_terms": "on", "accept_data_processing": "on", "action": "submit"}, follow=True
    )
    page = text(response)
    assert response.status_code == 200

    customer = Customer.objects.get(cin="GK123456")
    assert customer.status == Customer.Status.PROSPECT
    assert PortalAccount.objects.filter(customer=customer).exists()
    request = ServiceRequest.objects.get(customer=customer)
    assert request.number.startswith("AB") and request.number.endswith("-000001")
    assert request.phase.name == "Recevabilité administrative" and request.phase_due_at is not None
    assert request.events.filter(kind=RequestEvent.Kind.FILED).count() == 1
    assert request.attachments.count() == 3
    assert request.receipt.kind == Document.Kind.REQUEST_RECEIPT
    assert request.data["services"] == ["EAU", "ELECTRICITE"] and request.data["phone"] == PHONE
    assert request.number in page and customer.code in page
    assert "se terminant par 67" in page  # the password went by SMS

    bodies = sms_outbox.bodies(PHONE)
    assert any("mot de passe" in b and customer.code in b for b in bodies)
    assert any(request.number in b and "prise en charge" in b for b in bodies)
    email = Message.objects.get(channel=Message.Channel.EMAIL, recipient="youssef.alaoui@example.ma")
    assert "Accusé de réception" in email.subject and request.number in email.subject

    pdf = client.get(reverse("portal:request_receipt_pdf", args=[request.number]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert not any((Path(settings.MEDIA_ROOT) / "staging").glob("*/*"))  # staging cleaned
    # the wizard starts over empty
    assert "Youssef" not in text(client.get(step(1)))


def test_known_cin_is_asked_to_log_in(client):
    CustomerFactory(cin="GK123456")
    response = client.post(step(1), {**PERSON, "action": "verify"})
    page = text(response)
    assert response.status_code == 400
    assert "Ce CIN/ICE existe déjà" in page and "vous connecter" in page
    assert reverse("portal:register_start") in page and "Créer mon compte" in page
    assert not Message.objects.filter(recipient=PHONE).exists()


def test_otp_required_wrong_and_resend_too_early(client, sms_outbox):
    response = client.post(step(1), {**PERSON, "action": "next"})
    assert "cliquez sur « vérifier »" in text(response)
    client.post(step(1), {**PERSON, "action": "verify"})
    response = client.post(
        step(1), {**PERSON, "otp": "000000" if sms_outbox.last_code(PHONE) != "000000" else "111111"}
    )
    assert "Code de confirmation incorrect" in text(response)
    assert client.get(step(2))["Location"] == step(1)  # cannot continue until verified
    response = client.post(step(1), {**PERSON, "action": "resend"})
    assert "Vous pourrez en demander un nouveau dans" in text(response)


def test_attachments_refused_by_content_and_size(client, sms_outbox):
    verified_step1(client, sms_outbox)
    client.post(step(2), {**INFO, "action": "next"})
    files = required_files()
    files["doc_cin"] = exe_renamed_pdf("cin.pdf")
    files["doc_titre_propriete"] = oversized_pdf()
    response = client.post(step(3), {**files, "action": "next"})
    page = text(response)
    assert response.status_code == 400
    assert "trop volumineux" in page and "2 Mo" in page
    assert "n'a pas pu être accepté" in page or "format" in page.lower()
    assert client.get(step(4))["Location"] == step(3)
    # the good one was kept between the attempts
    assert "Déjà joint : attestation_residence.pdf" in text(client.get(step(3)))


def test_previous_keeps_the_data_and_terms_are_required(client, sms_outbox):
    verified_step1(client, sms_outbox)
    client.post(step(2), {**INFO, "action": "next"})
    client.post(step(3), {**required_files(), "action": "next"})
    response = client.post(step(4), {"action": "previous"})
    assert response["Location"] == step(3)
    assert "Déjà joint : cin.pdf" in text(client.get(step(3)))
    client.post(step(3), {"action": "previous"})
    page = text(client.get(step(2)))
    assert "12 rue Tarik Ibn Ziad" in page and "Maamora" in page
    client.post(step(2), {"action": "previous"})
    page = text(client.get(step(1)))
    assert "Alaoui" in page and "youssef.alaoui@example.ma" in page

    client.post(step(2), {**INFO, "action": "next"})
    response = client.post(step(4), {"action": "submit"})
    assert response.status_code == 400
    assert "Vous devez accepter les conditions générales." in text(response)
    assert not ServiceRequest.objects.exists()


def test_logged_in_customer_starts_at_step_2_with_their_identity(client):
    customer, user = customer_with_account(phone="+212612000001", email="c@example.ma")
    client.force_login(user)
    assert client.get(reverse("portal:subscription"), follow=True).redirect_chain[-1][0] == step(2)
    assert customer.display_name in text(client.get(step(2)))
    client.post(step(2), {**INFO, "action": "next"})
    client.post(step(3), {**required_files(), "action": "next"})
    assert customer.code in text(client.get(step(4)))
    response = client.post(step(4), {"accept_terms": "on", "accept_data_processing": "on", "action": "submit"})
    request = ServiceRequest.objects.get()
    assert response["Location"] == reverse("portal:request_receipt", args=[request.number])
    assert request.customer == customer and Customer.objects.count() == 1
    assert not Message.objects.filter(kind="password").exists()
    detail = text(client.get(reverse("portal:request_detail", args=[request.number])))  # « Suivi des demandes »
    assert "Service(s) demandé(s)" in detail and "Eau potable, Électricité" in detail
    assert "services_labels" not in detail


def test_connection_request_has_its_own_fields(client, sms_outbox):
    verified_step1(client, sms_outbox, kind="branchement")
    page = text(client.get(step(2, "branchement")))
    assert "Type de construction" in page and "Nombre de logements" in page and "Description des travaux" in page
    info = {
        "services": ["ELECTRICITE"],
        "address": "Lot Al Wafa 45",
        "district": "Ouled Oujih",
        "city": "Kénitra",
        "building_type": "IMMEUBLE",
        "units": "4",
        "power_kva": "12",
        "works_description": "Immeuble R+3, 4 appartements",
        "action": "next",
    }
    assert client.post(step(2, "branchement"), info)["Location"] == step(3, "branchement")
    client.post(step(3, "branchement"), {**required_files("branchement"), "action": "next"})
    client.post(step(4, "branchement"), {"accept_terms": "on", "accept_data_processing": "on", "action": "submit"})
    request = ServiceRequest.objects.get()
    assert request.request_type.code == RequestType.Code.CONNECTION
    assert request.number.startswith("BR") and request.phase.name == "Étude technique"
    assert request.data["units"] == 4 and request.data["building_type_label"] == "Immeuble"


def test_receipt_of_another_customer_is_404(client, sms_outbox):
    verified_step1(client, sms_outbox)
    client.post(step(2), {**INFO, "action": "next"})
    client.post(step(3), {**required_files(), "action": "next"})
    client.post(step(4), {"accept_terms": "on", "accept_data_processing": "on", "action": "submit"})
    number = ServiceRequest.objects.get().number

    other, other_user = customer_with_account(phone="+212612000002")
    client.logout()
    assert client.get(reverse("portal:request_receipt", args=[number])).status_code == 404
    client.force_login(other_user)
    assert client.get(reverse("portal:request_receipt", args=[number])).status_code == 404
    assert client.get(reverse("portal:request_receipt_pdf", args=[number])).status_code == 404


def test_abandoned_staged_files_are_purged(client, sms_outbox):
    import os
    from io import StringIO

    from django.core.management import call_command

    verified_step1(client, sms_outbox)
    client.post(step(2), {**INFO, "action": "next"})
    client.post(step(3), {**required_files(), "action": "next"})
    staged = list((Path(settings.MEDIA_ROOT) / "staging").iterdir())
    assert len(staged) == 1
    call_command("requests_staging_purge", stdout=StringIO())
    assert staged[0].exists()  # still fresh
    os.utime(staged[0], (0, 0))
    call_command("requests_staging_purge", stdout=StringIO())
    assert not staged[0].exists()
