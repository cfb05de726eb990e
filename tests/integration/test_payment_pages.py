"""Paying online (seed 001) against the real database: quick-pay (captcha, e-mail confirmation,
the one message for an unknown code or nothing to pay, throttle), the bill list (exigible bills
mandatory, server-side totals, tampering ignored), the recap (conditions), « Payer », the
logged-in « Payer en ligne », advance top-ups, request fees, the receipt and who may see it, the
fee setting. The day is fixed at 15/03/2026: a bill due before it is « exigible »."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from captcha.models import CaptchaStore
from django.core import mail
from django.urls import reverse

from rak_base import clock
from rak_base.models import Document, Message
from rak_billing.ledger import customer_balance
from rak_billing.models import Bill, LedgerEntry, Payment
from rak_customer.models import Dossier, Service
from rak_payment_cmi import paying
from rak_payment_cmi.after_payment import receipt_token
from rak_payment_cmi.models import PaymentOrder, PaymentSettings
from tests.factories import CustomerFactory, DossierFactory, StaffFactory, customer_with_account
from tests.integration.test_cmi_callback import callback_for, post_callback

pytestmark = pytest.mark.django_db

CASABLANCA = ZoneInfo("Africa/Casablanca")
NOW = datetime.datetime(2026, 3, 15, 10, 0, tzinfo=CASABLANCA)
MESSAGE = "Aucune Facture à payer ou identifiants client inexistant"
_numbers = iter(range(1, 10**6))


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


def html_of(response) -> str:
    return response.content.decode().replace("&#x27;", "'").replace("\u202f", " ")


def seed_bill(dossier, total: str, *, period: datetime.date, due: datetime.date, kind=Bill.Kind.CONSUMPTION) -> Bill:
    """A bill owing ``total`` TTC with its ledger debit."""
    total = Decimal(total)
    ht = (total / Decimal("1.14")).quantize(Decimal("0.01"))
    bill = Bill.objects.create(
        number=f"P2026{next(_numbers):07d}",
        kind=kind,
        customer=dossier.customer,
        dossier=dossier,
        period_start=period if kind == Bill.Kind.CONSUMPTION else None,
        period_end=(period + datetime.timedelta(days=28)) if kind == Bill.Kind.CONSUMPTION else None,
        issue_date=due - datetime.timedelta(days=15),
        due_date=due,
        total_ht=ht,
        total_tva=total - ht,
        total_ttc=total,
    )
    LedgerEntry.objects.create(
        customer=dossier.customer,
        dossier=dossier,
        kind=LedgerEntry.Kind.BILL,
        entry_date=bill.issue_date,
        amount=total,
        bill=bill,
        label=f"Facture {bill.number}",
    )
    return bill


@pytest.fixture
def seed_customer():
    """The seed's customer: 113,02 DH exigible (due 14/03/2026) and 105,81 DH not yet due."""
    customer, user = customer_with_account(first_name="Youssef", last_name="Alaoui", email="youssef@example.ma")
    dossier = DossierFactory(customer=customer, number="D300000001", service=Service.ELECTRICITE)
    first = seed_bill(dossier, "113.02", period=datetime.date(2026, 1, 1), due=datetime.date(2026, 3, 14))
    second = seed_bill(dossier, "105.81", period=datetime.date(2026, 2, 1), due=datetime.date(2026, 4, 14))
    return customer, user, dossier, first, second


def captcha_answer(html: str) -> dict[str, str]:
    key = re.search(r'name="captcha_0" value="([^"]+)"', html).group(1)
    return {"captcha_0": key, "captcha_1": CaptchaStore.objects.get(hashkey=key).response}


def quickpay_post(client, code: str, *, email="client@example.ma", confirm=None, captcha=True, **extra):
    page = html_of(client.get(reverse("portal:quickpay")))
    data = {
        "code": code,
        "email": email,
        "email_confirm": confirm or email,
        "card_type": "MOROCCAN",
        **(captcha_answer(page) if captcha else {"captcha_0": "x", "captcha_1": ""}),
        **extra,
    }
    return client.post(reverse("portal:quickpay"), data, REMOTE_ADDR="10.1.2.3")


def strip_volatile(html: str) -> str:
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    html = re.sub(r'value="[0-9a-f]{40}"', "", html)
    return re.sub(r"/captcha/image/[0-9a-f]{40}/", "", html)


