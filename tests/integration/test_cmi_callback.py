"""CMI protocol against the real database: the checkout form, the server-to-server callback
(hash, oid, amount, currency, declines, duplicates, concurrency), the browser returns and the
return page that waits for the callback."""

from __future__ import annotations

import base64
import datetime
import hashlib
import threading
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from rak_billing.models import Bill, LedgerEntry, Payment, PaymentAllocation
from rak_cmi_sandbox import cards
from rak_cmi_sandbox.gateway import answer_fields, callback_fields, request_check, return_fields
from rak_payment_cmi import hashing, services
from rak_payment_cmi.models import CmiCallback, PaymentOrder, PaymentOrderEvent
from tests.factories import CustomerFactory, StaffFactory

Status = PaymentOrder.Status
CALLBACK_URL = "/paiement/cmi/callback/"
_numbers = iter(range(1, 10**6))


def make_bill(customer, total_ttc: str, *, due: datetime.date, kind: str = Bill.Kind.CONSUMPTION) -> Bill:
    """An issued bill with its ledger debit (what a billing run leaves)."""
    total = Decimal(total_ttc)
    ht = (total / Decimal("1.18")).quantize(Decimal("0.01"))
    bill = Bill.objects.create(
        number=f"TCMI{next(_numbers):08d}",
        kind=kind,
        customer=customer,
        issue_date=due - datetime.timedelta(days=15),
        due_date=due,
        total_ht=ht,
        total_tva=total - ht,
        total_ttc=total,
    )
    LedgerEntry.objects.create(
        customer=customer,
        kind=LedgerEntry.Kind.BILL,
        entry_date=bill.issue_date,
        amount=total,
        bill=bill,
        label=f"Facture {bill.number}",
    )
    return bill


@pytest.fixture
def customer(db):
    return CustomerFactory(first_name="Youssef", last_name="Alaoui")


@pytest.fixture
def bills(customer):
    """The seed's two bills (113,02 DH and 105,81 DH)."""
    return [
        make_bill(customer, "113.02", due=datetime.date(2018, 4, 14)),
        make_bill(customer, "105.81", due=datetime.date(2018, 5, 14)),
    ]


@pytest.fixture
def order(customer, bills, now):
    """An order for both bills with the seed's fee (2,41 DH = 2,19 + 10 % VAT), sent to CMI."""
    created = services.payment_order_create(
        customer=customer,
        bills=bills,
        email="client@example.ma",
        fee_amount=Decimal("2.19"),
        fee_vat=Decimal("0.22"),
        tel="0612345678",
        now=now,
    )
    _url, created.checkout_fields = services.order_checkout_form(created, now=now)
    created.refresh_from_db()
    return created


def request_of(order: PaymentOrder) -> dict[str, str]:
    """What the browser posted to the gateway for ``order`` (its checkout form, made once)."""
    if not hasattr(order, "checkout_fields"):
        _url, order.checkout_fields = services.order_checkout_form(order)
    return order.checkout_fields


def callback_for(order, result=cards.APPROVED, number="4111111111111111", **changes) -> dict[str, str]:
    """A callback as CMI signs it (the sandbox builds the same fields), with ``changes`` applied
    before signing."""
    answer = answer_fields(
        request=request_of(order), result=result, number=number, client_ip="196.200.1.1", now=order.created_at
    )
    answer.update(changes)
    return callback_fields(answer)


def post_callback(client: Client, fields: dict[str, str]) -> str:
    response = client.post(CALLBACK_URL, fields, REMOTE_ADDR="196.200.131.10")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


# --- order and checkout form ------------------------------------------------------------------------------


def test_order_freezes_bill_amounts_and_totals(order, bills):
    assert order.amount_bills == Decimal("218.83")
    assert order.fee_total == Decimal("2.41")
    assert order.amount_total == Decimal("221.24")
    assert [(line.bill_id, line.amount) for line in order.order_bills.order_by("bill__due_date")] == [
        (bills[0].pk, Decimal("113.02")),
        (bills[1].pk, Decimal("105.81")),
    ]
    assert order.oid.isalnum() and len(order.oid) <= 64


