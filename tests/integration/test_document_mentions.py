"""What a Moroccan customer and the tax code expect to read on the régie's documents (issue 9 §3):
one legal name from rak.conf on every page, e-mail and PDF; on every invoice the régie's ICE, IF and
TP (CGI art. 145), postal address and customer-service phone; on a bill the previous unpaid
balance, the cut-off warning, the period actually billed (reading to reading) and HT unit prices;
on the receipt of a card payment the day it reaches the agency (seed 001 step 6: J+1, J+2 after
22 h, working days). The PDFs are read as text (pypdf), as a customer's reader would."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from rak_base import clock
from rak_base.documents import document_read
from rak_base.models import Message
from rak_base.outbox import message_deliver
from rak_billing.billing import billing_run_create, billing_run_process
from rak_billing.ledger import OtherLine, bill_issue_other, payment_record
from rak_billing.models import Bill, BillLine, MeterReading, Payment
from rak_billing.pdf import bill_pdf
from rak_customer.models import Service
from rak_payment_cmi import after_payment, paying
from rak_payment_cmi.after_payment import receipt_token
from rak_payment_cmi.models import PaymentOrder
from rak_requests.quotes import quote_accept, quote_issue, quote_lines_parse
from tests.factories import DossierFactory, MeterFactory, StaffFactory, customer_with_account
from tests.integration.test_cmi_callback import callback_for, post_callback
from tests.integration.test_lifecycle import agent, prospect, request_tech, sign_all, to_signature  # noqa: F401
from tests.integration.test_quotes import _connection, _request_types  # noqa: F401

pytestmark = pytest.mark.django_db

CASABLANCA = ZoneInfo("Africa/Casablanca")
SEED_NAME = "Régie Autonome de Distribution d'Eau d'Electricité et d'Assainissement liquide de la province de Kénitra"
LEGAL_NAME = f"{SEED_NAME} — nom configuré"  # read from the configuration, not written in a template
ICE, IF, TP = "001234567000089", "40123456", "20145678"
ADDRESS = "Avenue Mohammed V, BP 237, 14000 Kénitra"
PHONE = "05 37 37 00 00"


@pytest.fixture(autouse=True)
def company(settings):
    """The régie as configured in rak.conf [company] (values of a real-looking configuration)."""
    settings.COMPANY_LEGAL_NAME = LEGAL_NAME
    settings.COMPANY_ICE, settings.COMPANY_IF, settings.COMPANY_TP = ICE, IF, TP
    settings.COMPANY_ADDRESS, settings.COMPANY_PHONE = ADDRESS, PHONE


def flat(text: str) -> str:
    """Text as one line: PDF line breaks and French thin/non-breaking spaces become one space."""
    return " ".join(text.replace("\u202f", " ").replace("\xa0", " ").replace("&#x27;", "'").split())


def pdf_text(data: bytes) -> str:
    return flat("\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages))


def assert_company_mentions(text: str) -> None:
    for expected in (LEGAL_NAME, f"ICE : {ICE}", f"IF : {IF}", f"TP : {TP}", ADDRESS, PHONE):
        assert expected in text, expected


def _read(dossier, day, index):
    return MeterReading.objects.create(
        dossier=dossier, meter=dossier.meter, reading_date=day, index=Decimal(index), source="AGENT", status="ACCEPTED"
    )


@pytest.fixture
def billed():
    """An electricity customer (TTC-priced tariff) read on the 20th: three monthly bills unpaid."""
    customer, _user = customer_with_account(phone="+212661234567", first_name="Youssef", last_name="Alaoui")
    dossier = DossierFactory(
        customer=customer, service=Service.ELECTRICITE, meter=MeterFactory(service=Service.ELECTRICITE, caliber="10 A")
    )
    for day, index in (("2025-11-20", 1000), ("2025-12-18", 1090), ("2026-01-20", 1200), ("2026-02-23", 1390)):
        _read(dossier, datetime.date.fromisoformat(day), index)
    for period in (datetime.date(2025, 12, 1), datetime.date(2026, 1, 1), datetime.date(2026, 2, 1)):
        issue = (period.replace(day=28) + datetime.timedelta(days=5)).replace(day=3)
        run = billing_run_create(
            period_start=period, issue_date=issue, due_date=issue + datetime.timedelta(days=15), enqueue=False
        )
        billing_run_process(run_id=run.pk)
    return Bill.objects.get(dossier=dossier, period_start=datetime.date(2026, 2, 1))


def test_billed_period_from_the_prior_reading_or_the_calendar_when_estimated(billed):
    from rak_billing.pdf import BilledPeriod, bill_billed_period

    # the first bill has no previous bill: from the accepted reading before its own (20/11 -> 18/12)
    first = Bill.objects.get(dossier=billed.dossier, period_start=datetime.date(2025, 12, 1))
    assert bill_billed_period(first) == BilledPeriod(
        datetime.date(2025, 11, 20), datetime.date(2025, 12, 18), 28, False
    )
    # an estimated bill covers its calendar month, last day included
    billed.estimated = True
    assert bill_billed_period(billed) == BilledPeriod(datetime.date(2026, 2, 1), datetime.date(2026, 2, 28), 28, True)


def test_bill_pdf_carries_the_mandatory_mentions_previous_balance_cutoff_period_and_ht_prices(billed, now):
    customer = billed.customer
    earlier = Bill.objects.filter(customer=customer, issue_date__lt=billed.issue_date)
    assert earlier.count() == 2
    # a counter payment before the bill's issue lowers the previous balance, one after it does not
    payment_record(
        customer=customer,
        amount=Decimal("10.00"),
        method=Payment.Method.CASH,
        paid_at=datetime.datetime(2026, 2, 10, 9, 0, tzinfo=CASABLANCA),
    )
    payment_record(
        customer=customer,
        amount=Decimal("5.00"),
        method=Payment.Method.CASH,
        paid_at=datetime.datetime(2026, 3, 5, 9, 0, tzinfo=CASABLANCA),
    )
    previous = sum(b.total_ttc for b in earlier) - Decimal("10.00")

    text = pdf_text(document_read(bill_pdf(billed)))

    assert_company_mentions(text)
    assert "Solde antérieur impayé" in text
    assert f"{previous:.2f}".replace(".", ",") in text.replace(" ", "")
    assert "À défaut de paiement" in text and "coupure" in text
    # reading to reading: 20/01/2026 (the January bill's reading) to 23/02/2026, not « février 2026 »
    assert "Période facturée du 20/01/2026 au 23/02/2026" in text and "34 jours" in text
    assert "Période :" not in text and "Mois de facturation : février 2026" in text  # the month is not the period
    # the electricity tariff is TTC-priced: the unit price column shows the HT price
    lines = list(billed.lines.filter(kind=BillLine.Kind.TRANCHE))
    assert lines and all(line.vat_rate > 0 for line in lines)
    compact = text.replace(" ", "")
    for line in lines:
        ht_price = (line.unit_price / (1 + line.vat_rate)).quantize(Decimal("0.0001"))
        assert ht_price != line.unit_price
        assert f"{ht_price:.4f}".replace(".", ",") in compact, (line.label, ht_price)
        assert f"{line.unit_price:.4f}".replace(".", ",") not in compact, (line.label, line.unit_price)
    assert "Prix unitaire HT" in text


def test_unit_price_ht_of_a_line_whatever_the_tariff_pricing():
    ttc_priced = BillLine(
        quantity=Decimal("100.000"),
        unit_price=Decimal("1.0732"),
        amount_ht=Decimal("97.56"),
        vat_rate=Decimal("0.1000"),
        amount_tva=Decimal("9.76"),
        amount_ttc=Decimal("107.32"),
    )
    ht_priced = BillLine(
        quantity=Decimal("10.000"),
        unit_price=Decimal("2.3700"),
        amount_ht=Decimal("23.70"),
        vat_rate=Decimal("0.0700"),
        amount_tva=Decimal("1.66"),
        amount_ttc=Decimal("25.36"),
    )
    untaxed = BillLine(
        quantity=Decimal("1.000"),
        unit_price=Decimal("5.0000"),
        amount_ht=Decimal("5.00"),
        vat_rate=Decimal("0"),
        amount_tva=Decimal("0.00"),
        amount_ttc=Decimal("5.00"),
    )
    assert ttc_priced.unit_price_ht == Decimal("0.9756")
    assert ht_priced.unit_price_ht == Decimal("2.3700")
    assert untaxed.unit_price_ht == Decimal("5.0000")


def test_other_invoices_carry_the_issuer_mentions(billed, now):
    cut = bill_issue_other(
        kind=Bill.Kind.CUT_FEE,
        customer=billed.customer,
        dossier=billed.dossier,
        lines=[OtherLine("Frais de coupure et de rétablissement", Decimal("150.00"))],
        issue_date=datetime.date(2026, 3, 10),
        now=now,
    )
    text = pdf_text(document_read(bill_pdf(cut)))
    assert_company_mentions(text)
    assert "Facture n°" in text or cut.number in text


def test_quote_and_works_invoice_carry_the_legal_name_and_mentions(now, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: now)
    customer, _user = customer_with_account(phone="+212611111111", email="client@example.ma")
    request = _connection(customer, now)
    quote = quote_issue(
        request_id=request.pk, lines=quote_lines_parse("Branchement BT ; 1 ; 4500"), now=now, actor=StaffFactory()
    )
    text = pdf_text(document_read(quote.document))
    assert_company_mentions(text)
    assert "Intercommunale" not in text
    quote_accept(quote_id=quote.pk, customer=customer, now=now)
    works = Bill.objects.get(customer=customer, kind=Bill.Kind.WORKS)
    assert_company_mentions(pdf_text(document_read(bill_pdf(works))))


def test_signed_contracts_and_fees_invoice_carry_the_legal_name(request_tech, agent):  # noqa: F811
    request = sign_all(to_signature(request_tech, agent))
    for contract in request.contracts.all():
        text = pdf_text(document_read(contract.document))
        assert LEGAL_NAME in text and "Intercommunale" not in text
        assert f"{LEGAL_NAME} ({'RAK'})" in flat(contract.body_html)
    text = pdf_text(document_read(bill_pdf(request.fee_bill)))
    assert_company_mentions(text)


def test_portal_footer_and_emails_carry_the_configured_name(client, settings):
    settings.COMPANY_LEGAL_NAME = "Régie de test — nom configuré"
    html = flat(client.get(reverse("portal:home")).content.decode())
    assert "Régie de test — nom configuré (RAK)" in html and PHONE in html
    assert "Intercommunale" not in html
    message = Message.objects.create(
        channel=Message.Channel.EMAIL,
        recipient="client@example.ma",
        subject="Test",
        body="Bonjour",
        next_attempt_at=datetime.datetime(2026, 3, 2, 10, 0, tzinfo=CASABLANCA),
    )
    message_deliver(message_id=message.pk)
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert body.startswith("Bonjour") and "Régie de test — nom configuré (RAK)" in body
    assert ADDRESS in body and PHONE in body


# --- J+1 / J+2 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("paid", "expected"),
    [
        ("2026-12-04T21:59", "2026-12-07"),  # Friday before 22 h: Monday
        ("2026-12-04T22:01", "2026-12-08"),  # Friday after 22 h: J+2, Tuesday
        ("2026-12-03T22:30", "2026-12-07"),  # Thursday after 22 h: Friday is J+1, Monday J+2
        ("2026-12-01T09:00", "2026-12-02"),  # Tuesday: Wednesday
        ("2026-11-05T10:00", "2026-11-09"),  # Thursday before the Green March (06/11): Monday
        ("2026-12-05T11:00", "2026-12-07"),  # Saturday: Monday
    ],
)
def test_card_payment_reaches_the_agency_on_the_next_working_day(paid, expected):
    at = datetime.datetime.fromisoformat(paid).replace(tzinfo=CASABLANCA)
    assert after_payment.agency_posting_date(at) == datetime.date.fromisoformat(expected)
    # the rule reads the Casablanca clock, whatever the timezone of the instant
    assert after_payment.agency_posting_date(at.astimezone(datetime.UTC)) == datetime.date.fromisoformat(expected)


@pytest.mark.parametrize(
    ("paid", "day_label"),
    [("2026-12-04T21:59", "lundi 7 décembre 2026"), ("2026-12-04T22:01", "mardi 8 décembre 2026")],
)
def test_receipt_page_pdf_and_email_say_when_the_payment_reaches_the_agency(monkeypatch, paid, day_label):
    at = datetime.datetime.fromisoformat(paid).replace(tzinfo=CASABLANCA)
    monkeypatch.setattr(clock, "now", lambda: at)
    customer, _user = customer_with_account(first_name="Youssef", last_name="Alaoui", email="youssef@example.ma")
    bill = bill_issue_other(
        kind=Bill.Kind.CUT_FEE,
        customer=customer,
        dossier=DossierFactory(customer=customer, service=Service.ELECTRICITE),
        lines=[OtherLine("Frais de coupure et de rétablissement", Decimal("100.00"))],
        issue_date=at.date() - datetime.timedelta(days=3),
        now=at - datetime.timedelta(days=3),
    )
    order = paying.order_create_for_bills(customer=customer, bills=[bill], email="youssef@example.ma", now=at)
    post_callback(Client(), callback_for(order))
    order = PaymentOrder.objects.get(pk=order.pk)
    assert order.status == PaymentOrder.Status.PAID
    sentence = f"Votre paiement sera constaté au niveau de votre agence RAK le {day_label}"

    client = Client()
    page = client.get(reverse("portal:payment_receipt", args=[order.oid]), {"t": receipt_token(order.oid)})
    assert sentence in flat(page.content.decode())
    assert LEGAL_NAME in flat(page.content.decode())

    pdf = client.get(reverse("portal:payment_receipt_pdf", args=[order.oid]))
    text = pdf_text(b"".join(pdf.streaming_content))
    assert sentence in text and LEGAL_NAME in text and "Intercommunale" not in text

    email = Message.objects.get(channel=Message.Channel.EMAIL, recipient="youssef@example.ma")
    assert sentence in flat(email.body)


def test_bill_detail_page_shows_ht_unit_prices(client, billed):
    from rak_customer.models import PortalAccount

    client.force_login(PortalAccount.objects.get(customer=billed.customer).user)
    html = flat(client.get(reverse("portal:bill_detail", args=[billed.pk])).content.decode())
    assert "Prix unitaire HT" in html
    compact = html.replace(" ", "")
    for line in billed.lines.filter(kind=BillLine.Kind.TRANCHE):
        assert f"{line.unit_price_ht:.4f}".replace(".", ",").rstrip("0") in compact
        assert f"{line.unit_price:.4f}".replace(".", ",").rstrip("0") not in compact


def test_payment_conditions_announce_the_agency_delay_and_the_configured_contact(client):
    html = flat(client.get(reverse("portal:payment_terms")).content.decode())
    assert "le jour ouvré suivant (J+1), ou le deuxième jour ouvré (J+2) s'il est effectué après 22h" in html
    assert PHONE in html and "relationclient@rak.ma" in html


def test_bill_of_a_customer_in_credit_shows_the_credit_not_a_debt(billed):
    customer = billed.customer
    earlier = sum(b.total_ttc for b in Bill.objects.filter(customer=customer, issue_date__lt=billed.issue_date))
    payment_record(
        customer=customer,
        amount=earlier + Decimal("100.00"),
        method=Payment.Method.CASH,
        paid_at=datetime.datetime(2026, 2, 10, 9, 0, tzinfo=CASABLANCA),
    )
    text = pdf_text(document_read(bill_pdf(billed)))
    assert "Crédit antérieur en votre faveur 100,00 DH" in text and "Solde antérieur impayé" not in text
    due = max(billed.total_ttc - Decimal("100.00"), Decimal("0.00"))
    assert f"Total dû, solde antérieur compris {due:.2f}".replace(".", ",") in text
