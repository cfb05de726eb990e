"""The money loop tried from outside: hostile input on the staff forms and files that move money
(« Encaisser un paiement », « Annuler le paiement », other networks' payment files, CMI's
settlement file) and sequences of payments and reversals. Every bad input gives a French message
(never a 500), no money is lost or doubled, and after every step the books hold together
(``assert_books_consistent``: balance = SUM(ledger) = what the open bills owe − the unused credit;
a bill is settled exactly when its allocations cover it; nothing is over-allocated)."""

from __future__ import annotations

import datetime
import html as htmllib
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rak_base import clock
from rak_billing.ledger import (
    OtherLine,
    bill_issue_other,
    customer_balance,
    payment_record,
    payment_reverse,
)
from rak_billing.models import Bill, LedgerEntry, Payment, PaymentAllocation, PaymentReversal
from tests.factories import CustomerFactory, StaffFactory, staff_in

pytestmark = pytest.mark.django_db

D = Decimal
ZERO = D("0.00")
CASABLANCA = ZoneInfo("Africa/Casablanca")
NOW = datetime.datetime(2026, 3, 20, 10, 0, tzinfo=CASABLANCA)
ADD = "admin:rak_billing_payment_add"
NETWORK_IMPORT = "admin:rak_payment_cmi_networkpaymentimport_import_file"
SETTLEMENT_IMPORT = "admin:rak_payment_cmi_settlementimport_import_file"


@pytest.fixture(autouse=True)
def _frozen_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


@pytest.fixture
def recouvrement(client):
    user = staff_in("recouvrement", first_name="Samira", last_name="Idrissi")
    client.force_login(user)
    return user


def fee(customer, amount: str, *, issue: datetime.date = datetime.date(2026, 2, 1)) -> Bill:
    return bill_issue_other(
        kind=Bill.Kind.CUT_FEE,
        customer=customer,
        lines=[OtherLine("Frais", D(amount), vat_rate=D("0"))],
        issue_date=issue,
        now=NOW,
    )


def text(response) -> str:
    return htmllib.unescape(response.content.decode())


def assert_books_consistent(customer) -> None:
    """The customer's books hold together, whatever happened before."""
    customer_id = customer if isinstance(customer, int) else customer.pk
    ledger = LedgerEntry.objects.filter(customer_id=customer_id).aggregate(t=Sum("amount"))["t"] or ZERO
    assert customer_balance(customer_id) == ledger
    owed, issued = ZERO, ZERO
    for bill in Bill.objects.filter(customer_id=customer_id).exclude(kind=Bill.Kind.CREDIT_NOTE):
        paid = bill.allocations.aggregate(t=Sum("amount"))["t"] or ZERO
        assert ZERO <= paid <= bill.total_ttc, f"{bill.number}: {paid} allocated on {bill.total_ttc}"
        outstanding = bill.total_ttc - paid
        assert (bill.settled_at is not None) == (outstanding == ZERO), (
            f"{bill.number}: settled_at={bill.settled_at} outstanding={outstanding}"
        )
        owed += outstanding
        issued += bill.total_ttc
        assert LedgerEntry.objects.filter(bill=bill, kind=LedgerEntry.Kind.BILL).count() == 1
    unused = ZERO
    for payment in Payment.objects.filter(customer_id=customer_id):
        used = payment.allocations.aggregate(t=Sum("amount"))["t"] or ZERO
        reversed_ = PaymentReversal.objects.filter(payment=payment).exists()
        if reversed_:
            assert used == ZERO, f"reversed payment {payment.pk} still allocates {used}"
        else:
            assert ZERO <= used <= payment.amount
            unused += payment.amount - used
    for note in Bill.objects.filter(customer_id=customer_id, kind=Bill.Kind.CREDIT_NOTE):
        used = PaymentAllocation.objects.filter(credit_note=note).aggregate(t=Sum("amount"))["t"] or ZERO
        assert ZERO <= used <= note.total_ttc
        unused += note.total_ttc - used
    assert ledger == owed - unused, f"ledger {ledger} != owed {owed} - unused credit {unused}"


def counter_post(client, customer, amount: str, *, day="15/03/2026", time="09:00:00", reason=""):
    return client.post(
        reverse(ADD),
        {
            "customer_code": customer.code,
            "amount": amount,
            "method": "CASH",
            "paid_at_0": day,
            "paid_at_1": time,
            "reference": "",
            "reason": reason,
        },
    )


# --- « Encaisser un paiement » -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount",
    ["1e9", "-0", "0", "0,001", "0.001", "NaN", "nan", "Infinity", "-Infinity", "sNaN", "1" * 20, "12 000", ""],
)
def test_counter_payment_hostile_amounts_are_refused_in_french(client, recouvrement, amount):
    customer = CustomerFactory()
    fee(customer, "120.00")
    response = counter_post(client, customer, amount)
    assert response.status_code == 200, response.status_code
    assert Payment.objects.count() == 0
    assert "errornote" in response.content.decode() or "error" in response.content.decode()
    assert_books_consistent(customer)


