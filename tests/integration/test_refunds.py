"""Refunds (rak_billing.refunds): what the customer is owed and its origin, the payout recorded
once and only within the credit, the receipt, the customer told, the cancellation as a reversing
entry — exact amounts, books consistent, no double payout even when two agents click at once."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.models import Sum

from rak_base import clock
from rak_base.documents import document_verify
from rak_base.models import Document, Message
from rak_base.rib import rib_key
from rak_billing.api import (
    RefundCancelRefused,
    RefundRefused,
    customer_unpaid_amount,
    refund_cancel,
    refund_credit_available,
    refund_record,
    refundable_items,
)
from rak_billing.ledger import (
    OtherLine,
    ReversalRefused,
    bill_issue_other,
    credit_note_issue,
    customer_balance,
    payment_record,
    payment_reverse,
)
from rak_billing.models import Bill, LedgerEntry, Payment, PaymentAllocation, Refund, RefundAllocation
from tests.factories import StaffFactory, customer_with_account

pytestmark = pytest.mark.django_db

D = Decimal
ZERO = D("0.00")
CASABLANCA = ZoneInfo("Africa/Casablanca")
NOW = datetime.datetime(2026, 3, 20, 10, 0, tzinfo=CASABLANCA)


def valid_rib(bank: str = "007", city: str = "780", account: str = "0001234567890123") -> str:
    first = f"{bank}{city}{account}"
    return first + rib_key(first)


@pytest.fixture(autouse=True)
def _frozen_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


def invoice(customer, amount: str, *, kind=Bill.Kind.CUT_FEE, issue=datetime.date(2026, 2, 1)) -> Bill:
    return bill_issue_other(
        kind=kind,
        customer=customer,
        lines=[OtherLine("Frais", D(amount), vat_rate=D("0"))],
        issue_date=issue,
        now=NOW,
    )


def pay(customer, amount: str, *, at=NOW - datetime.timedelta(days=5), reason="", external_id=None) -> Payment:
    return payment_record(
        customer=customer,
        amount=D(amount),
        method=Payment.Method.CASH,
        paid_at=at,
        reason=reason,
        external_id=external_id,
    )


def double_paid(amount="120.00"):
    """A customer who paid the same 120 DH bill twice (at the counter, then by card)."""
    customer, _user = customer_with_account(email="refund@example.ma")
    bill = invoice(customer, amount)
    pay(customer, amount, at=NOW - datetime.timedelta(days=6))
    second = pay(customer, amount, external_id="CMI:T1")
    bill.refresh_from_db()
    assert bill.settled_at is not None
    return customer, second


def assert_books(customer) -> None:
    """The ledger's balance = what the bills still owe − the credit still held (unused payments
    and credit notes, net of refunds)."""
    ledger = LedgerEntry.objects.filter(customer=customer).aggregate(t=Sum("amount"))["t"] or ZERO
    owed = ZERO
    for bill in Bill.objects.filter(customer=customer).exclude(kind=Bill.Kind.CREDIT_NOTE):
        paid = bill.allocations.aggregate(t=Sum("amount"))["t"] or ZERO
        owed += bill.total_ttc - paid
    held = ZERO
    for payment in Payment.objects.filter(customer=customer, reversal__isnull=True):
        used = payment.allocations.aggregate(t=Sum("amount"))["t"] or ZERO
        refunded = payment.refund_allocations.aggregate(t=Sum("amount"))["t"] or ZERO
        assert ZERO <= used + refunded <= payment.amount
        held += payment.amount - used - refunded
    for note in Bill.objects.filter(customer=customer, kind=Bill.Kind.CREDIT_NOTE):
        used = PaymentAllocation.objects.filter(credit_note=note).aggregate(t=Sum("amount"))["t"] or ZERO
        refunded = note.refund_allocations.aggregate(t=Sum("amount"))["t"] or ZERO
        assert ZERO <= used + refunded <= note.total_ttc
        held += note.total_ttc - used - refunded
    assert ledger == owed - held, f"ledger {ledger} != owed {owed} - held {held}"


# --- what is owed -----------------------------------------------------------------------------------


def test_a_double_payment_is_owed_with_its_origin():
    customer, second = double_paid()

    items = refundable_items(customer)

    assert [(i.key, i.amount, i.origin_label) for i in items] == [(f"P{second.pk}", D("120.00"), "Double paiement")]
    assert refund_credit_available(customer) == D("120.00")
    assert customer_unpaid_amount(customer) == ZERO


def test_an_overpayment_a_quote_advance_and_a_deposit_are_owed_each_with_its_origin():
    customer, _user = customer_with_account()
    subscription = invoice(customer, "500.00", kind=Bill.Kind.SUBSCRIPTION)
    pay(customer, "500.00")
    works = invoice(customer, "300.00", kind=Bill.Kind.WORKS)
    pay(customer, "300.00")
    advance = invoice(customer, "40.00", kind=Bill.Kind.ADVANCE)
    pay(customer, "40.00")
    invoice(customer, "100.00")
    pay(customer, "150.00", reason="Arrondi au guichet")  # 50 DH above the bill
    credit_note_issue(bill=works, reason="Devis non réalisé", issue_date=NOW.date(), now=NOW)
    credit_note_issue(
        bill=subscription, reason="Résiliation : dépôt de garantie", issue_date=NOW.date(), now=NOW, amount=D("250.00")
    )
    credit_note_issue(bill=advance, reason="Restitution de la provision", issue_date=NOW.date(), now=NOW)

    items = refundable_items(customer)

    assert sorted((i.origin_label, i.amount) for i in items) == [
        ("Avance sur devis", D("300.00")),
        ("Provision (carte congé) restituée", D("40.00")),
        ("Résiliation : dépôt de garantie au-delà des dernières factures", D("250.00")),
        ("Trop-perçu conservé en crédit", D("50.00")),
    ]
    assert customer_balance(customer) == D("-640.00")
    assert refund_credit_available(customer) == D("640.00")


def test_nothing_is_owed_to_a_customer_who_owes_and_unpaid_bills_are_counted():
    customer, _user = customer_with_account()
    invoice(customer, "80.00")
    invoice(customer, "40.50")
    pay(customer, "20.00")

    assert refundable_items(customer) == []
    assert refund_credit_available(customer) == ZERO
    assert customer_unpaid_amount(customer) == D("100.50")


# --- record -----------------------------------------------------------------------------------------


def test_refund_record_pays_the_credit_once_with_a_receipt_and_tells_the_customer():
    customer, second = double_paid()
    agent = StaffFactory(first_name="Salma", last_name="Alaoui")

    refund = refund_record(
        customer=customer,
        method=Refund.Method.CHEQUE,
        reference="CHQ 0042",
        paid_at=NOW,
        now=NOW,
        recorded_by=agent,
        request_ref="RB2026-000001",
    )

    assert refund.amount == D("120.00")  # the amount defaults to the credit
    assert customer_balance(customer) == ZERO
    entry = LedgerEntry.objects.get(refund=refund)
    assert (entry.kind, entry.amount) == (LedgerEntry.Kind.REFUND, D("120.00"))
    assert list(RefundAllocation.objects.filter(refund=refund).values_list("payment_id", "amount")) == [
        (second.pk, D("120.00"))
    ]
    assert refundable_items(customer) == [] and refund_credit_available(customer) == ZERO
    # the receipt is registered and verifiable
    assert refund.receipt is not None and refund.receipt.kind == Document.Kind.RECEIPT
    assert "Reçu de remboursement" in refund.receipt.title
    assert document_verify(refund.receipt.reference).verdict == "AUTHENTIC"
    # the customer is told by SMS, e-mail and bell
    channels = set(Message.objects.filter(kind="refund").values_list("channel", flat=True))
    assert channels == {Message.Channel.SMS, Message.Channel.EMAIL, Message.Channel.BELL}
    sms = Message.objects.get(kind="refund", channel=Message.Channel.SMS)
    assert "120,00 DH" in sms.body and "par chèque" in sms.body
    assert_books(customer)


def test_a_refunded_credit_never_pays_a_later_bill():
    customer, _second = double_paid()
    refund_record(customer=customer, method=Refund.Method.ESPECES, paid_at=NOW, now=NOW, recorded_by=StaffFactory())

    later = invoice(customer, "70.00", issue=datetime.date(2026, 3, 1))

    later.refresh_from_db()
    assert later.settled_at is None  # the 120 DH went back to the customer: not counted twice
    assert customer_balance(customer) == D("70.00")
    assert customer_unpaid_amount(customer) == D("70.00")
    assert_books(customer)


def test_a_partial_refund_takes_the_asked_item_first_and_leaves_the_rest():
    customer, _user = customer_with_account()
    invoice(customer, "100.00")
    first = pay(customer, "130.00", at=NOW - datetime.timedelta(days=9))  # 30 left
    second = pay(customer, "45.00", at=NOW - datetime.timedelta(days=2))  # 45 left

    refund = refund_record(
        customer=customer,
        method=Refund.Method.ESPECES,
        amount=D("50.00"),
        paid_at=NOW,
        now=NOW,
        recorded_by=StaffFactory(),
        sources=(f"P{second.pk}",),
    )

    taken = dict(refund.allocations.values_list("payment_id", "amount"))
    assert taken == {second.pk: D("45.00"), first.pk: D("5.00")}
    assert [(i.key, i.amount) for i in refundable_items(customer)] == [(f"P{first.pk}", D("25.00"))]
    assert customer_balance(customer) == D("-25.00")
    assert_books(customer)


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("120.01", "dépasse le crédit du client"),
        ("0", "doit être positif"),
        ("-5", "doit être positif"),
    ],
)
def test_refund_record_refuses_an_amount_outside_the_credit(amount, message):
    customer, _second = double_paid()

    with pytest.raises(RefundRefused) as caught:
        refund_record(
            customer=customer,
            method=Refund.Method.CHEQUE,
            amount=D(amount),
            paid_at=NOW,
            now=NOW,
            recorded_by=StaffFactory(),
        )

    assert message in caught.value.message
    assert Refund.objects.count() == 0 and customer_balance(customer) == D("-120.00")


def test_refund_record_refuses_when_nothing_is_owed():
    customer, _user = customer_with_account()
    invoice(customer, "50.00")

    with pytest.raises(RefundRefused) as caught:
        refund_record(customer=customer, method=Refund.Method.CHEQUE, paid_at=NOW, now=NOW, recorded_by=StaffFactory())

    assert caught.value.message == "Ce client n'a aucun crédit à rembourser."
    assert not Refund.objects.exists()


@pytest.mark.parametrize(
    ("rib", "message"),
    [
        ("", "Saisissez le RIB du client"),
        ("0077800001234567890123", "24 chiffres"),
        (valid_rib()[:-2] + ("00" if valid_rib()[-2:] != "00" else "01"), "clé RIB"),
        (valid_rib(bank="999"), "Banque inconnue"),
    ],
)
def test_a_transfer_needs_a_valid_rib(rib, message):
    customer, _second = double_paid()

    with pytest.raises(RefundRefused) as caught:
        refund_record(
            customer=customer, method=Refund.Method.VIREMENT, rib=rib, paid_at=NOW, now=NOW, recorded_by=StaffFactory()
        )

    assert message in str(caught.value.message)
    assert caught.value.params.get("field") == "rib"
    assert not Refund.objects.exists()


def test_a_transfer_to_a_valid_rib_keeps_the_rib_and_the_bank():
    customer, _second = double_paid()
    rib = valid_rib()

    refund = refund_record(
        customer=customer,
        method=Refund.Method.VIREMENT,
        rib=f"{rib[:3]} {rib[3:6]} {rib[6:22]} {rib[22:]}",
        reference="VIR-2026-77",
        paid_at=NOW,
        now=NOW,
        recorded_by=StaffFactory(),
    )

    assert (refund.rib, refund.bank_name) == (rib, "Attijariwafa bank")


def test_refund_record_is_idempotent_on_its_external_reference():
    customer, _second = double_paid()
    agent = StaffFactory()

    first = refund_record(
        customer=customer,
        method=Refund.Method.CHEQUE,
        paid_at=NOW,
        now=NOW,
        recorded_by=agent,
        external_id="REQ:RB2026-000001",
    )
    again = refund_record(
        customer=customer,
        method=Refund.Method.CHEQUE,
        paid_at=NOW,
        now=NOW,
        recorded_by=agent,
        external_id="REQ:RB2026-000001",
    )

    assert again.pk == first.pk
    assert Refund.objects.count() == 1 and LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REFUND).count() == 1
    assert customer_balance(customer) == ZERO


@pytest.mark.django_db(transaction=True)
def test_two_agents_paying_the_same_credit_at_the_same_instant_pay_it_once():
    """Two agents (two tabs, two requests) record the whole 120 DH at once, with different
    references: one refund, the other refused — the customer's credit is never paid out twice."""
    customer, _second = double_paid()
    agents = [StaffFactory(), StaffFactory()]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def one(index, agent):
        try:
            barrier.wait(timeout=10)
            refund_record(
                customer=customer,
                method=Refund.Method.ESPECES,
                amount=D("120.00"),
                paid_at=NOW,
                now=NOW,
                recorded_by=agent,
                external_id=f"REQ:RB-{index}",
            )
            outcomes.append("paid")
        except RefundRefused as exc:
            outcomes.append("refused" if "aucun crédit" in exc.message or "dépasse" in exc.message else exc.message)
        except BaseException as exc:  # reported below
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=one, args=(i, agent)) for i, agent in enumerate(agents)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["paid", "refused"]
    assert Refund.objects.count() == 1 and customer_balance(customer) == ZERO
    assert_books(customer)


