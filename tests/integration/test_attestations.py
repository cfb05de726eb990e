"""« Demande d'attestations » (seed 000): type + dossier → « Générer » → « Voir »: a real PDF with a
reference code and a QR code, registered so that « Vérifier des documents » proves it authentic;
the generation is a request of type ATTESTATION accepted at once (« Suivi des demandes »). Each
refusal has its French message; another customer's dossier or attestation is refused / 404; the
generation is throttled."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfReader

from rak_base.documents import document_verify, reference_display
from rak_base.models import Document, Message
from rak_billing.models import MeterReading
from rak_customer.models import Dossier
from rak_requests.kinds import attestation as attestation_kind
from rak_requests.kinds.attestation import (
    AttestationDossierNotFound,
    AttestationType,
    DossierNotTerminated,
    DossierTerminated,
    NoReadings,
    TooManyAttestations,
    attestation_generate,
)
from rak_requests.models import RequestEvent, ServiceRequest
from tests.factories import DossierFactory, customer_with_account
from tests.reading_factories import MeterReadingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def account():
    return customer_with_account(phone="+212612000210", email="hind@example.ma", first_name="Hind", last_name="Tazi")


@pytest.fixture
def customer(account):
    return account[0]


@pytest.fixture
def logged(client, account):
    client.force_login(account[1])
    return client


def flat(text: str) -> str:
    return " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split())


def pdf_text(data: bytes) -> str:
    return flat("\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages))


def page_text(response) -> str:
    return flat(response.content.decode().replace("&#x27;", "'").replace("&laquo;", "«").replace("&raquo;", "»"))


def _read(dossier, day, index, consumption=None, status=MeterReading.Status.ACCEPTED):
    return MeterReadingFactory(
        dossier=dossier,
        reading_date=day,
        index=Decimal(index),
        consumption=None if consumption is None else Decimal(consumption),
        status=status,
    )


# --- generation and verification --------------------------------------------------------------------


def test_subscription_attestation_is_a_registered_pdf_that_the_verification_page_proves_authentic(
    customer, client, now
):
    dossier = DossierFactory(customer=customer, start_date=datetime.date(2019, 3, 14))

    generated = attestation_generate(
        customer=customer, attestation_type=AttestationType.SUBSCRIPTION, dossier_number=dossier.number, now=now
    )

    request = generated.request
    assert request.request_type.code == "ATTESTATION"
    assert request.status == ServiceRequest.Status.ACCEPTEE and request.processed_at == now
    assert list(request.dossiers.all()) == [dossier]
    assert request.events.filter(kind=RequestEvent.Kind.ACCEPTED, actor_kind=RequestEvent.Actor.SYSTEM).exists()
    document = generated.document
    assert document.kind == Document.Kind.ATTESTATION and document.revoked_at is None
    pdf = document.file.open("rb").read()
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    assert "ATTESTATION D'ABONNEMENT" in text
    assert "Hind Tazi" in text and dossier.number in text
    assert "depuis le 14 mars 2019" in text  # French date through Django's localisation
    assert "Dépôt de garantie versé : 250,00 DH" in text  # rak_base.money
    assert reference_display(document.reference) in text
    assert request.data["reference"] == document.reference
    # immediate: no receipt of filing, no « accusé de réception » by SMS or e-mail
    assert request.receipt_id is None
    assert not Message.objects.filter(channel__in=[Message.Channel.SMS, Message.Channel.EMAIL]).exists()

    assert document_verify(document.reference, pdf).authentic
    page = client.post(
        reverse("portal:verify"),
        {
            "reference": reference_display(document.reference),
            "file": SimpleUploadedFile("attestation.pdf", pdf, content_type="application/pdf"),
        },
    )
    html = page_text(page)
    assert "Document authentique" in html
    assert "Le fichier joint est identique au document émis." in html
    assert "Attestation d'abonnement — dossier" in html


def test_consumption_history_lists_the_accepted_readings(customer, now):
    dossier = DossierFactory(customer=customer)
    _read(dossier, datetime.date(2025, 12, 4), 1200)
    _read(dossier, datetime.date(2026, 1, 5), 1234, consumption=34)
    _read(dossier, datetime.date(2026, 2, 4), 1999, consumption=765, status=MeterReading.Status.HELD)

    generated = attestation_generate(
        customer=customer, attestation_type=AttestationType.CONSUMPTION, dossier_number=dossier.number, now=now
    )

    text = pdf_text(generated.document.file.open("rb").read())
    assert "HISTORIQUE DE CONSOMMATION" in text
    assert "certifie les relevés d'index validés du dossier" in text and "(2 derniers relevés)" in text
    assert "05/01/2026 1 234 34" in text
    assert "04/12/2025 1 200" in text
    assert "1 999" not in text  # a reading held for checking is not attested


def test_termination_attestation_for_a_terminated_dossier(customer, now):
    dossier = DossierFactory(customer=customer, status=Dossier.Status.TERMINATED, end_date=datetime.date(2026, 2, 27))

    generated = attestation_generate(
        customer=customer, attestation_type=AttestationType.TERMINATION, dossier_number=dossier.number, now=now
    )

    text = pdf_text(generated.document.file.open("rb").read())
    assert "ATTESTATION DE RÉSILIATION" in text
    assert "a été résilié le 27 février 2026" in text


# --- refusals ---------------------------------------------------------------------------------------


def test_no_termination_attestation_for_an_active_dossier(customer, now):
    dossier = DossierFactory(customer=customer)

    with pytest.raises(DossierNotTerminated) as refused:
        attestation_generate(
            customer=customer, attestation_type=AttestationType.TERMINATION, dossier_number=dossier.number, now=now
        )

    assert refused.value.message == (
        f"Le dossier {dossier.number} n'est pas résilié (statut : actif) : l'attestation de résiliation n'est "
        "délivrée que pour un dossier résilié."
    )
    assert not ServiceRequest.objects.exists() and not Document.objects.exists()


def test_no_subscription_attestation_for_a_terminated_dossier(customer, now):
    dossier = DossierFactory(customer=customer, status=Dossier.Status.TERMINATED, end_date=datetime.date(2025, 6, 30))

    with pytest.raises(DossierTerminated) as refused:
        attestation_generate(
            customer=customer, attestation_type=AttestationType.SUBSCRIPTION, dossier_number=dossier.number, now=now
        )

    assert f"Le dossier {dossier.number} est résilié depuis le 30/06/2025" in refused.value.message
    assert "Choisissez « Attestation de résiliation »" in refused.value.message
    assert not ServiceRequest.objects.exists()


def test_no_consumption_history_without_a_reading(customer, now):
    dossier = DossierFactory(customer=customer)
    _read(dossier, datetime.date(2026, 2, 4), 1999, status=MeterReading.Status.HELD)

    with pytest.raises(NoReadings) as refused:
        attestation_generate(
            customer=customer, attestation_type=AttestationType.CONSUMPTION, dossier_number=dossier.number, now=now
        )

    assert refused.value.message == (
        f"Aucun relevé n'est enregistré pour le dossier {dossier.number} : l'historique de consommation ne peut "
        "pas être généré."
    )
    assert not ServiceRequest.objects.exists()


def test_another_customers_dossier_is_refused(customer, now):
    other = DossierFactory()

    with pytest.raises(AttestationDossierNotFound) as refused:
        attestation_generate(
            customer=customer, attestation_type=AttestationType.SUBSCRIPTION, dossier_number=other.number, now=now
        )

    assert "Dossier introuvable" in refused.value.message
    assert not ServiceRequest.objects.exists() and not Document.objects.exists()


def test_generation_is_throttled_per_customer(customer, now, monkeypatch):
    monkeypatch.setattr(attestation_kind, "DAILY_LIMIT", 2)
    dossier = DossierFactory(customer=customer)
    for minutes in (0, 1):
        attestation_generate(
            customer=customer,
            attestation_type=AttestationType.SUBSCRIPTION,
            dossier_number=dossier.number,
            now=now + datetime.timedelta(minutes=minutes),
        )

    with pytest.raises(TooManyAttestations) as refused:
        attestation_generate(
            customer=customer,
            attestation_type=AttestationType.SUBSCRIPTION,
            dossier_number=dossier.number,
            now=now + datetime.timedelta(minutes=2),
        )

    assert "Vous avez déjà généré 2 attestations au cours des dernières 24 heures" in refused.value.message
    assert Document.objects.filter(kind=Document.Kind.ATTESTATION).count() == 2
    # the next day the customer may generate again
    attestation_generate(
        customer=customer,
        attestation_type=AttestationType.SUBSCRIPTION,
        dossier_number=dossier.number,
        now=now + datetime.timedelta(hours=25),
    )


# --- the portal page --------------------------------------------------------------------------------


def test_page_generates_then_lists_the_attestation_with_voir(logged, customer):
    dossier = DossierFactory(customer=customer)
    url = reverse("portal:attestations")
    page = logged.get(url)
    html = page_text(page)
    assert page.status_code == 200
    assert "Demande d'attestation" in html
    assert "Attestation d'abonnement" in html and "Historique de consommation (relevés)" in html
    assert "Attestation de résiliation" in html
    assert dossier.number in html

    response = logged.post(url, {"attestation_type": "ABONNEMENT", "dossier_number": dossier.number}, follow=True)

    html = page_text(response)
    request = ServiceRequest.objects.get(customer=customer)
    assert f"Votre attestation n° {request.number} a été générée" in html
    assert html.count('data-testid="attestation-row"') == 1
    document = Document.objects.get(kind=Document.Kind.ATTESTATION)
    assert reference_display(document.reference) in html
    pdf_url = reverse("portal:attestation_pdf", args=[request.number])
    assert pdf_url in html

    pdf = logged.get(pdf_url)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")
    assert "inline" in pdf["Content-Disposition"]

    tracking = page_text(logged.get(reverse("portal:requests")))
    assert request.number in tracking and "Demande d'attestation" in tracking and "Accepté" in tracking
    detail = page_text(logged.get(reverse("portal:request_detail", args=[request.number])))
    assert "Type d'attestation" in detail and "Attestation d'abonnement" in detail
    assert f"Attestation générée : code de référence {reference_display(document.reference)}" in detail
    assert "Annuler la demande" not in detail


@pytest.mark.parametrize(
    ("kind", "status", "message"),
    [
        ("RESILIATION", Dossier.Status.ACTIVE, "n'est pas résilié (statut : actif)"),
        ("ABONNEMENT", Dossier.Status.TERMINATED, "Choisissez « Attestation de résiliation »"),
        ("CONSOMMATION", Dossier.Status.ACTIVE, "l'historique de consommation ne peut pas être généré"),
    ],
)
def test_page_shows_each_refusal_in_french(logged, customer, kind, status, message):
    dossier = DossierFactory(customer=customer, status=status)

    response = logged.post(reverse("portal:attestations"), {"attestation_type": kind, "dossier_number": dossier.number})

    assert response.status_code == 400
    assert message in page_text(response)
    assert not ServiceRequest.objects.exists()


def test_page_refuses_another_customers_dossier_and_an_empty_choice(logged, customer):
    DossierFactory(customer=customer)
    other = DossierFactory()

    response = logged.post(
        reverse("portal:attestations"), {"attestation_type": "ABONNEMENT", "dossier_number": other.number}
    )
    assert response.status_code == 400
    assert "Dossier introuvable : choisissez l'un de vos dossiers d'abonnement." in page_text(response)

    response = logged.post(reverse("portal:attestations"), {"attestation_type": "", "dossier_number": ""})
    html = page_text(response)
    assert "Choisissez le type d'attestation." in html and "Choisissez le dossier d'abonnement." in html
    assert not ServiceRequest.objects.exists()


def test_voir_of_another_customers_attestation_is_a_404(logged, now):
    stranger = customer_with_account(phone="+212612000211")[0]
    dossier = DossierFactory(customer=stranger)
    theirs = attestation_generate(
        customer=stranger, attestation_type=AttestationType.SUBSCRIPTION, dossier_number=dossier.number, now=now
    )

    assert logged.get(reverse("portal:attestation_pdf", args=[theirs.request.number])).status_code == 404
    assert logged.get(reverse("portal:attestation_pdf", args=["AT2026-999999"])).status_code == 404


def test_attestation_list_query_count_does_not_grow(logged, customer, now, django_assert_max_num_queries):
    dossier = DossierFactory(customer=customer)
    for minutes in range(4):
        attestation_generate(
            customer=customer,
            attestation_type=AttestationType.SUBSCRIPTION,
            dossier_number=dossier.number,
            now=now + datetime.timedelta(minutes=minutes),
        )

    with django_assert_max_num_queries(14):
        page = logged.get(reverse("portal:attestations"))
    assert page.content.decode().count('data-testid="attestation-row"') == 4


def test_filed_by_the_engines_generic_filing_at_the_counter_the_attestation_is_issued_too(customer, now):
    """Another path than « générer » (the counter's filing, channel AGENCY, data without a reference
    code): ``on_filed`` chooses the code, issues the PDF and closes the request."""
    from rak_requests.flow import kind_request_file
    from rak_requests.kinds.attestation import KIND, AttestationData

    dossier = DossierFactory(customer=customer)

    request = kind_request_file(
        kind=KIND,
        customer=customer,
        data=AttestationData(attestation_type=AttestationType.SUBSCRIPTION, dossier_number=dossier.number),
        staged={},
        staging_token="",
        now=now,
        actor=None,
        channel=ServiceRequest.Channel.AGENCY,
        identity_checked=True,
    )

    request.refresh_from_db()
    assert request.status == ServiceRequest.Status.ACCEPTEE
    document = Document.objects.get(kind=Document.Kind.ATTESTATION)
    assert request.data["reference"] == document.reference
    assert reference_display(document.reference) in pdf_text(document.file.open("rb").read())
    assert document_verify(document.reference).authentic
