"""Seed 000 « Envoyer une réclamation » and « Mes réclamations » in a real browser, on a desktop and
on a 390 × 844 phone (issue 11, customer side):

- a visitor opens the home page's tile, fills in the form without an account and clicks
  « Envoyer votre demande »: the complaint number is shown and the SMS « de prise en charge » with
  that number is in the outbox;
- a customer logs in, opens one of their bills, clicks « Contester cette facture » (the form comes
  pre-filled with the bill and the billing category), sends it, finds it in « Mes réclamations »
  and adds information with a file from the detail page (the thread shows it, the file downloads);
- the staff side (H3's screens) is driven through the services here: the complaint is closed with
  its result, which the customer reads in the list, then « Donner mon avis » with the stars.
"""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from rak_base import clock
from rak_customer.models import Service
from rak_requests.complaint_models import Complaint, ComplaintEntry
from rak_requests.complaints import services
from tests.factories import TEST_PASSWORD, DossierFactory, StaffFactory, customer_with_account
from tests.functional.test_phone_layout import PHONE, assert_fits
from tests.integration.test_payment_pages import seed_bill
from tests.reading_factories import png_bytes
from tests.request_factories import pdf_bytes

DESKTOP = {"width": 1280, "height": 800}
VISITOR_PHONE = "+212661002233"


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_visitor_files_publicly_then_a_customer_contests_a_bill_and_follows_it(
    page, browser, live_server, sms_outbox, tmp_path, settings, viewport
):
    settings.SITE_URL = live_server.url
    page.set_viewport_size(viewport)
    phone = viewport == PHONE
    scan = tmp_path / "facture-scannee.pdf"
    scan.write_bytes(pdf_bytes())
    photo = tmp_path / "compteur.png"
    photo.write_bytes(png_bytes())

    # --- a visitor, no account ---------------------------------------------------------------------
    page.goto("/")
    page.get_by_role("link", name="Envoyer une réclamation").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Envoyer une réclamation")
    expect(page.locator("main")).to_contain_text("Les champs avec * sont obligatoires")
    if phone:
        assert_fits(page, "Envoyer une réclamation (visiteur)")
    page.get_by_label("Nom et prénom *").fill("Hajar Bennani")
    page.get_by_label("Téléphone *").fill("0661002233")
    page.get_by_label("Catégorie *").select_option(label="Relevé / compteur")
    page.get_by_label("Objet").fill("Compteur bloqué")
    page.get_by_label("Message *").fill("Mon compteur ne tourne plus depuis une semaine.")
    page.get_by_label("Vous pouvez également joindre un fichier ou une image").set_input_files(str(scan))
    page.wait_for_timeout(3200)  # a person takes a few seconds: faster is refused as a robot
    page.get_by_role("button", name="Envoyer votre demande").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Votre réclamation a bien été envoyée")
    number = page.get_by_test_id("complaint-number").inner_text()
    public = Complaint.objects.get(number=number)
    assert public.customer is None and public.phone == VISITOR_PHONE
    expect(page.locator("main")).to_contain_text("Un SMS de prise en charge avec le numéro attribué")
    sms = sms_outbox.last(VISITOR_PHONE).body
    assert number in sms and "prise en charge" in sms
    assert public.entries.get().file_name == "facture-scannee.pdf"
    if phone:
        assert_fits(page, "Réclamation envoyée")

    # --- a customer contests one of their bills ---------------------------------------------------------
    customer, _user = customer_with_account(
        phone="+212661445566", email="omar@example.ma", first_name="Omar", last_name="Chraibi"
    )
    dossier = DossierFactory(customer=customer, service=Service.EAU)
    today = timezone.localdate(clock.now())
    bill = seed_bill(dossier, "348.20", period=today.replace(day=1) - datetime.timedelta(days=35), due=today)
    page.goto("/")
    page.get_by_label("Code client, e-mail ou téléphone").fill(customer.code)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    expect(page.get_by_test_id("customer-name")).to_be_visible()
    page.goto(f"/espace/factures/{bill.pk}/")
    page.get_by_role("link", name="Contester cette facture").click()

    expect(page.get_by_test_id("contested-bill")).to_contain_text(bill.number)
    expect(page.get_by_test_id("customer-code")).to_contain_text(customer.code)
    expect(page.get_by_label("Nom et prénom *")).to_have_value("Omar Chraibi")
    expect(page.get_by_label("Catégorie *").locator("option:checked")).to_have_text("Facturation")
    expect(page.get_by_label("Facture concernée").locator("option:checked")).to_contain_text(bill.number)
    if phone:
        assert_fits(page, "Contester cette facture")
    page.get_by_label("Message *").fill("La consommation facturée est le double de d'habitude.")
    page.get_by_role("button", name="Envoyer votre demande").click()
    number = page.get_by_test_id("complaint-number").inner_text()
    contested = Complaint.objects.get(number=number)
    assert contested.bill == bill and contested.customer == customer and contested.source == "BILL"

    # « Mes réclamations » from the menu
    if phone:
        page.get_by_role("button", name="Menu").click()
    page.get_by_test_id("menu-complaints").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes réclamations")
    row = page.get_by_test_id("complaint-row").filter(has_text=number)
    expect(row).to_contain_text("Facturation")
    expect(row).to_contain_text("Reçue")
    expect(row).to_contain_text("Réponse prévue au plus tard le")
    if phone:
        assert_fits(page, "Mes réclamations")
    row.get_by_role("link", name=number).click()

    # « Ajouter une information » with a file
    expect(page.get_by_test_id("complaint-number")).to_have_text(number)
    page.get_by_label("Votre message").fill("Voici la photo de mon compteur.")
    page.get_by_label("Joindre un fichier ou une image").set_input_files(str(photo))
    page.get_by_role("button", name="Ajouter une information").click()
    expect(page.locator(".flash-success")).to_contain_text("Votre information a bien été ajoutée")
    mine = page.get_by_test_id("thread-entry").last
    expect(mine).to_contain_text("Voici la photo de mon compteur.")
    expect(mine.get_by_test_id("thread-file")).to_have_text("compteur.png")
    href = mine.get_by_test_id("thread-file").get_attribute("href")
    served = page.request.get(href)  # with the customer's session
    assert served.status == 200 and served.headers["content-type"] == "image/png"
    assert served.body().startswith(b"\x89PNG")
    assert contested.entries.filter(kind=ComplaintEntry.Kind.CUSTOMER_MESSAGE).exclude(file="").exists()
    if phone:
        assert_fits(page, "Détail de la réclamation")

    # the staff close it (H3's screens; here through the service) with a result the customer reads
    services.complaint_close(
        complaint_id=contested.pk,
        staff_user=StaffFactory(),
        result="Index corrigé : un avoir de 174,10 DH a été émis sur votre compte.",
        now=clock.now(),
    )
    page.goto("/espace/reclamations/")
    row = page.get_by_test_id("complaint-row").filter(has_text=number)
    expect(row).to_contain_text("Clôturée")
    expect(row).to_contain_text("un avoir de 174,10 DH")
    row.get_by_role("link", name=number).click()
    expect(page.get_by_test_id("complaint-result")).to_contain_text("un avoir de 174,10 DH")
    page.get_by_label("4 étoiles — Satisfait").check()
    page.get_by_label("Commentaire (facultatif)").fill("Réponse claire et rapide.")
    page.get_by_role("button", name="Envoyer mon avis").click()
    expect(page.locator(".flash-success")).to_contain_text("Merci pour votre avis")
    expect(page.get_by_test_id("complaint-result")).to_contain_text("4 étoiles sur 5")
    contested.refresh_from_db()
    assert contested.rating == 4
    if phone:
        assert_fits(page, "Réclamation clôturée et notée")


