"""Documents in the customer's language (issue 12): the bill is bilingual French / Arabic as
Moroccan bills are and fits one A4 page; receipts and the other documents are rendered in the
active language (the customer's, set by ``customer_language`` or the page), Arabic ones right to
left, in a font whose text layer gives back the very Arabic words (copy, search, screen readers)."""

from __future__ import annotations

import datetime
import io
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.template.loader import render_to_string
from django.utils import translation
from pypdf import PdfReader

from rak_base.money import amount_in_words, money_format
from rak_billing.ledger import OtherLine, bill_issue_other, payment_record
from rak_billing.models import Bill, Payment
from rak_billing.pdf import bill_context, render_bill_pdf
from rak_billing.receipts import payment_receipt_context, render_receipt_pdf
from tests.factories import CustomerFactory
from tests.integration.test_documents import billed  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db

ARABIC = re.compile(r"[\u0600-\u06FF]")
NOW = datetime.datetime(2026, 3, 15, 10, 0, tzinfo=ZoneInfo("Africa/Casablanca"))


def pdf_pages(data: bytes) -> list[str]:
    """Each page's text layer, lines joined (a label may wrap)."""
    return [" ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(data)).pages]


def pdf_fonts(data: bytes) -> set[str]:
    fonts = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    return fonts


def _longest_bill(bill: Bill) -> Bill:
    """The longest variant of a consumption bill: estimated (its notice), a tranche notice, a
    previous unpaid balance, several lines."""
    Bill.objects.filter(pk=bill.pk).update(
        estimated=True,
        tranche_notice="Vous avez dépassé la tranche 101 à 150 kWh : la consommation au-delà de 150 kWh par mois "
        "est facturée plus cher.",
    )
    return Bill.objects.select_related(
        "customer", "dossier", "dossier__premises", "dossier__meter", "reading__meter", "credited_bill"
    ).get(pk=bill.pk)


def test_bilingual_bill_fits_one_a4_page_with_arabic_text(billed):  # noqa: F811
    bill = _longest_bill(billed)
    assert bill.lines.count() >= 4
    with translation.override("ar"):  # a worker inside customer_language(): the bill stays bilingual
        data = render_bill_pdf(bill, reference="7KQ2M9XD4TRA")
    pages = pdf_pages(data)
    assert len(pages) == 1, "the bilingual bill must fit one A4 page"
    width, height = PdfReader(io.BytesIO(data)).pages[0].mediabox[2:]
    assert (round(float(width)), round(float(height))) == (595, 842)  # A4 in points
    text = pages[0]
    assert ARABIC.search(text)
    for french, arabic in (
        ("Net à payer", "المبلغ الواجب أداؤه"),
        ("Code client", "رقم الزبون"),
        ("TITULAIRE", "صاحب الاشتراك"),  # French headings in capitals (CSS)
        ("Solde antérieur impayé", "رصيد سابق غير مؤدى"),
        ("Total TTC", "المجموع مع احتساب الرسوم"),
        ("Avis de coupure", "إشعار بالانقطاع"),
        ("Facture de consommation d'électricité", "فاتورة استهلاك الكهرباء"),
    ):
        assert french in text, french
        assert arabic in text, arabic
    # the amount once, in the French format; in words in both languages
    assert text.count(" ".join(money_format(bill.total_ttc).split())) >= 2  # net to pay and total TTC
    assert amount_in_words(bill.total_ttc, "fr")[1:25] in text
    assert amount_in_words(bill.total_ttc, "ar") in text  # the text layer reads the very Arabic words
    assert all("DejaVu" in font for font in pdf_fonts(data))
    assert PdfReader(io.BytesIO(data)).trailer["/Root"]["/Lang"] == "fr"


def test_bill_html_is_french_with_arabic_parts_whatever_the_active_language(billed):  # noqa: F811
    with translation.override("en"):
        html = render_to_string("rak_billing/pdf/bill.html", bill_context(billed, reference="7KQ2M9XD4TRA"))
    assert '<html lang="fr">' in html and 'dir="rtl"' in html and 'lang="ar"' in html
    assert "Net à payer" in html and "المبلغ الواجب أداؤه" in html
    assert "Amount to pay" not in html  # never English on the bill


def _paid_receipt(language: str) -> bytes:
    customer = CustomerFactory(first_name="Fatima", last_name="Zahra")
    bill_issue_other(
        kind=Bill.Kind.CUT_FEE,
        customer=customer,
        lines=[OtherLine("Frais", Decimal("1070.50"), vat_rate=Decimal("0"))],
        issue_date=datetime.date(2026, 3, 1),
        now=NOW,
    )
    payment = payment_record(customer=customer, amount=Decimal("1070.50"), method=Payment.Method.CASH, paid_at=NOW)
    with translation.override(language):
        return render_receipt_pdf(payment_receipt_context(payment), reference="7KQ2M9XD4TRA")


def test_receipt_in_arabic_is_right_to_left_with_arabic_text():
    data = _paid_receipt("ar")
    pages = pdf_pages(data)
    assert len(pages) == 1
    text = pages[0]
    assert "وصل الأداء" in text and "رقم الزبون" in text
    assert "ألف وسبعون درهما وخمسون سنتيما" in text  # the amount in words, in Arabic
    assert "REÇU DE PAIEMENT" not in text
    assert PdfReader(io.BytesIO(data)).trailer["/Root"]["/Lang"] == "ar"
    assert all("DejaVu" in font for font in pdf_fonts(data))


def test_receipt_in_english_and_french():
    english = pdf_pages(_paid_receipt("en"))[0]
    assert "PAYMENT RECEIPT" in english and "one thousand and seventy dirhams and fifty centimes" in english
    assert "1,070.50 MAD" in english  # (the text layer joined on whitespace, no-break spaces too)
    french = pdf_pages(_paid_receipt("fr"))[0]
    assert "REÇU DE PAIEMENT" in french and "mille soixante-dix dirhams et cinquante centimes" in french
    assert not ARABIC.search(french)


def test_receipt_template_in_arabic_has_rtl_html():
    with translation.override("ar"):
        html = render_to_string(
            "rak_billing/pdf/receipt.html",
            {"number": "R1", "lines": [], "total": Decimal("5"), "rows": [], "customer": CustomerFactory.build()},
        )
    assert '<html lang="ar" dir="rtl">' in html and "وصل الأداء" in html
    with translation.override("fr"):
        html = render_to_string("rak_billing/pdf/receipt.html", {"number": "R1", "lines": [], "rows": []})
    assert '<html lang="fr">' in html and "REÇU DE PAIEMENT" in html


def test_money_units_from_the_catalogues():
    with translation.override("ar"):
        assert money_format(Decimal("1070")) == "1070,00\u00a0درهم"
    with translation.override("en"):
        assert money_format(Decimal("1070")) == "1,070.00\u00a0MAD"
    assert money_format(Decimal("1070"), language="fr") == "1\u202f070,00\u00a0DH"


DOCUMENTS = {
    "rak_billing/pdf/refund_receipt.html": ("REÇU DE REMBOURSEMENT", "وصل استرجاع المبالغ"),
    "rak_requests/pdf/attestation.html": ("HISTORIQUE DE CONSOMMATION", "سجل الاستهلاك"),
    "rak_requests/pdf/quote.html": ("DEVIS", "عرض الكلفة"),
    "rak_requests/pdf/contract.html": ("Contrat signé électroniquement", "عقد موقع إلكترونيا"),
    "rak_requests/pdf/request_receipt.html": ("REÇU DE DEMANDE", "وصل الطلب"),
    "rak_requests/pdf/direct_debit_form.html": ("DOMICILIATION BANCAIRE", "التوطين البنكي"),
    "rak_requests/pdf/intervention_order.html": ("ORDRE D'INTERVENTION", "أمر التدخل"),
    "rak_requests/pdf/collective_meter/request_form.html": ("MODÈLE DE LA DEMANDE", "نموذج الطلب"),
    "rak_requests/pdf/collective_meter/attestation_form.html": ("ATTESTATION ADMINISTRATIVE", "شهادة إدارية"),
}


@pytest.mark.parametrize("template", sorted(DOCUMENTS))
def test_every_customer_document_follows_the_active_language(template):
    french, arabic = DOCUMENTS[template]
    with translation.override("ar"):
        html = render_to_string(template, {"type": "CONSOMMATION"})
    assert re.search(r'<html lang="ar" dir="rtl">', html), template
    assert arabic in html and french not in html
    with translation.override("fr"):
        html = render_to_string(template, {"type": "CONSOMMATION"})
    assert '<html lang="fr">' in html and french in html.replace("&#x27;", "'") and not ARABIC.search(html)


def test_the_arabic_legal_name_heads_the_bilingual_bill_and_the_arabic_pages(billed, client, settings):  # noqa: F811
    """rak.conf [company] legal_name_ar: under the French name on the bill (still one page), instead
    of it on an Arabic page (footer), never on a French page."""
    settings.COMPANY_LEGAL_NAME_AR = "الوكالة المستقلة لتوزيع الماء والكهرباء والتطهير السائل بإقليم القنيطرة"
    pages = pdf_pages(render_bill_pdf(_longest_bill(billed), reference="7KQ2M9XD4TRA"))
    assert len(pages) == 1 and settings.COMPANY_LEGAL_NAME_AR in pages[0] and settings.COMPANY_LEGAL_NAME in pages[0]
    client.cookies["rak_language"] = "ar"
    arabic = client.get("/").content.decode()
    assert settings.COMPANY_LEGAL_NAME_AR in arabic
    client.cookies["rak_language"] = "fr"
    french = client.get("/").content.decode()
    assert settings.COMPANY_LEGAL_NAME_AR not in french and "Régie Autonome de Distribution" in french
