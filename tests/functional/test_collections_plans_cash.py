"""The collections desk in a real browser (issue 14): a recouvrement agent grants a payment plan
from the customer's page and prints the agreement; a counter agent closes the day's cash with a
difference explained and downloads the closing sheet."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from playwright.sync_api import expect

from rak_base import clock
from rak_billing.api import payment_record
from rak_collections.models import CashClosing, CounterPost, PaymentPlan
from tests.billing_factories import bill_create
from tests.factories import TEST_PASSWORD, AgencyFactory, CustomerFactory, DossierFactory, PhoneFactory, staff_in

pytestmark = pytest.mark.functional


def login(page, username: str) -> None:
    page.goto("/backoffice/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", TEST_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_recouvrement_grants_a_plan_and_prints_the_agreement(page):
    staff_in("recouvrement", username="recouv1", first_name="Samira", last_name="Alaoui")
    dossier = DossierFactory()
    customer = dossier.customer
    PhoneFactory(customer=customer, value="+212612000444")
    today = clock.now().date()
    bills = [
        bill_create(dossier=dossier, period_start=datetime.date(today.year - 1, month, 1), total_ht="1000.00")
        for month in (9, 10, 11)
    ]
    login(page, "recouv1")
    page.goto(f"/backoffice/rak_customer/customer/{customer.pk}/change/")
    card = page.get_by_test_id("customer-plans")
    expect(card).to_contain_text("Aucun échéancier.")
    card.get_by_role("link", name="Accorder un échéancier").click()
    expect(page.get_by_test_id("plan-bills")).to_contain_text(bills[0].number)
    for bill in bills:
        expect(page.locator(f"#bill-{bill.pk}")).to_be_checked()
    page.get_by_label("Nombre d'échéances (mensuelles)").fill("0")
    page.get_by_label("Première échéance").fill((today + datetime.timedelta(days=20)).isoformat())
    page.get_by_role("button", name="Accorder l'échéancier").click()
    expect(page.get_by_role("alert").first).to_be_visible()  # 0 instalments: refused with a message
    assert not PaymentPlan.objects.exists()

    page.get_by_label("Nombre d'échéances (mensuelles)").fill("6")
    page.get_by_label("Première échéance").fill((today + datetime.timedelta(days=20)).isoformat())
    page.get_by_label("Acompte (DH, facultatif)").fill("540")
    page.get_by_label("Motif / accord").fill("Accord signé au guichet")
    page.get_by_role("button", name="Accorder l'échéancier").click()
    plan = PaymentPlan.objects.get()
    expect(page.get_by_text(f"Échéancier {plan.number} accordé")).to_be_visible()
    assert plan.total_amount == Decimal("3540.00") and plan.instalments.count() == 7
    expect(page.locator("body")).to_contain_text("500,00")
    with page.expect_download() as download:
        page.get_by_test_id("plan-agreement-pdf").click()
    with open(download.value.path(), "rb") as handle:
        assert handle.read(4) == b"%PDF"

    page.goto("/backoffice/rak_collections/paymentplan/")
    expect(page.locator("#result_list")).to_contain_text(plan.number)
    expect(page.locator("#result_list")).to_contain_text("En cours")


def test_counter_agent_closes_the_day_with_an_explained_difference(page):
    agent = staff_in("accueil", username="guichet1", first_name="Karim", last_name="Bennani")
    agent.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="rak_collections", codename__in=["add_cashclosing", "view_cashclosing"]
        )
    )
    CounterPost.objects.create(user=agent, agency=AgencyFactory(name="Agence Centre"))
    now = clock.now()
    # half an hour ago, but today in Kénitra: just after midnight it would be yesterday's cash
    paid_at = max(now - datetime.timedelta(minutes=30), timezone.localtime(now).replace(hour=0, minute=0, second=0))
    for amount, method in (("150.00", "CASH"), ("249.50", "CASH"), ("600.00", "CHEQUE")):
        payment_record(
            customer=CustomerFactory(),
            amount=Decimal(amount),
            method=method,
            paid_at=paid_at,
            received_by=agent,
            reason="avance",
        )
    login(page, "guichet1")
    page.goto("/backoffice/rak_collections/cashclosing/cloturer/")
    expect(page.get_by_test_id("expected-CASH")).to_have_text("399,50")
    expect(page.get_by_test_id("expected-CHEQUE")).to_have_text("600,00")
    expect(page.get_by_test_id("cash-payments")).to_contain_text("249,50")
    page.get_by_label("Espèces en agence").fill("389,50")
    page.get_by_label("Chèque").fill("600")
    page.get_by_role("button", name="Clôturer").click()
    expect(page.get_by_test_id("cash-error")).to_contain_text("expliquez-le")
    page.get_by_label("Explication de l'écart").fill("10 DH rendus en trop à un client")
    page.get_by_role("button", name="Clôturer").click()
    expect(page.get_by_text("clôturée (écart : -10,00 DH)")).to_be_visible()
    closing = CashClosing.objects.get()
    assert closing.status == CashClosing.Status.CLOSED and closing.difference == Decimal("-10.00")
    with page.expect_download() as download:
        page.get_by_test_id("cash-sheet-pdf").click()
    with open(download.value.path(), "rb") as handle:
        assert handle.read(4) == b"%PDF"
