"""Connection requests (« Demande de branchement »): the « Devis » phase ends only with a quote
the customer accepted and whose works invoice is paid. Accepting the quote in « Mes devis »
issues the works invoice (lines and VAT of the quote), payable online (CMI) from the request page
or at the counter; its payment moves the request to « Travaux » without a human."""

from __future__ import annotations

import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse

from rak_base import clock
from rak_billing.models import Bill, Payment
from rak_payment_cmi.api import PaymentOrder
from rak_requests.filing import request_file
from rak_requests.models import Phase, Quote, RequestEvent, RequestType, ServiceRequest
from rak_requests.quotes import QuoteError, QuoteLine, quote_accept, quote_issue
from tests.factories import customer_with_account
from tests.integration.test_backoffice import followed_messages
from tests.integration.test_cmi_callback import callback_for, post_callback
from tests.integration.test_request_backoffice import press

pytestmark = pytest.mark.django_db

Code = Phase.Code
D = Decimal


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch, now):
    monkeypatch.setattr(clock, "now", lambda: now)


@pytest.fixture(autouse=True)
def _request_types(db):
    importlib.import_module("rak_requests.migrations.0002_seed_request_types").seed(apps, None)


def connection(customer, now) -> ServiceRequest:
    rtype = RequestType.objects.get(code=RequestType.Code.CONNECTION)
    rtype.documents.update(required=False)
    return request_file(
        request_type=rtype,
        customer=customer,
        data={"address": "12 rue Tarik", "city": "Kénitra", "building_type": "Immeuble", "units": 4},
        attachments=[],
        now=now,
    )


def reload(request: ServiceRequest) -> ServiceRequest:
    return ServiceRequest.objects.select_related("phase", "fee_bill").get(pk=request.pk)


