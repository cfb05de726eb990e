"""Issue 15: in an approved CMI callback the « Frais du service en ligne » invoice gets its gap-free
number as the processing transaction's last write (the year's bill-number row is locked from there
to the COMMIT only); until then it has a provisional number that is never committed; a reservation
rolled back with its transaction consumes no number."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rak_base.models import Message, Sequence
from rak_base.sequences import sequence_next
from rak_billing.ledger import bill_number, bill_sequence_name
from rak_billing.models import Bill, BillNumber, LedgerEntry
from rak_billing.online_fees import PROVISIONAL_PREFIX, online_fee_invoice_issue, online_fee_invoice_number
from rak_payment_cmi import services
from rak_payment_cmi.models import PaymentOrder
from tests.factories import CustomerFactory
from tests.integration.test_cmi_callback import CALLBACK_URL, callback_for, make_bill


@pytest.mark.django_db(transaction=True)
def test_the_fee_invoice_number_is_the_callbacks_last_write(now):
    customer = CustomerFactory()
    bill = make_bill(customer, "113.02", due=datetime.date(2018, 4, 14))
    order = services.payment_order_create(
        customer=customer, bills=[bill], email="a@b.ma", fee_amount=Decimal("2.19"), fee_vat=Decimal("0.22"), now=now
    )
    year = timezone.localdate().year
    first = sequence_next(name=bill_sequence_name(year)) + 1

    with CaptureQueriesContext(connection) as queries:
        assert Client().post(CALLBACK_URL, callback_for(order)).content.decode() == "ACTION=POSTAUTH"
    sql = [query["sql"] for query in queries.captured_queries]
    reserve = next(i for i, statement in enumerate(sql) if statement.startswith('UPDATE "rak_base_sequence"'))
    # then only the bill's number, its ledger label, and the COMMIT
    assert len(sql) - reserve == 4 and sql[-1] == "COMMIT", "\n".join(sql[reserve:])
    assert sql[reserve + 1].startswith('UPDATE "rak_billing_bill"') and "rak_billing_ledgerentry" in sql[reserve + 2]

    fee_bill = PaymentOrder.objects.get().fee_bill
    assert fee_bill.kind == Bill.Kind.ONLINE_FEE and fee_bill.number == bill_number(year, first)
    entry = LedgerEntry.objects.get(bill=fee_bill)
    assert entry.label.endswith(f" {fee_bill.number}")
    assert BillNumber.objects.filter(number=fee_bill.number).exists()
    assert not BillNumber.objects.filter(number__startswith=PROVISIONAL_PREFIX).exists()
    assert not Bill.objects.filter(number__startswith=PROVISIONAL_PREFIX).exists()
    assert Sequence.objects.get(name=bill_sequence_name(year)).next_value == first + 1
    (email,) = Message.objects.filter(channel=Message.Channel.EMAIL)
    assert PROVISIONAL_PREFIX not in email.body and "Frais du service en ligne" in email.body


@pytest.mark.django_db
def test_a_rolled_back_fee_invoice_consumes_no_number():
    customer = CustomerFactory()
    day = datetime.date(2026, 3, 2)
    issue = {
        "customer": customer,
        "fee_ht": Decimal("2.19"),
        "fee_vat": Decimal("0.22"),
        "vat_rate": Decimal("0.10"),
        "issue_date": day,
        "label": "Frais",
    }
    name = bill_sequence_name(2026)
    start = Sequence.objects.filter(name=name).values_list("next_value", flat=True).first() or 1
    number = bill_number(2026, start)
    with pytest.raises(RuntimeError, match="rollback"), transaction.atomic():
        fee_bill = online_fee_invoice_issue(**issue, number_later=True)
        assert fee_bill.number.startswith(PROVISIONAL_PREFIX) and len(fee_bill.number) <= 20
        online_fee_invoice_number(bill=fee_bill)
        raise RuntimeError("rollback")
    with transaction.atomic():
        fee_bill = online_fee_invoice_issue(**issue, number_later=True)
        assert online_fee_invoice_number(bill=fee_bill) == number  # the rolled-back one's number again
    fee_bill.refresh_from_db()
    assert fee_bill.number == number and LedgerEntry.objects.get(bill=fee_bill).label.endswith(f" {number}")
    assert BillNumber.objects.filter(number=number).exists()
    assert not BillNumber.objects.filter(number__startswith=PROVISIONAL_PREFIX).exists()
    assert online_fee_invoice_number(bill=fee_bill) == number  # already numbered: nothing changes
    assert Sequence.objects.get(name=name).next_value == start + 1
