"""Quotes of connection requests: staff issue (lines, VAT, PDF, request in « Devis » waiting for
the customer), the customer sees « Mes devis » and accepts (the works invoice is issued, see test_connection_works);
another customer's quote is a 404."""

from __future__ import annotations

import importlib
import re
from decimal import Decimal

import pytest
from django.apps import apps
from django.urls import reverse

from rak_base import clock
from rak_base.models import Document, Message
from rak_requests.filing import request_file
from rak_requests.models import Quote, RequestEvent, RequestType, ServiceRequest
from rak_requests.quotes import QuoteError, QuoteLine, QuoteNotAcceptable, quote_accept, quote_issue, quote_lines_parse
from tests.factories import StaffFactory, customer_with_account

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch, now):
    monkeypatch.setattr(clock, "now", lambda: now)


@pytest.fixture(autouse=True)
def _request_types(db):
    importlib.import_module("rak_requests.migrations.0002_seed_request_types").seed(apps, None)


def _connection(customer, now):
    rtype = RequestType.objects.get(code=RequestType.Code.CONNECTION)
    rtype.documents.update(required=False)
    return request_file(
        request_type=rtype,
        customer=customer,
        data={"address": "12 rue Tarik", "city": "Kénitra", "building_type": "Immeuble", "units": 4},
        attachments=[],
        now=now,
    )


