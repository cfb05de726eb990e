"""Direct debit × termination: the closing of a dossier billed by direct debit revokes its mandate
(« Résiliation du dossier … (demande RS…) »), so the bank is never asked for a bill after the end;
the final bill is deducted from the deposit like every other bill and what remains is paid like a
normal bill (never exported). A bill debited before the closing is never paid twice: the deposit
goes to the customer's refundable credit, and a later reject of the debit re-opens only what the
credit does not cover."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from rak_base.models import Message
from rak_billing.direct_debit import debit_rejects_import, debits_export, mandate_create
from rak_billing.direct_debit_models import DebitOrder, Mandate
from rak_billing.ledger import OtherLine, bill_issue_other, bill_outstanding, customer_balance
from rak_billing.models import Bill, DossierClosing, Payment, Refund
from rak_billing.refunds import refund_record, refundable_items
from rak_customer.models import Dossier
from rak_requests.services import request_accept_phase
from rak_requests.termination import termination_final_reading_record
from tests.billing_factories import bill_create
from tests.factories import DossierFactory, StaffFactory, customer_with_account
from tests.integration.test_direct_debit_billing import rib
from tests.integration.test_termination import file_termination

pytestmark = pytest.mark.django_db

D = Decimal
MARCH = datetime.date(2026, 3, 1)
APRIL = datetime.date(2026, 4, 1)


@pytest.fixture
def agent(db):
    return StaffFactory()


def debited_water(*, deposit: str, now, agent, phone="+212612000061"):
    """A water dossier billed by direct debit (Attijariwafa), billed up to February: index 1012."""
    customer, user = customer_with_account(phone=phone, email=f"{phone[-4:]}@example.ma")
    dossier = DossierFactory(customer=customer, number=f"EA0000{phone[-4:]}", deposit_amount=D(deposit))
    mandate = mandate_create(
        dossier_id=dossier.pk, rib=rib(), signed_date=datetime.date(2026, 1, 15), now=now, created_by=agent
    )
    february = bill_create(dossier=dossier, period_start=datetime.date(2026, 2, 1), consumption=12, previous_index=1000)
    return customer, user, dossier, mandate, february


def terminate(customer, dossier, *, index: str, now):
    """File → accept the treatment → the technician's final index: the closing runs."""
    request = file_termination(customer, [dossier.number], now=now)
    request_accept_phase(request_id=request.pk, staff=StaffFactory(), now=now)
    termination_final_reading_record(
        request_id=request.pk, staff=StaffFactory(), dossier_number=dossier.number, index=index, now=now
    )
    request.refresh_from_db()
    return request


