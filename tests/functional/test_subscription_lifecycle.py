"""The whole subscription lifecycle in real browsers, both sides at once: a new person files the
request through the public 4 steps (OTP read from the SMS, real PDF attachments), staff ask for a
complement, the customer logs in with the password from the SMS (forced change at first login)
and answers it with a PNG from « Suivi des demandes », staff accept the administrative
admissibility, the customer presses « Appeler », the agent records the identity check from the
call queue, staff accept the technical check, the customer reads and signs both contracts on the
canvas with the mouse, pays the fees through the CMI sandbox, the technician records both meters,
and the customer sees the active subscription (seed « Demande d'abonnement », « Suivi des
demandes », « Signature du contrat et appel vidéo », « Paiement des frais », « Suivre ma demande
d'abonnement »)."""

from __future__ import annotations

import importlib
import re

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from rak_customer.models import Customer, Dossier
from rak_requests.models import CallRequest, ServiceRequest
from tests.factories import TEST_PASSWORD, StaffFactory
from tests.reading_factories import png_bytes
from tests.request_factories import pdf_bytes

PHONE = "+212661234567"


@pytest.fixture
def world(live_server, settings):
    settings.SITE_URL = live_server.url
    settings.CMI_GATEWAY_URL = f"{live_server.url}/cmi-sandbox/fim/est3Dgate"
    importlib.import_module("rak_requests.migrations.0002_seed_request_types").seed(apps, None)
    agent = StaffFactory(username="agent", first_name="Karim")
    agent.groups.set(Group.objects.filter(name__in=["accueil", "technique"]))


def staff_login(staff_page) -> None:
    staff_page.goto("/backoffice/login/")
    staff_page.fill("input[name=username]", "agent")
    staff_page.fill("input[name=password]", TEST_PASSWORD)
    with staff_page.expect_navigation():
        staff_page.keyboard.press("Enter")


def press(staff_page, url: str, button: str, **fields) -> None:
    """Open a back-office page, fill ``fields``, press the submit-line button ``button``."""
    staff_page.goto(url)
    for name, value in fields.items():
        staff_page.fill(f"[name={name}]", value)
    with staff_page.expect_navigation():
        staff_page.locator(f"button[name={button}]").evaluate("b => b.click()")


def file_request(page, sms_outbox, pdf) -> None:
    """The public 4 steps as a new person (the detours are in test_subscription_request.py)."""
    page.goto("/")
    page.get_by_role("link", name="Demande d'abonnement").first.click()
    page.locator("#id_last_name").fill("Benjelloun")
    page.locator("#id_first_name").fill("Salma")
    page.locator("#id_identity").fill("GK123456")
    page.locator("#id_email").fill("salma@example.ma")
    page.locator("#id_phone").fill("06 61 23 45 67")
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
    for code in ("cin", "titre_propriete", "attestation_residence"):
        page.locator(f"#doc_{code}").set_input_files(str(pdf))
    page.get_by_role("button", name="Suivant").click()
    expect(page.get_by_role("heading", name=re.compile("Étape 4"))).to_be_visible()
    page.locator("#id_accept_terms").check()
    page.locator("#id_accept_data_processing").check()
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_test_id("request-receipt")).to_contain_text("a bien été enregistrée")


def first_login(page, code: str, sms_outbox) -> None:
    """Log in with the password of the SMS, then choose one (forced at first login)."""
    password = next(m.group(1) for b in sms_outbox.bodies(PHONE) if (m := re.search(r"mot de passe (\S+)\.", b)))
    page.goto("/")
    page.get_by_label("Code client, e-mail ou téléphone").fill(code)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Connexion").click()
    expect(page.get_by_role("heading", name="Choisissez votre mot de passe")).to_be_visible()
    page.get_by_label(re.compile(r"^Mot de passe reçu")).fill(password)  # seed 002: three fields
    page.get_by_label(re.compile(r"^Nouveau mot de passe")).fill("Gharb-Sebou-2026")
    page.get_by_label("Confirmation du nouveau mot de passe").fill("Gharb-Sebou-2026")
    page.get_by_role("button", name="Envoyer").click()
    expect(page.get_by_test_id("customer-name")).to_have_text("Salma Benjelloun")


