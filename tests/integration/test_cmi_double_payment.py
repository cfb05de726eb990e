"""The same bills paid twice (issue 8 §2): two payment orders for the same bills (two tabs,
quick-pay and the portal) must never both be captured.

- an approved callback for an order whose bills were settled meanwhile (or partly paid, so that
  capturing would over-pay) is not captured: answered ``APPROVED`` without ``ACTION=POSTAUTH``,
  the order CANCELLED with its French reason (back office), the customer told (e-mail, SMS, bell);
- two orders for the same bills, both approved callbacks at once (real threads, PostgreSQL):
  exactly one captures;
- a new order is refused while another order for the same bills awaits the gateway, with a link
  to it for its owner (the portal, the same quick-pay session), a neutral message otherwise; two
  tabs posting at once make one order; the owner may abandon a pending order; orders expire.
"""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from rak_base import clock
from rak_base.models import Message
from rak_billing.ledger import customer_balance, payment_record
from rak_billing.models import Bill, Payment
from rak_customer.models import Service
from rak_payment_cmi import paying, services
from rak_payment_cmi.models import CmiCallback, PaymentOrder
from tests.factories import CustomerFactory, DossierFactory, StaffFactory, customer_with_account
from tests.integration.test_cmi_callback import CALLBACK_URL, callback_for, make_bill, post_callback
from tests.integration.test_payment_pages import html_of, quickpay_post, seed_bill

Status = PaymentOrder.Status
CASABLANCA = ZoneInfo("Africa/Casablanca")
NOW = datetime.datetime(2026, 3, 15, 10, 0, tzinfo=CASABLANCA)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


@pytest.fixture
def seed_customer(db):
    """The seed's customer (portal account, phone, e-mail): 113,02 DH exigible, 105,81 DH not yet due."""
    customer, user = customer_with_account(first_name="Youssef", last_name="Alaoui", email="youssef@example.ma")
    dossier = DossierFactory(customer=customer, number="D300000001", service=Service.ELECTRICITE)
    first = seed_bill(dossier, "113.02", period=datetime.date(2026, 1, 1), due=datetime.date(2026, 3, 14))
    second = seed_bill(dossier, "105.81", period=datetime.date(2026, 2, 1), due=datetime.date(2026, 4, 14))
    return customer, user, dossier, first, second


def order_for(customer, bills, *, now=NOW, tel="0612345678") -> PaymentOrder:
    order = paying.order_create_for_bills(customer=customer, bills=bills, email="youssef@example.ma", tel=tel, now=now)
    services.order_checkout_form(order, now=now)
    order.refresh_from_db()
    return order


# --- an approved callback for bills already settled ---------------------------------------------------------


def test_approved_callback_for_bills_paid_meanwhile_is_not_captured(client, seed_customer):
    customer, user, _dossier, first, second = seed_customer
    order = order_for(customer, [first, second])
    # the customer pays at the counter while the card page is open
    payment_record(customer=customer, amount=Decimal("218.83"), method=Payment.Method.CASH, paid_at=NOW)
    fields = callback_for(order)
    assert post_callback(client, fields) == "APPROVED"  # acknowledged, no ACTION=POSTAUTH: not captured

    order.refresh_from_db()
    assert order.status == Status.CANCELLED and order.payment is None
    assert order.trans_id == fields["TransId"]  # kept for the reconciliation with CMI's file
    assert "déjà réglées" in order.cancel_reason and first.number in order.cancel_reason
    assert Payment.objects.count() == 1  # the counter one only
    assert customer_balance(customer) == Decimal("0.00")  # nothing became credit
    message = CmiCallback.objects.get(kind=CmiCallback.Kind.CALLBACK)
    assert message.outcome == CmiCallback.Outcome.ALREADY_SETTLED and message.response == "APPROVED"
    event = order.events.get(to_status=Status.CANCELLED)
    assert "déjà réglées" in event.note

    # the customer is told: e-mail, SMS and bell, « not charged, pre-authorisation released »
    email = Message.objects.get(channel=Message.Channel.EMAIL, recipient="youssef@example.ma")
    assert order.oid in email.body and "n'a pas été débitée" in email.body and "pré-autorisation" in email.body
    assert "déjà réglées" in email.body
    sms = Message.objects.get(channel=Message.Channel.SMS)
    assert "pas débitée" in sms.body and order.oid in sms.body
    assert Message.objects.filter(channel=Message.Channel.BELL, user=user).exists()

    # CMI calls again with the same transaction: the same answer, nothing more happens
    assert post_callback(client, fields) == "APPROVED"
    assert Payment.objects.count() == 1 and Message.objects.filter(channel=Message.Channel.EMAIL).count() == 1

    # the return page the browser waits on says it too
    page = html_of(client.get(reverse("cmi:order_return", args=[order.oid])))
    assert "Cet ordre de paiement a été annulé" in page and "n'a pas été débitée" in page

    # the reason is on the back office's order page
    client.force_login(StaffFactory(is_superuser=True))
    page = html_of(client.get(reverse("admin:rak_payment_cmi_paymentorder_change", args=[order.pk])))
    assert "Motif de l'annulation" in page or "motif de l'annulation" in page
    assert "déjà réglées" in page and "Annulée" in page


