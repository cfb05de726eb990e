"""One French amount format everywhere (issue 9 §2): « 1 070,00 DH » — never « 1070.00 DH » — on
the quote and bill PDFs (read as text with pypdf, as a customer's reader would), in the quote's
SMS, e-mail and history texts (plain spaces in SMS/e-mail: GSM-7 has no narrow no-break space), and
on the portal pages « Mes devis » and the works-invoice payment page."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from pypdf import PdfReader

from rak_base import clock
from rak_base.documents import document_read
from rak_base.models import Document, Message
from rak_base.money import money_format
from rak_billing.ledger import OtherLine, bill_issue_other, payment_record
from rak_billing.models import Bill, Payment
from rak_billing.pdf import bill_pdf
from rak_customer.models import Service
from rak_payment_cmi import paying
from rak_requests.models import RequestEvent
from rak_requests.quotes import quote_accept, quote_issue, quote_lines_parse
from tests.factories import CustomerFactory, DossierFactory, StaffFactory, customer_with_account
from tests.integration.test_cmi_callback import callback_for, post_callback
from tests.integration.test_lifecycle import agent, prospect, request_tech, sign_all, to_signature  # noqa: F401
from tests.integration.test_payment_pages import NOW, seed_bill
from tests.integration.test_quotes import _connection, _request_types  # noqa: F401

pytestmark = pytest.mark.django_db

HT, TTC = money_format(Decimal("1070")), money_format(Decimal("1284"))  # « 1 070,00 DH », 20 % VAT


def pdf_raw_text(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def spaced(text: str) -> str:
    return " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split())


@pytest.fixture
def quoted(monkeypatch, now):
    monkeypatch.setattr(clock, "now", lambda: now)
    customer, user = customer_with_account(phone="+212611111111", email="client@example.ma")
    request = _connection(customer, now)
    quote = quote_issue(
        request_id=request.pk, lines=quote_lines_parse("Branchement BT ; 1 ; 1070"), now=now, actor=StaffFactory()
    )
    assert quote.amount_ht == Decimal("1070.00") and quote.amount_ttc == Decimal("1284.00")
    return customer, user, request, quote


def _no_raw_amount(text: str) -> None:
    for raw in ("1070.00", "1284.00", "214.00", "1070,00", "1284,00"):
        assert raw not in text, raw


def test_quote_pdf_amounts_in_french_format(quoted):
    _customer, _user, _request, quote = quoted
    text = pdf_raw_text(document_read(quote.document))
    _no_raw_amount(text)
    assert "1 070,00 DH" in spaced(text) and "1 284,00 DH" in spaced(text) and "214,00 DH" in spaced(text)


def test_quote_sms_email_and_history_in_french_format(quoted):
    _customer, _user, request, quote = quoted
    sms = Message.objects.filter(channel=Message.Channel.SMS, body__contains=quote.number).latest("id")
    email = Message.objects.filter(channel=Message.Channel.EMAIL, body__contains=quote.number).latest("id")
    for body in (sms.body, email.body):
        assert "1 284,00 DH" in body and "\u202f" not in body and "\xa0" not in body  # plain spaces: GSM-7
        _no_raw_amount(body)
    event = request.events.get(kind=RequestEvent.Kind.QUOTE_ISSUED)
    assert TTC in event.message


def test_works_invoice_texts_and_pdf_in_french_format(quoted, now):
    customer, _user, request, quote = quoted
    quote_accept(quote_id=quote.pk, customer=customer, now=now)
    works = Bill.objects.get(customer=customer, kind=Bill.Kind.WORKS)
    assert works.total_ttc == Decimal("1284.00")
    event = request.events.get(kind=RequestEvent.Kind.WORKS_INVOICED)
    assert TTC in event.message
    sms = Message.objects.filter(channel=Message.Channel.SMS, body__contains=works.number).latest("id")
    assert "1 284,00 DH" in sms.body and "\u202f" not in sms.body
    _no_raw_amount(sms.body)
    text = pdf_raw_text(document_read(bill_pdf(works)))
    _no_raw_amount(text)
    assert "1 284,00 DH" in spaced(text) and "1 070,00 DH" in spaced(text)
    # one format: the thousands of every total grouped like money_format does (narrow no-break space)
    assert "1\u202f284,00" in text.replace("\xa0", " ") or "1 284,00" in text


def test_mes_devis_and_works_payment_page_in_french_format(client, quoted, now):
    customer, user, request, quote = quoted
    client.force_login(user)
    html = client.get(reverse("portal:quotes")).content.decode()
    assert HT in html and TTC in html
    _no_raw_amount(html)
    quote_accept(quote_id=quote.pk, customer=customer, now=now)
    html = client.get(reverse("portal:quotes")).content.decode()
    assert TTC in html  # the works invoice line
    html = client.get(reverse("portal:request_detail", args=[request.number])).content.decode()
    _no_raw_amount(html)


def test_subscription_fees_sms_and_history_in_french_format(request_tech, agent):  # noqa: F811
    request = sign_all(to_signature(request_tech, agent))
    bill = request.fee_bill
    sms = Message.objects.filter(channel=Message.Channel.SMS, body__contains=bill.number).latest("id")
    assert money_format(bill.total_ttc, plain_space=True) in sms.body and "\u202f" not in sms.body
    assert f"{bill.total_ttc} DH" not in sms.body
    event = request.events.get(kind=RequestEvent.Kind.FEES_INVOICED)
    assert money_format(bill.total_ttc) in event.message


def test_advance_bounds_message_in_french_format():
    with pytest.raises(paying.AdvanceRefused) as refused:
        paying.advance_amount_parse("6000")
    assert "50,00\xa0DH" in str(refused.value) and "5\u202f000,00\xa0DH" in str(refused.value)
    assert "5000.00" not in str(refused.value)


def test_back_office_quote_issued_message_and_works_bill_column_in_french_format(admin_client, now):
    customer, _ = customer_with_account(phone="+212611111115")
    request = _connection(customer, now)
    response = admin_client.post(
        reverse("admin:rak_requests_quote_issue"),
        {"request": request.pk, "lines": "Branchement BT ; 1 ; 1070", "vat_percent": "20"},
        follow=True,
    )
    html = response.content.decode()
    assert TTC in html  # « Devis … émis : 1 284,00 DH TTC. »
    _no_raw_amount(html)
    quote = request.quotes.get()
    quote_accept(quote_id=quote.pk, customer=customer, now=now)
    html = admin_client.get(reverse("admin:rak_requests_quote_change", args=[quote.pk])).content.decode()
    assert TTC in html  # « facture des travaux : F… — 1 284,00 DH (à payer) »
    assert money_format(Decimal("1070"), currency="") in html  # the line's unit price and amount


def test_card_payment_receipt_page_and_pdf_in_french_format(client):
    customer, user = customer_with_account(email="amal@example.ma")
    dossier = DossierFactory(customer=customer, service=Service.EAU)
    bill = seed_bill(dossier, "1070.00", period=datetime.date(2026, 1, 1), due=datetime.date(2026, 3, 14))
    order = paying.order_create_for_bills(customer=customer, bills=[bill], email="amal@example.ma", now=NOW)
    assert post_callback(client, callback_for(order)) == "ACTION=POSTAUTH"
    client.force_login(user)
    html = client.get(reverse("portal:payment_receipt", args=[order.oid])).content.decode()
    assert money_format(Decimal("1070"), currency="MAD") in html
    _no_raw_amount(html)
    response = client.get(reverse("portal:payment_receipt_pdf", args=[order.oid]))
    text = pdf_raw_text(b"".join(response.streaming_content) if response.streaming else response.content)
    _no_raw_amount(text)
    assert "1 070,00 MAD" in spaced(text)
    document = Document.objects.get(kind=Document.Kind.RECEIPT)  # its title in « Mes documents » and the back office
    assert money_format(order.amount_total) in document.title and f"{order.amount_total}" not in document.title


def test_back_office_credit_note_and_reverse_pages_in_french_format(admin_client, monkeypatch, now):
    monkeypatch.setattr(clock, "now", lambda: now)
    customer = CustomerFactory()
    paid, open_bill = (
        bill_issue_other(
            kind=Bill.Kind.CUT_FEE,
            customer=customer,
            lines=[OtherLine("Frais", Decimal("1070.00"), vat_rate=Decimal("0"))],
            issue_date=now.date(),
            now=now,
        )
        for _ in range(2)
    )
    payment = payment_record(customer=customer, amount=Decimal("1070.00"), method=Payment.Method.CASH, paid_at=now)
    html = admin_client.get(reverse("admin:rak_billing_payment_reverse", args=[payment.pk])).content.decode()
    assert f"{paid.number} — {HT}" in html
    _no_raw_amount(html)
    html = admin_client.get(reverse("admin:rak_billing_bill_credit_note", args=[open_bill.pk])).content.decode()
    assert html.count(HT) >= 2  # « montant TTC 1 070,00 DH, reste à payer 1 070,00 DH »
    _no_raw_amount(html)


def test_subscription_contract_fees_table_in_french_format(request_tech, agent):  # noqa: F811
    request = to_signature(request_tech, agent)
    contract = request.contracts.order_by("service").first()
    raw = f"{contract.fees_amount}"  # « 660.00 »
    assert raw not in contract.body_html
    assert money_format(contract.fees_amount, currency="") in contract.body_html
    sign_all(request)
    contract.refresh_from_db()
    text = pdf_raw_text(document_read(contract.document))
    assert raw not in text and spaced(money_format(contract.fees_amount, currency="")) in spaced(text)


def test_staff_texts_of_a_payment_read_the_french_format(db):
    """A payment as staff read it in lists, breadcrumbs and history (its ``str``) and the network
    file's « référence déjà enregistrée » reason: « 1 070,00 DH », never « 1070.00 DH »."""
    from rak_billing.models import Payment
    from rak_payment_cmi.network_imports import network_payments_import
    from tests.factories import CustomerFactory

    customer = CustomerFactory()
    header = "code_client;montant;date;reference;reseau;motif\n"
    first = f"{customer.code};1070,00;10/03/2026 09:30;TS-1;Tasshilat;avance\n"
    network_payments_import(data=(header + first).encode(), file_name="tasshilat-1.csv", now=NOW)
    payment = Payment.objects.get(customer=customer)
    assert str(payment).startswith("1\u202f070,00\u00a0DH")
    again = f"{customer.code};20,00;10/03/2026 09:30;TS-1;Tasshilat;avance\n"
    batch = network_payments_import(data=(header + again).encode(), file_name="tasshilat-2.csv", now=NOW)
    reasons = " ".join(str(row.get("reason", "")) for row in batch.report)
    assert "1 070,00 DH" in reasons and "1070.00" not in reasons