def sign_on_canvas(page) -> None:
    text = page.get_by_test_id("contract-text")
    expect(text).to_contain_text("Article 7")
    expect(page.get_by_test_id("sign-submit")).to_be_disabled()
    # the pad's script is loaded and wired (on a loaded machine the drag could come before it)
    expect(page.get_by_test_id("signature-pad")).to_have_attribute("data-ready", "true")
    text.evaluate("el => { el.scrollTop = el.scrollHeight; el.dispatchEvent(new Event('scroll')); }")
    pad = page.get_by_test_id("signature-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    page.mouse.move(box["x"] + 30, box["y"] + box["height"] - 40)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 30 + step * 35, box["y"] + 40 + (step % 3) * 45, steps=3)
    page.mouse.up()
    expect(page.get_by_test_id("sign-submit")).to_be_enabled()
    page.get_by_test_id("sign-submit").click()


def test_subscription_lifecycle_from_filing_to_active_subscription(
    page, browser, live_server, sms_outbox, tmp_path, world
):
    pdf, png = tmp_path / "piece.pdf", tmp_path / "bail.png"
    pdf.write_bytes(pdf_bytes())
    png.write_bytes(png_bytes())
    file_request(page, sms_outbox, pdf)
    request = ServiceRequest.objects.get()
    customer = Customer.objects.get(cin="GK123456")
    assert request.phase.code == "RECEVABILITE_ADMIN" and request.attachments.count() == 3

    staff_context = browser.new_context(base_url=live_server.url, locale="fr-FR", timezone_id="Africa/Casablanca")
    staff_context.set_default_timeout(10_000)
    staff = staff_context.new_page()
    staff_login(staff)
    change = f"/backoffice/rak_requests/servicerequest/{request.pk}/change/"
    press(staff, change, "rak_requests_servicerequest_ask_complement", action_message="Le bail signé, lisible.")
    request.refresh_from_db()
    assert request.status == ServiceRequest.Status.COMPLEMENT_DEMANDE

    first_login(page, customer.code, sms_outbox)
    page.get_by_role("link", name="Suivi des demandes").first.click()
    expect(page.get_by_test_id("action-expected")).to_be_visible()
    page.get_by_test_id("magnifier").click()
    complement = page.get_by_test_id("complement")
    expect(complement).to_contain_text("Le bail signé, lisible.")
    complement.get_by_text("Répondre").click()
    complement.get_by_label("Votre réponse").fill("Voici le bail.")
    complement.get_by_label("Fichier").set_input_files(str(png))
    complement.get_by_role("button", name="Envoyer").click()
    expect(page.get_by_text("votre demande est de nouveau en cours")).to_be_visible()
    expect(page.get_by_test_id("attachments")).to_contain_text("bail.png")
    request.refresh_from_db()
    assert request.status == ServiceRequest.Status.EN_COURS and request.attachments.count() == 4

    press(staff, change, "rak_requests_servicerequest_accept_phase")
    request.refresh_from_db()
    assert request.phase.code == "RECEVABILITE_TECH"

    page.goto(f"/espace/demandes/{request.number}/")
    page.get_by_test_id("call-button").click()
    expect(page.get_by_text("un conseiller de la RAK va vous appeler").first).to_be_visible()
    expect(page.get_by_test_id("call-pending")).to_be_visible()

    staff.goto("/backoffice/rak_requests/callrequest/")
    expect(staff.get_by_text(PHONE)).to_be_visible()
    call = CallRequest.objects.get(request=request)
    press(
        staff,
        f"/backoffice/rak_requests/callrequest/{call.pk}/change/",
        "rak_requests_callrequest_identity_confirmed",
        check_notes="CIN vérifiée par appel vidéo",
    )
    press(staff, change, "rak_requests_servicerequest_accept_phase")
    request.refresh_from_db()
    assert request.phase.code == "SIGNATURE" and request.expected_action == "SIGN"

    page.goto(f"/espace/demandes/{request.number}/")
    page.get_by_test_id("sign-link").click()
    expect(page.get_by_role("heading", name="Signature du contrat")).to_be_visible()
    sign_on_canvas(page)  # water
    expect(page.get_by_text("Contrat eau signé")).to_be_visible()
    sign_on_canvas(page)  # electricity, then the fees
    expect(page.get_by_role("heading", name="Paiement des frais d'abonnement")).to_be_visible()
    expect(page.get_by_test_id("fee-lines")).to_contain_text("Dépôt de garantie eau potable (15 mm)")
    page.locator("#id_conditions").check()
    page.get_by_test_id("fee-pay").click()
    expect(page.get_by_role("heading", name="Demande de paiement")).to_be_visible()  # the sandbox's card page
    page.get_by_label("Nom du porteur de la carte").fill("Salma Benjelloun")
    page.get_by_label("Numéro de carte de paiement").fill("4111 1111 1111 1111")
    page.get_by_label("Date d'expiration (MM/AA)").fill("12/35")
    page.get_by_label("Code de vérification").fill("123")
    page.get_by_role("button", name="Valider le paiement").click()
    expect(page.get_by_test_id("payment-status")).to_contain_text("Votre paiement a été accepté", timeout=20_000)
    request.refresh_from_db()
    assert request.phase.code == "POSE_COMPTEUR"

    page.goto(f"/espace/demandes/{request.number}/")
    with page.expect_download() as download:
        page.get_by_test_id("contract-pdf").first.click()
    assert download.value.suggested_filename.startswith(f"contrat-{request.number}")

    for order, number in zip(request.installations.order_by("service"), ("SN2690000001", "IS2690000002"), strict=True):
        press(
            staff,
            f"/backoffice/rak_requests/installationorder/{order.pk}/change/",
            "rak_requests_installationorder_record_meter",
            meter_number=number,
            brand="Sensus",
            index="0",
        )
    request.refresh_from_db()
    assert request.status == ServiceRequest.Status.ACCEPTEE
    dossiers = list(Dossier.objects.filter(customer=customer).order_by("number"))
    assert [d.status for d in dossiers] == ["ACTIVE", "ACTIVE"]

    page.goto(f"/espace/demandes/{request.number}/")
    installations = page.get_by_test_id("installations")
    for dossier in dossiers:
        expect(installations).to_contain_text(dossier.number)
    page.goto("/espace/")
    expect(page.locator("body")).to_contain_text(dossiers[0].number)
    staff_context.close()