def test_approved_callback_that_would_over_pay_a_partly_paid_bill_is_not_captured(client, seed_customer):
    customer, _user, _dossier, first, second = seed_customer
    order = order_for(customer, [first, second])
    payment_record(customer=customer, amount=Decimal("13.02"), method=Payment.Method.CASH, paid_at=NOW, bills=[first])
    assert post_callback(client, callback_for(order)) == "APPROVED"
    order.refresh_from_db()
    assert order.status == Status.CANCELLED and "100,00" in order.cancel_reason
    assert Payment.objects.count() == 1
    assert customer_balance(customer) == Decimal("205.81")


def test_a_still_owed_order_is_captured_as_before(client, seed_customer):
    customer, _user, _dossier, first, second = seed_customer
    order = order_for(customer, [first, second])
    assert post_callback(client, callback_for(order)) == "ACTION=POSTAUTH"
    order.refresh_from_db()
    assert order.status == Status.PAID


# --- one order at a time for the same bills -----------------------------------------------------------------


def test_a_second_order_for_the_same_bills_is_refused_while_the_first_is_pending(seed_customer):
    customer, _user, _dossier, first, second = seed_customer
    pending = order_for(customer, [first, second])
    with pytest.raises(services.OrderPending) as refused:
        paying.order_create_for_bills(customer=customer, bills=[first], email="y@example.ma", now=NOW)
    assert refused.value.order == pending
    assert "déjà en cours" in refused.value.message
    assert PaymentOrder.objects.count() == 1
    # another bill of the customer, not in the pending order, can still be paid
    third = seed_bill(_dossier, "50.00", period=datetime.date(2026, 3, 1), due=datetime.date(2026, 5, 14))
    other = services.payment_order_create(customer=customer, bills=[third], email="y@example.ma", now=NOW)
    assert other.amount_bills == Decimal("50.00")
    # once the pending order expired (no callback within the delay), a new one is allowed
    later = NOW + datetime.timedelta(minutes=121)
    assert services.payment_orders_expire(now=later) == 2  # the pending one and the other
    again = paying.order_create_for_bills(customer=customer, bills=[first, second], email="y@example.ma", now=later)
    assert again.status == Status.CREATED


def test_a_pending_order_older_than_the_delay_does_not_block(seed_customer):
    customer, _user, _dossier, first, second = seed_customer
    order_for(customer, [first, second])
    later = NOW + datetime.timedelta(minutes=121)  # the expiry job has not run yet
    assert paying.order_create_for_bills(customer=customer, bills=[first, second], email="y@example.ma", now=later)


def test_the_owner_abandons_a_pending_order_then_pays_again(seed_customer):
    customer, _user, _dossier, first, second = seed_customer
    pending = order_for(customer, [first, second])
    stranger = CustomerFactory()
    with pytest.raises(services.OrderNotPayable):
        services.payment_order_abandon(order=pending, customer=stranger, now=NOW)
    services.payment_order_abandon(order=pending, customer=customer, now=NOW)
    pending.refresh_from_db()
    assert pending.status == Status.CANCELLED and "Abandonné" in pending.cancel_reason
    assert paying.order_create_for_bills(customer=customer, bills=[first, second], email="y@example.ma", now=NOW)


def test_a_late_approved_callback_on_an_abandoned_order_still_pays_bills_still_owed(client, seed_customer):
    customer, _user, _dossier, first, second = seed_customer
    pending = order_for(customer, [first, second])
    fields = callback_for(pending)  # the customer was on CMI's page in another tab
    services.payment_order_abandon(order=pending, customer=customer, now=NOW)
    assert post_callback(client, fields) == "ACTION=POSTAUTH"  # the bank took it: record it
    pending.refresh_from_db()
    assert pending.status == Status.PAID


def test_request_fee_order_is_refused_while_one_is_pending(seed_customer):
    customer, _user, dossier, _first, _second = seed_customer
    fee_bill = seed_bill(dossier, "500.00", period=None, due=datetime.date(2026, 4, 1), kind=Bill.Kind.SUBSCRIPTION)
    kwargs = {"customer": customer, "bills": [fee_bill], "purpose": "REQUEST_FEE", "email": "y@example.ma", "now": NOW}
    first = paying.order_create_for_bills(**kwargs)
    with pytest.raises(services.OrderPending) as refused:
        paying.order_create_for_bills(**kwargs)
    assert refused.value.order == first