# --- quick-pay identification --------------------------------------------------------------------------


def test_home_page_links_to_quick_pay(client):
    html = html_of(client.get(reverse("portal:home")))
    assert "Payer mes factures en ligne" in html and reverse("portal:quickpay") in html


def test_unknown_code_and_nothing_to_pay_give_the_same_answer(client, seed_customer):
    paid_up = CustomerFactory()
    unknown = quickpay_post(client, "XX999999", email="a@example.ma")
    nothing = quickpay_post(client, paid_up.code, email="a@example.ma")
    assert unknown.status_code == nothing.status_code == 200
    assert MESSAGE in html_of(unknown) and MESSAGE in html_of(nothing)
    # no way to tell them apart: the same page apart from the code typed and the fresh captcha
    assert strip_volatile(html_of(unknown)).replace("XX999999", "") == strip_volatile(html_of(nothing)).replace(
        paid_up.code, ""
    )


def test_email_confirmation_must_match(client, seed_customer):
    response = quickpay_post(client, seed_customer[0].code, email="a@example.ma", confirm="b@example.ma")
    assert response.status_code == 200
    assert "Les deux adresses email ne sont pas identiques." in html_of(response)
    assert "rak_quickpay" not in client.session


def test_captcha_is_required_and_checked(client, seed_customer):
    response = quickpay_post(client, seed_customer[0].code, captcha=False)
    assert "Saisissez le code de vérification." in html_of(response)
    page = html_of(client.get(reverse("portal:quickpay")))
    key = re.search(r'name="captcha_0" value="([^"]+)"', page).group(1)
    wrong = client.post(
        reverse("portal:quickpay"),
        {
            "code": seed_customer[0].code,
            "email": "a@example.ma",
            "email_confirm": "a@example.ma",
            "card_type": "MOROCCAN",
            "captcha_0": key,
            "captcha_1": "ZZZZZ9",
        },
    )
    assert "Code de vérification incorrect." in html_of(wrong)
    assert "rak_quickpay" not in client.session


def test_quick_pay_is_throttled_per_address(client, seed_customer):
    for _ in range(10):
        quickpay_post(client, "XX999999", captcha=False)
    response = quickpay_post(client, seed_customer[0].code)
    assert response.status_code == 429
    assert "Trop de tentatives" in html_of(response)


# --- bill list, recap, « Payer » ---------------------------------------------------------------------------


@pytest.fixture
def identified(client, seed_customer):
    response = quickpay_post(client, seed_customer[0].code, email="youssef@example.ma")
    assert response.status_code == 302 and response["Location"] == reverse("portal:quickpay_bills")
    return client


def test_bill_list_shows_masked_customer_seed_descriptions_and_totals(identified, seed_customer):
    html = html_of(identified.get(reverse("portal:quickpay_bills")))
    assert "Yo***** Al****" in html and "Youssef" not in html  # name partly masked for quick-pay
    assert "GERANCE:ELECTRICITE, PERIODE:01/01/2026, DATE ECHEANCE:14/03/2026, EXIGIBLE" in html
    assert "GERANCE:ELECTRICITE, PERIODE:01/02/2026, DATE ECHEANCE:14/04/2026" in html
    # all boxes checked at first: the seed's figures
    assert "Total des factures : <span data-total-bills>218,83</span> DH" in html
    assert "Frais du service en ligne : <span data-total-fee>2,41</span> DH" in html
    assert "Total Général : <span data-total-all>221,24</span> DH" in html
    first = seed_customer[3]
    assert re.search(rf'value="{first.pk}"[^>]*checked[^>]*disabled', html)  # exigible: checked and locked


