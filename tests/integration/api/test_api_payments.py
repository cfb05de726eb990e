"""The payment side of the API (issue 13) as an app uses it: bills to pay, a card order answered
with CMI's signed form, CMI's callback (the sandbox's signing, as in test_cmi_callback), the poll
showing « paid » with its receipt, the receipt PDF; the portal's guards through the API (another
customer's bill, a settled bill, a bill in another pending order, a changed total, the conditions,
a double submission makes one order); advance top-ups, provisions, refunds, direct debit; 401
without a token, 404 for another customer's objects, query-bounded lists. The day is 15/03/2026."""

from __future__ import annotations

import datetime
import importlib
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.conf import settings
from django.test import Client

from rak_base import clock
from rak_base.rib import rib_key
from rak_billing.api import refund_record
from rak_billing.ledger import OtherLine, bill_issue_other, payment_record
from rak_billing.models import Bill, Payment, Refund
from rak_cmi_sandbox.gateway import request_check
from rak_customer.models import Dossier, Service
from rak_payment_cmi import hashing
from rak_payment_cmi.models import PaymentOrder
from rak_requests.models import RequestType, ServiceRequest
from tests.api_helpers import api_client, assert_error
from tests.factories import DossierFactory, PremisesFactory, StaffFactory, customer_with_account
from tests.integration.test_cmi_callback import callback_for, post_callback
from tests.integration.test_payment_pages import seed_bill
from tests.request_factories import pdf_upload

pytestmark = pytest.mark.django_db

D = Decimal
CASABLANCA = ZoneInfo("Africa/Casablanca")
NOW = datetime.datetime(2026, 3, 15, 10, 0, tzinfo=CASABLANCA)
BILLS = "/api/v1/payments/bills/"
ORDERS = "/api/v1/payments/orders/"
RECEIPTS = "/api/v1/payments/receipts/"
ADVANCE = "/api/v1/payments/advance/"


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


@pytest.fixture
def seed_customer():
    """113,02 DH exigible (due 14/03/2026) and 105,81 DH not yet due; default fee 1 % + 10 % VAT."""
    customer, user = customer_with_account(first_name="Youssef", last_name="Alaoui", email="youssef@example.ma")
    dossier = DossierFactory(customer=customer, number="D300000001", service=Service.ELECTRICITE)
    first = seed_bill(dossier, "113.02", period=datetime.date(2026, 1, 1), due=datetime.date(2026, 3, 14))
    second = seed_bill(dossier, "105.81", period=datetime.date(2026, 2, 1), due=datetime.date(2026, 4, 14))
    return customer, user, dossier, first, second


def order_post(client, bill_ids, total, **extra):
    body = {"bill_ids": bill_ids, "expected_total": str(total), "accept_terms": True, **extra}
    return client.post(ORDERS, body, format="json")


def pay_by_card(answer: dict) -> str:
    """CMI's callback for the order the app opened (the fields it posted), signed by the sandbox."""
    order = PaymentOrder.objects.get(oid=answer["order"]["oid"])
    order.checkout_fields = answer["checkout"]["fields"]
    return post_callback(Client(), callback_for(order))


# --- bills to pay, order, poll, receipt --------------------------------------------------------------


