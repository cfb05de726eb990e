"""Staff payments have bounds and an undo, as the back office meets them.

- « Encaisser un paiement » (counter) refuses a typing error — 99 999 999 DH, a date in 2030, a
  negative amount — and more than the customer owes unless a reason is given (stored), with the
  French message on the field; the service refuses them too.
- A network payments file rejects such rows one by one in its report and records the others.
- « Annuler le paiement » (recouvrement, superviseur): reason mandatory; the payment stays, a
  REVERSAL ledger entry debits it back, the bills it had settled are to pay again, the customer's
  remaining credit is applied again, the receipt is revoked (the public « Vérifier des documents »
  answers « annulé »), and a payment is reversed once — even by two agents at the same instant.
- Nobody deletes a payment, superuser included.
"""

from __future__ import annotations

import datetime
import html as htmllib
import threading
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from rak_base import clock
from rak_base.documents import Verdict, document_verify
from rak_base.models import Document
from rak_billing.ledger import (
    OtherLine,
    PaymentRefused,
    ReversalRefused,
    bill_issue_other,
    bill_outstanding,
    customer_balance,
    payment_record,
    payment_record_staff,
    payment_reverse,
)
from rak_billing.models import Bill, LedgerEntry, Payment, PaymentAllocation, PaymentReversal
from rak_billing.receipts import payment_receipt_pdf
from rak_billing.selectors import customer_statistics
from rak_payment_cmi.network_imports import network_payments_import
from tests.factories import CustomerFactory, StaffFactory, staff_in

pytestmark = pytest.mark.django_db

D = Decimal
CASABLANCA = ZoneInfo("Africa/Casablanca")
NOW = datetime.datetime(2026, 3, 20, 10, 0, tzinfo=CASABLANCA)
ADD = "admin:rak_billing_payment_add"


@pytest.fixture(autouse=True)
def _frozen_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


@pytest.fixture
def recouvrement(client):
    user = staff_in("recouvrement", first_name="Samira", last_name="Idrissi")
    client.force_login(user)
    return user


def fee(customer, amount: str, *, issue: datetime.date) -> Bill:
    return bill_issue_other(
        kind=Bill.Kind.CUT_FEE,
        customer=customer,
        lines=[OtherLine("Frais", D(amount), vat_rate=D("0"))],
        issue_date=issue,
        now=NOW,
    )


def text(response) -> str:
    """The page as a person reads it (entities decoded)."""
    return htmllib.unescape(response.content.decode())


def counter_post(client, customer, amount: str, *, day="15/03/2026", reason=""):
    return client.post(
        reverse(ADD),
        {
            "customer_code": customer.code,
            "amount": amount,
            "method": "CASH",
            "paid_at_0": day,
            "paid_at_1": "09:00:00",
            "reference": "",
            "reason": reason,
        },
    )


# --- bounds ---------------------------------------------------------------------------------------------


def test_counter_form_refuses_typing_errors_with_a_french_message(client, recouvrement):
    customer = CustomerFactory()
    fee(customer, "120.00", issue=datetime.date(2026, 2, 1))

    too_much = counter_post(client, customer, "99999999")
    assert too_much.status_code == 200
    assert "dépasse le plafond d'un paiement (1 000 000,00 DH)" in text(too_much)
    future = counter_post(client, customer, "120.00", day="15/03/2030")
    assert "ne peut pas être dans le futur" in text(future)
    negative = counter_post(client, customer, "-5")
    assert negative.status_code == 200 and Payment.objects.count() == 0
    above = counter_post(client, customer, "500.00")
    html = text(above)
    assert "dépasse le solde dû par le client (120,00 DH)" in html and "indiquez le motif" in html
    assert Payment.objects.count() == 0

    ok = counter_post(client, customer, "500.00", reason="Avance sur les prochaines factures")
    assert ok.status_code == 302
    payment = Payment.objects.get()
    assert payment.reason == "Avance sur les prochaines factures" and payment.received_by == recouvrement
    assert customer_balance(customer) == D("-380.00")


