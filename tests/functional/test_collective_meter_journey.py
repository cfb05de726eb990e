"""Seed 000 « Demande de bénéficier du système tarification des compteurs collectifs » in a real
browser, on a desktop and on a phone. The customer opens the service, reads who is eligible,
downloads « le modèle de la demande » and « l'attestation administrative » (PDFs with their name and
code client), clicks « Envoyer » with nothing (the French messages next to the fields), then chooses
the dossier, « choisir un fichier » for both documents and « Envoyer »: the request is filed and its
receipt is there (« Si tout se passe bien, un reçu est généré »). The front desk accepts
« Traitement », the technical service « Enquête technique »: the dossier is then at the « Compteur
collectif » tariff. On a phone the page fits the screen and a file over 2 Mo is refused."""

from __future__ import annotations

import importlib
import io

from django.apps import apps
from playwright.sync_api import expect
from pypdf import PdfReader

from rak_customer.models import Dossier, Service
from rak_requests.models import ServiceRequest
from tests.factories import TEST_PASSWORD, DossierFactory, PremisesFactory, customer_with_account, staff_in
from tests.functional.test_phone_layout import PHONE, assert_fits
from tests.request_factories import pdf_bytes

TITLE = "Demande de bénéficier du système tarification des compteurs collectifs"


def _seed() -> None:
    importlib.import_module("rak_requests.migrations.0002_seed_request_types").seed(apps, None)
    importlib.import_module("rak_requests.migrations.0011_collective_meter").seed(apps, None)


def _customer(phone: str, number: str):
    customer, _user = customer_with_account(
        phone=phone, email=f"{number.lower()}@example.ma", first_name="Rachida", last_name="Alami"
    )
    home = PremisesFactory(address="14 derb Sidi Bouchaib, médina")
    water = DossierFactory(customer=customer, premises=home, number=number, service=Service.EAU)
    return customer, water


def _login(page, customer) -> None:
    page.goto("/")
    page.get_by_label("Code client, e-mail ou téléphone").fill(customer.code)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    expect(page.get_by_test_id("customer-name")).to_be_visible()


def _pdf_text(page, link) -> str:
    response = page.request.get(link.get_attribute("href"))
    assert response.ok and response.headers["content-type"] == "application/pdf"
    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages)


def _staff_accepts(browser, live_server, request: ServiceRequest, username: str) -> None:
    context = browser.new_context(base_url=live_server.url, locale="fr-FR", timezone_id="Africa/Casablanca")
    context.set_default_timeout(10_000)
    staff = context.new_page()
    staff.goto("/backoffice/login/")
    staff.fill("input[name=username]", username)
    staff.fill("input[name=password]", TEST_PASSWORD)
    with staff.expect_navigation():
        staff.keyboard.press("Enter")
    staff.goto(f"/backoffice/rak_requests/servicerequest/{request.pk}/change/")
    expect(staff.locator("main, #content").first).to_contain_text(request.number)
    with staff.expect_navigation():
        staff.locator("button[name=rak_requests_servicerequest_accept_phase]").evaluate("b => b.click()")
    context.close()