# --- cancel -----------------------------------------------------------------------------------------


def test_refund_cancel_is_a_reversing_entry_that_gives_the_credit_back():
    customer, _second = double_paid()
    refund = refund_record(
        customer=customer, method=Refund.Method.CHEQUE, paid_at=NOW, now=NOW, recorded_by=StaffFactory()
    )
    receipt = refund.receipt

    with pytest.raises(RefundCancelRefused):
        refund_cancel(refund=refund, reason="  ", by=StaffFactory(), at=NOW)
    cancellation = refund_cancel(refund=refund, reason="Chèque non encaissé", by=StaffFactory(), at=NOW)

    assert Refund.objects.filter(pk=refund.pk).exists()  # never deleted
    entry = LedgerEntry.objects.get(refund_cancellation=cancellation)
    assert (entry.kind, entry.amount) == (LedgerEntry.Kind.REFUND_CANCEL, D("-120.00"))
    assert "Chèque non encaissé" in entry.label
    assert customer_balance(customer) == D("-120.00")
    assert refund_credit_available(customer) == D("120.00")
    assert document_verify(receipt.reference).verdict == "REVOKED"
    with pytest.raises(RefundCancelRefused) as caught:
        refund_cancel(refund=refund, reason="encore", by=StaffFactory(), at=NOW)
    assert "déjà été annulé" in caught.value.message
    assert_books(customer)