def test_checkout_form_is_a_signed_3d_pay_hosting_request(order):
    url, fields = services.order_checkout_form(order)
    assert url == settings.CMI_GATEWAY_URL
    assert fields["clientid"] == settings.CMI_CLIENT_ID
    assert fields["storetype"] == "3D_PAY_HOSTING"
    assert fields["TranType"] == "PreAuth"
    assert fields["amount"] == "221.24"
    assert fields["currency"] == "504"
    assert fields["oid"] == order.oid
    assert fields["okUrl"] == f"{settings.SITE_URL}/paiement/cmi/ok/"
    assert fields["failUrl"] == f"{settings.SITE_URL}/paiement/cmi/echec/"
    assert fields["callbackUrl"] == f"{settings.SITE_URL}/paiement/cmi/callback/"
    assert fields["shopurl"] == f"{settings.SITE_URL}/paiement/commande/{order.oid}/quitte/"  # « Annuler »
    assert fields["lang"] == "fr"
    assert fields["hashAlgorithm"] == "ver3"
    assert fields["encoding"] == "UTF-8"
    assert fields["CallbackResponse"] == fields["AutoRedirect"] == "true"
    assert fields["BillToName"] and fields["email"] == "client@example.ma" and fields["tel"] == "0612345678"
    assert len(fields["rnd"]) == 20
    assert hashing.hash_verify(fields, settings.CMI_STORE_KEY)
    request_check(fields)  # the sandbox (checking like CMI) accepts it
    assert order.status == Status.SENT
    assert list(order.events.values_list("from_status", "to_status")) == [("", "CREATED"), ("CREATED", "SENT")]


def test_order_refuses_bills_of_another_customer_or_settled(customer, bills, now):
    other = make_bill(CustomerFactory(), "50.00", due=datetime.date(2018, 4, 14))
    with pytest.raises(services.NothingToPay, match="Aucune Facture à payer"):
        services.payment_order_create(customer=customer, bills=[bills[0], other], email="a@b.ma", now=now)
    with pytest.raises(services.NothingToPay):
        services.payment_order_create(customer=customer, bills=[], email="a@b.ma", now=now)
    bills[0].settled_at = now
    bills[0].save()
    with pytest.raises(services.PaymentOrderError, match="déjà réglée"):
        services.payment_order_create(customer=customer, bills=[bills[0]], email="a@b.ma", now=now)
    assert not PaymentOrder.objects.exists()


def test_order_amount_is_what_is_still_owed(customer, bills, now):
    payment = Payment.objects.create(customer=customer, amount=Decimal("13.02"), method="CASH", paid_at=now)
    PaymentAllocation.objects.create(bill=bills[0], payment=payment, amount=Decimal("13.02"))
    order = services.payment_order_create(customer=customer, bills=[bills[0]], email="a@b.ma", now=now)
    assert order.amount_bills == order.amount_total == Decimal("100.00")


# --- the callback ----------------------------------------------------------------------------------------


def test_approved_callback_records_the_payment_and_captures(client, order, bills):
    fields = callback_for(order)
    assert post_callback(client, fields) == "ACTION=POSTAUTH"

    order.refresh_from_db()
    assert order.status == Status.PAID
    payment = order.payment
    # what CMI took (issue 8 §2): the bills (218,83) + the fee invoice it settles (2,19 + 0,22 VAT)
    assert payment.amount == Decimal("221.24")
    assert order.fee_bill.kind == Bill.Kind.ONLINE_FEE and order.fee_bill.total_ttc == Decimal("2.41")
    assert payment.method == Payment.Method.CARD_CMI
    assert payment.external_id == f"CMI:{fields['TransId']}"
    assert payment.reference == order.oid
    assert order.trans_id == fields["TransId"]
    assert order.auth_code == fields["AuthCode"] and len(order.auth_code) == 6
    assert order.masked_pan == "4111 11** **** 1111"
    assert order.proc_return_code == "00"
    assert all(bill.settled_at for bill in Bill.objects.filter(pk__in=[b.pk for b in bills]))
    assert list(order.events.values_list("to_status", flat=True)) == ["CREATED", "SENT", "PAID"]

    message = CmiCallback.objects.get()
    assert message.kind == CmiCallback.Kind.CALLBACK
    assert message.hash_valid and message.outcome == CmiCallback.Outcome.APPLIED
    assert message.response == "ACTION=POSTAUTH"
    assert message.raw == fields and message.order == order
    assert message.remote_ip == "196.200.131.10"