def test_an_app_pays_its_bills_polls_the_order_and_downloads_the_receipt(seed_customer, django_assert_max_num_queries):
    customer, user, _dossier, first, second = seed_customer
    app = api_client(user)

    with django_assert_max_num_queries(14):
        listing = app.get(BILLS)
    assert listing.status_code == 200, listing.content
    body = listing.json()
    assert [b["number"] for b in body["bills"]] == [first.number, second.number]
    assert [b["exigible"] for b in body["bills"]] == [True, False]
    assert body["bills"][0]["open_amount"] == "113.02"
    assert body["selection"]["amount"] == "218.83"
    assert body["selection"]["total"] == "221.24"  # 218,83 + 2,19 + 0,22 (1 % + 10 % VAT)
    assert body["email_default"] == "youssef@example.ma" and body["pending_order"] is None
    only_first = app.get(BILLS, {"bill_ids": str(first.pk)}).json()["selection"]
    assert only_first["bill_ids"] == [first.pk] and only_first["total"] == "114.26"
    for hostile in ("abc", "-1", "1e5", "9" * 30, "１２", f"{first.pk},x"):  # was silently read as no selection
        refused = assert_error(app.get(BILLS, {"bill_ids": hostile}), 400, "invalid")
        assert "bill_ids" in refused["fields"]

    created = order_post(app, [first.pk, second.pk], body["selection"]["total"], card_type="INTERNATIONAL")
    assert created.status_code == 201, created.content
    answer = created.json()
    checkout = answer["checkout"]
    assert checkout["url"] == settings.CMI_GATEWAY_URL and checkout["method"] == "POST"
    fields = checkout["fields"]
    assert fields["oid"] == answer["order"]["oid"] and fields["amount"] == "221.24"
    assert fields["hashAlgorithm"] == "ver3" and hashing.hash_verify(fields, settings.CMI_STORE_KEY)
    request_check(fields)  # the sandbox, checking like CMI, accepts what the app posts
    assert answer["portal_url"] is None
    order = answer["order"]
    assert order["state"] == "pending" and order["status"] == "SENT" and order["awaiting_gateway"]
    assert order["amount_total"] == "221.24" and order["card_type"] == "INTERNATIONAL"
    assert [line["number"] for line in order["bills"]] == [first.number, second.number]
    assert order["receipt"] is None and order["return_url"].endswith(f"/paiement/commande/{order['oid']}/")

    poll = app.get(f"{ORDERS}{order['oid']}/").json()
    assert poll["state"] == "pending" and poll["message"] == "Paiement en cours de confirmation"
    # the bill list now shows the order awaiting the gateway (« Reprendre / Abandonner »)
    assert app.get(BILLS).json()["pending_order"]["oid"] == order["oid"]

    assert pay_by_card(answer) == "ACTION=POSTAUTH"
    poll = app.get(f"{ORDERS}{order['oid']}/").json()
    assert poll["state"] == "paid" and poll["status"] == "PAID" and poll["paid_at"]
    receipt = poll["receipt"]
    paid = PaymentOrder.objects.get(oid=order["oid"])
    assert receipt["payment_id"] == paid.payment_id and receipt["number"] == str(10_000_000_000 + paid.payment_id)
    assert receipt["masked_pan"] == "4111 11** **** 1111" and receipt["auth_code"] == paid.auth_code
    assert app.get(BILLS).json()["bills"] == []

    pdf = app.get(receipt["pdf_url"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")
    again = app.get(receipt["pdf_url"], HTTP_ACCEPT="application/pdf")
    assert again.status_code == 200  # the same registered document

    with django_assert_max_num_queries(10):
        receipts = app.get(RECEIPTS)
    row = receipts.json()["results"][0]
    assert receipts.json()["count"] == 1
    assert row["oid"] == order["oid"] and row["amount"] == "221.24" and row["method"] == "CARD_CMI"
    assert row["number"] == receipt["number"] and not row["reversed"]

    orders = app.get(ORDERS).json()
    assert orders["count"] == 1 and orders["results"][0]["state"] == "paid"


def test_orders_and_receipts_lists_are_query_bounded(seed_customer, django_assert_max_num_queries):
    customer, user, dossier, *_bills = seed_customer
    app = api_client(user)
    for index in range(6):
        bill = seed_bill(dossier, "10.00", period=datetime.date(2025, index + 1, 1), due=datetime.date(2026, 6, 1))
        payment_record(customer=customer, amount=D("10.00"), method=Payment.Method.CASH, paid_at=NOW, bills=[bill])
    with django_assert_max_num_queries(10):
        response = app.get(RECEIPTS)
    assert response.json()["count"] == 6
    with django_assert_max_num_queries(10):
        assert app.get(ORDERS).json()["count"] == 0
    assert len(app.get(RECEIPTS, {"page_size": "2"}).json()["results"]) == 2
    body = assert_error(app.get(RECEIPTS, {"page_size": "null"}), 400, "invalid")
    assert "page_size" in body["fields"]


def test_every_endpoint_needs_a_token(seed_customer):
    anonymous = api_client()
    for method, url in [
        ("get", BILLS),
        ("get", ORDERS),
        ("post", ORDERS),
        ("get", f"{ORDERS}RAK260315ABCDEFGHJKMN/"),
        ("post", f"{ORDERS}RAK260315ABCDEFGHJKMN/checkout/"),
        ("post", f"{ORDERS}RAK260315ABCDEFGHJKMN/abandon/"),
        ("get", RECEIPTS),
        ("get", f"{RECEIPTS}1/pdf/"),
        ("get", ADVANCE),
        ("post", ADVANCE),
        ("get", "/api/v1/provisions/"),
        ("get", "/api/v1/refunds/"),
        ("get", "/api/v1/refunds/requests/"),
        ("post", "/api/v1/refunds/requests/"),
        ("get", "/api/v1/refunds/paid/"),
        ("get", "/api/v1/refunds/1/receipt/"),
        ("get", "/api/v1/direct-debit/"),
        ("get", "/api/v1/direct-debit/form/?premises=LK1"),
        ("post", "/api/v1/direct-debit/requests/"),
    ]:
        assert_error(getattr(anonymous, method)(url), 401, "not_authenticated")


def test_another_customers_order_and_receipt_are_404(seed_customer):
    _customer, user, _dossier, first, second = seed_customer
    owner = api_client(user)
    answer = order_post(owner, [first.pk, second.pk], "221.24").json()
    pay_by_card(answer)
    oid = answer["order"]["oid"]
    payment_id = PaymentOrder.objects.get(oid=oid).payment_id

    _other, stranger_user = customer_with_account(phone="+212699999999", first_name="Omar")
    stranger = api_client(stranger_user)
    assert_error(stranger.get(f"{ORDERS}{oid}/"), 404, "not_found")
    assert_error(stranger.post(f"{ORDERS}{oid}/checkout/"), 404, "not_found")
    assert_error(stranger.post(f"{ORDERS}{oid}/abandon/"), 404, "not_found")
    assert_error(stranger.get(f"{RECEIPTS}{payment_id}/pdf/"), 404, "not_found")
    assert stranger.get(RECEIPTS).json()["count"] == 0 and stranger.get(ORDERS).json()["count"] == 0
    assert_error(owner.get(f"{ORDERS}RAK000000000000000000/"), 404, "not_found")
    assert_error(owner.get(f"{RECEIPTS}999999999/pdf/"), 404, "not_found")


# --- the portal's guards ------------------------------------------------------------------------------


def test_a_double_submission_makes_one_order_then_resume_or_abandon(seed_customer):
    _customer, user, _dossier, first, second = seed_customer
    app = api_client(user)
    first_answer = order_post(app, [first.pk, second.pk], "221.24")
    assert first_answer.status_code == 201
    body = assert_error(order_post(app, [first.pk, second.pk], "221.24"), 400, "order_pending")
    assert "déjà en cours" in body["message"]
    assert_error(order_post(app, [first.pk], "114.26"), 400, "order_pending")  # a bill of the pending order
    assert PaymentOrder.objects.count() == 1
    oid = first_answer.json()["order"]["oid"]

    resumed = app.post(f"{ORDERS}{oid}/checkout/")
    assert resumed.status_code == 200
    fields = resumed.json()["checkout"]["fields"]
    assert fields["oid"] == oid and fields["rnd"] != first_answer.json()["checkout"]["fields"]["rnd"]
    assert hashing.hash_verify(fields, settings.CMI_STORE_KEY)

    abandoned = app.post(f"{ORDERS}{oid}/abandon/")
    assert abandoned.status_code == 200 and abandoned.json()["state"] == "cancelled"
    assert_error(app.post(f"{ORDERS}{oid}/checkout/"), 400, "order_not_payable")
    assert_error(app.post(f"{ORDERS}{oid}/abandon/"), 400, "order_not_payable")
    again = order_post(app, [first.pk, second.pk], "221.24")
    assert again.status_code == 201 and again.json()["order"]["oid"] != oid


def test_an_approved_callback_twice_records_one_payment(seed_customer):
    _customer, user, _dossier, first, second = seed_customer
    app = api_client(user)
    answer = order_post(app, [first.pk, second.pk], "221.24").json()
    order = PaymentOrder.objects.get(oid=answer["order"]["oid"])
    order.checkout_fields = answer["checkout"]["fields"]
    fields = callback_for(order)
    assert post_callback(Client(), fields) == "ACTION=POSTAUTH"
    assert post_callback(Client(), fields) == "ACTION=POSTAUTH"  # CMI retries: recorded once
    assert Payment.objects.filter(customer=order.customer).count() == 1
    assert app.get(f"{ORDERS}{order.oid}/").json()["state"] == "paid"
    assert_error(app.post(f"{ORDERS}{order.oid}/checkout/"), 400, "order_not_payable")


def test_refusals_with_their_codes(seed_customer):
    customer, user, dossier, first, second = seed_customer
    app = api_client(user)
    other_customer, _u = customer_with_account(phone="+212612000777")
    theirs = seed_bill(DossierFactory(customer=other_customer), "40.00", period=NOW.date(), due=NOW.date())
    settled = seed_bill(dossier, "30.00", period=datetime.date(2025, 12, 1), due=datetime.date(2026, 5, 1))
    payment_record(customer=customer, amount=D("30.00"), method=Payment.Method.CASH, paid_at=NOW, bills=[settled])

    assert_error(order_post(app, [first.pk, theirs.pk], "999.00"), 400, "bill_not_payable")
    assert_error(order_post(app, [first.pk, 10**12], "999.00"), 400, "bill_not_payable")
    body = assert_error(order_post(app, [first.pk, settled.pk], "999.00"), 400, "bill_already_paid")
    assert settled.number in body["message"]
    body = assert_error(order_post(app, [second.pk], "106.87"), 400, "exigible_bill_required")
    assert first.number in body["message"]
    body = assert_error(order_post(app, [first.pk, second.pk], "218.83"), 400, "amount_changed")  # fee left out
    assert "vient de changer" in body["message"]
    assert PaymentOrder.objects.count() == 0  # a refused total keeps no order

    body = assert_error(order_post(app, [first.pk], "114.26", accept_terms=False), 400, "invalid")
    assert body["fields"]["accept_terms"][0]["code"] == "terms_required"
    assert "conditions générales" in body["fields"]["accept_terms"][0]["message"]
    body = assert_error(app.post(ORDERS, {"bill_ids": [], "expected_total": "x"}, format="json"), 400, "invalid")
    assert {"bill_ids", "expected_total", "accept_terms"} <= set(body["fields"])
    body = assert_error(order_post(app, ["abc"], "1", card_type="AMEX", email="pas-un-email"), 400, "invalid")
    assert {"bill_ids.0", "card_type", "email"} <= set(body["fields"])
    assert PaymentOrder.objects.count() == 0


def test_nothing_to_pay_is_refused(seed_customer):
    _customer, user = customer_with_account(phone="+212612000888")
    app = api_client(user)
    assert app.get(BILLS).json()["bills"] == []
    assert_error(order_post(app, [seed_customer[3].pk], "1.00", email="a@example.ma"), 400, "bill_not_payable")


# --- advance top-ups and provisions ---------------------------------------------------------------------


@pytest.fixture
def advance_customer():
    customer, user = customer_with_account(first_name="Karim", email="karim@example.ma", phone="+212612000999")
    dossier = DossierFactory(customer=customer, number="D400000001", billing_mode=Dossier.BillingMode.ADVANCE)
    return customer, user, dossier


def test_advance_top_up_and_its_double_submission(advance_customer):
    customer, user, dossier = advance_customer
    app = api_client(user)
    info = app.get(ADVANCE).json()
    assert [d["number"] for d in info["dossiers"]] == ["D400000001"]
    assert info["amount_min"] == "50.00" and info["amount_max"] == "5000.00"

    body = {"dossier": "D400000001", "amount": "200", "expected_total": "202.20", "accept_terms": True}
    created = app.post(ADVANCE, body, format="json")
    assert created.status_code == 201, created.content
    answer = created.json()
    assert answer["order"]["purpose"] == "ADVANCE" and answer["order"]["amount_total"] == "202.20"
    assert hashing.hash_verify(answer["checkout"]["fields"], settings.CMI_STORE_KEY)
    assert_error(app.post(ADVANCE, body, format="json"), 400, "order_pending")  # one advance invoice, one order
    assert Bill.objects.filter(customer=customer, kind=Bill.Kind.ADVANCE).count() == 1

    pay_by_card(answer)
    assert app.get(f"{ORDERS}{answer['order']['oid']}/").json()["state"] == "paid"
    provisions = app.get("/api/v1/provisions/").json()
    assert provisions["has_advance"] and provisions["deposited"] == "200.00"
    assert provisions["movements"][0]["kind"] == "DEPOSIT"


def test_advance_refusals(advance_customer, seed_customer):
    _customer, user, _dossier = advance_customer
    app = api_client(user)
    base = {"dossier": "D400000001", "accept_terms": True}
    assert_error(app.post(ADVANCE, {**base, "amount": "10"}, format="json"), 400, "advance_refused")
    assert_error(app.post(ADVANCE, {**base, "amount": "1e999"}, format="json"), 400, "advance_refused")
    assert_error(
        app.post(ADVANCE, {**base, "amount": "200", "expected_total": "200"}, format="json"), 400, "amount_changed"
    )
    body = assert_error(app.post(ADVANCE, {**base, "dossier": "D300000001", "amount": "200"}, format="json"), 400)
    assert "dossier" in body["fields"]  # another customer's dossier: not among the choices
    body = assert_error(app.post(ADVANCE, {"dossier": "D400000001", "amount": "200"}, format="json"), 400)
    assert "accept_terms" in body["fields"]
    assert PaymentOrder.objects.count() == 0 and not Bill.objects.filter(kind=Bill.Kind.ADVANCE).exists()


def test_provisions_of_a_customer_without_advance_lists_the_deposits(seed_customer):
    app = api_client(seed_customer[1])
    body = app.get("/api/v1/provisions/").json()
    assert body["has_advance"] is False and [d["number"] for d in body["deposit_dossiers"]] == ["D300000001"]


# --- refunds ----------------------------------------------------------------------------------------------


def double_paid(phone="+212612000501"):
    """A customer who paid the same 120 DH bill twice (test_refund_pages' situation)."""
    customer, user = customer_with_account(phone=phone, email=f"c{phone[-3:]}@example.ma")
    bill_issue_other(
        kind=Bill.Kind.CUT_FEE,
        customer=customer,
        lines=[OtherLine("Frais", D("120.00"), vat_rate=D("0"))],
        issue_date=datetime.date(2026, 2, 1),
        now=NOW,
    )
    for days, ext in ((6, None), (5, "CMI:T-" + phone[-3:])):
        payment = payment_record(
            customer=customer,
            amount=D("120.00"),
            method=Payment.Method.CASH,
            paid_at=NOW - datetime.timedelta(days=days),
            external_id=ext,
        )
    return customer, user, payment


def test_refund_request_filed_once_and_tracked():
    customer, user, payment = double_paid()
    app = api_client(user)
    overview = app.get("/api/v1/refunds/").json()
    assert overview["credit"] == "120.00"
    item = overview["items"][0]
    assert item["key"] == f"P{payment.pk}" and item["origin"] == "DOUBLE_PAYMENT" and item["pending_request"] is None

    filed = app.post("/api/v1/refunds/requests/", {"item": item["key"]}, format="json")
    assert filed.status_code == 201, filed.content
    number = filed.json()["number"]
    assert filed.json()["status_label"] == "Demande en attente" and filed.json()["amount"] == "120.00"
    body = assert_error(app.post("/api/v1/refunds/requests/", {"item": item["key"]}, format="json"), 400)
    assert body["code"] == "already_requested" and number in body["message"]
    assert ServiceRequest.objects.filter(customer=customer, request_type__code=RequestType.Code.REFUND).count() == 1
    assert app.get("/api/v1/refunds/").json()["items"][0]["pending_request"] == number
    listing = app.get("/api/v1/refunds/requests/").json()
    assert listing["count"] == 1 and listing["results"][0]["number"] == number

    assert_error(
        app.post("/api/v1/refunds/requests/", {"item": "P999999"}, format="json"), 400, "credit_no_longer_owed"
    )
    assert_error(app.post("/api/v1/refunds/requests/", {}, format="json"), 400, "invalid")


def test_refund_refused_with_unpaid_bills_or_nothing_owed(seed_customer):
    app = api_client(seed_customer[1])
    body = assert_error(app.post("/api/v1/refunds/requests/", {"item": "P1"}, format="json"), 400, "unpaid_bills")
    assert "impayés" in body["message"]
    _c, user = customer_with_account(phone="+212612000502")
    assert_error(api_client(user).post("/api/v1/refunds/requests/", {"item": "P1"}, format="json"), 400, "nothing_owed")


def test_paid_refunds_their_receipt_and_another_customers_404(django_assert_max_num_queries):
    customer, user, _payment = double_paid()
    refund = refund_record(
        customer=customer, method=Refund.Method.ESPECES, paid_at=NOW, now=NOW, recorded_by=StaffFactory()
    )
    app = api_client(user)
    with django_assert_max_num_queries(10):
        paid = app.get("/api/v1/refunds/paid/").json()
    assert paid["count"] == 1 and paid["results"][0]["amount"] == "120.00"
    receipt = app.get(paid["results"][0]["receipt_url"])
    assert receipt.status_code == 200 and receipt["Content-Type"] == "application/pdf"
    assert b"".join(receipt.streaming_content).startswith(b"%PDF")

    _other, stranger = customer_with_account(phone="+212612000505")
    assert_error(api_client(stranger).get(f"/api/v1/refunds/{refund.pk}/receipt/"), 404, "not_found")
    assert api_client(stranger).get("/api/v1/refunds/paid/").json()["count"] == 0


# --- direct debit -----------------------------------------------------------------------------------------


@pytest.fixture
def debit_account():
    for migration in ("0002_seed_request_types", "0009_direct_debit"):
        importlib.import_module(f"rak_requests.migrations.{migration}").seed(apps, None)
    customer, user = customer_with_account(phone="+212612000055", email="salma@example.ma", first_name="Salma")
    home = PremisesFactory(reference="LK00000501", address="12 rue Ibn Sina")
    DossierFactory(customer=customer, premises=home, number="EA00000501")
    DossierFactory(customer=customer, premises=home, number="EL00000502", service=Service.ELECTRICITE)
    return customer, user


def rib(bank: str = "007") -> str:
    first = bank + "780" + "0001234567890123"
    return first + rib_key(first)


def debit_post(app, **extra):
    data = {
        "premises": "LK00000501",
        "rib": rib(),
        "doc_formulaire_signe": pdf_upload("formulaire.pdf"),
        "doc_rib": pdf_upload("rib.pdf"),
        "doc_cin": pdf_upload("cin.pdf"),
        **extra,
    }
    return app.post(
        "/api/v1/direct-debit/requests/", {k: v for k, v in data.items() if v is not None}, format="multipart"
    )


def test_direct_debit_status_form_and_request(debit_account):
    customer, user = debit_account
    app = api_client(user)
    overview = app.get("/api/v1/direct-debit/").json()
    assert overview["addresses"][0]["premises"] == "LK00000501"
    assert [d["number"] for d in overview["addresses"][0]["dossiers"]] == ["EA00000501", "EL00000502"]
    assert overview["addresses"][0]["dossiers"][0]["mandate"] is None
    assert {d["field"] for d in overview["documents"]} == {"doc_formulaire_signe", "doc_rib", "doc_cin"}

    pdf = app.get(overview["addresses"][0]["form_pdf_url"])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    filed = debit_post(app)
    assert filed.status_code == 201, filed.content
    number = filed.json()["number"]
    request = ServiceRequest.objects.get(number=number)
    assert request.attachments.count() == 3 and request.data["rib"] == rib()
    body = assert_error(debit_post(app), 400, "invalid")  # a request already in progress for the address
    assert number in body["fields"]["non_field_errors"][0]["message"]
    rows = app.get("/api/v1/direct-debit/").json()["requests"]
    assert [r["number"] for r in rows] == [number] and rows[0]["dossiers"] == ["EA00000501", "EL00000502"]


def test_direct_debit_refusals_and_another_customers_premises(debit_account):
    _customer, user = debit_account
    app = api_client(user)
    body = assert_error(debit_post(app, rib="0077800001234567890"), 400, "invalid")
    assert "24 chiffres" in body["fields"]["rib"][0]["message"]
    body = assert_error(debit_post(app, doc_cin=None), 400, "invalid")
    assert "doc_cin" in body["fields"]
    stranger, _u = customer_with_account(phone="+212612000056")
    DossierFactory(customer=stranger, premises=PremisesFactory(reference="LK00000999"))
    assert_error(app.get("/api/v1/direct-debit/form/", {"premises": "LK00000999"}), 404, "not_found")
    assert_error(app.get("/api/v1/direct-debit/form/"), 404, "not_found")
    body = assert_error(debit_post(app, premises="LK00000999"), 400, "invalid")
    assert "premises" in body["fields"]
    assert not ServiceRequest.objects.filter(request_type__code=RequestType.Code.DIRECT_DEBIT).exists()
