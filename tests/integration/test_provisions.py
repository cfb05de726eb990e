"""« Mes provisions » (seed 000): a « carte congé » customer's bills are deducted automatically from
the provision (the advances paid), set-based at the end of a billing run and at once when an
advance is paid; the page shows the three panes with exact amounts (« Relevé de compte »,
« Abonnement concernés », « Avance sur consommation »), or, for the other customers, the deposit of
each dossier; another customer sees nothing of it.

Before this work an advance payment only settled the advance invoice: the consumption bills of the
dossier stayed open (the first test shows what a customer now gets instead)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rak_base import clock
from rak_billing.billing import billing_run_create, billing_run_process
from rak_billing.ledger import OtherLine, bill_issue_other, customer_balance, payment_record, payment_reverse
from rak_billing.models import Bill, LedgerEntry, MeterReading, Payment, PaymentAllocation
from rak_billing.notifications import billing_run_finalize
from rak_billing.provisions import provisions_apply
from rak_billing.selectors import customer_provisions
from rak_customer.models import Dossier, Service
from tests.factories import DossierFactory, MeterFactory, StaffFactory, customer_with_account

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch, now):
    """The run's finalisation and the « facture réglée » hook read the clock: the test's instant."""
    monkeypatch.setattr(clock, "now", lambda: now)


FEB = datetime.date(2026, 2, 1)
D = Decimal


def read(dossier, day, index):
    previous = MeterReading.objects.filter(dossier=dossier, reading_date__lt=day).order_by("-reading_date").first()
    index = D(index)
    return MeterReading.objects.create(
        dossier=dossier,
        meter=dossier.meter,
        reading_date=day,
        index=index,
        previous_index=previous.index if previous else None,
        consumption=index - previous.index if previous else None,
        source=MeterReading.Source.AGENT,
        status=MeterReading.Status.ACCEPTED,
    )


def advance_dossier(customer, **kwargs):
    meter = MeterFactory(service=Service.ELECTRICITE, caliber="10 A")
    return DossierFactory(
        customer=customer,
        service=Service.ELECTRICITE,
        meter=meter,
        billing_mode=Dossier.BillingMode.ADVANCE,
        deposit_amount=D("0.00"),
        **kwargs,
    )


def pay_advance(customer, dossier, amount: str, *, now, external_id=None) -> Bill:
    """« Alimentation des avances »: the advance invoice, then its payment (as CMI's callback does)."""
    bill = bill_issue_other(
        kind=Bill.Kind.ADVANCE,
        customer=customer,
        dossier=dossier,
        lines=[OtherLine(label="Avance sur consommation", unit_price=D(amount), vat_rate=D("0"))],
        issue_date=now.date(),
        due_date=now.date(),
        now=now,
    )
    payment_record(
        customer=customer,
        amount=D(amount),
        method=Payment.Method.CARD_CMI,
        paid_at=now,
        external_id=external_id,
        bills=[bill],
    )
    return bill


def run_feb(now):
    run = billing_run_create(
        period_start=FEB,
        issue_date=datetime.date(2026, 3, 3),
        due_date=datetime.date(2026, 3, 18),
        enqueue=False,
    )
    billing_run_process(run_id=run.pk, now=now)
    billing_run_finalize(run_id=run.pk, notify=False)
    return run


def test_a_bill_of_an_advance_dossier_is_deducted_from_the_provision_at_the_end_of_the_run(now):
    customer, _user = customer_with_account(phone="+212611000001")
    dossier = advance_dossier(customer)
    advance = pay_advance(customer, dossier, "500", now=now - datetime.timedelta(days=40))
    assert advance.refresh_from_db() or advance.settled_at is not None
    read(dossier, datetime.date(2026, 1, 20), 1000)
    read(dossier, datetime.date(2026, 2, 20), 1120)

    run_feb(now)

    bill = Bill.objects.get(dossier=dossier, kind=Bill.Kind.CONSUMPTION)
    assert bill.settled_at is not None  # paid by the provision: nothing in « Mes impayés »
    note = Bill.objects.get(kind=Bill.Kind.CREDIT_NOTE, credited_bill=advance)
    assert note.total_ttc == bill.total_ttc and note.total_tva == 0
    assert note.lines.get().label == f"Imputation de l'avance {advance.number} sur la facture {bill.number}"
    assert PaymentAllocation.objects.get(credit_note=note).bill == bill
    # the books: advance 500 paid (0), the bill and its imputation (0): 500 left as provision
    assert customer_balance(customer) == 0
    assert LedgerEntry.objects.get(bill=note).amount == -bill.total_ttc
    provisions = customer_provisions(customer.pk)
    assert provisions.available == D("500.00") - bill.total_ttc

    # idempotent: a second pass finds nothing to deduct
    assert provisions_apply(customer_ids=[customer.pk], at=now) == 0


def test_a_provision_smaller_than_the_bill_pays_part_of_it_and_the_rest_stays_due(now):
    customer, _user = customer_with_account(phone="+212611000002")
    dossier = advance_dossier(customer)
    read(dossier, datetime.date(2026, 1, 20), 1000)
    read(dossier, datetime.date(2026, 2, 20), 1300)
    pay_advance(customer, dossier, "50", now=now - datetime.timedelta(days=40))

    run_feb(now)

    bill = Bill.objects.get(dossier=dossier, kind=Bill.Kind.CONSUMPTION)
    assert bill.settled_at is None
    assert customer_balance(customer) == bill.total_ttc - D("50.00")
    assert customer_provisions(customer.pk).available == D("0.00")


def test_paying_an_advance_pays_the_bills_already_open_at_once(now):
    customer, _user = customer_with_account(phone="+212611000003")
    dossier = advance_dossier(customer)
    read(dossier, datetime.date(2026, 1, 20), 1000)
    read(dossier, datetime.date(2026, 2, 20), 1100)
    run_feb(now)
    bill = Bill.objects.get(dossier=dossier, kind=Bill.Kind.CONSUMPTION)
    assert bill.settled_at is None

    pay_advance(customer, dossier, "300", now=now)

    bill.refresh_from_db()
    assert bill.settled_at is not None
    assert customer_provisions(customer.pk).available == D("300.00") - bill.total_ttc


def test_only_the_bills_of_dossiers_billed_by_advance_are_deducted(now):
    customer, _user = customer_with_account(phone="+212611000004")
    dossier = advance_dossier(customer)
    normal = DossierFactory(customer=customer, service=Service.EAU)
    read(normal, datetime.date(2026, 1, 20), 100)
    read(normal, datetime.date(2026, 2, 20), 110)
    pay_advance(customer, dossier, "400", now=now - datetime.timedelta(days=40))

    run_feb(now)

    water = Bill.objects.get(dossier=normal, kind=Bill.Kind.CONSUMPTION)
    power = Bill.objects.get(dossier=dossier, kind=Bill.Kind.CONSUMPTION)  # estimated: not read
    assert water.settled_at is None and power.settled_at is not None
    assert customer_provisions(customer.pk).available == D("400.00") - power.total_ttc
    assert not PaymentAllocation.objects.filter(bill=water).exists()


def test_many_customers_are_deducted_in_a_fixed_number_of_queries(now):
    dossiers = []
    for n in range(8):
        customer, _user = customer_with_account(phone=f"+21261100010{n}")
        dossier = advance_dossier(customer)
        pay_advance(customer, dossier, "200", now=now - datetime.timedelta(days=40))
        read(dossier, datetime.date(2026, 1, 20), 1000)
        read(dossier, datetime.date(2026, 2, 20), 1050 + n)
        dossiers.append(dossier)
    run = billing_run_create(
        period_start=FEB, issue_date=datetime.date(2026, 3, 3), due_date=datetime.date(2026, 3, 18), enqueue=False
    )
    billing_run_process(run_id=run.pk, now=now)
    customer_ids = [d.customer_id for d in dossiers]

    with CaptureQueriesContext(connection) as two:
        assert provisions_apply(customer_ids=customer_ids[:2], at=now) == 2
    with CaptureQueriesContext(connection) as six:
        assert provisions_apply(customer_ids=customer_ids[2:], at=now) == 6

    # the same queries for 2 customers or 6; « facture réglée » costs one query per subscriber
    # whatever the number of customers (requests, provisions, and since issue 14 the collections
    # desk's reminders, cut-offs and payment plans)
    assert len(six) == len(two) <= 24
    assert not Bill.objects.filter(kind=Bill.Kind.CONSUMPTION, settled_at__isnull=True).exists()
    numbers = sorted(Bill.objects.filter(kind=Bill.Kind.CREDIT_NOTE).values_list("number", flat=True))
    assert len(set(numbers)) == 8


def test_a_reversed_advance_payment_leaves_the_bill_it_paid_paid_and_the_advance_owed(now):
    customer, _user = customer_with_account(phone="+212611000005")
    dossier = advance_dossier(customer)
    advance = pay_advance(customer, dossier, "500", now=now - datetime.timedelta(days=40), external_id="CMI:T1")
    read(dossier, datetime.date(2026, 1, 20), 1000)
    read(dossier, datetime.date(2026, 2, 20), 1120)
    run_feb(now)
    bill = Bill.objects.get(dossier=dossier, kind=Bill.Kind.CONSUMPTION)

    later = now + datetime.timedelta(hours=2)
    payment_reverse(payment=Payment.objects.get(external_id="CMI:T1"), reason="Opposition", by=StaffFactory(), at=later)

    advance.refresh_from_db()
    assert advance.settled_at is None  # the advance invoice is owed again
    assert customer_balance(customer) == D("500.00")
    provisions = customer_provisions(customer.pk)
    assert provisions.available == D("0.00") and provisions.balance == -bill.total_ttc
    assert [m.kind for m in provisions.movements] == ["DEPOSIT", "DEDUCTION", "REVERSAL"]


# --- the page ----------------------------------------------------------------------------------------


def test_provisions_page_shows_the_three_panes_with_exact_amounts(client, now, django_assert_max_num_queries):
    customer, user = customer_with_account(phone="+212611000006")
    dossier = advance_dossier(customer)
    advance = pay_advance(customer, dossier, "500", now=now - datetime.timedelta(days=40))
    read(dossier, datetime.date(2026, 1, 20), 1000)
    read(dossier, datetime.date(2026, 2, 20), 1120)
    run_feb(now)
    bill = Bill.objects.get(dossier=dossier, kind=Bill.Kind.CONSUMPTION)
    left = D("500.00") - bill.total_ttc
    client.force_login(user)

    with django_assert_max_num_queries(14):
        response = client.get(reverse("portal:provisions"))

    html = response.content.decode()
    assert response.status_code == 200
    for label in ("Relevé de compte", "Abonnement concernés", "Avance sur consommation"):
        assert label in html
    assert f"Avance versée — facture {advance.number}, dossier {dossier.number}" in html
    assert f"Facture {bill.number} (02/2026) déduite" in html
    fr = lambda value: f"{value:,.2f}".replace(",", "\u202f").replace(".", ",")  # noqa: E731
    assert "500,00" in html and fr(bill.total_ttc) in html and fr(left) in html
    assert dossier.number in html
    assert reverse("portal:advance") in html
    assert "Alimentation des avances sur consommation" in html


def test_a_customer_without_advance_sees_the_deposit_of_each_dossier(client):
    customer, user = customer_with_account(phone="+212611000007")
    water = DossierFactory(customer=customer, service=Service.EAU, deposit_amount=D("250.00"))
    power = DossierFactory(
        customer=customer,
        service=Service.ELECTRICITE,
        deposit_amount=D("1200.00"),
        start_date=datetime.date(2019, 6, 3),
    )
    client.force_login(user)

    html = client.get(reverse("portal:provisions")).content.decode()

    assert "Relevé de compte" not in html
    assert "la garantie déposée au moment de la souscription" in html
    assert water.number in html and power.number in html
    assert "250,00" in html and "03/06/2019" in html
    assert "1\u202f450,00" in html or "1 450,00" in html  # the total


def test_another_customer_sees_nothing_of_it(client, now):
    owner, _user = customer_with_account(phone="+212611000008")
    dossier = advance_dossier(owner)
    advance = pay_advance(owner, dossier, "500", now=now)
    other, other_user = customer_with_account(phone="+212611000009")
    client.force_login(other_user)

    html = client.get(reverse("portal:provisions")).content.decode()

    assert advance.number not in html and dossier.number not in html
    assert "500,00" not in html


def test_provisions_page_needs_a_login(client):
    response = client.get(reverse("portal:provisions"))
    assert response.status_code == 302


# --- termination ------------------------------------------------------------------------------------


def test_at_termination_the_last_bill_is_deducted_and_the_rest_given_back_as_refundable_credit(client, now):
    from rak_billing.closing import dossier_accounts_close
    from tests.billing_factories import bill_create

    customer, user = customer_with_account(phone="+212611000010")
    dossier = advance_dossier(customer)
    advance = pay_advance(customer, dossier, "500", now=now - datetime.timedelta(days=40))
    last = bill_create(dossier=dossier, period_start=datetime.date(2026, 1, 1), consumption=120, previous_index=4000)
    assert last.settled_at is None  # issued outside a run: the closing deducts it

    closing = dossier_accounts_close(dossier_id=dossier.pk, reference="RS2026-000001", now=now)

    last.refresh_from_db()
    assert last.settled_at is not None
    release = Bill.objects.get(kind=Bill.Kind.CREDIT_NOTE, credited_bill=advance, lines__label__contains="Restitution")
    rest = D("500.00") - last.total_ttc - (closing.final_bill.total_ttc if closing.final_bill else D("0"))
    assert release.total_ttc == rest
    assert customer_balance(customer) == -rest  # the RAK owes it: « Mes remboursements »
    provisions = customer_provisions(customer.pk)
    assert provisions.available == D("0.00") and provisions.released == rest
    assert provisions.movements[-1].kind == "RELEASE"
    # nothing left to deduct or give back a second time
    assert provisions_apply(customer_ids=[customer.pk], at=now) == 0
    client.force_login(user)
    html = client.get(reverse("portal:provisions")).content.decode()
    assert f"Solde de la provision restitué à votre compte (avoir {release.number})" in html


def test_the_bill_available_message_says_the_bill_is_already_paid_by_the_provision(now):
    from rak_base.models import Message

    customer, _user = customer_with_account(phone="+212611000011")
    dossier = advance_dossier(customer)
    pay_advance(customer, dossier, "500", now=now - datetime.timedelta(days=40))
    read(dossier, datetime.date(2026, 1, 20), 1000)
    read(dossier, datetime.date(2026, 2, 20), 1120)
    poor, _user = customer_with_account(phone="+212611000012")
    other = advance_dossier(poor)
    read(other, datetime.date(2026, 1, 20), 1000)
    read(other, datetime.date(2026, 2, 20), 1120)
    run = billing_run_create(
        period_start=FEB, issue_date=datetime.date(2026, 3, 3), due_date=datetime.date(2026, 3, 18), enqueue=False
    )
    billing_run_process(run_id=run.pk, now=now)

    billing_run_finalize(run_id=run.pk)

    paid = Message.objects.get(channel=Message.Channel.SMS, recipient="+212611000011").body
    assert "déjà réglée (déduite de votre provision ou de votre crédit)" in paid and "à régler" not in paid
    owed = Message.objects.get(channel=Message.Channel.SMS, recipient="+212611000012").body
    assert "à régler avant le 18/03/2026" in owed
