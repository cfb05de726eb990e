"""The subscription lifecycle in real browsers, both sides at once: staff accept the
administrative admissibility, the customer presses « Appeler », the agent records the identity
check from the call queue, staff accept the technical check, the customer reads and signs both
contracts on the canvas with the mouse, pays the fees through the CMI sandbox, the technician
records both meters, and the customer sees the active subscription (seed « Signature du contrat
et appel vidéo », « Paiement des frais », « Suivre ma demande d'abonnement »)."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import expect

from rak_customer.models import Customer, Dossier
from rak_requests.models import CallRequest, Phase, RequestType, ServiceRequest
from tests.factories import TEST_PASSWORD, StaffFactory, customer_with_account

DATA = {
    "services": ["EAU", "ELECTRICITE"],
    "address": "12 rue Tarik Ibn Ziad",
    "district": "Maamora",
    "city": "Kénitra",
    "usage": "DOMESTIQUE",
    "usage_label": "Domestique (habitation)",
    "tariff_category": "BT_DOMESTIQUE",
    "tariff_category_label": "Basse tension — usage domestique",
    "power_kva": "6",
    "caliber_mm": "15",
}


@pytest.fixture
def world(live_server, settings):
    settings.SITE_URL = live_server.url
    settings.CMI_GATEWAY_URL = f"{live_server.url}/cmi-sandbox/fim/est3Dgate"
    importlib.import_module("rak_requests.migrations.0002_seed_request_types").seed(apps, None)
    customer, _user = customer_with_account(
        phone="+212661234567", email="salma@example.ma", first_name="Salma", last_name="Benjelloun"
    )
    Customer.objects.filter(pk=customer.pk).update(status=Customer.Status.PROSPECT)
    request_type = RequestType.objects.get(code=RequestType.Code.SUBSCRIPTION)
    request = ServiceRequest.objects.create(
        number="AB2026-900001",
        request_type=request_type,
        customer=customer,
        phase=Phase.objects.get(request_type=request_type, code=Phase.Code.RECEVABILITE_ADMIN),
        data=DATA,
        filed_at=timezone.now(),
    )
    agent = StaffFactory(username="agent", first_name="Karim")
    agent.groups.set(Group.objects.filter(name__in=["accueil", "technique"]))
    return customer, request


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


def customer_login(page, code: str) -> None:
    page.goto("/")
    page.get_by_label("Code client, e-mail ou téléphone").fill(code)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    expect(page.get_by_test_id("customer-name")).to_have_text("Salma Benjelloun")


def sign_on_canvas(page) -> None:
    text = page.get_by_test_id("contract-text")
    expect(text).to_contain_text("Article 7")
    expect(page.get_by_test_id("sign-submit")).to_be_disabled()
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


def test_subscription_lifecycle_from_admissibility_to_active_subscription(page, browser, live_server, world):
    customer, request = world
    staff_context = browser.new_context(base_url=live_server.url, locale="fr-FR", timezone_id="Africa/Casablanca")
    staff_context.set_default_timeout(10_000)
    staff = staff_context.new_page()
    staff_login(staff)
    change = f"/backoffice/rak_requests/servicerequest/{request.pk}/change/"

    press(staff, change, "rak_requests_servicerequest_accept_phase")
    request.refresh_from_db()
    assert request.phase.code == "RECEVABILITE_TECH"

    customer_login(page, customer.code)
    page.goto(f"/espace/demandes/{request.number}/")
    page.get_by_test_id("call-button").click()
    expect(page.get_by_text("un conseiller de la RAK va vous appeler").first).to_be_visible()
    expect(page.get_by_test_id("call-pending")).to_be_visible()

    staff.goto("/backoffice/rak_requests/callrequest/")
    expect(staff.get_by_text("+212661234567")).to_be_visible()
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
