"""« Demande d'abonnement » in a real browser, as a new person: step 1 with « vérifier » and the
OTP read from the SMS, step 2 (services, premises, usage, tariff, power/caliber), step 3 (the
required documents with their formats and size), step 4 (review, « Précédent » keeps the files,
terms), « Valider »: the receipt with the request number and the code client, its PDF."""

from __future__ import annotations

import importlib
import re

from django.apps import apps
from playwright.sync_api import expect

from rak_customer.models import Customer
from rak_requests.models import ServiceRequest
from tests.request_factories import pdf_bytes

PHONE = "+212661234567"


def test_new_person_files_a_subscription_request_in_4_steps(page, live_server, sms_outbox, tmp_path):
    importlib.import_module("rak_requests.migrations.0002_seed_request_types").seed(apps, None)
    pdf = tmp_path / "piece.pdf"
    pdf.write_bytes(pdf_bytes())

    page.goto("/")
    page.get_by_role("link", name="Demande d'abonnement").first.click()
    expect(page.get_by_role("heading", name="Étape 1 : Saisie des informations personnelles")).to_be_visible()
    page.locator("#id_last_name").fill("Alaoui")
    page.locator("#id_first_name").fill("Youssef")
    page.locator("#id_identity").fill("gk 123456")
    page.locator("#id_email").fill("youssef.alaoui@example.ma")
    page.locator("#id_phone").fill("06 61 23 45 67")
    page.get_by_role("button", name="Suivant").click()
    expect(page.locator("#id_otp_error")).to_contain_text("cliquez sur « vérifier »")  # not verified yet
    expect(page.get_by_test_id("error-summary")).to_be_focused()
    page.get_by_role("button", name="vérifier").click()
    expect(page.get_by_text("se terminant par 67")).to_be_visible()
    page.locator("#id_otp").fill(sms_outbox.last_code(PHONE))
    page.get_by_role("button", name="Suivant").click()

    expect(page.get_by_role("heading", name=re.compile("Étape 2"))).to_be_visible()
    page.locator("#id_services_0").check()
    page.locator("#id_services_1").check()
    page.locator("#id_address").fill("12 rue Tarik Ibn Ziad")
    page.locator("#id_district").fill("Maamora")
    page.locator("#id_usage").select_option("DOMESTIQUE")
    page.locator("#id_tariff_category_eau").select_option("EAU_DOMESTIQUE")
    page.locator("#id_tariff_category_electricite").select_option("BT_DOMESTIQUE")
    page.locator("#id_power_kva").fill("6")
    page.locator("#id_caliber_mm").select_option("15")
    page.get_by_role("button", name="Suivant").click()

    expect(page.get_by_role("heading", name=re.compile("Étape 3"))).to_be_visible()
    documents = page.get_by_test_id("documents")
    expect(documents).to_contain_text("Titre de propriété ou contrat de bail")
    expect(documents).to_contain_text("2 Mo")
    for code in ("cin", "titre_propriete", "attestation_residence"):
        page.locator(f"#doc_{code}").set_input_files(str(pdf))
    page.get_by_role("button", name="Suivant").click()

    expect(page.get_by_role("heading", name=re.compile("Étape 4"))).to_be_visible()
    review = page.get_by_test_id("review")
    expect(review).to_contain_text("GK123456")
    expect(review).to_contain_text("12 rue Tarik Ibn Ziad")
    page.get_by_role("button", name="Précédent").click()
    expect(page.get_by_test_id("staged-cin")).to_contain_text("Déjà joint : piece.pdf")
    page.get_by_role("button", name="Suivant").click()
    page.get_by_role("button", name="Valider").click()
    expect(page.locator("#id_accept_terms_error")).to_have_text("Vous devez accepter les conditions générales.")
    page.locator("#id_accept_terms").check()
    page.locator("#id_accept_data_processing").check()
    page.get_by_role("button", name="Valider").click()

    receipt = page.get_by_test_id("request-receipt")
    expect(receipt).to_contain_text("a bien été enregistrée")
    request = ServiceRequest.objects.get()
    customer = Customer.objects.get(cin="GK123456")
    expect(page.get_by_test_id("request-number")).to_have_text(request.number)
    expect(page.get_by_test_id("customer-code")).to_have_text(customer.code)
    expect(page.get_by_test_id("password-delivery")).to_contain_text("se terminant par 67")
    with page.expect_download() as download:
        page.get_by_test_id("receipt-pdf").click()
    assert download.value.suggested_filename == f"recu-{request.number}.pdf"
    assert any(request.number in body and "prise en charge" in body for body in sms_outbox.bodies(PHONE))
