"""Paying online in Arabic and English (issue 12): the quick-pay, bill list, recap, terms, pending and
receipt pages follow the visitor's language (cookie ``rak_language``), right to left in Arabic, with
French unchanged; the receipt PDF in the page's language; what is sent after CMI's callback (the
confirmation e-mail, the « not charged » e-mail / SMS / bell) in the customer's own language
(``Customer.language``), whoever's request runs the callback; the CMI page's language follows the
site's."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from rak_base.models import Message
from rak_billing.ledger import payment_record
from rak_billing.models import Payment
from rak_payment_cmi import paying, services
from rak_payment_cmi.after_payment import receipt_token
from rak_payment_cmi.models import PaymentOrder
from tests.integration.test_cmi_callback import callback_for, post_callback
from tests.integration.test_payment_pages import (  # noqa: F401 (fixtures)
    NOW,
    fixed_clock,
    html_of,
    quickpay_post,
    seed_customer,
)

pytestmark = pytest.mark.django_db


def in_language(client: Client, language: str) -> Client:
    client.cookies["rak_language"] = language
    return client


def identified_in(client: Client, seed_customer, language: str) -> Client:  # noqa: F811
    in_language(client, language)
    response = quickpay_post(client, seed_customer[0].code, email="youssef@example.ma")
    assert response.status_code == 302 and response["Location"] == reverse("portal:quickpay_bills")
    return client


# --- pages --------------------------------------------------------------------------------------------------


def test_quickpay_page_in_arabic_right_to_left_and_in_english(client):
    html = html_of(in_language(client, "ar").get(reverse("portal:quickpay")))
    assert 'dir="rtl"' in html and 'lang="ar"' in html
    assert "معلومات تعريف الزبون" in html and "خدمة الأداء عبر الإنترنت" in html and "رقم الزبون" in html
    assert "Identifiants du client" not in html and "Munissez-vous" not in html
    html = html_of(in_language(client, "en").get(reverse("portal:quickpay")))
    assert "Customer details" in html and "Have your bill to hand" in html and "Customer code" in html
    assert 'dir="rtl"' not in html and "Identifiants du client" not in html


def test_french_quickpay_page_is_unchanged(client):
    html = html_of(client.get(reverse("portal:quickpay")))
    assert "Identifiants du client" in html and "Service de paiement en ligne" in html
    assert "Munissez-vous de votre facture : vous y trouverez votre code client." in html


def test_bill_list_and_recap_in_arabic(client, seed_customer):  # noqa: F811
    identified_in(client, seed_customer, "ar")
    html = html_of(client.get(reverse("portal:quickpay_bills")))
    assert 'dir="rtl"' in html
    assert "قائمة الفواتير" in html and "مستحقة — إلزامية" in html
    # the totals keep their data-* hooks for pay.js, the amounts their unit in Arabic
    assert "<span data-total-bills>218,83</span> درهم" in html or "data-total-bills>" in html
    assert "Liste des factures" not in html and "Total des factures" not in html
    assert 'data-format-sample="' in html  # pay.js formats the totals as the server does
    first = seed_customer[3]
    response = client.post(reverse("portal:quickpay_bills"), {"facture": [first.pk], "valider": "1"})
    assert response.status_code == 302
    recap = html_of(client.get(reverse("portal:quickpay_recap")))
    assert "ملخص الفواتير المطلوب أداؤها" in recap and "الشروط العامة" in recap
    # the conditions box refused in Arabic
    refused = html_of(client.post(reverse("portal:quickpay_recap"), {}))
    assert "يجب تحديد خانة" in refused and "Il faut cocher" not in refused


def test_bill_list_and_terms_in_english(client, seed_customer):  # noqa: F811
    identified_in(client, seed_customer, "en")
    html = html_of(client.get(reverse("portal:quickpay_bills")))
    assert "List of bills" in html and "due — required" in html and "Recalculate" in html
    assert "Liste des factures" not in html
    terms = html_of(client.get(reverse("portal:payment_terms")))
    assert "Online payment terms and conditions" in terms and "Payment guide" in terms
    assert "Conditions générales" not in terms


def test_quickpay_errors_in_the_visitor_language(client, seed_customer):  # noqa: F811
    in_language(client, "ar")
    response = quickpay_post(client, "ZZZ999999", email="x@example.ma")
    html = html_of(response)
    assert "لا توجد فاتورة للأداء أو معلومات تعريف الزبون غير موجودة" in html
    response = quickpay_post(client, seed_customer[0].code, email="a@example.ma", confirm="b@example.ma")
    assert "عنوانا البريد الإلكتروني غير متطابقين" in html_of(response)


def test_cmi_order_takes_the_page_language(client, seed_customer):  # noqa: F811
    identified_in(client, seed_customer, "ar")
    first = seed_customer[3]
    client.post(reverse("portal:quickpay_bills"), {"facture": [first.pk], "valider": "1"})
    checkout = html_of(client.post(reverse("portal:quickpay_recap"), {"conditions": "on"}))
    order = PaymentOrder.objects.get()
    assert order.lang == "ar"  # CMI's page speaks Arabic too
    assert 'name="lang" value="ar"' in checkout and "جارٍ تحويلك إلى منصة الأداء الآمنة" in checkout
    pending = html_of(client.get(reverse("portal:payment_pending", args=[order.oid])))
    assert "أداء هذه الفواتير عبر الإنترنت جارٍ بالفعل" in pending and "على الساعة" in pending


# --- receipt: page and PDF -------------------------------------------------------------------------------------


@pytest.fixture
def paid_order(seed_customer):  # noqa: F811
    order = paying.order_create_for_bills(
        customer=seed_customer[0], bills=[seed_customer[3]], email="youssef@example.ma", now=NOW
    )
    post_callback(Client(), callback_for(order))
    order.refresh_from_db()
    return order


def pdf_text(response) -> str:
    data = b"".join(response.streaming_content)
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def test_receipt_page_and_pdf_in_arabic(client, paid_order):
    url = reverse("portal:payment_receipt", args=[paid_order.oid])
    html = html_of(in_language(client, "ar").get(url, {"t": receipt_token(paid_order.oid)}))
    assert 'dir="rtl"' in html
    assert "وصل الأداء" in html or "REÇU" not in html
    assert "تم قبول أدائك" in html and "رمز الترخيص" in html and "رقم وصل الأداء" in html
    assert "طباعة" in html and "تحميل الوصل (PDF)" in html
    assert "Votre paiement a été accepté" not in html and "Imprimer" not in html
    text = pdf_text(client.get(reverse("portal:payment_receipt_pdf", args=[paid_order.oid])))
    # the headline has a line of its own (a label beside a random code may be split by the bidi runs)
    assert "تم قبول أدائك" in text and "Code d'autorisation" not in text and "Votre paiement" not in text


def test_receipt_page_and_pdf_in_english(client, paid_order):
    url = reverse("portal:payment_receipt", args=[paid_order.oid])
    html = html_of(in_language(client, "en").get(url, {"t": receipt_token(paid_order.oid)}))
    assert "Your payment has been accepted" in html and "Authorisation code" in html
    assert "Payment receipt number:" in html and "Download the receipt (PDF)" in html
    assert "Imprimer" not in html
    text = pdf_text(client.get(reverse("portal:payment_receipt_pdf", args=[paid_order.oid])))
    assert "Your payment has been accepted" in text and "Authorisation code" in text and "Order no." in text


def test_receipt_page_in_french_is_unchanged(client, paid_order):
    url = reverse("portal:payment_receipt", args=[paid_order.oid])
    html = html_of(client.get(url, {"t": receipt_token(paid_order.oid)}))
    assert "REÇU DE PAIEMENT" in html and "Votre paiement a été accepté" in html
    assert "Code d'autorisation :" in html and "Numéro de reçu de paiement :" in html and "Imprimer" in html


# --- after CMI's callback: the customer's language ---------------------------------------------------------------


def test_confirmation_email_in_the_customer_language_whatever_the_callback_request(seed_customer):  # noqa: F811
    customer = seed_customer[0]
    customer.language = "ar"
    customer.save(update_fields=["language"])
    order = paying.order_create_for_bills(
        customer=customer, bills=[seed_customer[3]], email="youssef@example.ma", now=NOW
    )
    # CMI's server calls in French (no cookie, no Accept-Language)
    assert post_callback(Client(), callback_for(order)) == "ACTION=POSTAUTH"
    email = Message.objects.get(channel=Message.Channel.EMAIL, recipient="youssef@example.ma")
    assert "تأكيد أدائك عبر الإنترنت" in email.subject
    assert "تم قبول أدائك عبر الإنترنت" in email.body and order.oid in email.body
    assert "رقم وصل الأداء" in email.body and "Bonjour" not in email.body


def test_confirmation_email_stays_french_for_a_french_customer(seed_customer):  # noqa: F811
    order = paying.order_create_for_bills(
        customer=seed_customer[0], bills=[seed_customer[3]], email="youssef@example.ma", now=NOW
    )
    post_callback(in_language(Client(), "en"), callback_for(order))  # whoever's request it is
    email = Message.objects.get(channel=Message.Channel.EMAIL, recipient="youssef@example.ma")
    assert email.subject.startswith("RAK — Confirmation de votre paiement en ligne (")
    assert "Votre paiement en ligne a été accepté le 15/03/2026 à " in email.body
    assert "Factures réglées :" in email.body and "Merci de votre confiance." in email.body


@pytest.mark.parametrize(
    ("language", "sms_words", "email_words"),
    [
        ("ar", "لم تخصم بطاقتك", "لم يتم خصم أي مبلغ من بطاقتك"),
        ("en", "Your card is not charged", "Your card has not been charged"),
        ("fr", "Votre carte n'est pas débitée", "Votre carte n'a pas été débitée"),
    ],
)
def test_not_charged_sms_email_and_bell_in_the_customer_language(seed_customer, language, sms_words, email_words):  # noqa: F811
    customer, user, _dossier, first, second = seed_customer
    customer.language = language
    customer.save(update_fields=["language"])
    order = paying.order_create_for_bills(
        customer=customer, bills=[first, second], email="youssef@example.ma", tel="0612345678", now=NOW
    )
    services.order_checkout_form(order, now=NOW)
    payment_record(customer=customer, amount=Decimal("218.83"), method=Payment.Method.CASH, paid_at=NOW)
    assert post_callback(Client(), callback_for(order)) == "APPROVED"
    sms = Message.objects.get(channel=Message.Channel.SMS)
    assert sms_words in sms.body and order.oid in sms.body
    assert sms.sms_segments <= 2  # an Arabic SMS (UCS-2) still within two SMS
    email = Message.objects.get(channel=Message.Channel.EMAIL)
    assert email_words in email.body
    assert Message.objects.get(channel=Message.Channel.BELL, user=user).body == email.body