def test_customer_asks_for_the_collective_tariff_and_staff_grant_it(page, browser, live_server, tmp_path):
    _seed()
    customer, water = _customer("+212661114401", "EA00004401")
    (tmp_path / "demande.pdf").write_bytes(pdf_bytes())
    (tmp_path / "attestation.pdf").write_bytes(pdf_bytes())
    _login(page, customer)

    page.goto("/espace/services/")
    page.get_by_role("link", name=TITLE).first.click()
    expect(page.get_by_test_id("kind-title")).to_have_text(TITLE)
    intro = page.get_by_test_id("kind-intro")
    expect(intro).to_contain_text("est accordé exclusivement aux familles qui résident dans un lieu Équipé")
    expect(intro).to_contain_text("La demande doit porter toutes les informations demandées et doit être signé")
    expect(intro).to_contain_text("L'attestation administrative doit être signée par les autorités locales")

    # « Télécharger le modèle de la demande et du document justificatif »
    demande = _pdf_text(page, intro.get_by_role("link", name="Télécharger le modèle de la demande"))
    assert "MODÈLE DE LA DEMANDE" in demande and customer.code in demande and "Rachida" in demande
    attestation = _pdf_text(page, intro.get_by_role("link", name="Télécharger l'attestation administrative"))
    assert "ATTESTATION ADMINISTRATIVE" in attestation and customer.code in attestation

    # « envoyer » with nothing chosen
    form = page.get_by_test_id("kind-form")
    form.get_by_role("button", name="Envoyer").click()
    form = page.get_by_test_id("kind-form")
    expect(form).to_contain_text("Choisissez au moins un dossier concerné par la demande.")
    expect(form.get_by_test_id("document-demande_signee")).to_contain_text("Cette pièce est obligatoire.")
    assert not ServiceRequest.objects.exists()

    form.get_by_label("EA00004401 — Eau — 14 derb Sidi Bouchaib, médina").check()
    form.get_by_label("Demande signée").set_input_files(str(tmp_path / "demande.pdf"))
    form.get_by_label("Attestation administrative signée par les autorités locales").set_input_files(
        str(tmp_path / "attestation.pdf")
    )
    form.get_by_role("button", name="Envoyer").click()
    filed = ServiceRequest.objects.get()
    success = page.get_by_test_id("filed")
    expect(success).to_contain_text(filed.number)
    receipt = page.request.get(success.get_by_role("link", name="Télécharger le reçu").get_attribute("href"))
    assert receipt.ok and receipt.body().startswith(b"%PDF")
    expect(page.get_by_test_id("kind-request-row")).to_have_count(1)

    # staff decide: the front desk, then the technical service
    staff_in("accueil", username="accueil44")
    staff_in("technique", username="technique44")
    _staff_accepts(browser, live_server, filed, "accueil44")
    filed.refresh_from_db()
    assert filed.phase.code == "ENQUETE"
    _staff_accepts(browser, live_server, filed, "technique44")
    filed.refresh_from_db()
    water.refresh_from_db()
    assert filed.status == ServiceRequest.Status.ACCEPTEE
    assert water.tariff_category == Dossier.TariffCategory.COLLECTIF

    page.goto(f"/espace/demandes/{filed.number}/")
    expect(page.get_by_test_id("request-state")).to_contain_text("Accepté")


def test_on_a_phone_the_page_fits_and_a_file_over_2_mo_is_refused(browser, live_server, transactional_db, tmp_path):
    _seed()
    customer, _water = _customer("+212661114402", "EA00004402")
    big = tmp_path / "demande-scannee.pdf"
    big.write_bytes(pdf_bytes() + b"\n%" + b"0" * (2 * 1024 * 1024))
    (tmp_path / "attestation.pdf").write_bytes(pdf_bytes())
    context = browser.new_context(
        base_url=live_server.url, locale="fr-FR", timezone_id="Africa/Casablanca", viewport=PHONE, is_mobile=True
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    _login(page, customer)
    page.goto("/espace/services/compteurs-collectifs/")
    expect(page.get_by_test_id("kind-title")).to_have_text(TITLE)
    assert_fits(page, "Compteurs collectifs")

    form = page.get_by_test_id("kind-form")
    form.get_by_label("EA00004402 — Eau — 14 derb Sidi Bouchaib, médina").check()
    form.get_by_label("Demande signée").set_input_files(str(big))
    form.get_by_label("Attestation administrative signée par les autorités locales").set_input_files(
        str(tmp_path / "attestation.pdf")
    )
    form.get_by_role("button", name="Envoyer").click()
    refused = page.get_by_test_id("kind-form").get_by_test_id("document-demande_signee")
    expect(refused).to_contain_text("Le fichier est trop volumineux")
    expect(refused).to_contain_text("la taille maximale autorisée est de 2 Mo")
    assert not ServiceRequest.objects.exists()
    assert_fits(page, "Compteurs collectifs (fichier refusé)")

    # the attestation stayed attached: only the request is chosen again
    form = page.get_by_test_id("kind-form")
    expect(form.get_by_test_id("staged-attestation_administrative")).to_contain_text("attestation.pdf")
    (tmp_path / "demande.pdf").write_bytes(pdf_bytes())
    form.get_by_label("EA00004402 — Eau — 14 derb Sidi Bouchaib, médina").check()
    form.get_by_label("Demande signée").set_input_files(str(tmp_path / "demande.pdf"))
    form.get_by_role("button", name="Envoyer").click()
    filed = ServiceRequest.objects.get()
    expect(page.get_by_test_id("filed")).to_contain_text(filed.number)
    assert sorted(filed.attachments.values_list("document_code", flat=True)) == [
        "attestation_administrative",
        "demande_signee",
    ]
    context.close()