def kit_signed(fields: dict[str, str], hashed: dict[str, str]) -> dict[str, str]:
    """``fields`` with the HASH CMI's merchant kit expects, the values named in ``hashed`` replaced
    by what the kit hashes for them (written out by hand: html_entity_decode, no trim)."""
    names = hashing.hashed_names(fields)
    plain = "|".join([*(hashing.escape(hashed.get(name, fields[name])) for name in names), settings.CMI_STORE_KEY])
    return {**fields, "HASH": base64.b64encode(hashlib.sha512(plain.encode()).digest()).decode()}


def test_approved_callback_with_entities_and_trailing_space_is_captured(client, order):
    # An approved payment answered FAILURE must be captured by hand: what CMI's kit accepts, we accept.
    answer = answer_fields(
        request=request_of(order),
        result=cards.APPROVED,
        number="4111111111111111",
        client_ip="196.200.1.1",
        now=order.created_at,
    )
    answer = {
        **answer,
        "BillToName": "Dupont &amp; Fils ",
        "BillToStreet1": "Rue d&#039;Agadir\n",
        "callbackCall": "true",
    }
    fields = kit_signed(answer, {"BillToName": "Dupont & Fils ", "BillToStreet1": "Rue d'Agadir"})
    assert post_callback(client, fields) == "ACTION=POSTAUTH"
    order.refresh_from_db()
    assert order.status == Status.PAID
    assert CmiCallback.objects.get().raw["BillToName"] == "Dupont &amp; Fils "


def test_callback_hashed_over_trimmed_values_is_refused(client, order):
    answer = answer_fields(
        request=request_of(order),
        result=cards.APPROVED,
        number="4111111111111111",
        client_ip="196.200.1.1",
        now=order.created_at,
    )
    answer = {**answer, "BillToName": "Dupont ", "callbackCall": "true"}
    fields = kit_signed(answer, {"BillToName": "Dupont"})
    assert post_callback(client, fields) == "FAILURE"
    order.refresh_from_db()
    assert order.status != Status.PAID
    assert CmiCallback.objects.get().outcome == CmiCallback.Outcome.BAD_HASH


def test_same_callback_twice_is_applied_once(client, order):
    fields = callback_for(order)
    assert post_callback(client, fields) == "ACTION=POSTAUTH"
    assert post_callback(client, fields) == "ACTION=POSTAUTH"
    assert Payment.objects.count() == 1
    assert list(CmiCallback.objects.order_by("id").values_list("outcome", flat=True)) == ["APPLIED", "DUPLICATE"]


def test_tampered_hash_is_refused_and_changes_nothing(client, order):
    fields = callback_for(order)
    fields["HASH"] = hashing.hash_compute({**fields, "rnd": "other"}, settings.CMI_STORE_KEY)
    assert post_callback(client, fields) == "FAILURE"
    order.refresh_from_db()
    assert order.status == Status.SENT and order.payment is None
    assert not Payment.objects.exists()
    message = CmiCallback.objects.get()
    assert not message.hash_valid and message.outcome == CmiCallback.Outcome.BAD_HASH
    assert message.raw["HASH"] == fields["HASH"]  # stored raw for support


def test_tampered_amount_without_the_key_is_a_bad_hash(client, order):
    fields = callback_for(order)
    fields["amount"] = "1.00"
    assert post_callback(client, fields) == "FAILURE"
    order.refresh_from_db()
    assert order.status == Status.SENT
    assert CmiCallback.objects.get().outcome == CmiCallback.Outcome.BAD_HASH