def reject_file(*lines: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("rejets.csv", ("\r\n".join(lines) + "\r\n").encode(), content_type="text/csv")


def test_the_closing_revokes_the_mandate_and_the_final_bill_is_never_sent_to_the_bank(now, agent):
    customer, _user, dossier, mandate, february = debited_water(deposit="10.00", now=now, agent=agent)

    request = terminate(customer, dossier, index="1060", now=now)  # 48 m³: more than the deposit

    mandate.refresh_from_db()
    assert mandate.status == Mandate.Status.REVOKED
    assert mandate.revoke_reason == f"Résiliation du dossier {dossier.number} (demande {request.number})"
    assert mandate.revoked_at == now
    dossier.refresh_from_db()
    assert dossier.status == Dossier.Status.TERMINATED
    assert dossier.billing_mode == Dossier.BillingMode.NORMAL  # what remains is paid like a normal bill
    closing = DossierClosing.objects.get(dossier=dossier)
    final = closing.final_bill
    # the deposit went to the oldest bill first (February), then the final bill; the rest is owed
    assert customer_balance(customer) == february.total_ttc + final.total_ttc - D("10.00") > 0
    assert closing.balance == customer_balance(customer)

    result = debits_export(period=MARCH, by=agent, now=now + datetime.timedelta(days=1))
    assert result.orders == 0
    assert not DebitOrder.objects.filter(bill__dossier=dossier).exists()
    assert debits_export(period=APRIL, by=agent, now=now + datetime.timedelta(days=30)).orders == 0
    assert not Payment.objects.filter(customer=customer, method=Payment.Method.DIRECT_DEBIT).exists()


def test_the_export_skips_a_terminated_dossier_and_a_dossier_without_an_active_mandate(now, agent):
    customer, _user, dossier, _mandate, _february = debited_water(deposit="0.00", now=now, agent=agent)
    # terminated by another path (history, data fix) while its mandate stayed active
    Dossier.objects.filter(pk=dossier.pk).update(status=Dossier.Status.TERMINATED, end_date=MARCH)
    other, _ = customer_with_account(phone="+212612000062")
    orphan = DossierFactory(customer=other, billing_mode=Dossier.BillingMode.DIRECT_DEBIT)  # no mandate
    bill_create(dossier=orphan, period_start=datetime.date(2026, 2, 1))
    kept = DossierFactory(customer=other)
    mandate_create(dossier_id=kept.pk, rib=rib("011"), signed_date=datetime.date(2026, 2, 1), now=now)
    due = bill_create(dossier=kept, period_start=datetime.date(2026, 2, 1))

    result = debits_export(period=MARCH, by=agent, now=now)

    assert result.orders == 1
    assert list(DebitOrder.objects.values_list("bill_id", flat=True)) == [due.pk]


def test_a_bill_debited_before_the_closing_is_never_paid_twice(now, agent):
    """February is debited by the bank (the March export), then the dossier is terminated: the
    deposit (250) pays the final bill and the rest is refundable credit. The bank then rejects
    February's debit: the credit pays what it can of February, only the rest is due again."""
    customer, user, dossier, _mandate, february = debited_water(deposit="250.00", now=now, agent=agent)
    debits_export(period=MARCH, by=agent, now=now)
    order = DebitOrder.objects.get(bill=february)
    february.refresh_from_db()
    assert february.settled_at is not None and order.payment.amount == february.total_ttc

    terminate(customer, dossier, index="1020", now=now)

    final = DossierClosing.objects.get(dossier=dossier).final_bill
    final.refresh_from_db()
    assert final.settled_at is not None  # paid by the deposit, never by the bank
    assert not DebitOrder.objects.filter(bill=final).exists()
    credit = D("250.00") - final.total_ttc
    assert customer_balance(customer) == -credit
    items = refundable_items(customer)
    assert [(i.amount, i.origin_label) for i in items] == [
        (credit, "Résiliation : dépôt de garantie au-delà des dernières factures")
    ]
    assert bill_outstanding(february) == 0  # the bank's money and the deposit are not both on it

    later = now + datetime.timedelta(days=5)
    debit_rejects_import(
        file=reject_file(f"{order.reference};AM04;Provision insuffisante"), file_name="r.csv", by=agent, now=later
    )

    february.refresh_from_db()
    due = max(february.total_ttc - credit, D("0.00"))
    assert bill_outstanding(february) == due
    assert customer_balance(customer) == february.total_ttc - credit
    assert sum((i.amount for i in refundable_items(customer)), D("0.00")) == max(credit - february.total_ttc, 0)
    assert (february.settled_at is None) == (due > 0)
    assert debits_export(period=APRIL, by=agent, now=later).orders == 0  # the mandate is revoked
    sms = Message.objects.get(channel=Message.Channel.SMS, kind="direct_debit")
    assert "a été rejeté par votre banque" in sms.body
    if due > 0:
        assert "reste à régler" in sms.body
    else:
        assert "réglée par le crédit de votre compte" in sms.body


def test_a_reject_after_the_deposit_was_refunded_re_opens_the_whole_bill(now, agent):
    customer, _user, dossier, _mandate, february = debited_water(deposit="250.00", now=now, agent=agent)
    debits_export(period=MARCH, by=agent, now=now)
    order = DebitOrder.objects.get(bill=february)
    terminate(customer, dossier, index="1020", now=now)
    credit = -customer_balance(customer)
    refund = refund_record(
        customer=customer, method=Refund.Method.ESPECES, paid_at=now, now=now, recorded_by=agent, amount=credit
    )
    assert refund.amount == credit and customer_balance(customer) == 0

    debit_rejects_import(
        file=reject_file(f"{order.reference};AM04;Provision insuffisante"),
        file_name="r.csv",
        by=agent,
        now=now + datetime.timedelta(days=5),
    )

    february.refresh_from_db()
    assert february.settled_at is None
    assert bill_outstanding(february) == february.total_ttc
    assert customer_balance(customer) == february.total_ttc
    assert refundable_items(customer) == []


def test_an_other_invoice_debited_then_the_closing_leaves_the_surplus_refundable(now, agent):
    """A cut fee debited in March, then the closing: the deposit is the customer's credit and only
    the credit — the fee is paid once, by the bank."""
    customer, _user, dossier, _mandate, february = debited_water(
        deposit="300.00", now=now, agent=agent, phone="+212612000063"
    )
    fee = bill_issue_other(
        kind=Bill.Kind.CUT_FEE,
        customer=customer,
        dossier=dossier,
        lines=[OtherLine("Frais", D("40.00"), vat_rate=D("0"))],
        issue_date=datetime.date(2026, 2, 20),
        now=now,
    )
    debits_export(period=MARCH, by=agent, now=now)
    assert DebitOrder.objects.filter(bill__in=[fee, february]).count() == 2
    terminate(customer, dossier, index="1012", now=now)  # nothing consumed since February

    closing = DossierClosing.objects.get(dossier=dossier)
    final_total = closing.final_bill.total_ttc if closing.final_bill else D("0.00")
    assert closing.dues_amount == final_total  # the debited fee and February are not dues any more
    assert closing.balance == final_total - D("300.00")
    assert customer_balance(customer) == closing.balance
    assert sum((i.amount for i in refundable_items(customer)), D("0.00")) == D("300.00") - final_total
