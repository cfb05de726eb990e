"""A connection request (« Demande de branchement ») in real browsers, both sides: staff finish
the technical study, « Accepter la phase » in « Devis » is refused while no quote is accepted,
staff issue the quote from the back office, the customer accepts it in « Mes devis », the works
invoice appears in « Mes devis », on the request's page and among the other invoices, the agency
counter records its payment in the back office, and the request is in « Travaux » with nobody
pressing anything else."""

from __future__ import annotations

import importlib
import re

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from rak_billing.models import Bill
from rak_requests.filing import request_file
from rak_requests.models import Quote, RequestType, ServiceRequest
from tests.factories import TEST_PASSWORD, StaffFactory, customer_with_account


@pytest.fixture
def world(live_server, settings, transactional_db):
    settings.SITE_URL = live_server.url
    importlib.import_module("rak_requests.migrations.0002_seed_request_types").seed(apps, None)
    agent = StaffFactory(username="agent", first_name="Karim")
    agent.groups.set(Group.objects.filter(name__in=["accueil", "technique"]))
    customer, _ = customer_with_account(phone="+212661230000", email="amine@example.ma")
    rtype = RequestType.objects.get(code=RequestType.Code.CONNECTION)
    rtype.documents.update(required=False)
    from rak_base import clock

    request = request_file(
        request_type=rtype,
        customer=customer,
        data={"address": "5 avenue Mohammed V", "city": "Kénitra", "building_type": "Villa", "units": 1},
        attachments=[],
        now=clock.now(),
    )
    return {"customer": customer, "request": request}


def staff_login(staff_page) -> None:
    staff_page.goto("/backoffice/login/")
    staff_page.fill("input[name=username]", "agent")
    staff_page.fill("input[name=password]", TEST_PASSWORD)
    with staff_page.expect_navigation():
        staff_page.keyboard.press("Enter")


def press(staff_page, url: str, button: str) -> None:
    staff_page.goto(url)
    with staff_page.expect_navigation():
        staff_page.locator(f"button[name={button}]").evaluate("b => b.click()")


def test_quote_accepted_in_mes_devis_then_paid_at_the_counter_moves_the_request_to_travaux(
    page, browser, live_server, world
):
    request, customer = world["request"], world["customer"]
    staff_context = browser.new_context(base_url=live_server.url, locale="fr-FR", timezone_id="Africa/Casablanca")
    staff_context.set_default_timeout(10_000)
    staff = staff_context.new_page()
    staff_login(staff)
    change = f"/backoffice/rak_requests/servicerequest/{request.pk}/change/"
    press(staff, change, "rak_requests_servicerequest_accept_phase")  # the study is done
    request.refresh_from_db()
    assert request.phase.code == "DEVIS"
    press(staff, change, "rak_requests_servicerequest_accept_phase")  # no quote yet: refused
    expect(staff.get_by_text(re.compile("devis accepté par le client"))).to_be_visible()

    staff.goto(f"/backoffice/rak_requests/quote/emettre/?request={request.pk}")
    staff.locator("[name=lines]").fill("Branchement BT monophasé ; 1 ; 4500\nCâble (m) ; 12 ; 80")
    with staff.expect_navigation():
        staff.get_by_role("button", name=re.compile("Émettre")).click()
    quote = Quote.objects.get(request=request)
    expect(staff.get_by_text(re.compile(f"Devis {quote.number} émis"))).to_be_visible()

    page.goto("/")
    page.get_by_label("Code client, e-mail ou téléphone").fill(customer.code)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    page.goto("/espace/devis/")
    card = page.get_by_test_id(f"quote-{quote.number}")
    expect(card).to_contain_text("Valide")
    card.get_by_role("button", name="Accepter le devis").click()
    bill = Bill.objects.get(customer=customer, kind=Bill.Kind.WORKS)
    expect(page.get_by_text(re.compile(f"Payez la facture des travaux n° {bill.number}"))).to_be_visible()
    card = page.get_by_test_id(f"quote-{quote.number}")
    expect(card.get_by_test_id("works-bill")).to_contain_text("à payer")
    expect(card.get_by_test_id("works-pay-link")).to_be_visible()

    page.goto(f"/espace/demandes/{request.number}/")
    expect(page.get_by_test_id("fee-bill")).to_contain_text(bill.number)
    expect(page.get_by_test_id("works-pay-link")).to_be_visible()
    page.goto("/espace/autres-factures/")
    expect(page.get_by_text(bill.number)).to_be_visible()

    # the customer pays at the agency: the counter records it in the back office
    staff.goto("/backoffice/rak_billing/payment/add/")
    staff.fill("[name=customer_code]", customer.code)
    staff.fill("[name=amount]", str(bill.total_ttc))
    staff.fill("[name=reference]", "GUICHET-KENITRA-1")
    with staff.expect_navigation():
        staff.locator("button[name=_save]").click()
    expect(staff.get_by_text(re.compile("facture\\(s\\) soldée\\(s\\)"))).to_be_visible()

    request.refresh_from_db()
    assert request.phase.code == "TRAVAUX" and request.status == ServiceRequest.Status.EN_COURS
    page.goto(f"/espace/demandes/{request.number}/")
    expect(page.get_by_test_id("phase-bar").locator("[aria-current=step]")).to_have_text("Travaux")
    expect(page.get_by_test_id("works-pay-link")).to_have_count(0)
    expect(page.get_by_test_id("history")).to_contain_text("Travaux payés")
