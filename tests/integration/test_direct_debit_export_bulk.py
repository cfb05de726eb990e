"""The monthly export is set-based (as a network payments file): the customer's own credit pays
before the bank is asked, « facture réglée » fires once per chunk of customers with every bill it
settled, and the number of statements does not grow with the number of bills."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rak_base.hooks import _subscribers, hook_subscribe
from rak_billing import direct_debit
from rak_billing.direct_debit import debits_export, mandate_create
from rak_billing.direct_debit_models import DebitOrder
from rak_billing.ledger import HOOK_BILLS_SETTLED, bill_outstanding, customer_balance, payment_record
from rak_billing.models import Bill, Payment
from tests.billing_factories import bill_create
from tests.factories import DossierFactory, StaffFactory, customer_with_account
from tests.integration.test_direct_debit_billing import rib

pytestmark = pytest.mark.django_db

D = Decimal
MARCH = datetime.date(2026, 3, 1)


@pytest.fixture
def settled_calls():
    calls: list[dict] = []

    def record(*, bill_ids, customer_id, customer_ids):
        settled = dict(Bill.objects.filter(pk__in=bill_ids).values_list("pk", "settled_at"))
        calls.append({"bill_ids": list(bill_ids), "customer_id": customer_id, "customer_ids": list(customer_ids)})
        assert all(settled.values())  # fired in the transaction, after the bills were settled

    hook_subscribe(HOOK_BILLS_SETTLED, record)
    yield calls
    _subscribers[HOOK_BILLS_SETTLED].remove(record)


def debited(n: int, *, now, bank: str = "007") -> tuple:
    customer, _user = customer_with_account(phone=f"+2126120009{n:02d}")
    dossier = DossierFactory(customer=customer)
    mandate_create(dossier_id=dossier.pk, rib=rib(bank), signed_date=datetime.date(2026, 2, 1), now=now)
    return customer, dossier


def test_the_customers_credit_pays_first_and_the_bank_is_asked_only_for_the_rest(now):
    customer, dossier = debited(1, now=now)
    payment_record(customer=customer, amount=D("30.00"), method=Payment.Method.CASH, paid_at=now)  # a credit
    bill = bill_create(dossier=dossier, period_start=datetime.date(2026, 2, 1))  # issued without applying it

    result = debits_export(period=MARCH, by=StaffFactory(), now=now)

    order = DebitOrder.objects.get(bill=bill)
    assert order.amount == bill.total_ttc - D("30.00") == result.total
    assert bill_outstanding(bill) == 0
    assert customer_balance(customer) == 0  # nothing paid twice, nothing left in credit


def test_the_settled_hook_fires_once_per_chunk_with_every_bill(now, settled_calls, monkeypatch):
    monkeypatch.setattr(direct_debit, "EXPORT_CHUNK", 2)
    bills = []
    for n in range(3):
        _customer, dossier = debited(10 + n, now=now, bank=("007", "011", "007")[n])
        bills.append(bill_create(dossier=dossier, period_start=datetime.date(2026, 2, 1)))

    result = debits_export(period=MARCH, by=StaffFactory(), now=now)

    assert result.orders == 3 and len(result.batches) == 2
    assert len(settled_calls) == 2  # 2 chunks: customers 1-2, then 3
    assert sorted(pk for call in settled_calls for pk in call["bill_ids"]) == sorted(b.pk for b in bills)
    assert settled_calls[0]["customer_id"] is None and len(settled_calls[0]["customer_ids"]) == 2
    assert settled_calls[1]["customer_id"] == settled_calls[1]["customer_ids"][0]


def test_the_statements_do_not_grow_with_the_bills(now):
    agent = StaffFactory()
    counts = []
    months = ((MARCH, 1), (datetime.date(2026, 4, 1), 3), (datetime.date(2026, 5, 1), 12))  # the first warms up
    for month, size in months:
        for n in range(size):
            _customer, dossier = debited(20 + size + n, now=now)
            bill_create(dossier=dossier, period_start=month - datetime.timedelta(days=28))
        with CaptureQueriesContext(connection) as queries:
            assert debits_export(period=month, by=agent, now=now).orders == size
        counts.append(len(queries))
    assert counts[1] == counts[2]
