"""Seed 000 in a real browser: « Demande d'attestations » (choose the type and the dossier,
« Générer », « Voir » opens the PDF, its code is authentic on « Vérifier des documents »), « Mes
abonnements » on a phone (the magnifier lists the operations of the RAK on the dossier), and the
customer's own reading in « Suivi des demandes » as a « Relevé index »."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

from django.utils import timezone
from playwright.sync_api import expect

from rak_base import clock
from rak_base.models import Document
from rak_customer.models import Dossier
from tests.factories import TEST_PASSWORD, DossierFactory, MeterFactory, PremisesFactory, customer_with_account
from tests.functional.test_phone_layout import PHONE, assert_fits
from tests.reading_factories import MeterReadingFactory, ReadingRoundFactory, dossier_in_round, png_bytes


def _login(page, customer) -> None:
    page.goto("/")
    page.get_by_label("Code client, e-mail ou téléphone").fill(customer.code)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    expect(page.get_by_role("heading", level=1).first).to_be_visible()


def test_customer_generates_an_attestation_sees_it_and_verifies_its_code(page, tmp_path):
    customer, _ = customer_with_account(phone="+212661112240", first_name="Hind", last_name="Tazi")
    dossier = DossierFactory(customer=customer, premises=PremisesFactory(address="8 avenue Hassan II"))
    _login(page, customer)

    page.get_by_role("link", name="Demande d'attestation").first.click()
    expect(page.get_by_role("heading", name="Demande d'attestation")).to_be_visible()
    # refused when it does not apply: no résiliation attestation for an active dossier
    page.get_by_label("Type d'attestation").select_option(label="Attestation de résiliation")
    page.get_by_label("Dossier d'abonnement").select_option(dossier.number)
    page.get_by_role("button", name="Générer").click()
    expect(page.get_by_test_id("attestation-form")).to_contain_text(
        f"Le dossier {dossier.number} n'est pas résilié (statut : actif)"
    )

    page.get_by_label("Type d'attestation").select_option(label="Attestation d'abonnement")
    page.get_by_label("Dossier d'abonnement").select_option(dossier.number)
    page.get_by_role("button", name="Générer").click()

    expect(page.locator(".flash-success")).to_contain_text("a été générée : cliquez sur « Voir » pour la visualiser")
    row = page.get_by_test_id("attestation-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Attestation d'abonnement")
    expect(row).to_contain_text(dossier.number)
    code = page.get_by_test_id("attestation-reference").inner_text().strip()
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", code)

    voir = row.get_by_role("link", name=re.compile("Voir"))
    href = voir.get_attribute("href")
    with page.expect_popup() as popup_info:
        voir.click()
    popup = popup_info.value
    assert popup.url.endswith(href)
    pdf = page.context.request.get(href)
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
    popup.close()
    saved = tmp_path / "attestation.pdf"
    saved.write_bytes(pdf.body())
    assert Document.objects.get(kind=Document.Kind.ATTESTATION).sha256

    page.get_by_role("link", name="Suivi des demandes").first.click()
    request_row = page.get_by_test_id("request-row").filter(has_text="Demande d'attestation")
    expect(request_row).to_contain_text("Accepté")

    page.goto("/verifier-document/")
    page.get_by_label("Code de référence du document").fill(code)
    page.get_by_label("Fichier PDF du document (facultatif)").set_input_files(str(saved))
    page.get_by_role("button", name="Vérifier").click()
    result = page.get_by_test_id("verify-result")
    expect(result).to_contain_text("Document authentique : il a bien été émis par la RAK.")
    expect(result).to_contain_text("Le fichier joint est identique au document émis.")
    expect(page.get_by_test_id("verify-details")).to_contain_text(
        f"Attestation d'abonnement — dossier {dossier.number}"
    )


def test_mes_abonnements_on_a_phone_the_magnifier_lists_the_operations(page):
    customer, _ = customer_with_account(phone="+212661112241", first_name="Omar", last_name="Bennani")
    dossier = DossierFactory(
        customer=customer,
        meter=MeterFactory(number="M000000501"),
        start_date=datetime.date(2017, 4, 3),
        premises=PremisesFactory(address="3 rue Al Massira"),
    )
    DossierFactory(
        customer=customer,
        status=Dossier.Status.TERMINATED,
        start_date=datetime.date(2009, 1, 5),
        end_date=datetime.date(2020, 6, 30),
    )
    # what the staff did on it (the back office saves the dossier; its history keeps each change)
    dossier.tariff_category = Dossier.TariffCategory.PROFESSIONNEL
    dossier.save()
    dossier.status = Dossier.Status.SUSPENDED
    dossier.save()
    dossier.status = Dossier.Status.ACTIVE
    dossier.save()
    dossier.meter = MeterFactory(number="M000000502")
    dossier.save()
    page.set_viewport_size(PHONE)
    _login(page, customer)

    page.get_by_text("Menu", exact=True).first.click()
    page.get_by_role("link", name="Mes abonnements").click()
    expect(page.get_by_role("heading", name="Mes abonnements")).to_be_visible()
    rows = page.get_by_test_id("dossier-row")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Actif")
    expect(rows.first).to_contain_text("3 rue Al Massira")
    expect(rows.nth(1)).to_contain_text("Résilié")
    expect(rows.nth(1)).to_contain_text("30/06/2020")
    assert_fits(page, "Mes abonnements")

    rows.first.get_by_test_id("magnifier").click()
    expect(page.get_by_role("heading", name=f"Dossier {dossier.number}")).to_be_visible()
    operations = page.get_by_test_id("dossier-operations")
    today = timezone.localdate(clock.now()).strftime("%d/%m/%Y")
    for label in (
        "Changement de catégorie tarifaire",
        "Coupure (suspension de la fourniture)",
        "Rétablissement de la fourniture",
        "Changement de compteur",
    ):
        line = operations.get_by_test_id("dossier-operation").filter(has_text=label)
        expect(line).to_contain_text(today)
        expect(line).to_contain_text("Réalisée")
    expect(operations).to_contain_text("Domestique → Professionnel / commercial")
    expect(operations).to_contain_text("Compteur n° M000000501 remplacé par le n° M000000502")
    expect(operations.get_by_test_id("dossier-operation").last).to_contain_text("Création de l'abonnement")
    expect(operations.get_by_test_id("dossier-operation").last).to_contain_text("03/04/2017")
    assert_fits(page, "Opérations du dossier")

    # « Demande d'attestation » on the same phone: the form, « Générer », the list with « Voir »
    page.get_by_text("Menu", exact=True).first.click()
    page.get_by_role("link", name="Demande d'attestation").click()
    page.get_by_label("Type d'attestation").select_option(label="Attestation d'abonnement")
    page.get_by_label("Dossier d'abonnement").select_option(dossier.number)
    page.get_by_role("button", name="Générer").click()
    expect(page.get_by_test_id("attestation-row")).to_have_count(1)
    assert_fits(page, "Demande d'attestation")


def test_suivi_des_demandes_shows_the_customers_own_reading(page, tmp_path):
    today = timezone.localdate(clock.now())
    ReadingRoundFactory(code="TA1", window_start_day=min(today.day, 28), window_days=7)
    customer, _ = customer_with_account(phone="+212661112242", first_name="Salma", last_name="Idrissi")
    dossier = dossier_in_round("TA1", customer=customer)
    MeterReadingFactory(dossier=dossier, reading_date=today - datetime.timedelta(days=40), index=Decimal(1250))
    photo = tmp_path / "compteur.png"
    photo.write_bytes(png_bytes(size=(320, 200)))
    _login(page, customer)

    page.get_by_role("link", name="Relève de mon index").first.click()
    page.get_by_label("Index relevé").fill("1263")
    page.get_by_label("Photo de l'index").set_input_files(str(photo))
    page.get_by_role("button", name="Envoyer mon index").click()
    expect(page.locator(".flash-success")).to_contain_text("a bien été enregistré")

    page.get_by_role("link", name="Suivi des demandes").first.click()
    row = page.get_by_test_id("reading-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Relevé index")
    expect(row).to_contain_text(f"Dossier {dossier.number}")
    expect(row).to_contain_text("Index 1\u00a0263")
    expect(row).to_contain_text("Validé")
    expect(row).to_contain_text(today.strftime("%d/%m/%Y"))

    row.get_by_test_id("magnifier").click()
    expect(page.get_by_role("heading", name="Historique des relevés de consommation")).to_be_visible()
    target = page.locator("tr:target")
    expect(target).to_contain_text(today.strftime("%d/%m/%Y"))
    expect(target).to_contain_text("Auto-relève client")
