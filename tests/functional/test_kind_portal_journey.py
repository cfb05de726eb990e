"""The generic flow of a simple request type in a real browser, with the test kind « Demande
d'essai » (OTP, an ID document), on a desktop and on a 390 × 844 phone: the customer opens the
service, sees the explanation, « Les champs avec * sont obligatoires » and the document's help,
joins a file that is refused (wrong kind) then a good one without retyping anything, clicks
« Envoyer », types the code received by SMS after « Saisissez le code OTP puis cliquez sur le
bouton « Valider » », sees the green message, the request in « toutes vos demandes » below the
form, and its tracking page behind the magnifier (« En cours : aucune action »)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from rak_base.models import Message
from rak_requests.models import ServiceRequest
from tests.factories import TEST_PASSWORD, DossierFactory, customer_with_account
from tests.kind_factories import TEST_SLUG, trial_kind_registered, trial_type, with_test_templates
from tests.request_factories import pdf_bytes

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(autouse=True)
def trial(settings):
    with_test_templates(settings)
    trial_type()
    with trial_kind_registered() as kind:
        yield kind


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_customer_files_a_request_with_an_otp_and_follows_it(page, tmp_path, sms_outbox, viewport):
    page.set_viewport_size(viewport)
    customer, _user = customer_with_account(phone="+212661234500", email="rim@example.ma", first_name="Rim")
    DossierFactory(customer=customer, number="D-800001")
    good = tmp_path / "cin.pdf"
    good.write_bytes(pdf_bytes())
    bad = tmp_path / "cin-faux.pdf"
    bad.write_bytes(b"MZ\x90\x00" + b"\x00" * 300)

    page.goto("/")
    page.get_by_label("Code client, e-mail ou téléphone").fill(customer.code)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    page.goto(f"/espace/services/{TEST_SLUG}/")

    expect(page.get_by_role("heading", level=1)).to_have_text("Demande d'essai")
    expect(page.get_by_test_id("trial-intro")).to_contain_text("modèle de la demande")
    form = page.get_by_test_id("kind-form")
    expect(form).to_contain_text("Les champs avec * sont obligatoires")
    expect(form).to_contain_text("PDF, image ou fichier compressé, 2 Mo au plus")

    page.get_by_label("D-800001").check()
    page.get_by_label("Motif").fill("Départ à l'étranger")
    page.get_by_label("Pièce d'identité *").set_input_files(str(bad))
    page.get_by_role("button", name="Envoyer").click()
    expect(page.get_by_test_id("document-cin")).to_contain_text("n'est pas dans un format accepté")
    expect(page.get_by_label("Motif")).to_have_value("Départ à l'étranger")  # nothing typed is lost
    expect(page.get_by_label("D-800001")).to_be_checked()

    page.get_by_label("Pièce d'identité *").set_input_files(str(good))
    page.get_by_role("button", name="Envoyer").click()
    otp = page.get_by_test_id("otp-step")
    expect(otp).to_contain_text("Saisissez le code OTP puis cliquez sur le bouton « Valider »")
    expect(otp.get_by_role("button", name="Renvoyer le code")).to_be_visible()
    page.get_by_label("Code de confirmation (OTP)").fill(sms_outbox.last_code("+212661234500"))
    otp.get_by_role("button", name="Valider").click()

    filed = ServiceRequest.objects.get(customer=customer)
    expect(page.locator(".flash-success").first).to_contain_text(f"Votre demande n° {filed.number} a bien été envoyée")
    rows = page.get_by_test_id("kind-requests")
    expect(rows).to_contain_text("Toutes vos demandes d'essai")
    expect(rows).to_contain_text(filed.number)
    expect(rows).to_contain_text("D-800001")
    expect(rows).to_contain_text("En cours : aucune action")
    assert Message.objects.filter(channel=Message.Channel.EMAIL, recipient="rim@example.ma", kind="request").exists()
    if viewport is PHONE:
        overflow = page.evaluate("() => document.documentElement.scrollWidth") - PHONE["width"]
        assert overflow <= 0, f"la page défile horizontalement de {overflow} px"

    rows.get_by_test_id("magnifier").first.click()
    expect(page.get_by_test_id("request-number")).to_have_text(filed.number)
    expect(page.get_by_test_id("request-state")).to_have_text("En cours : aucune action")
    expect(page.get_by_test_id("request-info")).to_contain_text("Départ à l'étranger")
    expect(page.get_by_test_id("attachments")).to_contain_text("Pièce d'identité")
    expect(page.get_by_test_id("cancel-link")).to_have_text("Annuler la demande")


def test_an_agent_files_at_the_counter_from_the_customer_360(page, tmp_path):
    from tests.factories import staff_in

    staff_in("accueil", username="guichet", first_name="Salwa")
    customer, _user = customer_with_account(phone="+212661234501", email="ali@example.ma", first_name="Ali")
    DossierFactory(customer=customer, number="D-800002")
    good = tmp_path / "cin.pdf"
    good.write_bytes(pdf_bytes())

    page.goto("/backoffice/login/")
    page.fill("input[name=username]", "guichet")
    page.fill("input[name=password]", TEST_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.goto(f"/backoffice/rak_customer/customer/{customer.pk}/change/")
    panel = page.get_by_test_id("customer-requests")
    expect(panel).to_contain_text("Demandes du client")
    panel.get_by_role("link", name="Déposer une demande").click()
    page.get_by_role("link", name="Demande d'essai").click()

    page.get_by_label("D-800002").check()
    page.get_by_label("Motif").fill("Vente du logement")
    page.get_by_label("Pièce d'identité *").set_input_files(str(good))
    page.get_by_role("button", name="Déposer la demande").click()
    expect(page.get_by_test_id("counter-file")).to_contain_text(
        "Vérifiez la pièce d'identité du client puis cochez cette case."
    )
    expect(page.get_by_label("Motif")).to_have_value("Vente du logement")
    expect(page.get_by_test_id("staged-cin")).to_contain_text("cin.pdf")

    page.get_by_label("Pièce d'identité vérifiée au guichet").check()
    page.get_by_role("button", name="Déposer la demande").click()
    filed = ServiceRequest.objects.get(customer=customer)
    expect(page.get_by_text(f"Demande {filed.number} déposée au guichet")).to_be_visible()
    assert filed.channel == ServiceRequest.Channel.AGENCY
    page.goto(f"/backoffice/rak_customer/customer/{customer.pk}/change/")
    expect(page.get_by_test_id("customer-requests")).to_contain_text(filed.number)
