"""A recouvrement agent at the counter, in a real browser: a payment above what the customer owes
is refused until a reason is typed; then the payment is reversed from its page (« Annuler le
paiement », reason mandatory) and the bill it had settled is to pay again."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from rak_billing.ledger import OtherLine, bill_issue_other, customer_balance
from rak_billing.models import Bill, Payment, PaymentReversal
from tests.factories import TEST_PASSWORD, CustomerFactory, StaffFactory


@pytest.fixture
def agent_and_bill(live_server, transactional_db):
    agent = StaffFactory(username="samira", first_name="Samira", last_name="Idrissi")
    agent.groups.set(Group.objects.filter(name="recouvrement"))
    customer = CustomerFactory()
    bill = bill_issue_other(
        kind=Bill.Kind.CUT_FEE,
        customer=customer,
        lines=[OtherLine("Frais de coupure", Decimal("120.00"), vat_rate=Decimal("0"))],
        issue_date=datetime.date(2026, 2, 1),
        now=datetime.datetime(2026, 2, 1, 10, tzinfo=datetime.UTC),
    )
    return customer, bill


def test_counter_payment_bounds_and_reversal(page, agent_and_bill, tmp_path):
    customer, bill = agent_and_bill
    page.goto("/backoffice/login/")
    page.fill("input[name=username]", "samira")
    page.fill("input[name=password]", TEST_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")

    page.goto("/backoffice/rak_billing/payment/add/")
    page.fill("[name=customer_code]", customer.code)
    page.fill("[name=amount]", "200")
    page.fill("[name=paid_at_0]", "15/03/2026")
    page.fill("[name=paid_at_1]", "09:00:00")
    with page.expect_navigation():
        page.locator("button[name=_save]").evaluate("b => b.click()")
    expect(page.get_by_text("dépasse le solde dû par le client (120,00 DH)", exact=False)).to_be_visible()
    assert Payment.objects.count() == 0

    page.fill("[name=reason]", "Avance demandée par le client")
    with page.expect_navigation():
        page.locator("button[name=_save]").evaluate("b => b.click()")
    expect(page.get_by_text("1 facture(s) soldée(s)", exact=False)).to_be_visible()
    payment = Payment.objects.get()

    page.goto(f"/backoffice/rak_billing/payment/{payment.pk}/reverse/")
    expect(page.get_by_text(bill.number, exact=False)).to_be_visible()
    page.get_by_label("Motif de l'annulation").fill("Chèque impayé (rejet banque)")
    page.screenshot(path=str(tmp_path / "reverse.png"), full_page=True)
    with page.expect_navigation():
        page.get_by_role("button", name="Annuler le paiement").click()
    expect(page.get_by_text("de nouveau à payer", exact=False)).to_be_visible()
    expect(page.get_by_text("Chèque impayé (rejet banque)", exact=False).first).to_be_visible()

    reversal = PaymentReversal.objects.get()
    assert reversal.reversed_by.username == "samira"
    bill.refresh_from_db()
    assert bill.settled_at is None and customer_balance(customer) == Decimal("120.00")
