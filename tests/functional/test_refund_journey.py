"""Seed 000 « Demande de remboursement » and « Mes remboursements » in a real browser: the customer
who paid a bill twice opens « Demande de remboursement », clicks « demander le remboursement », reads
the confirmation, clicks « valider », sees the success message and the status « Demande en
attente »; a front-desk agent calls them, accepts the phase and records the payout (« Enregistrer le
remboursement »: chèque, the amount defaulting to the credit); the customer finds the refund in
« Mes remboursements » with its receipt."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

from django.contrib.auth.models import Group
from playwright.sync_api import expect

from rak_base import clock
from rak_billing.ledger import OtherLine, bill_issue_other, customer_balance, payment_record
from rak_billing.models import Bill, Payment, Refund
from rak_requests.models import RequestType, ServiceRequest
from tests.factories import TEST_PASSWORD, StaffFactory, customer_with_account
from tests.functional.test_phone_layout import PHONE, assert_fits


def _double_paid():
    customer, _ = customer_with_account(phone="+212661118899", email="nadia@example.ma", first_name="Nadia")
    now = clock.now()
    bill_issue_other(
        kind=Bill.Kind.CUT_FEE,
        customer=customer,
        lines=[OtherLine("Frais de coupure", Decimal("120.00"), vat_rate=Decimal("0"))],
        issue_date=now.date() - datetime.timedelta(days=20),
        now=now,
    )
    for days, ext in ((6, None), (5, "CMI:JOURNEY-1")):
        payment_record(
            customer=customer,
            amount=Decimal("120.00"),
            method=Payment.Method.CASH,
            paid_at=now - datetime.timedelta(days=days),
            external_id=ext,
        )
    return customer


def test_customer_asks_for_the_refund_staff_pay_it_and_the_customer_sees_it(page, browser, live_server):
    customer = _double_paid()
    agent = StaffFactory(username="accueil1", first_name="Salma", last_name="Alaoui")
    agent.groups.set(Group.objects.filter(name="accueil"))

    page.goto("/")
    page.get_by_label("Code client, e-mail ou téléphone").fill(customer.code)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    page.get_by_role("link", name="Demande de remboursement").first.click()

    expect(page.get_by_role("heading", name="Demande de remboursement")).to_be_visible()
    items = page.get_by_test_id("refund-items")
    expect(items).to_contain_text("Double paiement")
    expect(items).to_contain_text("120,00")
    items.get_by_role("button", name="demander le remboursement").click()

    confirm = page.get_by_test_id("refund-confirm")
    expect(confirm).to_contain_text("Cliquez sur « valider » pour envoyer votre demande")
    assert not ServiceRequest.objects.filter(request_type__code=RequestType.Code.REFUND).exists()
    confirm.get_by_role("button", name="valider").click()

    expect(page.locator(".flash-success")).to_contain_text("a bien été envoyée")
    expect(page.get_by_test_id("refund-status")).to_contain_text("Demande en attente")
    request = ServiceRequest.objects.get(request_type__code=RequestType.Code.REFUND, customer=customer)

    # the front desk calls the customer, accepts the phase, then records the payout
    staff_context = browser.new_context(base_url=live_server.url, locale="fr-FR", timezone_id="Africa/Casablanca")
    staff_context.set_default_timeout(10_000)
    staff = staff_context.new_page()
    staff.goto("/backoffice/login/")
    staff.fill("input[name=username]", "accueil1")
    staff.fill("input[name=password]", TEST_PASSWORD)
    with staff.expect_navigation():
        staff.keyboard.press("Enter")
    change = f"/backoffice/rak_requests/servicerequest/{request.pk}/change/"
    staff.goto(change)
    with staff.expect_navigation():
        staff.locator("button[name=rak_requests_servicerequest_accept_phase]").evaluate("b => b.click()")
    request.refresh_from_db()
    assert request.phase.code == "VERSEMENT"

    payout = staff.locator("form.staff-action[data-action=refund_payout]")
    expect(payout.get_by_label("Montant (DH)")).to_have_value("120.00")
    payout.get_by_label("Mode de versement").select_option("CHEQUE")
    payout.get_by_label("Référence").fill("CHQ 004512")
    with staff.expect_navigation():
        payout.get_by_role("button", name="Enregistrer le remboursement").click()
    expect(staff.get_by_text(re.compile(f"{request.number} : Remboursement de 120,00 DH enregistré"))).to_be_visible()
    refund = Refund.objects.get(customer=customer)
    assert refund.amount == Decimal("120.00") and refund.reference == "CHQ 004512"
    assert customer_balance(customer) == Decimal("0.00")
    staff_context.close()

    page.get_by_role("link", name="Mes remboursements").first.click()
    expect(page.get_by_role("heading", name="Mes résiliations")).to_be_visible()
    row = page.get_by_test_id("my-refund-row").first
    expect(row).to_contain_text(request.number)
    expect(row.get_by_test_id("my-refund-status")).to_contain_text("Remboursé le")
    expect(row).to_contain_text("Chèque")
    receipt = page.request.get(row.get_by_test_id("refund-receipt").get_attribute("href"))
    assert receipt.status == 200 and receipt.body().startswith(b"%PDF")

    # on a phone: both pages fit, no horizontal scroll, targets large enough
    page.set_viewport_size(PHONE)
    page.reload()
    assert_fits(page, "Mes remboursements")
    page.goto("/espace/remboursements/demande/")
    expect(page.get_by_test_id("refund-nothing")).to_be_visible()
    expect(page.get_by_test_id("refund-requests")).to_contain_text("Remboursé")
    assert_fits(page, "Demande de remboursement")