def test_visitor_reports_a_cut_already_announced_then_a_leak_with_the_phone_position(browser, live_server, sms_outbox):
    """« Signaler une fuite ou une coupure » on a phone: a cut in a district with a published notice
    shows the notice (with its link) instead of a duplicate; « Mon problème est différent, envoyer
    quand même » files it linked to the notice. A leak reported with « Utiliser ma position » (the
    browser's Geolocation API, allowed on this page only) is filed with the coordinates."""
    from rak_requests.complaint_models import OutageNotice

    DossierFactory(premises__district="Bir Rami")
    at = clock.now()
    notice = OutageNotice.objects.create(
        number="AVC2026-000077",
        kind=OutageNotice.Kind.UNPLANNED,
        service=Service.EAU,
        districts=["Bir Rami"],
        starts_at=at - datetime.timedelta(hours=2),
        expected_end_at=at + datetime.timedelta(hours=4),
        reason="Casse d'une conduite",
        status=OutageNotice.Status.PUBLISHED,
        created_at=at - datetime.timedelta(hours=2),
        published_at=at - datetime.timedelta(hours=2),
    )
    context = browser.new_context(
        base_url=live_server.url,
        locale="fr-FR",
        timezone_id="Africa/Casablanca",
        viewport=PHONE,
        is_mobile=True,
        geolocation={"latitude": 34.2541, "longitude": -6.5890},
        permissions=["geolocation"],
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto("/")
        page.get_by_role("link", name="Signaler une fuite ou une coupure").first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Signaler une fuite ou une coupure")
        assert_fits(page, "Signaler une fuite ou une coupure")
        page.get_by_label("Coupure d'eau ou d'électricité").check()
        page.get_by_label("Eau potable").check()
        page.get_by_label("Adresse du problème").fill("Rue 12, immeuble 4")
        page.get_by_label("Quartier").fill("bir rami")
        page.get_by_label("Décrivez le problème").fill("Plus d'eau depuis ce matin.")
        page.get_by_label("Nom et prénom *").fill("Said Alami")
        page.get_by_label("Téléphone *").fill("0661778899")
        page.wait_for_timeout(3200)
        page.get_by_role("button", name="Envoyer votre demande").click()

        box = page.get_by_test_id("outage-notice")
        expect(box).to_contain_text("Une coupure est déjà signalée dans votre quartier")
        expect(box).to_contain_text("Casse d'une conduite")
        expect(box).to_contain_text("rétablissement prévu le")
        expect(box.get_by_role("link", name="Voir l'avis de coupure")).to_have_attribute(
            "href", f"/coupures-et-travaux/{notice.number}/"
        )
        assert not Complaint.objects.exists()
        expect(page.get_by_label("Décrivez le problème")).to_have_value("Plus d'eau depuis ce matin.")
        assert_fits(page, "Coupure déjà signalée")
        page.get_by_role("button", name="Mon problème est différent, envoyer quand même").click()
        expect(page.get_by_test_id("complaint-number")).to_be_visible()
        cut = Complaint.objects.get()
        assert cut.outage_notice == notice and cut.district == "Bir Rami" and cut.source == "INCIDENT"

        # a leak, located by the phone
        page.goto("/services/signaler-fuite-ou-coupure/")
        page.get_by_label("Fuite", exact=True).check()
        page.get_by_role("button", name="Utiliser ma position").click()
        expect(page.locator("[data-geo-status]")).to_contain_text("Position enregistrée : 34.254100, -6.589000")
        page.get_by_label("Décrivez le problème").fill("Fuite importante devant le numéro 8.")
        page.get_by_label("Nom et prénom *").fill("Said Alami")
        page.get_by_label("Téléphone *").fill("0661778899")
        page.wait_for_timeout(3200)
        page.get_by_role("button", name="Envoyer votre demande").click()
        expect(page.get_by_test_id("complaint-number")).to_be_visible()
        leak = Complaint.objects.exclude(pk=cut.pk).get()
        assert str(leak.latitude) == "34.254100" and str(leak.longitude) == "-6.589000"
        assert leak.category.code == "fuite" and leak.category.is_urgent
        assert len(sms_outbox.all("+212661778899")) == 2
    finally:
        context.close()


def test_incident_report_works_without_javascript(browser, live_server):
    """Without JavaScript « Utiliser ma position » is not offered; the address is enough."""
    context = browser.new_context(
        base_url=live_server.url, locale="fr-FR", timezone_id="Africa/Casablanca", java_script_enabled=False
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto("/services/signaler-fuite-ou-coupure/")
        expect(page.get_by_role("button", name="Utiliser ma position")).to_be_hidden()
        page.get_by_label("Fuite", exact=True).check()
        page.get_by_label("Décrivez le problème").fill("Fuite au pied du compteur.")
        page.get_by_label("Nom et prénom *").fill("Nadia Berrada")
        page.get_by_label("Téléphone *").fill("0661990011")
        page.wait_for_timeout(3200)
        page.get_by_role("button", name="Envoyer votre demande").click()
        expect(page.get_by_test_id("error-summary")).to_contain_text(
            "Indiquez l'adresse du problème ou utilisez votre position."
        )
        expect(page.get_by_label("Décrivez le problème")).to_have_value("Fuite au pied du compteur.")
        page.get_by_label("Adresse du problème").fill("Avenue Mohammed V, n° 40")
        page.get_by_role("button", name="Envoyer votre demande").click()
        expect(page.get_by_test_id("complaint-number")).to_be_visible()
        assert Complaint.objects.get().address == "Avenue Mohammed V, n° 40"
    finally:
        context.close()
