"""Seed 000 in real browsers: « Demande de résiliation » and « Suivre ma demande de résiliation ».
The customer opens the service, selects the dossier to terminate, joins the identity document (a
real PDF), « Envoyer » then the OTP read from the SMS and « Valider »: the acknowledgement e-mail, the
request in « toutes vos demandes de résiliation » below the form. The front desk accepts
« Traitement » in the back office, the technician records the final reading (« Enregistrer la relève
finale »); the customer's page then says « Accepté » with the final bill, the deposit and the balance
(« vous êtes créditeur de … »), the dossier is terminated, and « Mes remboursements » lists it in
« Mes résiliations »."""

from __future__ import annotations

import datetime
from decimal import Decimal

from playwright.sync_api import expect

from rak_base.models import Message
from rak_billing.models import DossierClosing
from rak_customer.models import Dossier
from rak_requests.models import ServiceRequest
from tests.billing_factories import bill_create
from tests.factories import TEST_PASSWORD, DossierFactory, PremisesFactory, customer_with_account, staff_in
from tests.request_factories import pdf_bytes

PHONE = "+212661112260"


def _staff_page(browser, live_server, username: str):
    context = browser.new_context(base_url=live_server.url, locale="fr-FR", timezone_id="Africa/Casablanca")
    context.set_default_timeout(10_000)
    staff = context.new_page()
    staff.goto("/backoffice/login/")
    staff.fill("input[name=username]", username)
    staff.fill("input[name=password]", TEST_PASSWORD)
    with staff.expect_navigation():
        staff.keyboard.press("Enter")
    return context, staff


def test_customer_asks_for_termination_staff_accept_and_record_the_final_reading(
    page, browser, live_server, sms_outbox, tmp_path
):
    customer, _user = customer_with_account(phone=PHONE, email="hind@example.ma", first_name="Hind", last_name="Tazi")
    home = PremisesFactory(address="8 avenue Mohammed V")
    water = DossierFactory(customer=customer, premises=home, number="EA00000761", deposit_amount=Decimal("300.00"))
    bill_create(dossier=water, period_start=datetime.date(2026, 10, 1), consumption=10, previous_index=500)
    (tmp_path / "cin.pdf").write_bytes(pdf_bytes())

    page.goto("/")
    page.get_by_label("Code client, e-mail ou téléphone").fill(customer.code)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    page.goto("/espace/services/")
    page.get_by_role("link", name="Demande de résiliation").first.click()
    expect(page.get_by_test_id("kind-title")).to_have_text("Demande de résiliation")

    # « Sélectionnez un ou plusieurs dossiers à résilier », the ID document, then « Envoyer »
    form = page.get_by_test_id("kind-form")
    expect(form).to_contain_text("Les champs avec * sont obligatoires")
    form.get_by_role("button", name="Envoyer").click()  # nothing selected
    expect(page.get_by_test_id("kind-form")).to_contain_text("Sélectionnez au moins un dossier à résilier.")

    form = page.get_by_test_id("kind-form")
    form.get_by_label("EA00000761 — Eau — 8 avenue Mohammed V").check()
    form.get_by_label("Motif de la résiliation").fill("Départ de Kénitra")
    form.get_by_label("Pièce d'identité (CIN recto et verso)").set_input_files(str(tmp_path / "cin.pdf"))
    form.get_by_role("button", name="Envoyer").click()

    # the OTP by SMS, « Valider »
    otp = page.get_by_test_id("otp-step")
    expect(otp).to_contain_text("Saisissez le code OTP puis cliquez sur le bouton « Valider »")
    otp.get_by_label("Code de confirmation (OTP)").fill(sms_outbox.last_code(PHONE))
    otp.get_by_role("button", name="Valider").click()
    filed = ServiceRequest.objects.get(request_type__code="TERMINATION")
    expect(page.locator(".flash-success").first).to_contain_text(f"Votre demande n° {filed.number} a bien été envoyée")
    assert Message.objects.filter(
        channel=Message.Channel.EMAIL, recipient="hind@example.ma", subject__startswith="Accusé de réception"
    ).exists()
    expect(page.get_by_test_id("kind-requests")).to_contain_text("Toutes vos demandes de résiliation")
    rows = page.get_by_test_id("kind-request-row")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text(filed.number)
    expect(rows).to_contain_text("En cours : aucune action")

    # « Suivre ma demande de résiliation »
    rows.get_by_test_id("magnifier").click()
    expect(page.get_by_test_id("request-state")).to_contain_text("En cours")
    expect(page.get_by_test_id("request-info")).to_contain_text("EA00000761")
    expect(page.get_by_test_id("cancel-link")).to_have_text("Annuler la demande")

    # the front desk accepts « Traitement »
    staff_in("accueil", username="accueil1")
    context, staff = _staff_page(browser, live_server, "accueil1")
    staff.goto(f"/backoffice/rak_requests/servicerequest/{filed.pk}/change/")
    with staff.expect_navigation():
        staff.locator("button[name=rak_requests_servicerequest_accept_phase]").evaluate("b => b.click()")
    context.close()
    filed.refresh_from_db()
    assert filed.phase.code == "RELEVE_FINALE"

    page.reload()
    expect(page.get_by_test_id("request-state")).to_contain_text("Communiquer l'index final de votre compteur")
    expect(page.get_by_test_id("final-index")).to_be_visible()

    # the technician records the final reading
    staff_in("technique", username="technicien1")
    context, staff = _staff_page(browser, live_server, "technicien1")
    staff.goto(f"/backoffice/rak_requests/servicerequest/{filed.pk}/change/")
    action = staff.locator("form[data-action=final_reading]")
    action.locator("[name='sa_final_reading-index']").fill("530")
    with staff.expect_navigation():
        action.get_by_role("button", name="Enregistrer la relève finale").click()
    expect(staff.get_by_text("Relève finale du dossier EA00000761 enregistrée.")).to_be_visible()
    context.close()

    # the customer: « Accepté », the final bill, the deposit and the balance
    page.reload()
    expect(page.get_by_test_id("request-state")).to_have_text("Accepté")
    closing = DossierClosing.objects.get(dossier=water)
    assert closing.balance < 0
    expect(page.get_by_test_id("termination-dossiers")).to_contain_text(closing.final_bill.number)
    expect(page.get_by_test_id("termination-balance")).to_contain_text("vous êtes créditeur de")
    water.refresh_from_db()
    assert water.status == Dossier.Status.TERMINATED

    # on a phone, the page fits the screen (the table becomes cards)
    page.set_viewport_size({"width": 375, "height": 740})
    page.reload()
    expect(page.get_by_test_id("termination-balance")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.set_viewport_size({"width": 1280, "height": 900})

    # « Mes remboursements », pane « Mes résiliations »: the balance after termination
    page.goto("/espace/mes-remboursements/")
    row = page.get_by_test_id("my-termination-row")
    expect(row).to_contain_text(filed.number)
    expect(row).to_contain_text(closing.final_bill.number)
    expect(row).to_contain_text("créditeur")