# --- the pages ---------------------------------------------------------------------------------------------


def portal_recap(client, bills):
    client.post(
        reverse("portal:pay_online"),
        {"facture": [b.pk for b in bills], "email": "youssef@example.ma", "card_type": "MOROCCAN", "valider": "1"},
    )
    return client.post(reverse("portal:pay_recap"), {"conditions": "on"})


def test_portal_second_tab_is_sent_to_the_pending_order_which_it_can_resume_or_abandon(seed_customer):
    customer, user, _dossier, first, second = seed_customer
    tab1, tab2 = Client(), Client()
    tab1.force_login(user)
    tab2.force_login(user)
    assert portal_recap(tab1, [first, second]).status_code == 200
    pending = PaymentOrder.objects.get()
    response = portal_recap(tab2, [first, second])
    assert PaymentOrder.objects.count() == 1
    page_url = reverse("portal:payment_pending", args=[pending.oid])
    assert response.status_code == 302 and response["Location"] == page_url
    # « Payer en ligne » of the session that made it shows the pending order with its link
    listing = html_of(tab1.get(reverse("portal:pay_online")))
    assert 'data-testid="pending-order-banner"' in listing and page_url in listing
    html = html_of(tab2.get(page_url))
    assert "Un paiement en ligne de ces factures est déjà en cours" in html
    assert pending.oid in html and "221,24" in html
    assert "Reprendre le paiement" in html and "Abandonner ce paiement" in html
    # resume: the checkout form to the gateway for the same order
    resumed = html_of(tab2.post(page_url, {"action": "reprendre"}))
    assert f'name="oid" value="{pending.oid}"' in resumed
    # abandon, then a new order goes through
    response = tab2.post(page_url, {"action": "abandonner"})
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == Status.CANCELLED
    assert portal_recap(tab2, [first, second]).status_code == 200
    assert PaymentOrder.objects.filter(status=Status.SENT).count() == 1
    # someone else cannot open the page nor abandon the order
    _other, stranger = customer_with_account(phone="+212699999999", first_name="Omar", last_name="Tazi")
    outsider = Client()
    outsider.force_login(stranger)
    fresh = PaymentOrder.objects.get(status=Status.SENT)
    assert outsider.get(reverse("portal:payment_pending", args=[fresh.oid])).status_code == 404
    assert (
        outsider.post(reverse("portal:payment_pending", args=[fresh.oid]), {"action": "abandonner"}).status_code == 404
    )
    assert Client().get(reverse("portal:payment_pending", args=[fresh.oid])).status_code == 404


def quickpay_to_recap(client, customer):
    response = quickpay_post(client, customer.code, email="youssef@example.ma")
    assert response.status_code == 302
    client.post(reverse("portal:quickpay_bills"), {"facture": [], "valider": "1"})
    return client.post(reverse("portal:quickpay_recap"), {"conditions": "on"})


def test_quick_pay_link_only_for_the_same_session_neutral_message_for_another(seed_customer):
    customer, user, _dossier, first, _second = seed_customer
    mine = Client()
    assert quickpay_to_recap(mine, customer).status_code == 200
    pending = PaymentOrder.objects.get()
    # the same quick-pay session starts again: sent to its own pending order
    again = quickpay_to_recap(mine, customer)
    assert again.status_code == 302 and again["Location"] == reverse("portal:payment_pending", args=[pending.oid])
    # another person with the same customer code: a neutral message, no oid, no link
    other = Client()
    response = quickpay_to_recap(other, customer)
    assert PaymentOrder.objects.count() == 1
    html = html_of(other.get(response["Location"])) if response.status_code == 302 else html_of(response)
    assert "Un paiement en ligne de ces factures est déjà en cours" in html
    assert pending.oid not in html and reverse("portal:payment_pending", args=[pending.oid]) not in html
    assert other.get(reverse("portal:payment_pending", args=[pending.oid])).status_code == 404
    assert "pending-order-banner" not in html_of(other.get(reverse("portal:quickpay_bills")))
    assert "pending-order-banner" in html_of(mine.get(reverse("portal:quickpay_bills")))
    # the logged-in owner, in the portal, sees the link to it
    owner = Client()
    owner.force_login(user)
    response = portal_recap(owner, [first])
    assert response.status_code == 302 and response["Location"] == reverse("portal:payment_pending", args=[pending.oid])


# --- concurrency (PostgreSQL, real threads, one connection each) ---------------------------------------------