@pytest.mark.parametrize(
    ("day", "time"),
    [
        ("01/01/2030", "09:00:00"),
        ("01/01/0001", "00:00:00"),
        ("01/01/0001", "09:00:00"),
        ("31/12/9999", "23:59:59"),
        ("31/02/2026", "09:00:00"),
        ("2026-13-01", "09:00:00"),
        ("15/03/2026", "25:00:00"),
        ("", ""),
        ("01/01/1900", "09:00:00"),
        ("19/03/2016", "09:00:00"),
    ],
)
def test_counter_payment_hostile_dates_are_refused_in_french(client, recouvrement, day, time):
    customer = CustomerFactory()
    fee(customer, "120.00")
    response = counter_post(client, customer, "120.00", day=day, time=time)
    assert response.status_code == 200, response.status_code
    assert Payment.objects.count() == 0
    if day.endswith(("0001", "1900", "2016")):
        assert "La date du paiement est trop ancienne" in text(response)
    assert_books_consistent(customer)


def test_counter_payment_reason_of_ten_thousand_chars(client, recouvrement):
    customer = CustomerFactory()
    fee(customer, "120.00")
    response = counter_post(client, customer, "500.00", reason="x" * 10_000)
    assert response.status_code in (200, 302), response.status_code
    assert_books_consistent(customer)


def test_counter_payment_a_second_later_than_now_is_not_a_500(client, recouvrement):
    customer = CustomerFactory()
    fee(customer, "120.00")
    response = counter_post(client, customer, "120.00", day="20/03/2026", time="10:00:01")
    assert response.status_code == 200
    assert "ne peut pas être dans le futur" in text(response)


# --- « Annuler le paiement » ------------------------------------------------------------------------------


def test_reverse_page_hostile_posts(client, recouvrement):
    customer = CustomerFactory()
    fee(customer, "70.00")
    payment = payment_record(customer=customer, amount=D("70.00"), method=Payment.Method.CASH, paid_at=NOW)
    url = reverse("admin:rak_billing_payment_reverse", args=[payment.pk])
    empty = client.post(url, {"reason": "   "})
    assert empty.status_code == 200 and not PaymentReversal.objects.exists()
    long = client.post(url, {"reason": "y" * 10_000})
    assert long.status_code == 200 and not PaymentReversal.objects.exists()
    ok = client.post(url, {"reason": "Chèque impayé"})
    assert ok.status_code == 302
    stale = client.post(url, {"reason": "Chèque impayé (onglet resté ouvert)"})
    assert stale.status_code == 200
    assert "déjà été annulé" in text(stale)
    assert PaymentReversal.objects.count() == 1
    assert client.post(reverse("admin:rak_billing_payment_reverse", args=[999999]), {"reason": "x"}).status_code in (
        302,
        404,
    )
    assert client.post(reverse("admin:rak_billing_payment_reverse", args=["abc"]), {"reason": "x"}).status_code in (
        302,
        404,
    )
    assert_books_consistent(customer)


@pytest.mark.parametrize("group", ["accueil", "technique", "facturation"])
def test_reverse_post_without_permission_is_403(client, group):
    customer = CustomerFactory()
    fee(customer, "70.00")
    payment = payment_record(customer=customer, amount=D("70.00"), method=Payment.Method.CASH, paid_at=NOW)
    client.force_login(staff_in(group))
    response = client.post(reverse("admin:rak_billing_payment_reverse", args=[payment.pk]), {"reason": "pirate"})
    assert response.status_code == 403
    assert not PaymentReversal.objects.exists()
    if group != "accueil":  # the front desk records payments at the counter (not reverses them)
        counter = counter_post(client, customer, "10.00")
        assert counter.status_code == 403
        assert Payment.objects.count() == 1


# --- sequences --------------------------------------------------------------------------------------------


def test_pay_reverse_pay_again(client, recouvrement):
    customer = CustomerFactory()
    bill = fee(customer, "120.00")
    first = counter_post(client, customer, "120.00")
    assert first.status_code == 302
    payment = Payment.objects.get()
    assert_books_consistent(customer)
    client.post(reverse("admin:rak_billing_payment_reverse", args=[payment.pk]), {"reason": "Chèque impayé"})
    bill.refresh_from_db()
    assert bill.settled_at is None
    assert_books_consistent(customer)
    again = counter_post(client, customer, "120.00", day="16/03/2026")
    assert again.status_code == 302
    bill.refresh_from_db()
    assert bill.settled_at is not None
    assert customer_balance(customer) == ZERO
    assert_books_consistent(customer)


