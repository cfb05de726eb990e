"""The online-service fee and its VAT in the books (issue 8 §2): a captured card payment is one
payment of the amount CMI took (bills + fee), the bills credited exactly their amounts, the fee
and its VAT a « Frais du service en ligne » invoice issued and settled by the fee part of that
payment (never customer credit); a day's settlement file equals, to the centime, the payments
recorded, which are the bills paid plus the fee income (reconciliation summary)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Sum
from django.test import Client
from django.urls import reverse

from rak_base import clock
from rak_billing.ledger import customer_balance, payment_record
from rak_billing.models import Bill, LedgerEntry, Payment, PaymentAllocation
from rak_payment_cmi import paying, reconciliation
from rak_payment_cmi.models import PaymentOrder, PaymentSettings
from tests.factories import CustomerFactory, DossierFactory, StaffFactory, customer_with_account
from tests.integration.test_cmi_callback import callback_for, make_bill, post_callback
from tests.integration.test_payment_pages import seed_bill

pytestmark = pytest.mark.django_db

CASABLANCA = ZoneInfo("Africa/Casablanca")
PAID_AT = datetime.datetime(2026, 3, 10, 14, 5, 9, tzinfo=CASABLANCA)
HEADER = "date;oid;transid;autorisation;montant;carte;statut\n"


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: PAID_AT)


def pay(customer, bills) -> PaymentOrder:
    order = paying.order_create_for_bills(customer=customer, bills=bills, email="c@example.ma", now=PAID_AT)
    fields = callback_for(order)
    assert post_callback(Client(), fields) == "ACTION=POSTAUTH"
    order.refresh_from_db()
    return order


def test_captured_order_records_the_fee_as_an_invoice_settled_by_the_fee_part_of_the_payment():
    customer, _user = customer_with_account(first_name="Youssef", last_name="Alaoui")
    dossier = DossierFactory(customer=customer)
    first = seed_bill(dossier, "113.02", period=datetime.date(2026, 1, 1), due=datetime.date(2026, 3, 14))
    second = seed_bill(dossier, "105.81", period=datetime.date(2026, 2, 1), due=datetime.date(2026, 4, 14))
    order = pay(customer, [first, second])
    assert order.fee_amount == Decimal("2.19") and order.fee_vat == Decimal("0.22")

    payment = order.payment
    assert payment.amount == Decimal("221.24") == order.amount_total  # what CMI took, to the centime
    fee_bill = Bill.objects.get(kind=Bill.Kind.ONLINE_FEE)
    assert order.fee_bill == fee_bill
    assert (fee_bill.total_ht, fee_bill.total_tva, fee_bill.total_ttc) == (
        Decimal("2.19"),
        Decimal("0.22"),
        Decimal("2.41"),
    )
    assert fee_bill.settled_at is not None and fee_bill.customer == customer
    line = fee_bill.lines.get()
    assert line.vat_rate == Decimal("0.1000") and "Frais du service en ligne" in line.label and order.oid in line.label
    allocated = dict(PaymentAllocation.objects.filter(payment=payment).values_list("bill_id", "amount"))
    assert allocated == {first.pk: Decimal("113.02"), second.pk: Decimal("105.81"), fee_bill.pk: Decimal("2.41")}
    assert customer_balance(customer) == Decimal("0.00")  # nothing left as credit
    assert LedgerEntry.objects.filter(bill=fee_bill, amount=Decimal("2.41")).exists()  # the fee's debit
    # the back office's order page links the fee invoice
    client = Client()
    client.force_login(StaffFactory(is_superuser=True))
    page = client.get(reverse("admin:rak_payment_cmi_paymentorder_change", args=[order.pk])).content.decode()
    assert fee_bill.number in page and "facture des frais du service en ligne" in page.lower()


def test_the_fee_invoice_is_never_settled_by_the_customers_credit():
    customer = CustomerFactory()
    payment_record(customer=customer, amount=Decimal("50.00"), method=Payment.Method.CASH, paid_at=PAID_AT)
    bills = [make_bill(customer, "113.02", due=datetime.date(2026, 3, 14))]  # issued without applying credit
    order = pay(customer, bills)
    fee_bill = order.fee_bill
    assert list(PaymentAllocation.objects.filter(bill=fee_bill).values_list("payment_id", "amount")) == [
        (order.payment_id, Decimal("1.24"))
    ]
    assert customer_balance(customer) == Decimal("-50.00")  # the earlier credit, not a centime more


def test_no_fee_no_fee_invoice():
    PaymentSettings.objects.update_or_create(pk=1, defaults={"fee_mode": PaymentSettings.FeeMode.NONE})
    customer = CustomerFactory()
    order = pay(customer, [make_bill(customer, "80.00", due=datetime.date(2026, 3, 14))])
    assert order.payment.amount == Decimal("80.00") and order.fee_bill is None
    assert not Bill.objects.filter(kind=Bill.Kind.ONLINE_FEE).exists()


def test_a_day_of_captured_orders_reconciles_with_the_settlement_file_to_the_centime():
    amounts = ["113.02", "105.81", "0.99", "1234.57", "77.77", "12.35"]
    orders = []
    for index, amount in enumerate(amounts):
        customer = CustomerFactory()
        bills = [make_bill(customer, amount, due=datetime.date(2026, 3, 14))]
        if index == 2:
            bills.append(make_bill(customer, "45.45", due=datetime.date(2026, 4, 14)))
        orders.append(pay(customer, bills))
    at = f"{PAID_AT:%d/%m/%Y %H:%M:%S}"
    lines = [f"{at};{o.oid};{o.trans_id};{o.auth_code};{o.amount_total};4111 11** **** 1111;ACCEPTEE\n" for o in orders]
    settlement = reconciliation.settlement_import(
        data=(HEADER + "".join(lines)).encode(), file_name="releve-20260310.csv", now=PAID_AT
    )
    assert settlement.rows_mismatched == 0

    summary = reconciliation.settlement_summary(settlement)
    gateway_total = sum((o.amount_total for o in orders), Decimal("0.00"))
    fee_total = sum((o.fee_amount + o.fee_vat for o in orders), Decimal("0.00"))
    assert summary.gateway_total == gateway_total
    assert summary.captured_total == gateway_total
    assert summary.payments_total == gateway_total  # the day's payments = CMI's total
    assert summary.fee_ht + summary.fee_vat == summary.fee_total == fee_total
    assert summary.fee_ht == sum((o.fee_amount for o in orders), Decimal("0.00"))
    assert summary.bills_total + summary.fee_total == summary.payments_total
    assert summary.bills_total == sum((o.amount_bills for o in orders), Decimal("0.00"))
    assert summary.difference == Decimal("0.00")
    day_payments = Payment.objects.filter(method=Payment.Method.CARD_CMI).aggregate(total=Sum("amount"))["total"]
    assert day_payments == gateway_total

    # the back office report shows it
    client = Client()
    client.force_login(StaffFactory(is_superuser=True))
    html = client.get(reverse("admin:rak_payment_cmi_settlementimport_change", args=[settlement.pk])).content.decode()
    assert "Total du relevé CMI" in html and "Frais du service en ligne" in html
    assert f"{gateway_total:.2f}".replace(".", ",") in html.replace("\u202f", "").replace("\xa0", "")


def test_the_fee_vat_comes_from_the_versioned_vat_table_on_the_order_date():
    from rak_billing.models import VatRate

    assert VatRate.objects.get(service="FRAIS_EN_LIGNE", valid_from=datetime.date(2018, 1, 1)).rate == Decimal("0.1000")
    VatRate.objects.create(
        service="FRAIS_EN_LIGNE", valid_from=datetime.date(2026, 3, 10), rate=Decimal("0.2000"), source="test"
    )
    customer = CustomerFactory()
    bills = [make_bill(customer, "113.02", due=datetime.date(2026, 3, 14))]
    day_before = paying.order_create_for_bills(
        customer=customer, bills=bills, email="c@example.ma", now=PAID_AT - datetime.timedelta(days=1)
    )
    assert (day_before.fee_amount, day_before.fee_vat, day_before.fee_vat_rate) == (
        Decimal("1.13"),
        Decimal("0.11"),
        Decimal("0.1000"),
    )
    PaymentOrder.objects.filter(pk=day_before.pk).update(status=PaymentOrder.Status.EXPIRED)
    order = pay(customer, bills)  # 10/03/2026: the new rate
    assert (order.fee_amount, order.fee_vat, order.fee_vat_rate) == (
        Decimal("1.13"),
        Decimal("0.23"),
        Decimal("0.2000"),
    )
    assert order.amount_total == Decimal("114.38")
    line = order.fee_bill.lines.get()
    assert (line.vat_rate, line.amount_tva) == (Decimal("0.2000"), Decimal("0.23"))
    assert order.payment.amount == Decimal("114.38")