def test_staff_issue_quote_then_customer_accepts_in_mes_devis(client, now):
    customer, user = customer_with_account(phone="+212611111111", email="client@example.ma")
    request = _connection(customer, now)
    assert request.number.startswith(f"BR{now.year}-")
    assert request.phase.name == "Étude technique"

    staff = StaffFactory()
    quote = quote_issue(
        request_id=request.pk,
        lines=quote_lines_parse("Branchement électrique BT ; 1 ; 4500\nCâble (m) ; 12,5 ; 80"),
        now=now,
        actor=staff,
    )
    assert quote.status == Quote.Status.VALIDE
    assert quote.amount_ht == Decimal("5500.00")
    assert quote.amount_tva == Decimal("1100.00")
    assert quote.amount_ttc == Decimal("6600.00")
    assert quote.document.kind == Document.Kind.QUOTE
    request.refresh_from_db()
    assert request.phase.name == "Devis"
    assert request.expected_action == ServiceRequest.Action.ACCEPT_QUOTE
    assert Message.objects.filter(channel=Message.Channel.SMS, body__contains=quote.number).exists()

    client.force_login(user)
    page = client.get(reverse("portal:quotes"))
    assert page.status_code == 200
    html = page.content.decode()
    assert (
        quote.number in html
        and "Valide" in html
        and "6600,00" in re.sub(r"\s", "", html.replace("\u202f", "").replace("\xa0", ""))
    )
    pdf = client.get(reverse("portal:quote_pdf", args=[quote.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"

    response = client.post(reverse("portal:quote_accept", args=[quote.pk]), follow=True)
    assert "Vous avez accepté le devis" in response.content.decode()
    quote.refresh_from_db()
    request.refresh_from_db()
    assert quote.status == Quote.Status.ACCEPTE
    # the works invoice is to pay: its payment moves the request to « Travaux » (test_connection_works)
    assert request.phase.name == "Devis" and request.fee_bill.total_ttc == quote.amount_ttc
    assert request.expected_action == ServiceRequest.Action.PAY
    assert request.events.filter(kind=RequestEvent.Kind.QUOTE_ACCEPTED).exists()
    with pytest.raises(QuoteNotAcceptable):
        quote_accept(quote_id=quote.pk, customer=customer, now=now)


def test_quote_refused_for_a_subscription_and_bad_lines(now):
    customer, _ = customer_with_account(phone="+212611111112")
    rtype = RequestType.objects.get(code=RequestType.Code.SUBSCRIPTION)
    rtype.documents.update(required=False)
    request = request_file(request_type=rtype, customer=customer, data={}, attachments=[], now=now)
    with pytest.raises(QuoteError, match="branchement"):
        quote_issue(request_id=request.pk, lines=[QuoteLine("x", Decimal(1), Decimal(1))], now=now, actor=None)
    with pytest.raises(QuoteError, match="Ligne 1"):
        quote_lines_parse("Branchement sans prix")


def test_another_customers_quote_is_404(client, now):
    owner, _ = customer_with_account(phone="+212611111113")
    other, other_user = customer_with_account(phone="+212611111114")
    request = _connection(owner, now)
    quote = quote_issue(
        request_id=request.pk, lines=[QuoteLine("Branchement", Decimal(1), Decimal(1000))], now=now, actor=None
    )
    client.force_login(other_user)
    assert client.get(reverse("portal:quote_pdf", args=[quote.pk])).status_code == 404
    assert client.post(reverse("portal:quote_accept", args=[quote.pk])).status_code == 404
    assert quote.number not in client.get(reverse("portal:quotes")).content.decode()
    quote.refresh_from_db()
    assert quote.status == Quote.Status.VALIDE


def test_staff_issue_a_quote_from_the_back_office(admin_client, now):
    customer, _ = customer_with_account(phone="+212611111115")
    request = _connection(customer, now)
    page = admin_client.get(reverse("admin:rak_requests_quote_add"))
    assert page.status_code == 200 and request.number in page.content.decode()
    response = admin_client.post(
        reverse("admin:rak_requests_quote_issue"),
        {"request": request.pk, "lines": "Branchement ; 1 ; abc", "vat_percent": "20"},
    )
    assert "Ligne 1 : quantité ou prix invalide." in response.content.decode().replace("&#x27;", "'")
    response = admin_client.post(
        reverse("admin:rak_requests_quote_issue"),
        {"request": request.pk, "lines": "Branchement BT ; 1 ; 4500", "vat_percent": "20"},
    )
    assert response.status_code == 302
    quote = Quote.objects.get(request=request)
    assert quote.amount_ttc == Decimal("5400.00") and quote.status == Quote.Status.VALIDE
    assert admin_client.get(reverse("admin:rak_requests_quote_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:rak_requests_quote_change", args=[quote.pk])).status_code == 200


def test_a_quote_past_its_validity_shows_expired_and_cannot_be_accepted(client, now, monkeypatch):
    from datetime import timedelta

    customer, user = customer_with_account(phone="+212611111116")
    request = _connection(customer, now)
    quote = quote_issue(
        request_id=request.pk, lines=[QuoteLine("Branchement", Decimal(1), Decimal(100))], now=now, actor=None
    )
    later = now + timedelta(days=45)
    monkeypatch.setattr(clock, "now", lambda: later)
    client.force_login(user)
    page = client.get(reverse("portal:quotes")).content.decode()
    assert "Expiré" in page and "Accepter le devis</button>" not in page
    with pytest.raises(QuoteNotAcceptable):
        quote_accept(quote_id=quote.pk, customer=customer, now=later)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("Pose ; NaN ; 10", "quantité ou prix invalide"),
        ("Pose ; 1e309 ; 10", "hors limites"),
        ("Pose ; 1 ; 1E+999999999", "hors limites"),
        ("Pose ; 1 ; Infinity", "quantité ou prix invalide"),
        ("Pose ; -Infinity ; 10", "quantité ou prix invalide"),
        ("Pose ; 1e-400 ; 10", "trois décimales"),
        ("Pose ; 1 ; 10,001", "deux décimales"),
    ],
)
def test_hostile_quote_lines_are_refused_in_french(row, message):
    from rak_requests.quotes import QuoteError, quote_lines_parse

    with pytest.raises(QuoteError, match=message):
        quote_lines_parse(row)
    assert quote_lines_parse("Pose ; 2 ; 1 500,50")[0].amount == Decimal("3001.00")
