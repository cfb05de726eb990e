"""Payments collected by other networks (Tasshilat, Wafacash...), imported as a CSV file from the
back office: a row that names a bill pays that bill; impossible rows (amount above the ceiling,
date in the future, more than the customer owes without a reason) are rejected one by one in the
report while the good rows are recorded."""

from __future__ import annotations

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from rak_billing.ledger import customer_balance
from rak_billing.models import Bill, Payment
from rak_payment_cmi.network_imports import network_payments_import
from tests.factories import DossierFactory, customer_with_account
from tests.integration.test_payment_pages import seed_bill

pytestmark = pytest.mark.django_db

CASABLANCA = ZoneInfo("Africa/Casablanca")
NOW = datetime.datetime(2026, 3, 20, 10, 0, tzinfo=CASABLANCA)
HEADER = "code_client;numero_facture;montant;date;reference;reseau\n"


@pytest.fixture
def two_bills():
    customer, _user = customer_with_account(first_name="Hajar", last_name="Bennani")
    dossier = DossierFactory(customer=customer)
    january = seed_bill(dossier, "100.00", period=datetime.date(2026, 1, 1), due=datetime.date(2026, 2, 14))
    february = seed_bill(dossier, "63.02", period=datetime.date(2026, 2, 1), due=datetime.date(2026, 3, 14))
    return customer, january, february


def test_a_row_naming_a_bill_pays_that_bill(two_bills):
    customer, january, february = two_bills
    data = (HEADER + f";{february.number};63,02;12/03/2026 09:30;TSH-0100;Tasshilat\n").encode()

    imported = network_payments_import(data=data, file_name="tasshilat.csv", now=NOW)

    assert imported.rows_created == 1
    january.refresh_from_db()
    february.refresh_from_db()
    assert february.settled_at is not None  # the bill the customer paid at the network's counter
    assert january.settled_at is None
    payment = Payment.objects.get()
    assert list(payment.allocations.values_list("bill_id", "amount")) == [(february.pk, Decimal("63.02"))]
    assert customer_balance(customer) == Decimal("100.00")


def test_a_row_naming_a_bill_with_its_customer_code_pays_it_and_the_rest_goes_to_the_oldest(two_bills):
    customer, january, february = two_bills
    data = (HEADER + f"{customer.code};{february.number};83,02;12/03/2026;TSH-0101;Wafacash\n").encode()

    network_payments_import(data=data, file_name="wafacash.csv", now=NOW)

    payment = Payment.objects.get()
    assert sorted(payment.allocations.values_list("bill_id", "amount")) == sorted(
        [(february.pk, Decimal("63.02")), (january.pk, Decimal("20.00"))]
    )
    assert Bill.objects.get(pk=february.pk).settled_at is not None
    assert Bill.objects.get(pk=january.pk).settled_at is None


def test_a_bigger_file_costs_no_more_queries(now):
    """The hook's subscribers included: the queries of a bulk record do not grow with the rows."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from rak_billing.ledger import OtherLine, PaymentRow, bill_issue_other, payments_record_bulk
    from tests.factories import CustomerFactory

    def run(count: int, tag: str) -> int:
        rows = []
        for i in range(count):
            customer = CustomerFactory()
            bills = [
                bill_issue_other(
                    kind=Bill.Kind.CUT_FEE,
                    customer=customer,
                    lines=[OtherLine("Frais", Decimal("40.00"), vat_rate=Decimal("0"))],
                    issue_date=datetime.date(2026, month, 5),
                    now=now,
                )
                for month in (1, 2)
            ]
            rows.append(PaymentRow(customer.pk, Decimal("40.00"), Payment.Method.AGENT_NETWORK, now, "", f"{tag}:{i}a"))
            rows.append(
                PaymentRow(
                    customer.pk, Decimal("40.00"), Payment.Method.AGENT_NETWORK, now, "", f"{tag}:{i}b", (bills[1].pk,)
                )
            )
        with CaptureQueriesContext(connection) as queries:
            assert payments_record_bulk(rows, now=now) == 2 * count
        assert Bill.objects.filter(customer_id__in=[r.customer_id for r in rows], settled_at__isnull=True).count() == 0
        return len(queries)

    assert run(5, "small") == run(40, "big")