def test_the_service_enforces_the_bounds_too(settings):
    customer = CustomerFactory()
    fee(customer, "120.00", issue=datetime.date(2026, 2, 1))
    staff = StaffFactory()

    def pay(amount, *, paid_at=NOW, reason=""):
        return payment_record_staff(
            customer=customer,
            amount=D(amount),
            method=Payment.Method.CASH,
            paid_at=paid_at,
            now=NOW,
            received_by=staff,
            reason=reason,
        )

    with pytest.raises(PaymentRefused, match="plafond"):
        pay("99999999")
    with pytest.raises(PaymentRefused, match="futur"):
        pay("120.00", paid_at=datetime.datetime(2030, 1, 1, tzinfo=CASABLANCA))
    with pytest.raises(PaymentRefused, match="positif"):
        pay("0")
    with pytest.raises(PaymentRefused, match="solde dû"):
        pay("120.01")
    settings.PAYMENT_MAX_AMOUNT = D("100")  # the ceiling is a setting (rak.conf [payments] max_amount)
    with pytest.raises(PaymentRefused, match="100,00 DH"):
        pay("120.00")
    settings.PAYMENT_MAX_AMOUNT = D("1000000")
    assert pay("120.00").amount == D("120.00")
    assert customer_balance(customer) == 0


def test_network_file_rejects_out_of_bounds_rows_one_by_one():
    customer = CustomerFactory()
    fee(customer, "100.00", issue=datetime.date(2026, 2, 1))
    other = CustomerFactory()
    data = (
        "code_client;montant;date;reference;reseau;motif\n"
        f"{customer.code};5000000,00;12/03/2026;TSH-1;Tasshilat;\n"
        f"{customer.code};60,00;12/03/2030;TSH-2;Tasshilat;\n"
        f"{customer.code};60,00;12/03/2026;TSH-3;Tasshilat;\n"
        f"{customer.code};60,00;13/03/2026;TSH-4;Tasshilat;\n"
        f"{other.code};80,00;12/03/2026;TSH-5;Tasshilat;Avance demandée par le client\n"
    ).encode()

    imported = network_payments_import(data=data, file_name="tasshilat.csv", now=NOW)

    report = {entry["line"]: entry for entry in imported.report}
    assert (imported.rows_created, imported.rows_rejected) == (2, 3)
    assert report[2]["status"] == "rejected" and "plafond" in report[2]["reason"]
    assert report[3]["status"] == "rejected" and "futur" in report[3]["reason"]
    assert report[4]["status"] == "created"
    # 60 + 60 > 100 owed, no motif: the second one is rejected
    assert report[5]["status"] == "rejected" and "solde dû par le client (40,00 DH)" in report[5]["reason"]
    assert report[6]["status"] == "created"
    assert Payment.objects.get(customer=other).reason == "Avance demandée par le client"
    assert customer_balance(customer) == D("40.00")


# --- reversal -------------------------------------------------------------------------------------------


