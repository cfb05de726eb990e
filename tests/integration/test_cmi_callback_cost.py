"""Statements per CMI callback (issue 15), counted on the real path: the test client through the
whole middleware stack, real transactions (``transaction=True``), an order with two bills and the
online fee. The budget below is what the callback costs now; a change that adds statements fails
here (lower the figures when you remove some). Timings are measured by bench/bench_cmi_callbacks.py,
never here."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rak_base.sequences import sequence_next
from rak_billing.ledger import bill_sequence_name
from rak_billing.models import Payment
from rak_payment_cmi import services
from rak_payment_cmi.models import CmiCallback, PaymentOrder
from tests.factories import CustomerFactory
from tests.integration.test_cmi_callback import CALLBACK_URL, callback_for, make_bill

#: first delivery of an approved callback: the raw message's transaction (BEGIN, SET LOCAL
#: synchronous_commit, INSERT, COMMIT) and the processing one (BEGIN … COMMIT, savepoints included)
FIRST_DELIVERY = 38
#: the same callback again: raw message, then the order read under lock and the outcome written
DUPLICATE = 8


def statements(queries: CaptureQueriesContext) -> list[str]:
    return [query["sql"] for query in queries.captured_queries]


@pytest.mark.django_db(transaction=True)
def test_statements_per_approved_callback(now):
    customer = CustomerFactory()
    bills = [
        make_bill(customer, "113.02", due=datetime.date(2018, 4, 14)),
        make_bill(customer, "105.81", due=datetime.date(2018, 5, 14)),
    ]
    order = services.payment_order_create(
        customer=customer, bills=bills, email="a@b.ma", fee_amount=Decimal("2.19"), fee_vat=Decimal("0.22"), now=now
    )
    fields = callback_for(order)
    sequence_next(name=bill_sequence_name(timezone.localdate().year))  # the fee invoice's year exists (steady state)
    client = Client()

    with CaptureQueriesContext(connection) as queries:
        assert client.post(CALLBACK_URL, fields).content.decode() == "ACTION=POSTAUTH"
    sql = statements(queries)
    assert PaymentOrder.objects.get().status == PaymentOrder.Status.PAID and Payment.objects.count() == 1
    assert len(sql) <= FIRST_DELIVERY, "\n".join(sql)
    assert sql.count("COMMIT") == 2  # the raw message, then the money
    raw_message = sql[: sql.index("COMMIT")]
    assert raw_message[1] == "SET LOCAL synchronous_commit TO OFF" and "cmicallback" in raw_message[2]
    assert not any("synchronous_commit" in statement for statement in sql[len(raw_message) :])  # money: durable
    assert not any('"django_session"' in statement for statement in sql)  # a server-to-server POST: no session

    with CaptureQueriesContext(connection) as queries:
        assert client.post(CALLBACK_URL, fields).content.decode() == "ACTION=POSTAUTH"
    assert len(statements(queries)) <= DUPLICATE, "\n".join(statements(queries))
    assert list(CmiCallback.objects.order_by("id").values_list("outcome", flat=True)) == ["APPLIED", "DUPLICATE"]