def run_at_once(count: int, target) -> tuple[list, list[BaseException]]:
    barrier = threading.Barrier(count)
    results: list = []
    errors: list[BaseException] = []

    def one(index: int):
        try:
            barrier.wait(timeout=10)
            results.append(target(index))
        except BaseException as exc:  # reported by the caller
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=one, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


@pytest.mark.django_db(transaction=True)
def test_two_orders_for_the_same_bills_approved_at_once_capture_once():
    """An order left on CMI's page past its delay (expired) and a new one for the same bills: both
    approved callbacks arrive together; exactly one captures, the other releases the pre-authorisation."""
    customer = CustomerFactory()
    bills = [
        make_bill(customer, "113.02", due=datetime.date(2018, 4, 14)),
        make_bill(customer, "105.81", due=datetime.date(2018, 5, 14)),
    ]
    first = services.payment_order_create(customer=customer, bills=bills, email="a@b.ma", now=NOW)
    first_callback = callback_for(first)  # the customer is on CMI's page...
    assert services.payment_orders_expire(now=NOW + datetime.timedelta(minutes=121)) == 1
    second = services.payment_order_create(
        customer=customer, bills=bills, email="a@b.ma", now=NOW + datetime.timedelta(minutes=122)
    )
    callbacks = [first_callback, callback_for(second)]

    answers, errors = run_at_once(2, lambda index: Client().post(CALLBACK_URL, callbacks[index]).content.decode())
    assert not errors
    assert sorted(answers) == ["ACTION=POSTAUTH", "APPROVED"]
    assert Payment.objects.count() == 1
    statuses = sorted(PaymentOrder.objects.values_list("status", flat=True))
    assert statuses == [Status.CANCELLED, Status.PAID]
    assert customer_balance(customer) == Decimal("0.00")


@pytest.mark.django_db(transaction=True)
def test_two_tabs_posting_at_once_make_one_order():
    customer = CustomerFactory()
    bills = [make_bill(customer, "113.02", due=datetime.date(2018, 4, 14))]

    def create(_index):
        try:
            return services.payment_order_create(customer=customer, bills=bills, email="a@b.ma", now=NOW).oid
        except services.OrderPending as exc:
            return f"pending:{exc.order.oid}"

    results, errors = run_at_once(4, create)
    assert not errors
    assert PaymentOrder.objects.count() == 1
    oid = PaymentOrder.objects.get().oid
    assert sorted(results) == sorted([oid] + [f"pending:{oid}"] * 3)


def test_reconciliation_flags_a_cancelled_order_that_cmi_captured_anyway(client, seed_customer):
    from rak_payment_cmi import reconciliation
    from rak_payment_cmi.models import SettlementLine

    customer, _user, _dossier, first, second = seed_customer
    order = order_for(customer, [first, second])
    payment_record(customer=customer, amount=Decimal("218.83"), method=Payment.Method.CASH, paid_at=NOW)
    fields = callback_for(order)
    assert post_callback(client, fields) == "APPROVED"
    row = f"{NOW:%d/%m/%Y %H:%M:%S};{order.oid};{fields['TransId']};448788;221.24;4111 11** **** 1111;ACCEPTEE\n"
    settlement = reconciliation.settlement_import(
        data=("date;oid;transid;autorisation;montant;carte;statut\n" + row).encode(), file_name="r.csv", now=NOW
    )
    line = settlement.lines.get()
    assert line.check_result == SettlementLine.Check.DOUBLE_CHARGE and "annulé ici" in line.detail
    assert settlement.rows_mismatched == 1


def test_request_fees_paid_from_two_tabs_send_the_second_to_the_pending_order(db):
    from tests.integration.test_lifecycle import make_request, sign_all, to_signature

    customer, user = customer_with_account(first_name="Salma", last_name="Berrada", email="salma@example.ma")
    agent = StaffFactory(is_superuser=True)
    request = sign_all(to_signature(make_request(customer), agent))
    url = reverse("portal:lifecycle_pay", args=[request.number])
    tab1, tab2 = Client(), Client()
    tab1.force_login(user)
    tab2.force_login(user)
    assert tab1.post(url, {"conditions": "on"}).status_code == 200  # the checkout form to CMI
    order = PaymentOrder.objects.get(purpose=PaymentOrder.Purpose.REQUEST_FEE)
    response = tab2.post(url, {"conditions": "on"})
    assert response.status_code == 302 and response["Location"] == reverse("portal:payment_pending", args=[order.oid])
    assert PaymentOrder.objects.count() == 1
    # abandoned: back to the requests, and a new order can be made
    assert tab2.post(response["Location"], {"action": "abandonner"})["Location"] == reverse("portal:requests")
    assert tab2.post(url, {"conditions": "on"}).status_code == 200
    assert PaymentOrder.objects.filter(status=Status.SENT).count() == 1
