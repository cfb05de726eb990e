"""Seed 000 in a real browser: « Demande de domiciliation bancaire » and « Suivre ma demande de
domiciliation bancaire ». The customer opens the service, downloads the form for their local
(« Télécharger le formulaire de demande »: a PDF with their code client and address), chooses the
address, types a RIB of 23 digits (refused: « Le RIB doit contenir 24 chiffres. »), then the right
one, joins the documents, « Valider »: the acknowledgement, the request listed below the form;
the front desk accepts it in the back office; the dossier then shows « Prélèvement bancaire »."""

from __future__ import annotations

import importlib
import io

from django.apps import apps
from playwright.sync_api import expect

from rak_base.rib import rib_key
from rak_billing.direct_debit_models import Mandate
from rak_customer.models import Dossier, Service
from rak_requests.models import ServiceRequest
from tests.factories import TEST_PASSWORD, DossierFactory, PremisesFactory, customer_with_account, staff_in
from tests.functional.test_phone_layout import PHONE, assert_fits
from tests.request_factories import pdf_bytes

RIB_FIRST = "007780" + "0001234567890123"
RIB = RIB_FIRST + rib_key(RIB_FIRST)


def _seed() -> None:
    importlib.import_module("rak_requests.migrations.0002_seed_request_types").seed(apps, None)
    importlib.import_module("rak_requests.migrations.0009_direct_debit").seed(apps, None)


def test_customer_asks_for_direct_debit_and_the_front_desk_accepts_it(page, browser, live_server, tmp_path):
    _seed()
    customer, _user = customer_with_account(
        phone="+212661112250", email="nadia@example.ma", first_name="Nadia", last_name="Berrada"
    )
    home = PremisesFactory(reference="LK00000777", address="27 rue Abdelmoumen")
    water = DossierFactory(customer=customer, premises=home, number="EA00000777")
    DossierFactory(customer=customer, premises=home, number="EL00000778", service=Service.ELECTRICITE)
    for name in ("formulaire.pdf", "rib.pdf", "cin.pdf"):
        (tmp_path / name).write_bytes(pdf_bytes())

    page.goto("/")
    page.get_by_label("Code client, e-mail ou téléphone").fill(customer.code)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    page.goto("/espace/services/")
    page.get_by_role("link", name="Demande de domiciliation bancaire").first.click()
    expect(page.get_by_test_id("kind-title")).to_have_text("Demande de domiciliation bancaire")
    steps = page.get_by_test_id("direct-debit-steps")
    expect(steps).to_contain_text("Etape 1 : Téléchargez le formulaire depuis la demande en sélectionnant le local")
    expect(steps).to_contain_text("Etape 2 : Faites signer le formulaire par votre banque")

    # Etape 1: the form of the chosen local
    download_form = page.get_by_test_id("direct-debit-download")
    download_form.get_by_label("Local").select_option(label="27 rue Abdelmoumen, Maamora, Kénitra")
    with page.expect_download() as downloading:
        download_form.get_by_role("button", name="Télécharger le formulaire de demande").click()
    download = downloading.value
    assert download.suggested_filename == "formulaire-domiciliation-bancaire-LK00000777.pdf"
    from pypdf import PdfReader

    pdf_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(open(download.path(), "rb").read())).pages)
    assert customer.code in pdf_text and "27 rue Abdelmoumen" in pdf_text and "EA00000777" in pdf_text

    # Etapes 3 to 5, first with a RIB of 23 digits
    form = page.get_by_test_id("kind-form")
    form.get_by_label("Sélectionnez l'adresse concernée par la demande").select_option(
        label="27 rue Abdelmoumen, Maamora, Kénitra"
    )
    form.get_by_label("N° de RIB").fill(RIB[:23])
    form.get_by_label("Formulaire de domiciliation signé par la banque").set_input_files(
        str(tmp_path / "formulaire.pdf")
    )
    form.get_by_label("Relevé d'identité bancaire (RIB)").set_input_files(str(tmp_path / "rib.pdf"))
    form.get_by_label("Pièce d'identité (CIN recto et verso)").set_input_files(str(tmp_path / "cin.pdf"))
    form.get_by_role("button", name="Valider").click()
    expect(page.get_by_test_id("kind-form")).to_contain_text("Le RIB doit contenir 24 chiffres.")
    assert not ServiceRequest.objects.exists()

    form = page.get_by_test_id("kind-form")
    form.get_by_label("N° de RIB").fill(f"{RIB[:3]} {RIB[3:6]} {RIB[6:22]} {RIB[22:]}")
    form.get_by_role("button", name="Valider").click()
    filed = ServiceRequest.objects.get()
    expect(page.locator(".flash-success").first).to_contain_text(
        f"Votre demande n° {filed.number} a bien été envoyée. Un email sera envoyé"
    )
    rows = page.get_by_test_id("kind-request-row")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("En cours : aucune action")
    assert filed.data["bank_name"] == "Attijariwafa bank"
    assert filed.attachments.count() == 3

    # « Suivre ma demande »: the magnifier opens the request
    rows.get_by_test_id("magnifier").click()
    expect(page.get_by_test_id("request-state")).to_contain_text("En cours")
    expect(page.get_by_test_id("request-info")).to_contain_text("Attijariwafa bank")

    # the front desk accepts
    staff_in("accueil", username="accueil1")
    staff_context = browser.new_context(base_url=live_server.url, locale="fr-FR", timezone_id="Africa/Casablanca")
    staff_context.set_default_timeout(10_000)
    staff = staff_context.new_page()
    staff.goto("/backoffice/login/")
    staff.fill("input[name=username]", "accueil1")
    staff.fill("input[name=password]", TEST_PASSWORD)
    with staff.expect_navigation():
        staff.keyboard.press("Enter")
    staff.goto(f"/backoffice/rak_requests/servicerequest/{filed.pk}/change/")
    with staff.expect_navigation():
        staff.locator("button[name=rak_requests_servicerequest_accept_phase]").evaluate("b => b.click()")
    staff_context.close()
    filed.refresh_from_db()
    assert filed.status == ServiceRequest.Status.ACCEPTEE
    assert Mandate.objects.filter(request_reference=filed.number, status=Mandate.Status.ACTIVE).count() == 2
    water.refresh_from_db()
    assert water.billing_mode == Dossier.BillingMode.DIRECT_DEBIT

    page.goto(f"/espace/demandes/{filed.number}/")
    expect(page.get_by_test_id("request-state")).to_contain_text("Accepté")
    page.goto("/espace/abonnements/")
    expect(page.get_by_text("Prélèvement bancaire").first).to_be_visible()

    # on a phone: the service page (steps, download, form, list) and the dossiers fit the screen
    page.set_viewport_size(PHONE)
    page.goto("/espace/services/domiciliation-bancaire/")
    expect(page.get_by_test_id("kind-request-row")).to_contain_text("Accepté")
    assert_fits(page, "Demande de domiciliation bancaire")
    page.goto("/espace/abonnements/")
    assert_fits(page, "Mes abonnements")