def test_reversal_of_a_payment_split_over_bills_with_credit_left(client, recouvrement):
    customer = CustomerFactory()
    older = fee(customer, "50.00", issue=datetime.date(2026, 1, 1))
    newer = fee(customer, "30.00", issue=datetime.date(2026, 2, 1))
    big = payment_record(
        customer=customer, amount=D("100.00"), method=Payment.Method.CASH, paid_at=NOW, reason="avance"
    )
    small = payment_record(customer=customer, amount=D("40.00"), method=Payment.Method.CASH, paid_at=NOW)
    assert_books_consistent(customer)
    payment_reverse(payment=big, reason="Chèque impayé", by=recouvrement, at=NOW)
    assert_books_consistent(customer)
    older.refresh_from_db()
    newer.refresh_from_db()
    assert customer_balance(customer) == D("40.00")
    payment_reverse(payment=small, reason="Erreur de client", by=recouvrement, at=NOW)
    assert customer_balance(customer) == D("80.00")
    assert_books_consistent(customer)


# --- card payments -------------------------------------------------------------------------------------------


def _card_paid_order(customer, bills, now):
    from rak_payment_cmi import services
    from tests.integration.test_cmi_callback import callback_for, post_callback

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
    post_callback(Client(), callback_for(order))
    order.refresh_from_db()
    return order


def test_reversing_a_card_payment_credits_its_online_fee_invoice(now):
    """The whole card payment goes back to the card (bills + fee): the « Frais du service en
    ligne » invoice it paid is cancelled by a credit note — the customer owes the bills again,
    never a fee for a payment that did not happen — and the books hold together."""
    from tests.integration.test_cmi_callback import make_bill

    customer = CustomerFactory()
    bill = make_bill(customer, "113.02", due=datetime.date(2018, 4, 14))
    order = _card_paid_order(customer, [bill], now)
    assert order.payment is not None and order.fee_bill is not None
    assert customer_balance(customer) == ZERO
    assert_books_consistent(customer)

    payment_reverse(payment=order.payment, reason="Rétrofacturation (impayé carte)", by=StaffFactory(), at=now)

    bill.refresh_from_db()
    fee_bill = Bill.objects.get(pk=order.fee_bill_id)
    assert bill.settled_at is None
    assert customer_balance(customer) == D("113.02")  # the bill again, not the fee
    assert fee_bill.settled_at is not None
    note = Bill.objects.get(kind=Bill.Kind.CREDIT_NOTE, credited_bill=fee_bill)
    assert note.total_ttc == D("2.41")
    assert_books_consistent(customer)


def test_customer_credit_is_not_spent_on_a_reversed_card_payment_fee(now):
    from tests.integration.test_cmi_callback import make_bill

    customer = CustomerFactory()
    bill = make_bill(customer, "50.00", due=datetime.date(2018, 4, 14))
    order = _card_paid_order(customer, [bill], now)
    payment_record(customer=customer, amount=D("30.00"), method=Payment.Method.CASH, paid_at=now)  # an advance
    assert customer_balance(customer) == D("-30.00")

    payment_reverse(payment=order.payment, reason="Remboursé au porteur", by=StaffFactory(), at=now)

    assert customer_balance(customer) == D("20.00")
    bill.refresh_from_db()
    fee_bill = Bill.objects.get(pk=order.fee_bill_id)
    # the advance went to the bill, none of it to the fee
    assert not PaymentAllocation.objects.filter(bill=fee_bill, payment__method=Payment.Method.CASH).exists()
    assert_books_consistent(customer)


# --- other networks' payment files and CMI's settlement file --------------------------------------------------


def _upload(client, name: str, data: bytes, *, url=NETWORK_IMPORT, network="Tasshilat"):
    upload = SimpleUploadedFile(name, data, content_type="text/csv")
    payload = {"file": upload} if url == SETTLEMENT_IMPORT else {"file": upload, "network": network}
    return client.post(reverse(url), payload)


def _two_customers():
    mine, other = CustomerFactory(), CustomerFactory()
    return mine, fee(mine, "100.00"), other, fee(other, "80.00")


def _report(response, client):
    """The import's page (after the redirect) as read."""
    assert response.status_code == 302, text(response)[:2000]
    return text(client.get(response["Location"]))


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("vide.csv", b"", "vide"),
        ("blancs.csv", b"\n\n  \n", "vide"),
        ("binaire.csv", bytes(range(1, 256)) * 40, "Encodage du fichier non reconnu"),
        ("binaire0.csv", bytes(range(256)) * 40, "n'est pas un fichier CSV texte"),
        ("image.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 2000, "n'est pas un fichier CSV texte"),
        ("nul.csv", b"code_client;montant;date;reference\n\x00\x00;1;\x00;\x00\n", "n'est pas un fichier CSV texte"),
        ("utf16.csv", "code_client;montant;date;reference\n".encode("utf-16"), "n'est pas un fichier CSV texte"),
        ("entete.csv", b"montant;date\n10;12/03/2026\n", "Colonnes manquantes"),
    ],
)
def test_unreadable_network_files_are_refused_in_french(client, recouvrement, name, data, message):
    response = _upload(client, name, data)
    assert response.status_code in (200, 302), response.status_code
    if response.status_code == 200:
        assert message in text(response)
    assert Payment.objects.count() == 0