def test_signed_success_for_another_amount_is_flagged_never_applied(client, order):
    fields = callback_for(order, amount="22.12")
    assert post_callback(client, fields) == "FAILURE"
    order.refresh_from_db()
    assert order.status == Status.AMOUNT_MISMATCH
    assert order.payment is None and not Payment.objects.exists()
    assert order.trans_id == fields["TransId"]  # kept for the reconciliation
    event = order.events.get(to_status=Status.AMOUNT_MISMATCH)
    assert "22.12" in event.note and "221.24" in event.note
    assert CmiCallback.objects.get().outcome == CmiCallback.Outcome.AMOUNT_MISMATCH
    # a later correct success on a flagged order is left to staff, not applied
    assert post_callback(client, callback_for(order)) == "FAILURE"
    assert not Payment.objects.exists()


def test_signed_success_in_another_currency_is_flagged(client, order):
    assert post_callback(client, callback_for(order, currency="978")) == "FAILURE"
    order.refresh_from_db()
    assert order.status == Status.AMOUNT_MISMATCH and not Payment.objects.exists()


def test_unknown_oid_is_a_failure(client, order):
    fields = callback_for(order, oid="RAK000NOTANORDER")
    assert post_callback(client, fields) == "FAILURE"
    message = CmiCallback.objects.get()
    assert message.hash_valid and message.outcome == CmiCallback.Outcome.UNKNOWN_ORDER
    assert not Payment.objects.exists()


def test_declined_then_approved_gives_one_payment(client, order):
    insufficient = cards.TEST_CARDS["4000000000000002"][1]
    declined = callback_for(order, result=insufficient, number="4000000000000002")
    assert declined["ProcReturnCode"] == "51"
    assert post_callback(client, declined) == "APPROVED"  # acknowledged, nothing captured
    order.refresh_from_db()
    assert order.status == Status.DECLINED and order.payment is None and order.proc_return_code == "51"
    assert not Payment.objects.exists()

    assert post_callback(client, callback_for(order)) == "ACTION=POSTAUTH"
    order.refresh_from_db()
    assert order.status == Status.PAID
    assert Payment.objects.count() == 1
    assert list(order.events.values_list("to_status", flat=True)) == ["CREATED", "SENT", "DECLINED", "PAID"]
    assert list(CmiCallback.objects.order_by("id").values_list("outcome", flat=True)) == ["DECLINED", "APPLIED"]


def test_three_d_secure_failure_is_acknowledged(client, order):
    failure = cards.TEST_CARDS["4000000000003063"][1]
    assert post_callback(client, callback_for(order, result=failure, number="4000000000003063")) == "APPROVED"
    order.refresh_from_db()
    assert order.status == Status.FAILED and not Payment.objects.exists()


def test_late_decline_does_not_undo_a_payment(client, order):
    assert post_callback(client, callback_for(order)) == "ACTION=POSTAUTH"
    declined = callback_for(order, result=cards.DO_NOT_HONOUR, number="4000000000009995")
    assert post_callback(client, declined) == "APPROVED"
    order.refresh_from_db()
    assert order.status == Status.PAID and Payment.objects.count() == 1


def test_second_transaction_on_a_paid_order_is_not_captured(client, order):
    assert post_callback(client, callback_for(order)) == "ACTION=POSTAUTH"
    assert post_callback(client, callback_for(order)) == "APPROVED"  # another TransId: do not debit
    assert Payment.objects.count() == 1
    assert CmiCallback.objects.order_by("-id").first().outcome == CmiCallback.Outcome.SECOND_SUCCESS


def test_approved_code_with_inconsistent_response_is_a_failure(client, order):
    assert post_callback(client, callback_for(order, Response="Declined")) == "FAILURE"
    assert not Payment.objects.exists()


def test_another_merchant_is_refused(client, order):
    assert post_callback(client, callback_for(order, clientid="600999999")) == "FAILURE"
    assert CmiCallback.objects.get().outcome == CmiCallback.Outcome.INVALID


