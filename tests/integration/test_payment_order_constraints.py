"""The money check of a CMI payment order is exact again: total = bills + fee + fee VAT, to the
centime (migration rak_payment_cmi 0003 had loosened it to « within half a centime » for SQLite,
which added decimals as floats; PostgreSQL's numeric is exact)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F

from rak_payment_cmi import services
from rak_payment_cmi.models import PaymentOrder
from tests.factories import CustomerFactory
from tests.integration.test_cmi_callback import make_bill

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(now):
    customer = CustomerFactory()
    bill = make_bill(customer, "113.02", due=datetime.date(2018, 4, 14))
    return services.payment_order_create(customer=customer, bills=[bill], email="a@b.ma", now=now)


def test_the_database_check_is_the_exact_sum():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'cmi_order_total_is_sum'")
        (definition,) = cursor.fetchone()
    assert definition == "CHECK ((amount_total = ((amount_bills + fee_amount) + fee_vat)))"


@pytest.mark.parametrize("delta", ["0.01", "-0.01", "1.00"])
def test_a_total_that_is_not_the_sum_is_refused(order, delta):
    assert order.amount_total == order.amount_bills + order.fee_amount + order.fee_vat
    with pytest.raises(IntegrityError, match="cmi_order_total_is_sum"), transaction.atomic():
        PaymentOrder.objects.filter(pk=order.pk).update(amount_total=F("amount_total") + Decimal(delta))


def test_a_fee_changed_without_the_total_is_refused(order):
    with pytest.raises(IntegrityError, match="cmi_order_total_is_sum"), transaction.atomic():
        PaymentOrder.objects.filter(pk=order.pk).update(fee_vat=F("fee_vat") + Decimal("0.01"))