def test_a_network_file_above_the_size_limit_is_refused(client, recouvrement):
    response = _upload(client, "gros.csv", b"code_client;montant;date;reference\n" + b"x" * (20 * 1024 * 1024))
    assert response.status_code == 200
    assert "trop volumineux" in text(response)


@pytest.mark.parametrize(
    ("encoding", "separator", "bom"),
    [("utf-8", ";", False), ("utf-8", ",", True), ("latin-1", ";", False), ("cp1252", ",", False)],
)
def test_network_file_encodings_and_separators(client, recouvrement, encoding, separator, bom):
    mine, bill, _other, _other_bill = _two_customers()
    rows = [
        ["code_client", "numero_facture", "montant", "date", "reference", "motif"],
        [mine.code, bill.number, "100,00" if separator == ";" else "100.00", "12/03/2026", "TSH-1", "Réglé à l'agence"],
    ]
    data = "\n".join(separator.join(r) for r in rows).encode(encoding)
    if bom:
        data = b"\xef\xbb\xbf" + data
    page = _report(_upload(client, "f.csv", data), client)
    assert "TSH-1" in page
    bill.refresh_from_db()
    assert bill.settled_at is not None
    assert_books_consistent(mine)


def test_network_file_hostile_rows(client, recouvrement):
    mine, bill, other, other_bill = _two_customers()
    settled = fee(mine, "10.00", issue=datetime.date(2026, 1, 1))
    payment_record(customer=mine, amount=D("10.00"), method=Payment.Method.CASH, paid_at=NOW, bills=[settled])
    settled.refresh_from_db()
    assert settled.settled_at is not None
    lines = [
        "code_client;numero_facture;montant;date;reference;motif",
        f"{mine.code};{other_bill.number};80,00;12/03/2026;R-OTHER;",  # someone else's bill
        f";{settled.number};10,00;12/03/2026;R-SETTLED;",  # a bill already settled
        ";F2026-99999999;10,00;12/03/2026;R-NOBILL;",  # no such bill
        f"{mine.code};;5000000,00;12/03/2026;R-HUGE;avance",  # 5,000,000 DH
        f"{mine.code};;NaN;12/03/2026;R-NAN;",
        f"{mine.code};;Infinity;12/03/2026;R-INF;",
        f"{mine.code};;1e3;12/03/2026;R-EXP;",
        f"{mine.code};;{'9' * 20};12/03/2026;R-20;",
        f"{mine.code};;-0;12/03/2026;R-NEG0;",
        f"{mine.code};;0,001;12/03/2026;R-MILLI;",
        f"{mine.code};;10,00;31/02/2026;R-FEB31;",
        f"{mine.code};;10,00;01/01/0001;R-YEAR1;",
        f"{mine.code};;10,00;01/01/2030;R-2030;",
        f"{mine.code};{bill.number};60,00;12/03/2026;R-DUP;",
        f"{mine.code};{bill.number};60,00;12/03/2026;R-DUP;",  # the same row twice
        f"{mine.code};;10,00;12/03/2026;{'r' * 500};",
    ]
    page = _report(_upload(client, "hostile.csv", "\n".join(lines).encode()), client)
    for reference in ("R-OTHER", "R-NOBILL", "R-HUGE", "R-NAN", "R-INF", "R-20", "R-NEG0", "R-MILLI"):
        assert reference in page
    assert "n'appartient pas au client" in page
    assert "Facture inconnue" in page
    assert "Référence en double" in page
    other_bill.refresh_from_db()
    assert other_bill.settled_at is None
    assert not Payment.objects.filter(customer=other).exists()
    assert not Payment.objects.filter(amount__gte=D("1000")).exists()
    assert Payment.objects.filter(external_id__endswith=":R-DUP").count() == 1
    for reference in ("R-NAN", "R-INF", "R-NEG0", "R-MILLI", "R-FEB31", "R-YEAR1", "R-2030", "R-20", "R-NOBILL"):
        assert not Payment.objects.filter(external_id__endswith=f":{reference}").exists(), reference
    # the settled bill's 10 DH went to what the customer owes (never lost, never a second settlement)
    assert_books_consistent(mine)
    assert_books_consistent(other)
    again = _report(_upload(client, "hostile.csv", "\n".join(lines).encode()), client)
    assert "Déjà enregistré" in again
    assert_books_consistent(mine)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("vide.csv", b"", "vide"),
        ("binaire.csv", bytes(range(256)) * 40, "n'est pas un fichier CSV texte"),
        ("gros.csv", b"date;oid\n" + b"x" * (20 * 1024 * 1024), "trop volumineux"),
    ],
)
def test_unreadable_settlement_files_are_refused_in_french(client, recouvrement, name, data, message):
    response = _upload(client, name, data, url=SETTLEMENT_IMPORT)
    assert response.status_code == 200, response.status_code
    assert message in text(response)