def test_bill_list_queries_do_not_grow_with_the_number_of_bills(identified, seed_customer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = reverse("portal:quickpay_bills")
    identified.get(url)
    with CaptureQueriesContext(connection) as few:
        identified.get(url)
    dossier = seed_customer[2]
    for month in range(3, 13):
        seed_bill(dossier, "80.00", period=datetime.date(2025, month, 1), due=datetime.date(2026, 4, 20))
    with CaptureQueriesContext(connection) as many:
        html = html_of(identified.get(url))
    assert html.count('name="facture"') >= 12
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_recalculer_without_javascript_and_exigible_bill_cannot_be_deselected(identified, seed_customer):
    _customer, _user, _dossier, first, second = seed_customer
    # the browser sends only the second bill: the exigible one stays in (server-side)
    response = identified.post(reverse("portal:quickpay_bills"), {"facture": [second.pk], "recalculer": "1"})
    html = html_of(response)
    assert "218,83" in html and "2,41" in html
    # deselecting the not-yet-due bill: the seed's recap figures (113,02 -> 1,24)
    identified.post(reverse("portal:quickpay_bills"), {"facture": [], "valider": "1"})
    recap = html_of(identified.get(reverse("portal:quickpay_recap")))
    assert first.number in recap and second.number not in recap
    assert 'data-testid="recap-fee">1,24 DH' in recap
    assert "114,26 DH" in recap


def test_order_for_bills_refuses_to_leave_an_exigible_bill_out(seed_customer):
    customer, _user, _dossier, _first, second = seed_customer
    with pytest.raises(paying.ExigibleBillRequired):
        paying.order_create_for_bills(customer=customer, bills=[second], email="y@example.ma", now=NOW)
    assert not PaymentOrder.objects.exists()


def test_recap_requires_the_conditions(identified, seed_customer):
    identified.post(reverse("portal:quickpay_bills"), {"facture": [], "valider": "1"})
    response = identified.post(reverse("portal:quickpay_recap"), {})
    assert response.status_code == 400
    assert "Il faut cocher la mention « j'ai lu et j'accepte les conditions générales »" in html_of(response)
    assert not PaymentOrder.objects.exists()


def test_amounts_sent_by_the_browser_are_ignored(identified, seed_customer):
    customer, _user, _dossier, first, second = seed_customer
    other = seed_bill(DossierFactory(), "999.99", period=datetime.date(2026, 1, 1), due=datetime.date(2026, 6, 1))
    identified.post(
        reverse("portal:quickpay_bills"),
        {"facture": [first.pk, second.pk, other.pk], "montant": "1.00", "total": "1.00", "valider": "1"},
    )
    response = identified.post(
        reverse("portal:quickpay_recap"), {"conditions": "on", "amount": "1.00", "amount_total": "1.00"}
    )
    assert response.status_code == 200
    order = PaymentOrder.objects.get()
    assert order.customer == customer
    assert order.amount_bills == Decimal("218.83") and order.amount_total == Decimal("221.24")
    assert set(order.order_bills.values_list("bill_id", flat=True)) == {first.pk, second.pk}
    html = html_of(response)
    assert 'name="amount" value="221.24"' in html  # the checkout form to the gateway
    assert order.status == PaymentOrder.Status.SENT


def test_fee_none_setting_is_one_click_and_applies(client, identified, seed_customer):
    staff = StaffFactory(is_superuser=True)
    admin = client.__class__()
    admin.force_login(staff)
    url = reverse("admin:rak_payment_cmi_paymentsettings_changelist")
    change = admin.get(url)
    assert change.status_code == 302
    page = admin.get(change["Location"])
    assert "Aucun frais (pris en charge par la RAK)" in html_of(page)
    # the « Aucun frais » button, next to « Enregistrer »: one click
    response = admin.post(
        change["Location"],
        {
            "fee_mode": "PERCENT",
            "fee_fixed": "0.00",
            "fee_percent": "1.0000",
            "fee_vat_rate": "0.1000",
            "advance_min": "50.00",
            "advance_max": "5000.00",
            "rak_payment_cmi_paymentsettings_fee_none": "1",
        },
    )
    assert response.status_code == 302, html_of(response)[:3000]
    assert PaymentSettings.objects.get(pk=1).fee_mode == PaymentSettings.FeeMode.NONE
    html = html_of(identified.get(reverse("portal:quickpay_bills")))
    assert "Frais du service en ligne : <span data-total-fee>0,00</span> DH" in html
    assert "Total Général : <span data-total-all>218,83</span> DH" in html


# --- logged in: Payer en ligne, advance, request fees ------------------------------------------------------


def test_portal_flow_pays_the_chosen_bills_and_updates_the_balance(client, seed_customer):
    customer, user, _dossier, first, second = seed_customer
    client.force_login(user)
    html = html_of(client.get(reverse("portal:pay_online")))
    assert "Youssef Alaoui" in html and 'value="youssef@example.ma"' in html  # not masked when logged in
    response = client.post(
        reverse("portal:pay_online"),
        {"facture": [first.pk], "email": "youssef@example.ma", "card_type": "INTERNATIONAL", "valider": "1"},
    )
    assert response["Location"] == reverse("portal:pay_recap")
    response = client.post(reverse("portal:pay_recap"), {"conditions": "on"})
    order = PaymentOrder.objects.get()
    assert order.card_type == "INTERNATIONAL" and order.amount_total == Decimal("114.26")
    assert post_callback(client, callback_for(order)) == "ACTION=POSTAUTH"
    order.refresh_from_db()
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.settled_at is not None and second.settled_at is None
    assert customer_balance(customer) == Decimal("105.81")
    # the confirmation e-mail is queued with the receipt link
    email = Message.objects.get(channel=Message.Channel.EMAIL, recipient="youssef@example.ma")
    assert "Votre paiement en ligne a été accepté" in email.body and order.oid in email.body
    receipt = html_of(client.get(reverse("portal:payment_receipt", args=[order.oid])))
    assert "Votre paiement a été accepté" in receipt and order.trans_id in receipt and order.auth_code in receipt
    assert "4111 11** **** 1111" in receipt and "114,26\xa0MAD" in receipt and "Imprimer" in receipt


def test_card_payment_of_a_later_bill_pays_that_bill_not_the_oldest(seed_customer):
    """The payment goes to the bills the customer chose (``payment_record(bills=)``)."""
    customer, _user, dossier, first, second = seed_customer
    third = seed_bill(dossier, "50.00", period=datetime.date(2026, 3, 1), due=datetime.date(2026, 5, 14))
    order = paying.order_create_for_bills(customer=customer, bills=[first, third], email="y@example.ma", now=NOW)
    from django.test import Client

    post_callback(Client(), callback_for(order))
    order.refresh_from_db()
    settled = set(Bill.objects.filter(settled_at__isnull=False).values_list("pk", flat=True))
    assert settled == {first.pk, third.pk, order.fee_bill_id}  # and the online-service fee invoice


def test_advance_top_up_issues_an_advance_invoice_and_an_order(client):
    customer, user = customer_with_account(first_name="Karim", last_name="Idrissi", email="karim@example.ma")
    dossier = DossierFactory(customer=customer, number="D400000001", billing_mode=Dossier.BillingMode.ADVANCE)
    client.force_login(user)
    html = html_of(client.get(reverse("portal:advance")))
    assert "D400000001" in html
    response = client.post(
        reverse("portal:advance"),
        {"dossier": dossier.number, "amount": "200", "email": "karim@example.ma", "card_type": "MOROCCAN"},
    )
    html = html_of(response)
    assert 'data-testid="advance-total">202,20 DH' in html  # 200 + 2,00 + 0,20 VAT
    assert not Bill.objects.exists()  # nothing issued before « Payer »
    response = client.post(reverse("portal:advance"), {"payer": "1", "conditions": "on"})
    assert response.status_code == 200
    bill = Bill.objects.get()
    assert bill.kind == Bill.Kind.ADVANCE and bill.total_ttc == Decimal("200.00") and bill.dossier == dossier
    order = PaymentOrder.objects.get()
    assert order.purpose == PaymentOrder.Purpose.ADVANCE and order.amount_total == Decimal("202.20")
    post_callback(client, callback_for(order))
    bill.refresh_from_db()
    assert bill.settled_at is not None


def test_advance_is_refused_out_of_bounds_or_for_a_normal_dossier(seed_customer):
    customer, _user, dossier, _first, _second = seed_customer
    with pytest.raises(paying.AdvanceRefused):
        paying.advance_order_create(customer=customer, dossier=dossier, amount="200", email="y@example.ma", now=NOW)
    dossier.billing_mode = Dossier.BillingMode.ADVANCE
    dossier.save()
    with pytest.raises(paying.AdvanceRefused, match="compris entre"):
        paying.advance_order_create(customer=customer, dossier=dossier, amount="10", email="y@example.ma", now=NOW)


def test_unpaid_advance_invoice_is_cancelled_when_its_order_expires():
    from django.core.management import call_command

    customer, _user = customer_with_account(first_name="Karim", last_name="Idrissi")
    dossier = DossierFactory(customer=customer, billing_mode=Dossier.BillingMode.ADVANCE)
    order = paying.advance_order_create(customer=customer, dossier=dossier, amount="300", email="k@example.ma", now=NOW)
    assert customer_balance(customer) == Decimal("300.00")
    call_command("cmi_orders_expire", stdout=__import__("io").StringIO())  # 15/03 10:00: not yet expired
    assert customer_balance(customer) == Decimal("300.00")
    PaymentOrder.objects.filter(pk=order.pk).update(created_at=NOW - datetime.timedelta(hours=3))
    call_command("cmi_orders_expire", stdout=__import__("io").StringIO())
    order.refresh_from_db()
    assert order.status == PaymentOrder.Status.EXPIRED
    assert customer_balance(customer) == Decimal("0.00")
    assert Bill.objects.filter(kind=Bill.Kind.CREDIT_NOTE).count() == 1
    assert paying.advance_invoices_cancel_unpaid(now=NOW) == 0  # once


def test_request_fee_order_is_the_reusable_service(seed_customer):
    customer, _user, dossier, _first, _second = seed_customer
    fee_bill = seed_bill(dossier, "500.00", period=None, due=datetime.date(2026, 4, 1), kind=Bill.Kind.SUBSCRIPTION)
    order = paying.order_create_for_bills(
        customer=customer, bills=[fee_bill], purpose=PaymentOrder.Purpose.REQUEST_FEE, email="y@example.ma", now=NOW
    )
    assert order.purpose == "REQUEST_FEE" and order.amount_bills == Decimal("500.00")
    assert order.fee_total == Decimal("5.50")  # 5,00 + 10 % VAT


# --- receipt ---------------------------------------------------------------------------------------------------


@pytest.fixture
def paid_order(client, seed_customer):
    customer = seed_customer[0]
    order = paying.order_create_for_bills(
        customer=customer, bills=[seed_customer[3]], email="youssef@example.ma", now=NOW
    )
    from django.test import Client

    post_callback(Client(), callback_for(order))
    order.refresh_from_db()
    return order


def test_receipt_is_only_for_its_owner_the_paying_session_or_the_signed_link(client, paid_order):
    url = reverse("portal:payment_receipt", args=[paid_order.oid])
    assert client.get(url).status_code == 404  # anonymous, knowing the oid is not enough
    _other, stranger = customer_with_account(phone="+212699999999", first_name="Omar", last_name="Tazi")
    client.force_login(stranger)
    assert client.get(url).status_code == 404
    assert client.get(reverse("portal:payment_receipt_pdf", args=[paid_order.oid])).status_code == 404
    client.logout()
    assert client.get(url, {"t": receipt_token("RAK000000000000000000")}).status_code == 404  # a token for another
    response = client.get(url, {"t": receipt_token(paid_order.oid)})
    assert response.status_code == 200 and "Numéro de reçu de paiement" in html_of(response)
    # the session now holds it (as for the quick-pay session that created the order)
    assert client.get(url).status_code == 200
    pdf = client.get(reverse("portal:payment_receipt_pdf", args=[paid_order.oid]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")
    document = Document.objects.get(kind=Document.Kind.RECEIPT)
    assert document.subject_id == str(paid_order.payment_id)


def test_the_owner_sees_the_receipt_logged_in(client, paid_order, seed_customer):
    client.force_login(seed_customer[1])
    html = html_of(client.get(reverse("portal:payment_receipt", args=[paid_order.oid])))
    assert "REÇU DE PAIEMENT" in html and "1,24\xa0MAD" in html and "113,02\xa0MAD" in html


def test_counter_payment_has_a_printable_receipt(client, seed_customer):
    staff = StaffFactory(is_superuser=True)
    client.force_login(staff)
    customer = seed_customer[0]
    response = client.post(
        reverse("admin:rak_billing_payment_add"),
        {
            "customer_code": customer.code,
            "amount": "113.02",
            "method": "CASH",
            "paid_at_0": "15/03/2026",
            "paid_at_1": "09:00:00",
            "reference": "",
        },
    )
    payment = Payment.objects.get()
    assert response.status_code == 302
    pdf = client.get(reverse("admin:rak_billing_payment_receipt", args=[payment.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert Document.objects.filter(kind=Document.Kind.RECEIPT, subject_id=str(payment.pk)).exists()


def test_nothing_sent_by_mail_synchronously(paid_order):
    assert mail.outbox == []  # queued in the outbox, delivered by the worker