def test_a_cancelled_refund_credit_pays_the_bills_opened_meanwhile():
    customer, _second = double_paid()
    refund = refund_record(
        customer=customer, method=Refund.Method.CHEQUE, paid_at=NOW, now=NOW, recorded_by=StaffFactory()
    )
    later = invoice(customer, "70.00", issue=datetime.date(2026, 3, 1))

    refund_cancel(refund=refund, reason="Virement retourné par la banque", by=StaffFactory(), at=NOW)

    later.refresh_from_db()
    assert later.settled_at is not None
    assert customer_balance(customer) == D("-50.00")
    assert refund_credit_available(customer) == D("50.00")
    assert_books(customer)


def test_a_refunded_payment_cannot_be_reversed_before_its_refund_is_cancelled():
    customer, second = double_paid()
    refund = refund_record(
        customer=customer, method=Refund.Method.CHEQUE, paid_at=NOW, now=NOW, recorded_by=StaffFactory()
    )

    with pytest.raises(ReversalRefused) as caught:
        payment_reverse(payment=second, reason="Rétrofacturation", by=StaffFactory(), at=NOW)
    assert "annulez d'abord le remboursement" in caught.value.message

    refund_cancel(refund=refund, reason="Rétrofacturation CMI", by=StaffFactory(), at=NOW)
    payment_reverse(payment=second, reason="Rétrofacturation", by=StaffFactory(), at=NOW)
    assert customer_balance(customer) == ZERO
    assert_books(customer)