def test_settlement_file_hostile_rows(client, recouvrement):
    lines = [
        "date;oid;transid;autorisation;montant;carte;statut",
        "31/02/2026 10:00:00;RAKNOPE;T1;1;NaN;4111;ACCEPTEE",
        "01/01/0001 00:00:00;RAKNOPE2;T2;1;Infinity;4111;ACCEPTEE",
        f"10/03/2026 10:00:00;RAKNOPE3;T3;1;{'9' * 20};4111;ACCEPTEE",
        "10/03/2026 10:00:00;RAKNOPE4;T4;1;5000000,00;4111;ACCEPTEE",
        "10/03/2026 10:00:00;RAKNOPE4;T4;1;5000000,00;4111;ACCEPTEE",
        "10/03/2026 10:00:00;;;;;;",
        "10/03/2026 10:00:00;RAKNOPE5;T5;1;-0;4111;INCONNU",
    ]
    for encoding in ("utf-8", "latin-1"):
        data = "\n".join(lines).encode(encoding) + (b";\xe9" if encoding == "latin-1" else b"")
        response = _upload(client, f"releve-{encoding}.csv", data, url=SETTLEMENT_IMPORT)
        assert response.status_code in (200, 302), response.status_code
        if response.status_code == 302:
            client.get(response["Location"])
    assert Payment.objects.count() == 0


def test_a_reversal_weeks_later_does_not_unbalance_the_day_it_was_captured(now):
    """The settlement summary of a past day counts what was paid that day: a chargeback reversed
    later (its own ledger entry, its own day) leaves that day's bills + fee = payments."""
    from rak_payment_cmi import reconciliation
    from tests.integration.test_cmi_callback import make_bill

    customer, other = CustomerFactory(), CustomerFactory()
    orders = [
        _card_paid_order(customer, [make_bill(customer, "113.02", due=datetime.date(2018, 4, 14))], now),
        _card_paid_order(other, [make_bill(other, "45.45", due=datetime.date(2018, 4, 14))], now),
    ]
    at = f"{timezone.localtime(orders[0].paid_at):%d/%m/%Y %H:%M:%S}"
    lines = "".join(f"{at};{o.oid};{o.trans_id};{o.auth_code};{o.amount_total};4111;ACCEPTEE\n" for o in orders)
    settlement = reconciliation.settlement_import(
        data=("date;oid;transid;autorisation;montant;carte;statut\n" + lines).encode(), file_name="r.csv", now=now
    )
    before = reconciliation.settlement_summary(settlement)
    assert before.bills_total + before.fee_total == before.payments_total == before.gateway_total

    later = now + datetime.timedelta(days=30)
    payment_reverse(payment=orders[0].payment, reason="Rétrofacturation", by=StaffFactory(), at=later)

    after = reconciliation.settlement_summary(settlement)
    assert after.bills_total + after.fee_total == after.payments_total == after.gateway_total
    assert (after.bills_total, after.fee_total) == (before.bills_total, before.fee_total)
    assert_books_consistent(customer)


@pytest.mark.parametrize("counter_amount", ["113.02", "13.02"])
def test_card_approved_after_the_bill_was_paid_at_the_counter_is_not_captured(
    client, recouvrement, now, counter_amount
):
    """The customer opened the card payment, then paid (all or part) at the counter; CMI's approval
    arrives afterwards: nothing captured, no second payment, the books unchanged."""
    from rak_payment_cmi import services
    from rak_payment_cmi.models import PaymentOrder
    from tests.integration.test_cmi_callback import callback_for, make_bill, post_callback

    customer = CustomerFactory()
    bill = make_bill(customer, "113.02", due=datetime.date(2018, 4, 14))
    order = services.payment_order_create(
        customer=customer, bills=[bill], email="c@example.ma", fee_amount=D("2.19"), fee_vat=D("0.22"), now=now
    )
    _url, order.checkout_fields = services.order_checkout_form(order, now=now)
    response = counter_post(client, customer, counter_amount)
    assert response.status_code == 302
    balance = customer_balance(customer)

    answer = post_callback(Client(), callback_for(order))

    assert "POSTAUTH" not in answer
    order.refresh_from_db()
    assert order.status == PaymentOrder.Status.CANCELLED and order.payment_id is None
    assert Payment.objects.filter(customer=customer).count() == 1
    assert not Bill.objects.filter(kind=Bill.Kind.ONLINE_FEE).exists()
    assert customer_balance(customer) == balance
    assert_books_consistent(customer)


