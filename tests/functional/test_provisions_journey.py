"""Seed 000 « Mes provisions » in a real browser, on a desktop and on a phone: a « carte congé »
customer opens « Mes provisions » from the menu and reads the three panes — « Relevé de compte »
(the advance paid, the bill deducted automatically, the balance), « Abonnement concernés » (the
dossier billed by advance), « Avance sur consommation » (the amount available) — then follows the
link « Alimentation des avances sur consommation »; another customer, not billed by advance, finds
the deposit paid at subscription for each dossier."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone
from playwright.sync_api import expect

from rak_base import clock
from rak_billing.ledger import OtherLine, bill_issue_other, payment_record
from rak_billing.models import Bill, Payment
from rak_billing.provisions import provisions_apply
from rak_customer.models import Dossier, Service
from tests.factories import TEST_PASSWORD, DossierFactory, MeterFactory, customer_with_account
from tests.functional.test_phone_layout import PHONE, assert_fits
from tests.integration.test_payment_pages import seed_bill


def _advance_customer():
    now = clock.now()
    today = timezone.localdate(now)
    customer, _user = customer_with_account(phone="+212661113301", first_name="Karim", last_name="Tazi")
    meter = MeterFactory(service=Service.ELECTRICITE, caliber="10 A")
    dossier = DossierFactory(
        customer=customer,
        service=Service.ELECTRICITE,
        meter=meter,
        number="EL00003301",
        billing_mode=Dossier.BillingMode.ADVANCE,
        deposit_amount=Decimal("0.00"),
    )
    advance = bill_issue_other(
        kind=Bill.Kind.ADVANCE,
        customer=customer,
        dossier=dossier,
        lines=[OtherLine(label="Avance sur consommation", unit_price=Decimal("600"), vat_rate=Decimal("0"))],
        issue_date=today - datetime.timedelta(days=30),
        due_date=today - datetime.timedelta(days=30),
        now=now - datetime.timedelta(days=30),
    )
    payment_record(
        customer=customer,
        amount=Decimal("600"),
        method=Payment.Method.CARD_CMI,
        paid_at=now - datetime.timedelta(days=30),
        bills=[advance],
    )
    bill = seed_bill(
        dossier,
        "215.40",
        period=today.replace(day=1) - datetime.timedelta(days=20),
        due=today + datetime.timedelta(days=10),
    )
    provisions_apply(customer_ids=[customer.pk], at=now)
    return customer, dossier, advance, bill


def _login(page, customer) -> None:
    page.goto("/")
    page.get_by_label("Code client, e-mail ou téléphone").fill(customer.code)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    expect(page.get_by_test_id("customer-name")).to_be_visible()


def test_a_carte_conge_customer_reads_the_three_panes_and_tops_up(page):
    customer, dossier, advance, bill = _advance_customer()
    _login(page, customer)

    page.get_by_role("link", name="Mes provisions").first.click()
    expect(page.get_by_role("heading", name="Mes provisions")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Les factures du client sont déduites automatiquement")

    statement = page.get_by_test_id("provision-statement")
    expect(statement.get_by_role("heading", name="Relevé de compte")).to_be_visible()
    rows = statement.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text(f"Avance versée — facture {advance.number}, dossier EL00003301")
    expect(rows.nth(0)).to_contain_text("+600,00")
    expect(rows.nth(1)).to_contain_text(f"Facture {bill.number}")
    expect(rows.nth(1)).to_contain_text("déduite")
    expect(rows.nth(1)).to_contain_text("−215,40")
    expect(rows.nth(1)).to_contain_text("384,60")

    concerned = page.get_by_test_id("provision-dossiers")
    expect(concerned.get_by_role("heading", name="Abonnement concernés")).to_be_visible()
    expect(concerned).to_contain_text("EL00003301")
    expect(concerned).to_contain_text("Électricité")

    advance_pane = page.get_by_test_id("provision-advance")
    expect(advance_pane.get_by_role("heading", name="Avance sur consommation")).to_be_visible()
    expect(page.get_by_test_id("provision-available")).to_have_text("384,60\u00a0DH")

    # the deducted bill is paid: nothing in « Mes impayés »
    rows.nth(1).get_by_role("link").click()
    expect(page.locator("main")).to_contain_text(bill.number)
    page.go_back()

    page.get_by_test_id("provision-advance").get_by_role(
        "link", name="Alimentation des avances sur consommation"
    ).click()
    expect(page).to_have_url(f"{page.url.split('/espace/')[0]}/espace/avances/")
    expect(page.locator("main")).to_contain_text("EL00003301")


def test_on_a_phone_the_panes_fit_and_another_customer_sees_the_deposits(browser, live_server, transactional_db):
    context = browser.new_context(
        base_url=live_server.url, locale="fr-FR", timezone_id="Africa/Casablanca", viewport=PHONE, is_mobile=True
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    customer, _dossier, _advance, _bill = _advance_customer()
    _login(page, customer)
    page.get_by_role("button", name="Menu").click()
    page.get_by_role("link", name="Mes provisions").click()
    expect(page.get_by_test_id("provision-available")).to_have_text("384,60\u00a0DH")
    assert_fits(page, "Mes provisions (carte congé)")
    context.clear_cookies()  # another customer on the same phone

    other, _user = customer_with_account(phone="+212661113302", first_name="Hind")
    DossierFactory(customer=other, service=Service.EAU, number="EA00003302", deposit_amount=Decimal("250.00"))
    DossierFactory(
        customer=other,
        service=Service.ELECTRICITE,
        number="EL00003303",
        deposit_amount=Decimal("1200.00"),
        start_date=datetime.date(2019, 6, 3),
    )
    _login(page, other)
    page.goto("/espace/provisions/")
    deposits = page.get_by_test_id("provision-deposits")
    expect(deposits).to_contain_text("EA00003302")
    expect(deposits).to_contain_text("250,00")
    expect(deposits).to_contain_text("03/06/2019")
    expect(deposits).to_contain_text("1\u202f450,00")
    expect(page.locator("main")).not_to_contain_text("EL00003301")
    expect(page.get_by_test_id("provision-statement")).to_have_count(0)
    assert_fits(page, "Mes provisions (dépôt de garantie)")
    context.close()