def test_recouvrement_reverses_a_counter_payment_from_the_back_office(client, recouvrement):
    customer = CustomerFactory()
    january = fee(customer, "70.00", issue=datetime.date(2026, 1, 5))
    february = fee(customer, "50.00", issue=datetime.date(2026, 2, 5))
    assert counter_post(client, customer, "100.00").status_code == 302
    payment = Payment.objects.get()
    january.refresh_from_db()
    assert january.settled_at is not None and customer_balance(customer) == D("20.00")
    receipt = client.get(reverse("admin:rak_billing_payment_receipt", args=[payment.pk]))
    assert receipt.status_code == 200
    document = Document.objects.get(kind=Document.Kind.RECEIPT, subject_id=str(payment.pk))

    page_url = reverse("admin:rak_billing_payment_reverse", args=[payment.pk])
    page = client.get(page_url)
    assert page.status_code == 200 and january.number in text(page)
    refused = client.post(page_url, {"reason": "  "})
    assert refused.status_code == 200 and not PaymentReversal.objects.exists()

    done = client.post(page_url, {"reason": "Chèque impayé (rejet banque)"})

    assert done.status_code == 302
    reversal = PaymentReversal.objects.get()
    assert (reversal.payment, reversal.reversed_by, reversal.reversed_at) == (payment, recouvrement, NOW)
    assert reversal.reason == "Chèque impayé (rejet banque)"
    history = text(client.get(reverse("admin:rak_billing_payment_history", args=[payment.pk])))
    assert "Paiement annulé — motif : Chèque impayé (rejet banque)" in history
    january.refresh_from_db()
    february.refresh_from_db()
    assert january.settled_at is None and bill_outstanding(january) == D("70.00")
    assert bill_outstanding(february) == D("50.00")
    assert customer_balance(customer) == D("120.00")
    entry = LedgerEntry.objects.get(kind=LedgerEntry.Kind.REVERSAL)
    assert entry.amount == D("100.00") and entry.reversal == reversal and "Chèque impayé" in entry.label
    assert Payment.objects.filter(pk=payment.pk).exists()  # nothing deleted
    assert PaymentAllocation.objects.filter(payment=payment).count() == 4  # 2 allocations + 2 reversed
    # the receipt is revoked: the public verification page says so
    document.refresh_from_db()
    assert document.revoked_at == NOW
    assert document_verify(document.reference).verdict == Verdict.REVOKED
    verify = Client().get(reverse("portal:verify"), {"ref": document.reference})
    assert "annulé" in text(verify)
    again = client.get(reverse("admin:rak_billing_payment_receipt", args=[payment.pk]), follow=True)
    assert "reçu n'est plus valable" in text(again)
    # the payment page says it was reversed; a second reversal is refused
    detail = text(client.get(reverse("admin:rak_billing_payment_change", args=[payment.pk])))
    assert "Annulé le 20/03/2026 10:00" in detail and "Chèque impayé" in detail
    second = client.post(page_url, {"reason": "encore"})
    assert "déjà été annulé" in text(second)
    # the list of reversals (read only) and the customer's statistics (the payment no longer counts)
    reversals = text(client.get(reverse("admin:rak_billing_paymentreversal_changelist"), {"q": customer.code}))
    assert "Chèque impayé (rejet banque)" in reversals and "100,00 DH" in reversals
    stats = customer_statistics(customer.pk, as_of=NOW.date())
    assert stats.payments == [] and all(month["payments"] == 0 for month in stats.months)
    assert PaymentReversal.objects.count() == 1 and LedgerEntry.objects.filter(kind="REVERSAL").count() == 1


def test_reversal_applies_the_remaining_credit_again():
    customer = CustomerFactory()
    staff = StaffFactory()
    bill = fee(customer, "80.00", issue=datetime.date(2026, 1, 5))
    first = payment_record(customer=customer, amount=D("80.00"), method=Payment.Method.CHEQUE, paid_at=NOW)
    advance = payment_record(customer=customer, amount=D("50.00"), method=Payment.Method.CASH, paid_at=NOW)
    assert customer_balance(customer) == D("-50.00")

    payment_reverse(payment=first, reason="Chèque sans provision", by=staff, at=NOW)

    bill.refresh_from_db()
    assert bill_outstanding(bill) == D("30.00") and bill.settled_at is None  # the 50 DH credit paid part
    assert list(advance.allocations.values_list("amount", flat=True)) == [D("50.00")]
    assert customer_balance(customer) == D("30.00")
    with pytest.raises(ReversalRefused, match="déjà été annulé"):
        payment_reverse(payment=first, reason="deux fois", by=staff, at=NOW)
    with pytest.raises(ReversalRefused, match="motif"):
        payment_reverse(payment=advance, reason=" ", by=staff, at=NOW)
    # a later payment does not use the reversed payment as credit
    payment_record(customer=customer, amount=D("30.00"), method=Payment.Method.CASH, paid_at=NOW)
    bill.refresh_from_db()
    assert bill.settled_at is not None and customer_balance(customer) == 0
    with pytest.raises(Exception, match="annulé"):
        payment_receipt_pdf(first)