def test_pay_by_card_reverse_then_pay_at_the_counter(client, recouvrement, now):
    from tests.integration.test_cmi_callback import make_bill

    customer = CustomerFactory()
    bill = make_bill(customer, "113.02", due=datetime.date(2018, 4, 14))
    order = _card_paid_order(customer, [bill], now)
    url = reverse("admin:rak_billing_payment_reverse", args=[order.payment_id])
    assert client.post(url, {"reason": "Rétrofacturation"}).status_code == 302
    assert customer_balance(customer) == D("113.02")
    assert counter_post(client, customer, "113.02").status_code == 302
    bill.refresh_from_db()
    assert bill.settled_at is not None and customer_balance(customer) == ZERO
    assert_books_consistent(customer)
    # the card payment cannot be reversed twice, even from a tab opened before
    again = client.post(url, {"reason": "Rétrofacturation"})
    assert again.status_code == 200 and "déjà été annulé" in text(again)
    assert customer_balance(customer) == ZERO
    assert_books_consistent(customer)


def test_the_same_network_file_imported_again_under_another_network_name_records_nothing_twice(client, recouvrement):
    """A file without a « reseau » column, imported once as « Tasshilat », then again by mistake as
    « Wafacash » (or with the name left empty): its payments must not be recorded a second time."""
    mine, bill, _other, _other_bill = _two_customers()
    data = f"code_client;montant;date;reference\n{mine.code};60,00;12/03/2026;TX-1\n".encode()
    _report(_upload(client, "jour.csv", data, network="Tasshilat"), client)
    assert customer_balance(mine) == D("40.00")
    for network in ("Wafacash", ""):
        response = _upload(client, "jour-bis.csv", data, network=network)
        assert response.status_code == 200
        assert "déjà été importé" in text(response) and "Tasshilat" in text(response)
    assert Payment.objects.count() == 1 and customer_balance(mine) == D("40.00")
    assert_books_consistent(mine)
    again = _report(_upload(client, "jour.csv", data, network="Tasshilat"), client)  # same name: idempotent
    assert "Déjà enregistré" in again and Payment.objects.count() == 1


def test_a_network_row_naming_a_settled_bill_says_where_the_money_went(client, recouvrement):
    mine, bill, _other, _other_bill = _two_customers()
    paid = fee(mine, "10.00", issue=datetime.date(2026, 1, 1))
    payment_record(customer=mine, amount=D("10.00"), method=Payment.Method.CASH, paid_at=NOW, bills=[paid])
    data = f"numero_facture;montant;date;reference\n{paid.number};10,00;12/03/2026;TX-9\n".encode()
    page = _report(_upload(client, "jour.csv", data), client)
    assert f"La facture {paid.number} était déjà réglée" in page
    bill.refresh_from_db()
    assert customer_balance(mine) == D("90.00")  # the 10 DH went to the open bill, not lost
    assert_books_consistent(mine)


def test_a_network_reference_too_long_to_keep_is_rejected(client, recouvrement):
    mine, _bill, _other, _other_bill = _two_customers()
    long_a, long_b = "R" * 130 + "A", "R" * 130 + "B"  # two payments the network told apart
    data = (
        f"code_client;montant;date;reference\n{mine.code};10;12/03/2026;{long_a}\n{mine.code};10;12/03/2026;{long_b}\n"
    )
    page = _report(_upload(client, "jour.csv", data.encode()), client)
    assert "Référence du réseau trop longue" in page
    assert Payment.objects.count() == 0


@pytest.mark.parametrize("group", ["accueil", "technique", "facturation"])
def test_money_files_posted_without_permission_are_403(client, group):
    mine, bill, _other, _other_bill = _two_customers()
    client.force_login(staff_in(group))
    data = f"code_client;montant;date;reference\n{mine.code};60,00;12/03/2026;TX-1\n".encode()
    assert _upload(client, "jour.csv", data).status_code == 403
    settlement = "date;oid;transid;autorisation;montant;carte;statut\n10/03/2026;RAKX;T1;1;10;4111;ACCEPTEE\n"
    assert _upload(client, "r.csv", settlement.encode(), url=SETTLEMENT_IMPORT).status_code == 403
    assert Payment.objects.count() == 0
    assert customer_balance(mine) == D("100.00")