def issue_from_back_office(admin_client, request: ServiceRequest, lines: str, vat: str = "20") -> Quote:
    response = admin_client.post(
        reverse("admin:rak_requests_quote_issue"), {"request": request.pk, "lines": lines, "vat_percent": vat}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return Quote.objects.filter(request=request).order_by("-id").first()


def test_three_accepts_never_close_a_connection_request_without_an_accepted_quote(admin_client, now):
    customer, _ = customer_with_account(phone="+212613000001")
    request = connection(customer, now)
    followed_messages(admin_client, press(admin_client, request, "accept_phase"))
    assert reload(request).phase.code == Code.DEVIS  # the study is done: the quote is to come
    for _ in range(2):
        answer = followed_messages(admin_client, press(admin_client, request, "accept_phase"))
        assert any("devis accepté par le client" in message for message in answer), answer
    request = reload(request)
    assert request.phase.code == Code.DEVIS
    assert request.status == ServiceRequest.Status.EN_COURS and request.processed_at is None
    assert not request.events.filter(kind=RequestEvent.Kind.ACCEPTED).exists()

    # a quote issued but not accepted yet: still refused
    issue_from_back_office(admin_client, request, "Branchement BT ; 1 ; 1000")
    answer = followed_messages(admin_client, press(admin_client, request, "accept_phase"))
    assert any("devis accepté par le client" in message for message in answer), answer
    assert reload(request).phase.code == Code.DEVIS


def test_quote_accepted_in_mes_devis_issues_the_works_invoice_paid_at_the_counter_moves_to_travaux(
    admin_client, client, now
):
    customer, user = customer_with_account(phone="+212613000002", email="karim@example.ma")
    request = connection(customer, now)
    quote = issue_from_back_office(admin_client, request, "Branchement BT monophasé ; 1 ; 4500\nCâble (m) ; 12,5 ; 80")
    assert quote.amount_ttc == D("6600.00")

    client.force_login(user)
    accepted = client.post(reverse("portal:quote_accept", args=[quote.pk]), follow=True)
    html = accepted.content.decode()
    quote.refresh_from_db()
    request = reload(request)
    bill = request.fee_bill
    assert quote.status == Quote.Status.ACCEPTE
    assert bill is not None and bill.kind == Bill.Kind.WORKS and bill.customer_id == customer.pk
    assert bill.number in html  # « Mes devis » names the invoice and offers to pay it
    assert reverse("portal:works_pay", args=[request.number]) in html
    assert (bill.total_ht, bill.total_tva, bill.total_ttc) == (quote.amount_ht, quote.amount_tva, quote.amount_ttc)
    assert list(bill.lines.order_by("position").values_list("label", "quantity", "unit_price", "vat_rate")) == [
        ("Branchement BT monophasé", D("1"), D("4500"), D("0.2")),
        ("Câble (m)", D("12.5"), D("80"), D("0.2")),
    ]
    # the request waits for the payment of the works, in « Devis »
    assert request.phase.code == Code.DEVIS and request.expected_action == ServiceRequest.Action.PAY
    assert request.events.filter(kind=RequestEvent.Kind.WORKS_INVOICED, data__bill=bill.number).exists()

    # the customer sees the invoice among their bills and on the request page, with « Payer »
    assert bill.number in client.get(reverse("portal:other_bills")).content.decode()
    page = client.get(reverse("portal:request_detail", args=[request.number])).content.decode()
    assert bill.number in page and reverse("portal:works_pay", args=[request.number]) in page
    assert 'data-testid="request-state">Payer la facture des travaux<' in page
    pay_page = client.get(reverse("portal:works_pay", args=[request.number]))
    assert pay_page.status_code == 200
    assert "Paiement des travaux de branchement" in pay_page.content.decode()

    # staff cannot skip the payment
    answer = followed_messages(admin_client, press(admin_client, request, "accept_phase"))
    assert any(f"facture des travaux {bill.number} n'est pas encore réglée" in m for m in answer), answer
    assert reload(request).phase.code == Code.DEVIS

    # paid at the agency counter (back office): the request moves to « Travaux » by itself
    response = admin_client.post(
        reverse("admin:rak_billing_payment_add"),
        {
            "customer_code": customer.code,
            "amount": "6600.00",
            "method": "CASH",
            "paid_at_0": "02/03/2026",
            "paid_at_1": "09:00:00",
            "reference": "GUICHET-1",
        },
    )
    assert response.status_code == 302
    assert Payment.objects.filter(customer=customer, amount=D("6600.00")).exists()
    request = reload(request)
    assert request.fee_bill.settled_at is not None
    assert request.phase.code == Code.TRAVAUX and request.expected_action == ServiceRequest.Action.NONE
    assert request.events.filter(kind=RequestEvent.Kind.WORKS_PAID, to_phase__code=Code.TRAVAUX).count() == 1
    page = client.get(reverse("portal:request_detail", args=[request.number])).content.decode()
    assert reverse("portal:works_pay", args=[request.number]) not in page  # nothing left to pay


def test_works_invoice_paid_online_through_cmi_moves_to_travaux(client, now):
    customer, user = customer_with_account(phone="+212613000003", email="nadia@example.ma")
    request = connection(customer, now)
    quote = quote_issue(request_id=request.pk, lines=[QuoteLine("Branchement", D(1), D("2000"))], now=now, actor=None)
    quote_accept(quote_id=quote.pk, customer=customer, now=now, actor=user)
    request = reload(request)
    assert request.fee_bill.total_ttc == D("2400.00")

    client.force_login(user)
    checkout = client.post(
        reverse("portal:works_pay", args=[request.number]), {"accept_terms": "on", "conditions": "on"}
    )
    assert checkout.status_code == 200, checkout.content.decode()[:2000]
    order = PaymentOrder.objects.get(customer=customer)
    assert order.purpose == PaymentOrder.Purpose.REQUEST_FEE and order.amount_bills == D("2400.00")
    assert post_callback(Client(), callback_for(order)) == "ACTION=POSTAUTH"
    request = reload(request)
    assert request.phase.code == Code.TRAVAUX
    assert request.events.filter(kind=RequestEvent.Kind.WORKS_PAID).count() == 1


def test_no_new_quote_once_one_is_accepted(now):
    customer, user = customer_with_account(phone="+212613000004")
    request = connection(customer, now)
    quote = quote_issue(request_id=request.pk, lines=[QuoteLine("Branchement", D(1), D("100"))], now=now, actor=None)
    quote_accept(quote_id=quote.pk, customer=customer, now=now, actor=user)
    with pytest.raises(QuoteError, match="déjà été accepté"):
        quote_issue(request_id=request.pk, lines=[QuoteLine("Autre", D(1), D("50"))], now=now, actor=None)
    quote.refresh_from_db()
    assert quote.status == Quote.Status.ACCEPTE


def test_a_customer_in_credit_has_the_works_invoice_paid_at_once_and_goes_to_travaux(now):
    from rak_billing.ledger import payment_record

    customer, user = customer_with_account(phone="+212613000005")
    payment_record(customer=customer, amount=D("5000.00"), method=Payment.Method.CASH, paid_at=now)  # an advance
    request = connection(customer, now)
    quote = quote_issue(request_id=request.pk, lines=[QuoteLine("Branchement", D(1), D("1000"))], now=now, actor=None)
    quote_accept(quote_id=quote.pk, customer=customer, now=now, actor=user)
    request = reload(request)
    assert request.fee_bill.settled_at is not None
    assert request.phase.code == Code.TRAVAUX and request.expected_action == ServiceRequest.Action.NONE
    assert request.events.filter(kind=RequestEvent.Kind.WORKS_PAID).count() == 1


@pytest.mark.django_db(transaction=True)
def test_accepting_a_quote_while_an_agent_issues_a_new_one_on_real_threads(now):
    import threading

    from django.db import connection as db_connection

    from rak_requests.quotes import QuoteNotAcceptable

    customer, user = customer_with_account(phone="+212613000006")
    request = connection(customer, now)
    first = quote_issue(request_id=request.pk, lines=[QuoteLine("Branchement", D(1), D("1000"))], now=now, actor=None)
    barrier = threading.Barrier(2)
    outcome: dict[str, object] = {}

    def run(name, call):
        try:
            barrier.wait(timeout=10)
            outcome[name] = call()
        except Exception as exc:
            outcome[name] = exc
        finally:
            db_connection.close()

    threads = [
        threading.Thread(
            target=run, args=("accept", lambda: quote_accept(quote_id=first.pk, customer=customer, now=now, actor=user))
        ),
        threading.Thread(
            target=run,
            args=(
                "issue",
                lambda: quote_issue(
                    request_id=request.pk, lines=[QuoteLine("Branchement", D(1), D("1200"))], now=now, actor=None
                ),
            ),
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    first.refresh_from_db()
    request = reload(request)
    if isinstance(outcome["accept"], Quote):  # the customer was first: no new quote over an accepted one
        assert isinstance(outcome["issue"], QuoteError) and "déjà été accepté" in outcome["issue"].message
        assert first.status == Quote.Status.ACCEPTE and request.fee_bill.total_ttc == first.amount_ttc
        assert Quote.objects.filter(request=request).count() == 1
    else:  # the agent was first: the quote the customer saw is no longer valid
        assert isinstance(outcome["accept"], QuoteNotAcceptable), outcome
        assert isinstance(outcome["issue"], Quote) and first.status == Quote.Status.EXPIRE
        assert request.fee_bill_id is None
