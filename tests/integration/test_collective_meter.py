"""« Demande de bénéficier du système tarification des compteurs collectifs » (seed 000): the page
at /espace/services/compteurs-collectifs/ explains who is eligible and offers the two templates (real
PDFs, pre-filled for the customer), refuses with French messages next to the field (no dossier, a
dossier terminated or not the customer's, a missing, oversized or wrong file), files the request
with its receipt; staff decide in the back office (front desk « Traitement », then the technical
« Enquête technique »); acceptance gives the dossier the « Compteur collectif » tariff category and
the next bill is computed with the collective schedule."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from pypdf import PdfReader

from rak_base import clock
from rak_billing.billing import billing_run_create, billing_run_process
from rak_billing.models import Bill, MeterReading
from rak_billing.tariffs import simulate, tariff_book
from rak_customer.api import DossierError, dossier_tariff_category_set
from rak_customer.models import Dossier, Service
from rak_requests.models import Attachment, RequestType, ServiceRequest
from tests.factories import DossierFactory, MeterFactory, customer_with_account, staff_in
from tests.integration.test_pdf_tagged import assert_tagged
from tests.integration.test_request_backoffice import followed_messages, press
from tests.request_factories import exe_renamed_pdf, oversized_pdf, pdf_upload

pytestmark = pytest.mark.django_db

URL = reverse("portal:kind_service", args=["compteurs-collectifs"])
FEB = datetime.date(2026, 2, 1)


@pytest.fixture
def account():
    customer, user = customer_with_account(
        phone="+212612300001", email="fatima@example.ma", first_name="Fatima", last_name="Zahra"
    )
    water = DossierFactory(customer=customer, service=Service.EAU, number="EA00000901")
    return customer, user, water


@pytest.fixture
def logged(client, account):
    client.force_login(account[1])
    return client


def submit(client, *, dossiers=("EA00000901",), demande=True, attestation=True, **files):
    data = {"dossiers": list(dossiers), "action": "submit"}
    if demande:
        data["doc_demande_signee"] = files.get("demande_file") or pdf_upload("demande.pdf")
    if attestation:
        data["doc_attestation_administrative"] = files.get("attestation_file") or pdf_upload("attestation.pdf")
    return client.post(URL, data)


def text(response) -> str:
    return response.content.decode().replace("&#x27;", "'")


# --- the seed rows -----------------------------------------------------------------------------------


def test_the_type_is_seeded_as_the_seed_describes_it():
    request_type = RequestType.objects.get(code="COLLECTIVE_METER")
    assert request_type.name == "Demande de bénéficier du système tarification des compteurs collectifs"
    assert [
        (d.label, d.allowed_kinds, d.max_bytes, d.required) for d in request_type.documents.order_by("position")
    ] == [
        ("Demande signée", "pdf,image,zip,rar", 2 * 1024 * 1024, True),
        ("Attestation administrative signée par les autorités locales", "pdf,image,zip,rar", 2 * 1024 * 1024, True),
    ]
    assert [p.code for p in request_type.phases.order_by("position")] == ["TRAITEMENT", "ENQUETE"]


# --- the page ------------------------------------------------------------------------------------------


def test_the_page_explains_who_is_eligible_and_offers_the_two_templates(logged, account):
    customer, _user, water = account
    terminated = DossierFactory(customer=customer, service=Service.EAU, status=Dossier.Status.TERMINATED)
    html = text(logged.get(URL))

    assert "Demande de bénéficier du système tarification des compteurs collectifs" in html
    assert "est accordé exclusivement aux familles qui résident dans un lieu Équipé d'un compteur d'eau" in html
    assert "dans des anciennes médina ou dans des quartiers non structurés" in html
    assert "La demande doit porter toutes les informations demandées et doit être signé par le concerné" in html
    assert "L'attestation administrative doit être signée par les autorités locales" in html
    assert "Si tout se passe bien, un reçu est généré" in html
    for which in ("modele-de-la-demande", "attestation-administrative"):
        assert reverse("portal:collective_meter_template", args=[which]) in html
    assert "Demande signée *" in html and "Attestation administrative signée par les autorités locales *" in html
    assert "PDF, image ou fichier compressé, 2 Mo au plus" in html
    assert ">Envoyer</button>" in html  # the seed's « envoyer »
    assert water.number in html and terminated.number not in html  # only active dossiers offered


@pytest.mark.parametrize(
    ("which", "title"),
    [("modele-de-la-demande", "MODÈLE DE LA DEMANDE"), ("attestation-administrative", "ATTESTATION ADMINISTRATIVE")],
)
def test_the_templates_are_real_pdfs_pre_filled_for_the_customer(logged, account, which, title):
    customer, _user, water = account
    response = logged.get(reverse("portal:collective_meter_template", args=[which]))

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert_tagged(response.content, f"{title[0]}{title[1:].lower()} — tarification des compteurs collectifs")
    words = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert title in words
    assert customer.code in words and "Fatima" in words
    assert water.premises.address in words


def test_a_template_without_login_is_blank_and_an_unknown_one_is_a_404(client, account):
    customer, _user, _water = account
    blank = client.get(reverse("portal:collective_meter_template", args=["modele-de-la-demande"]))
    assert blank.status_code == 200
    assert customer.code not in PdfReader(io.BytesIO(blank.content)).pages[0].extract_text()
    assert client.get("/services/compteurs-collectifs/autre.pdf").status_code == 404


# --- refusals ---------------------------------------------------------------------------------------


def test_no_dossier_chosen_is_refused_next_to_the_field(logged):
    response = submit(logged, dossiers=())
    assert response.status_code == 400
    assert "Choisissez au moins un dossier concerné par la demande." in text(response)
    assert not ServiceRequest.objects.exists()


def test_a_terminated_dossier_or_another_customers_is_refused(logged, account):
    customer, _user, _water = account
    terminated = DossierFactory(customer=customer, service=Service.EAU, status=Dossier.Status.TERMINATED)
    other = DossierFactory(service=Service.EAU)

    refused = submit(logged, dossiers=(terminated.number,))
    assert f"Le dossier {terminated.number} est résilié : il ne peut pas bénéficier de ce tarif." in text(refused)
    stranger = submit(logged, dossiers=(other.number,))
    assert f"Le dossier {other.number} ne fait pas partie de vos dossiers." in text(stranger)
    assert not ServiceRequest.objects.exists()


def test_a_dossier_already_collective_or_with_a_request_in_progress_is_refused(logged, account):
    customer, _user, water = account
    DossierFactory(customer=customer, service=Service.ELECTRICITE, tariff_category="COLLECTIF", number="EL00000901")
    done = submit(logged, dossiers=("EL00000901",))
    assert "Le dossier EL00000901 bénéficie déjà de la tarification des compteurs collectifs." in text(done)

    assert submit(logged).status_code == 302
    again = submit(logged)
    assert (
        f"Une demande de tarification des compteurs collectifs est déjà en cours pour le dossier {water.number}."
        in text(again)
    )
    assert ServiceRequest.objects.count() == 1


def test_missing_oversized_or_wrong_files_are_refused_with_their_message(logged):
    missing = submit(logged, attestation=False)
    assert "Cette pièce est obligatoire." in text(missing)
    big = submit(logged, attestation_file=oversized_pdf())
    assert "Le fichier est trop volumineux (2,0 Mo) : la taille maximale autorisée est de 2 Mo." in text(big)
    exe = submit(logged, demande_file=exe_renamed_pdf())
    assert exe.status_code == 400
    assert "Le fichier joint n'est pas dans un format accepté" in text(exe)
    assert not ServiceRequest.objects.exists()


# --- filing, decision, tariff -------------------------------------------------------------------------


def test_filed_request_has_its_receipt_and_acceptance_applies_the_collective_tariff(client, logged, account):
    customer, _user, water = account
    filed = submit(logged)
    assert filed.status_code == 302
    request = ServiceRequest.objects.get(customer=customer)
    assert request.request_type.code == "COLLECTIVE_METER" and request.phase.code == "TRAITEMENT"
    assert list(request.dossiers.values_list("number", flat=True)) == [water.number]
    assert request.receipt is not None  # « un reçu est généré »
    assert sorted(Attachment.objects.filter(request=request).values_list("document_code", flat=True)) == [
        "attestation_administrative",
        "demande_signee",
    ]
    page = text(logged.get(URL))
    assert request.number in page  # the green message names it and links its receipt
    assert reverse("portal:request_receipt_pdf", args=[request.number]) in page
    receipt = logged.get(reverse("portal:request_receipt_pdf", args=[request.number]))
    assert receipt.status_code == 200 and b"".join(receipt.streaming_content).startswith(b"%PDF")

    # front desk: « Traitement » accepted -> « Enquête technique » (the technical service's)
    staff_in("accueil", client=client)
    followed_messages(client, press(client, request, "accept_phase"))
    request.refresh_from_db()
    assert request.phase.code == "ENQUETE" and request.status == ServiceRequest.Status.EN_COURS
    water.refresh_from_db()
    assert water.tariff_category == "DOMESTIQUE"

    staff_in("technique", client=client)
    followed_messages(client, press(client, request, "accept_phase"))
    request.refresh_from_db()
    water.refresh_from_db()
    assert request.status == ServiceRequest.Status.ACCEPTEE
    assert water.tariff_category == Dossier.TariffCategory.COLLECTIF
    assert water.history.first().history_change_reason == f"Demande {request.number} acceptée"

    # the next bill uses the collective schedule
    for day, index in ((datetime.date(2026, 1, 20), 100), (datetime.date(2026, 2, 20), 130)):
        MeterReading.objects.create(
            dossier=water,
            meter=water.meter,
            reading_date=day,
            index=Decimal(index),
            source=MeterReading.Source.AGENT,
            status=MeterReading.Status.ACCEPTED,
        )
    run = billing_run_create(
        period_start=FEB, issue_date=datetime.date(2026, 3, 3), due_date=datetime.date(2026, 3, 18), enqueue=False
    )
    billing_run_process(run_id=run.pk, now=clock.now())
    bill = Bill.objects.get(dossier=water, kind=Bill.Kind.CONSUMPTION)
    book = tariff_book(FEB)
    collective = book.compute(Service.EAU, "COLLECTIF", consumption=Decimal(30), days=31)
    domestic = book.compute(Service.EAU, "DOMESTIQUE", consumption=Decimal(30), days=31)
    assert bill.total_ttc == collective.total_ttc and bill.total_ttc < domestic.total_ttc
    assert book.lookup(Service.EAU, "COLLECTIF").name.startswith("Eau potable — compteur collectif")


def test_rejection_leaves_the_category_unchanged(client, logged, account):
    customer, _user, water = account
    submit(logged)
    request = ServiceRequest.objects.get(customer=customer)
    staff_in("accueil", client=client)
    followed_messages(client, press(client, request, "reject", action_message="Attestation non signée"))
    request.refresh_from_db()
    water.refresh_from_db()
    assert request.status == ServiceRequest.Status.REJETEE
    assert water.tariff_category == "DOMESTIQUE"


def test_the_category_service_refuses_a_terminated_dossier_or_another_customers(account):
    customer, _user, water = account
    terminated = DossierFactory(customer=customer, status=Dossier.Status.TERMINATED)
    with pytest.raises(DossierError, match="n'est pas actif"):
        dossier_tariff_category_set(dossier_ids=[terminated.pk], category="COLLECTIF", customer_id=customer.pk)
    with pytest.raises(DossierError, match="n'appartient pas à ce client"):
        dossier_tariff_category_set(dossier_ids=[DossierFactory().pk], category="COLLECTIF", customer_id=customer.pk)
    water.refresh_from_db()
    assert water.tariff_category == "DOMESTIQUE"


def test_billing_and_the_simulator_know_the_collective_category():
    on = datetime.date(2026, 2, 1)
    power = simulate(service=Service.ELECTRICITE, category="COLLECTIF", consumption=Decimal(400), days=30, on_date=on)
    domestic = simulate(
        service=Service.ELECTRICITE, category="DOMESTIQUE", consumption=Decimal(400), days=30, on_date=on
    )
    assert power.total_ttc < domestic.total_ttc  # no selective pricing above 150 kWh for several households
    water = simulate(service=Service.EAU, category="COLLECTIF", consumption=Decimal(30), days=30, on_date=on)
    assert [p.service for p in water.parts] == [Service.EAU, Service.ASSAINISSEMENT]
    assert water.total_tva == 0  # domestic use: exempt since 2024
    meter = MeterFactory(service=Service.ELECTRICITE, caliber="10 A")
    dossier = DossierFactory(service=Service.ELECTRICITE, meter=meter, tariff_category="COLLECTIF")
    assert tariff_book(on).has(dossier.service, dossier.tariff_category)


def test_another_customers_request_receipt_is_a_404(client, logged, account):
    submit(logged)
    request = ServiceRequest.objects.get()
    _other, other_user = customer_with_account(phone="+212612300002")
    client.force_login(other_user)
    assert client.get(reverse("portal:request_receipt_pdf", args=[request.number])).status_code == 404
    assert client.get(reverse("portal:request_detail", args=[request.number])).status_code == 404


def test_the_front_desk_files_it_at_the_counter_with_the_same_rules(client, account):
    customer, _user, water = account
    staff_in("accueil", client=client)
    url = reverse("admin:rak_requests_counter_file", args=[customer.pk, "compteurs-collectifs"])
    page = client.get(url)
    assert page.status_code == 200 and water.number in page.content.decode()

    refused = client.post(url, {"identity_checked": "on", "doc_demande_signee": pdf_upload("d.pdf")})
    assert "Choisissez au moins un dossier concerné par la demande." in text(refused)
    filed = client.post(
        url,
        {
            "dossiers": [water.number],
            "identity_checked": "on",
            "doc_demande_signee": pdf_upload("d.pdf"),
            "doc_attestation_administrative": pdf_upload("a.pdf"),
        },
    )
    request = ServiceRequest.objects.get()
    assert filed.status_code == 302
    assert request.channel == ServiceRequest.Channel.AGENCY and request.request_type.code == "COLLECTIVE_METER"
    assert request.attachments.count() == 2


def test_acceptance_is_refused_with_its_message_when_the_dossier_was_terminated_meanwhile(client, logged, account):
    customer, _user, water = account
    submit(logged)
    request = ServiceRequest.objects.get(customer=customer)
    staff_in("accueil", client=client)
    followed_messages(client, press(client, request, "accept_phase"))
    Dossier.objects.filter(pk=water.pk).update(status=Dossier.Status.TERMINATED)

    staff_in("technique", client=client)
    messages = followed_messages(client, press(client, request, "accept_phase"))

    assert any(f"Le dossier {water.number} n'est pas actif" in m for m in messages)
    request.refresh_from_db()
    water.refresh_from_db()
    assert request.status == ServiceRequest.Status.EN_COURS and request.phase.code == "ENQUETE"
    assert water.tariff_category == "DOMESTIQUE"