@pytest.mark.parametrize("seed", range(6))
def test_random_sequences_of_money_moves_keep_the_books_consistent(seed, now):
    """Bills, counter payments (some naming a bill), network rows, credit notes, card payments and
    reversals in a random order: after every step the books hold together."""
    import random

    from rak_billing.ledger import PaymentRow, ReversalRefused, credit_note_issue, payments_record_bulk
    from tests.integration.test_cmi_callback import make_bill

    rng = random.Random(seed)
    customer = CustomerFactory()
    agent = StaffFactory()
    day = datetime.date(2026, 1, 1)
    for step in range(25):
        kind = rng.choice(["bill", "bill", "pay", "pay_named", "bulk", "note", "reverse", "card"])
        open_bills = list(Bill.objects.filter(customer=customer, settled_at__isnull=True).exclude(kind="CREDIT_NOTE"))
        amount = D(rng.randint(1, 30000)) / 100
        if kind == "bill":
            fee(customer, f"{amount}", issue=day + datetime.timedelta(days=step))
        elif kind == "pay":
            payment_record(customer=customer, amount=amount, method=Payment.Method.CASH, paid_at=now)
        elif kind == "pay_named" and open_bills:
            payment_record(
                customer=customer,
                amount=amount,
                method=Payment.Method.CASH,
                paid_at=now,
                bills=[rng.choice(open_bills)],
            )
        elif kind == "bulk":
            named = (rng.choice(open_bills).pk,) if open_bills and rng.random() < 0.5 else ()
            payments_record_bulk(
                [
                    PaymentRow(
                        customer_id=customer.pk,
                        amount=amount,
                        method=Payment.Method.AGENT_NETWORK,
                        paid_at=now,
                        external_id=f"T:{seed}:{step}",
                        bill_ids=named,
                        reason="test",
                    )
                ],
                now=now,
            )
        elif kind == "note":
            candidates = list(Bill.objects.filter(customer=customer, kind=Bill.Kind.CUT_FEE, credit_notes__isnull=True))
            if candidates:
                bill = rng.choice(candidates)
                credit_note_issue(bill=bill, reason="geste", issue_date=day, now=now, amount=bill.total_ttc / 2)
        elif kind == "reverse":
            payments = list(Payment.objects.filter(customer=customer, reversal__isnull=True))
            if payments:
                payment_reverse(payment=rng.choice(payments), reason="test", by=agent, at=now)
            if payments and rng.random() < 0.3:
                with pytest.raises(ReversalRefused):
                    reversed_ = PaymentReversal.objects.filter(payment__customer=customer).first()
                    payment_reverse(payment=reversed_.payment, reason="encore", by=agent, at=now)
        elif kind == "card":
            card_bill = make_bill(customer, f"{amount}", due=datetime.date(2018, 4, 14))
            _card_paid_order(customer, [card_bill], now)
        assert_books_consistent(customer)


def test_settlement_resolve_urls_from_outside(client, recouvrement):
    lines = "date;oid;transid;autorisation;montant;carte;statut\n10/03/2026 10:00:00;RAKX;T1;1;10;4111;ACCEPTEE\n"
    response = _upload(client, "r.csv", lines.encode(), url=SETTLEMENT_IMPORT)
    assert response.status_code == 302
    from rak_payment_cmi.models import SettlementLine

    line = SettlementLine.objects.get()
    base = f"/backoffice/rak_payment_cmi/settlementimport/{line.settlement_id}/lignes/{line.pk}/"
    assert client.get(base + "enregistrer/").status_code == 404  # POST only
    assert client.post(base + "effacer/").status_code == 404
    assert (
        client.post(f"/backoffice/rak_payment_cmi/settlementimport/abc/lignes/{line.pk}/signaler/").status_code == 404
    )
    for bad in ("0", "²", "9" * 25):
        url = f"/backoffice/rak_payment_cmi/settlementimport/{bad}/lignes/{line.pk}/signaler/"
        assert client.post(url).status_code == 404, bad
    huge_line = f"/backoffice/rak_payment_cmi/settlementimport/{line.settlement_id}/lignes/{'9' * 25}/signaler/"
    assert client.post(huge_line).status_code == 404
    applied = client.post(base + "enregistrer/")  # an unknown order: nothing to record
    assert applied.status_code == 302 and Payment.objects.count() == 0
    flagged = client.post(base + "signaler/", {"note": "n" * 10_000})
    assert flagged.status_code == 302
    twice = client.post(base + "signaler/", {"note": "encore"})  # a stale tab
    assert twice.status_code == 302
    client.force_login(staff_in("facturation"))
    assert client.post(base + "signaler/", {"note": "x"}).status_code == 403


def test_a_card_payment_whose_fee_was_already_credited_can_still_be_reversed(now):
    """A « geste commercial » credited the online fee first; a chargeback then reverses the card
    payment: the reversal goes through (no second credit note on the fee), books consistent."""
    from rak_billing.ledger import credit_note_issue
    from tests.integration.test_cmi_callback import make_bill

    customer = CustomerFactory()
    order = _card_paid_order(customer, [make_bill(customer, "113.02", due=datetime.date(2018, 4, 14))], now)
    credit_note_issue(bill=order.fee_bill, reason="Geste commercial", issue_date=now.date(), now=now)
    assert customer_balance(customer) == D("-2.41")

    payment_reverse(payment=order.payment, reason="Rétrofacturation", by=StaffFactory(), at=now)

    assert PaymentReversal.objects.filter(payment=order.payment).exists()
    assert Bill.objects.filter(kind=Bill.Kind.CREDIT_NOTE, credited_bill=order.fee_bill).count() == 1
    assert customer_balance(customer) == D("113.02")  # the bill again; the fee covered by its avoir
    assert_books_consistent(customer)