def test_exception_while_applying_answers_failure_and_keeps_the_message(client, order, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("ledger unavailable")

    monkeypatch.setattr(services, "payment_record", broken)
    assert post_callback(client, callback_for(order)) == "FAILURE"
    order.refresh_from_db()
    assert order.status == Status.SENT and not Payment.objects.exists()
    message = CmiCallback.objects.get()
    assert message.outcome == CmiCallback.Outcome.ERROR and "ledger unavailable" in message.detail
    assert message.raw["oid"] == order.oid


def test_garbage_is_stored_and_refused(client, db):
    assert post_callback(client, {"hello": "world"}) == "FAILURE"
    message = CmiCallback.objects.get()
    assert message.raw == {"hello": "world"} and message.outcome == CmiCallback.Outcome.BAD_HASH


@pytest.mark.parametrize("url", [CALLBACK_URL, "/paiement/cmi/ok/", "/paiement/cmi/echec/"])
def test_a_message_far_bigger_than_cmi_s_is_refused_unstored(client, order, url):
    """Anonymous junk of up to Django's 2.5 MB a post was stored whole in the journal (probe):
    what no CMI message can be (over 64 KB) is refused before it is stored; a genuine message,
    even padded with a long extra field, still goes through."""
    fields = {"oid": order.oid, "junk": "A" * 2_000_000}
    response = client.post(url, fields)
    assert response.status_code == 413
    assert not CmiCallback.objects.exists()
    if url == CALLBACK_URL:
        assert response.content.decode() == "FAILURE"
    else:
        assert "Retour de paiement non reconnu" in response.content.decode()


def test_a_genuine_callback_with_a_long_field_is_still_applied(client, order):
    assert post_callback(client, callback_for(order, BillToStreet1="B" * 2_000)) == "ACTION=POSTAUTH"


def test_a_field_posted_twice_is_kept_raw_and_read_as_php_does(client, order):
    fields = callback_for(order)
    body = [(name, value) for name, value in fields.items()] + [("ProcReturnCode", "00")]
    body.insert(0, ("ProcReturnCode", "51"))  # PHP's $_POST keeps the last value
    response = client.post(CALLBACK_URL, urlencode(body), content_type="application/x-www-form-urlencoded")
    assert response.content.decode() == "ACTION=POSTAUTH"
    assert CmiCallback.objects.get().raw["ProcReturnCode"] == ["51", "00", "00"]


def test_callback_is_post_only(client):
    assert client.get(CALLBACK_URL).status_code == 405


def test_late_success_pays_an_expired_order(client, order, now):
    assert services.payment_orders_expire(now=now + datetime.timedelta(hours=3)) == 1
    order.refresh_from_db()
    assert order.status == Status.EXPIRED
    with pytest.raises(services.OrderNotPayable):
        services.order_checkout_form(order)
    assert post_callback(client, callback_for(order)) == "ACTION=POSTAUTH"
    order.refresh_from_db()
    assert order.status == Status.PAID


def test_paid_order_cannot_be_sent_again(client, order):
    post_callback(client, callback_for(order))
    with pytest.raises(services.OrderNotPayable):
        services.order_checkout_form(order)


# --- browser returns and the return page --------------------------------------------------------------


def browser_return(order, *, approved=True, **changes) -> dict[str, str]:
    result = cards.APPROVED if approved else cards.TEST_CARDS["4000000000000002"][1]
    answer = answer_fields(
        request=request_of(order), result=result, number="4111111111111111", client_ip="1.2.3.4", now=order.created_at
    )
    answer.update(changes)
    return return_fields(answer)


def test_callback_after_the_browser_returned(client, order):
    """okUrl first (never proof of payment): « en cours de confirmation »; then the callback."""
    response = client.post(reverse("cmi:ok"), browser_return(order))
    assert response.status_code == 302
    page_url = reverse("cmi:order_return", args=[order.oid])
    assert response["Location"] == page_url
    order.refresh_from_db()
    assert order.status == Status.SENT  # the signed okUrl return does not pay

    page = client.get(page_url)
    assert "Paiement en cours de confirmation" in page.content.decode()
    assert "order_status.js" in page.content.decode() and 'http-equiv="refresh"' in page.content.decode()
    status = client.get(reverse("cmi:order_status", args=[order.oid])).json()
    assert status["pending"] and not status["paid"]

    assert post_callback(client, callback_for(order)) == "ACTION=POSTAUTH"
    page = client.get(page_url).content.decode()
    assert "Votre paiement a été accepté" in page and "en cours de confirmation" not in page
    assert client.get(reverse("cmi:order_status", args=[order.oid])).json()["paid"]
    kinds = list(CmiCallback.objects.order_by("id").values_list("kind", "outcome"))
    assert kinds == [("OK_RETURN", "RETURN"), ("CALLBACK", "APPLIED")]


def test_browser_return_with_a_bad_hash_is_not_recognised(client, order):
    fields = browser_return(order)
    fields["amount"] = "1.00"
    response = client.post(reverse("cmi:ok"), fields)
    assert response.status_code == 400
    assert "Retour de paiement non reconnu" in response.content.decode()
    assert CmiCallback.objects.get().outcome == CmiCallback.Outcome.BAD_HASH


def test_fail_return_shows_the_refusal(client, order):
    response = client.post(reverse("cmi:fail"), browser_return(order, approved=False), follow=True)
    assert "Votre paiement a été refusé par votre banque" in response.content.decode()
    order.refresh_from_db()
    assert order.status == Status.DECLINED and not Payment.objects.exists()


def test_return_page_of_unknown_order_is_404(client, db):
    assert client.get(reverse("cmi:order_return", args=["RAKNOPE"])).status_code == 404
    assert client.get(reverse("cmi:ok")).status_code == 405


# --- back office ------------------------------------------------------------------------------------------


def test_back_office_lists_orders_and_callbacks(client, order):
    post_callback(client, callback_for(order))
    order.refresh_from_db()
    client.force_login(StaffFactory(is_superuser=True))
    orders = client.get(reverse("admin:rak_payment_cmi_paymentorder_changelist"), {"status__exact": "PAID"})
    assert orders.status_code == 200 and order.oid in orders.content.decode()
    detail = client.get(reverse("admin:rak_payment_cmi_paymentorder_change", args=[order.pk])).content.decode()
    assert "ACTION=POSTAUTH" in detail and order.trans_id in detail
    message = CmiCallback.objects.get()
    log = client.get(reverse("admin:rak_payment_cmi_cmicallback_change", args=[message.pk])).content.decode()
    assert "&quot;ProcReturnCode&quot;: &quot;00&quot;" in log and "valide" in log
    assert client.get(reverse("admin:rak_payment_cmi_cmicallback_changelist")).status_code == 200


# --- 20 concurrent duplicates (PostgreSQL, real threads, one connection each) -----------------------------


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_duplicate_successes_make_one_payment(now):
    customer = CustomerFactory()
    bills = [make_bill(customer, "113.02", due=datetime.date(2018, 4, 14))]
    order = services.payment_order_create(customer=customer, bills=bills, email="a@b.ma", now=now)
    fields = callback_for(order)
    barrier = threading.Barrier(20)
    answers: list[str] = []
    errors: list[BaseException] = []

    def one():
        try:
            barrier.wait(timeout=10)
            answers.append(Client().post(CALLBACK_URL, fields).content.decode())
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=one) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert answers == ["ACTION=POSTAUTH"] * 20
    assert Payment.objects.count() == 1
    assert PaymentOrder.objects.get().status == Status.PAID
    assert PaymentOrderEvent.objects.filter(to_status=Status.PAID).count() == 1
    outcomes = list(CmiCallback.objects.values_list("outcome", flat=True))
    assert sorted(outcomes) == ["APPLIED"] + ["DUPLICATE"] * 19
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.PAYMENT).count() == 1
