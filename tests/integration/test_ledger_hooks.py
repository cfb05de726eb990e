"""« Facture réglée »: the ledger fires ``HOOK_BILLS_SETTLED`` in the transaction that settles
bills, whatever the channel — a payment at the counter, a network payments file, a CMI card
payment, a credit note, the customer's credit applied to a new bill — once per newly settled
bill, with the bill ids and the customer."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from rak_base.hooks import _subscribers, hook_subscribe
from rak_billing.api import HOOK_BILLS_SETTLED
from rak_billing.ledger import OtherLine, bill_issue_other, credit_note_issue, payment_record
from rak_billing.models import Bill, Payment
from rak_payment_cmi import services
from rak_payment_cmi.network_imports import network_payments_import
from tests.factories import CustomerFactory, DossierFactory, StaffFactory
from tests.integration.test_cmi_callback import callback_for, make_bill, post_callback
from tests.integration.test_payment_pages import seed_bill

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def settled_calls():
    """Every ``HOOK_BILLS_SETTLED`` call, with whether each bill was already settled in the
    database when the hook ran (it runs inside the settling transaction)."""
    calls: list[dict] = []

    def record(*, bill_ids, customer_id, customer_ids):
        seen = dict(Bill.objects.filter(pk__in=bill_ids).values_list("pk", "settled_at"))
        assert customer_id is None or customer_ids == [customer_id]
        calls.append({"bill_ids": list(bill_ids), "customer_id": customer_id, "settled_seen": seen})
        if len(customer_ids) > 1:
            calls[-1]["customer_ids"] = list(customer_ids)

    hook_subscribe(HOOK_BILLS_SETTLED, record)
    yield calls
    _subscribers[HOOK_BILLS_SETTLED].remove(record)


def fee(customer, amount: str, *, issue: datetime.date, now) -> Bill:
    return bill_issue_other(
        kind=Bill.Kind.CUT_FEE,
        customer=customer,
        lines=[OtherLine("Frais", D(amount), vat_rate=D("0"))],
        issue_date=issue,
        now=now,
    )


def settled_ids(calls) -> list[int]:
    return [pk for call in calls for pk in call["bill_ids"]]


def test_counter_payment_fires_once_per_newly_settled_bill(client, settled_calls, now):
    staff = StaffFactory()
    staff.groups.set(Group.objects.filter(name="accueil"))
    client.force_login(staff)
    customer = CustomerFactory()
    january = fee(customer, "70.00", issue=datetime.date(2026, 1, 5), now=now)
    february = fee(customer, "50.00", issue=datetime.date(2026, 2, 5), now=now)
    march = fee(customer, "40.00", issue=datetime.date(2026, 2, 20), now=now)
    assert settled_calls == []  # issuing bills settles nothing

    response = client.post(
        reverse("admin:rak_billing_payment_add"),
        {
            "customer_code": customer.code,
            "amount": "130.00",
            "method": "CASH",
            "paid_at_0": "02/03/2026",
            "paid_at_1": "10:00:00",
            "reference": "REÇU-HOOK",
        },
    )
    assert response.status_code == 302

    assert len(settled_calls) == 1
    assert settled_calls[0]["customer_id"] == customer.pk
    assert sorted(settled_calls[0]["bill_ids"]) == sorted([january.pk, february.pk])
    assert all(at is not None for at in settled_calls[0]["settled_seen"].values())  # same transaction
    march.refresh_from_db()
    assert march.settled_at is None

    # the rest of March: one more call, for March only
    payment_record(customer=customer, amount=D("30.00"), method=Payment.Method.CASH, paid_at=now)
    assert sorted(settled_ids(settled_calls)) == sorted([january.pk, february.pk, march.pk])  # each once
    assert len(settled_calls) == 2 and settled_calls[1]["bill_ids"] == [march.pk]
    # a payment that settles nothing (credit) fires nothing
    payment_record(customer=customer, amount=D("5.00"), method=Payment.Method.CASH, paid_at=now)
    assert len(settled_calls) == 2


def test_credit_applied_to_a_new_bill_fires(settled_calls, now):
    customer = CustomerFactory()
    payment_record(customer=customer, amount=D("100.00"), method=Payment.Method.CASH, paid_at=now)
    assert settled_calls == []
    bill = fee(customer, "60.00", issue=datetime.date(2026, 3, 1), now=now)
    assert bill.settled_at is not None
    assert settled_calls == [
        {"bill_ids": [bill.pk], "customer_id": customer.pk, "settled_seen": {bill.pk: bill.settled_at}}
    ]


def test_network_import_fires_once_per_customer_and_settled_bill(settled_calls, now):
    first, second = CustomerFactory(), CustomerFactory()
    a1 = fee(first, "40.00", issue=datetime.date(2026, 1, 5), now=now)
    a2 = fee(first, "30.00", issue=datetime.date(2026, 2, 5), now=now)
    b1 = fee(second, "25.00", issue=datetime.date(2026, 1, 5), now=now)
    data = (
        "code_client;numero_facture;montant;date;reference;reseau\n"
        f"{first.code};;40,00;01/03/2026 09:30;H-1;Tasshilat\n"
        f"{first.code};;30,00;01/03/2026 09:40;H-2;Tasshilat\n"
        f";{b1.number};25,00;01/03/2026 09:50;H-3;Tasshilat\n"
    ).encode()

    imported = network_payments_import(data=data, file_name="hook.csv", now=now)

    assert imported.rows_created == 3
    # one call for the file (not one per customer: a subscriber's query per call stays one per file)
    assert len(settled_calls) == 1
    assert sorted(settled_calls[0]["bill_ids"]) == sorted([a1.pk, a2.pk, b1.pk])
    assert settled_calls[0]["customer_id"] is None
    assert settled_calls[0]["customer_ids"] == sorted([first.pk, second.pk])
    assert all(at is not None for at in settled_calls[0]["settled_seen"].values())

    network_payments_import(data=data, file_name="hook-again.csv", now=now)  # same rows: nothing new
    assert len(settled_calls) == 1


def test_cmi_payment_fires_once(client, settled_calls, now):
    customer = CustomerFactory()
    bills = [
        make_bill(customer, "113.02", due=datetime.date(2018, 4, 14)),
        make_bill(customer, "105.81", due=datetime.date(2018, 5, 14)),
    ]
    order = services.payment_order_create(
        customer=customer,
        bills=bills,
        email="client@example.ma",
        fee_amount=D("2.19"),
        fee_vat=D("0.22"),
        tel="0612345678",
        now=now,
    )
    _url, order.checkout_fields = services.order_checkout_form(order, now=now)
    fields = callback_for(order)

    assert post_callback(client, fields) == "ACTION=POSTAUTH"
    assert post_callback(client, fields) == "ACTION=POSTAUTH"  # the same callback again: applied once

    assert len(settled_calls) == 1
    assert settled_calls[0]["customer_id"] == customer.pk
    ids = settled_calls[0]["bill_ids"]
    assert len(ids) == len(set(ids)) and {b.pk for b in bills} <= set(ids)
    # besides the bills, only the online-service fee invoice the payment settles, if one is issued
    others = Bill.objects.filter(pk__in=set(ids) - {b.pk for b in bills})
    assert all(bill.kind != Bill.Kind.CONSUMPTION for bill in others)


def test_credit_note_fires_for_the_bill_it_settles(settled_calls, now):
    customer = CustomerFactory()
    dossier = DossierFactory(customer=customer)
    bill = seed_bill(dossier, "120.00", period=datetime.date(2026, 1, 1), due=datetime.date(2026, 2, 15))

    credit_note_issue(bill=bill, reason="Geste", issue_date=datetime.date(2026, 3, 2), now=now, amount=D("20.00"))
    assert settled_calls == []  # part of the bill: still open
    credit_note_issue(bill=bill, reason="Erreur de relevé", issue_date=datetime.date(2026, 3, 2), now=now)

    assert len(settled_calls) == 1
    assert settled_calls[0] == {
        "bill_ids": [bill.pk],
        "customer_id": customer.pk,
        "settled_seen": {bill.pk: now},
    }