@pytest.mark.django_db(transaction=True)
def test_two_counters_recording_the_whole_balance_at_the_same_instant_one_needs_a_reason():
    """Two agents (two tabs) record the customer's 120 DH at the same instant, no reason: one is
    recorded, the other is refused as above the balance — never 240 DH taken silently."""
    import threading

    from django.db import connection

    from rak_billing.ledger import PaymentRefused, payment_record_staff

    customer = CustomerFactory()
    fee(customer, "120.00")
    agents = [StaffFactory(), StaffFactory()]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def one(agent):
        try:
            barrier.wait(timeout=10)
            payment_record_staff(
                customer=customer,
                amount=D("120.00"),
                method=Payment.Method.CASH,
                paid_at=NOW,
                now=NOW,
                received_by=agent,
            )
            outcomes.append("recorded")
        except PaymentRefused as exc:
            outcomes.append("refused" if "solde dû" in exc.message else exc.message)
        except BaseException as exc:  # reported below
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=one, args=(agent,)) for agent in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["recorded", "refused"]
    assert Payment.objects.count() == 1 and customer_balance(customer) == ZERO
    assert_books_consistent(customer)


def test_a_refund_at_cmi_of_a_payment_already_reversed_here_is_not_an_anomaly(now):
    """CMI's file lists the refund (REMBOURSEE) of a card payment that recouvrement already
    reversed here: the two agree — no « remboursé au CMI mais payé ici » line to chase."""
    from rak_payment_cmi import reconciliation
    from rak_payment_cmi.models import SettlementLine
    from tests.integration.test_cmi_callback import make_bill

    customer = CustomerFactory()
    order = _card_paid_order(customer, [make_bill(customer, "113.02", due=datetime.date(2018, 4, 14))], now)
    payment_reverse(payment=order.payment, reason="Remboursé au porteur", by=StaffFactory(), at=now)
    at = f"{timezone.localtime(now):%d/%m/%Y %H:%M:%S}"
    data = (
        "date;oid;transid;autorisation;montant;carte;statut\n"
        f"{at};{order.oid};{order.trans_id};{order.auth_code};{order.amount_total};4111;REMBOURSEE\n"
    ).encode()

    settlement = reconciliation.settlement_import(data=data, file_name="r.csv", now=now)

    line = settlement.lines.get(trans_id=order.trans_id)
    assert line.check_result != SettlementLine.Check.REFUNDED_HERE_PAID
    assert settlement.rows_mismatched == 0


def test_a_network_payment_reversed_then_sent_again_is_named_as_reversed(client, recouvrement):
    """A network payment recorded on the wrong customer is reversed; the network's corrected file
    (same reference, the right customer) cannot record it again under that reference: the report
    says the reference's payment was reversed and to record it at the counter — never « déjà
    enregistré », which reads as done."""
    mine, bill, other, other_bill = _two_customers()
    wrong = f"code_client;montant;date;reference\n{other.code};80,00;12/03/2026;TX-7\n".encode()
    _report(_upload(client, "jour.csv", wrong), client)
    payment = Payment.objects.get()
    payment_reverse(payment=payment, reason="Mauvais client", by=recouvrement, at=NOW)
    for data in (wrong, f"code_client;montant;date;reference\n{mine.code};80,00;12/03/2026;TX-7\n".encode()):
        page = _report(_upload(client, "corrige.csv", data), client)
        assert "Déjà enregistré (import précédent)" not in page
        assert "annulé le 20/03/2026" in page and "au guichet" in page
    assert Payment.objects.count() == 1
    assert_books_consistent(mine)
    assert_books_consistent(other)


def test_the_same_rows_re_exported_under_another_network_name_are_not_paid_twice(client, recouvrement):
    """The network's file exported again (other bytes: Windows line ends, another file name) and
    imported under another network name: the rows already recorded — same customer, amount, date
    and reference — are not recorded again."""
    mine, _bill, _other, _other_bill = _two_customers()
    rows = [f"{mine.code};60,00;12/03/2026 10:15;TX-1", f"{mine.code};15,00;12/03/2026 11:00;TX-2"]
    first = ("code_client;montant;date;reference\n" + "\n".join(rows[:1]) + "\n").encode()
    _report(_upload(client, "jour.csv", first, network="Tasshilat"), client)
    again = ("code_client;montant;date;reference\r\n" + "\r\n".join(rows) + "\r\n").encode()
    page = _report(_upload(client, "jour-export2.csv", again, network="Tashilat"), client)
    assert "déjà enregistré sous le réseau" in page.lower()
    assert Payment.objects.count() == 2  # TX-1 once, TX-2 new
    assert customer_balance(mine) == D("25.00")
    assert_books_consistent(mine)