def test_who_may_reverse_and_nobody_deletes(client):
    customer = CustomerFactory()
    fee(customer, "70.00", issue=datetime.date(2026, 1, 5))
    payment = payment_record(customer=customer, amount=D("70.00"), method=Payment.Method.CASH, paid_at=NOW)
    page_url = reverse("admin:rak_billing_payment_reverse", args=[payment.pk])
    delete_url = reverse("admin:rak_billing_payment_delete", args=[payment.pk])
    for group, allowed in (("accueil", False), ("facturation", False), ("recouvrement", True), ("superviseur", True)):
        user = staff_in(group)
        client.force_login(user)
        assert (client.get(page_url).status_code == 200) is allowed, group
        assert client.get(delete_url).status_code == 403, group
    recorder = staff_in("recouvrement")
    client.force_login(recorder)
    assert client.get(reverse(ADD)).status_code == 200  # recouvrement records payments at the counter
    client.force_login(StaffFactory(is_superuser=True))
    assert client.get(delete_url).status_code == 403
    changelist = client.get(reverse("admin:rak_billing_payment_changelist"))
    assert "delete_selected" not in changelist.content.decode()
    response = client.post(
        reverse("admin:rak_billing_payment_changelist"),
        {"action": "delete_selected", "_selected_action": [payment.pk], "post": "yes"},
    )
    assert Payment.objects.filter(pk=payment.pk).exists() and response.status_code in (200, 302)


@pytest.mark.django_db(transaction=True)
def test_two_agents_reversing_at_the_same_instant_one_wins():
    customer = CustomerFactory()
    fee(customer, "70.00", issue=datetime.date(2026, 1, 5))
    payment = payment_record(customer=customer, amount=D("70.00"), method=Payment.Method.CASH, paid_at=NOW)
    agents = [StaffFactory(), StaffFactory()]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def one(agent):
        try:
            barrier.wait(timeout=10)
            payment_reverse(payment=payment.pk, reason=f"Annulation par {agent.username}", by=agent, at=NOW)
            outcomes.append("reversed")
        except ReversalRefused:
            outcomes.append("refused")
        except BaseException as exc:  # reported below
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=one, args=(agent,)) for agent in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["refused", "reversed"]
    assert PaymentReversal.objects.count() == 1
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REVERSAL).count() == 1
    assert PaymentAllocation.objects.filter(reversal__isnull=False).count() == 1
    assert customer_balance(customer) == D("70.00")


def test_a_reversed_card_payment_reopens_the_bill_and_its_receipt_is_no_longer_served(client):
    from rak_payment_cmi import paying
    from tests.factories import DossierFactory, customer_with_account
    from tests.integration.test_cmi_callback import callback_for, post_callback
    from tests.integration.test_payment_pages import seed_bill

    customer, user = customer_with_account(first_name="Youssef", last_name="Alaoui", email="youssef@example.ma")
    dossier = DossierFactory(customer=customer)
    bill = seed_bill(dossier, "113.02", period=datetime.date(2026, 1, 1), due=datetime.date(2026, 3, 14))
    order = paying.order_create_for_bills(customer=customer, bills=[bill], email="youssef@example.ma", now=NOW)
    post_callback(Client(), callback_for(order))
    order.refresh_from_db()
    client.force_login(user)
    pdf_url = reverse("portal:payment_receipt_pdf", args=[order.oid])
    assert client.get(pdf_url).status_code == 200
    bill.refresh_from_db()
    assert bill.settled_at is not None

    payment_reverse(payment=order.payment, reason="Rétrofacturation (impayé carte)", by=StaffFactory(), at=NOW)

    bill.refresh_from_db()
    assert bill.settled_at is None and bill_outstanding(bill) == D("113.02")
    assert client.get(pdf_url).status_code == 404
    receipt = Document.objects.get(kind=Document.Kind.RECEIPT, subject_id=str(order.payment_id))
    assert document_verify(receipt.reference).verdict == Verdict.REVOKED
