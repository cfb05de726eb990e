"""Payment receipts (« Reçu de paiement »): one per payment, whatever the channel (agency
counter, card through CMI, another network), as a page context and as a registered PDF with its
QR code (``rak_base.documents``).

- ``receipt_number(payment)``: the printed « Numéro de reçu de paiement » (11 digits, derived from
  the payment, so it needs no table of its own and two receipts never share a number);
- ``bill_payment_description(bill)``: the seed's description of a bill being paid
  (``GERANCE:ELECTRICITE, PERIODE:01/02/2018, DATE ECHEANCE:14/04/2018``);
- ``payment_receipt_context(payment)``: what the receipt shows;
- ``payment_receipt_pdf(payment)``: rendered and registered once (kind RECEIPT, subject the
  payment), the same document afterwards.

A higher addon that knows more about a payment (the card payment's authorisation code, masked
card, transaction number, the order's lines and fee) adds it with
``receipt_details_register(provider)`` in its ``AppConfig.ready()``: ``provider(payment)`` returns
``None`` or a dict merged into the context (``method``, ``rows``, ``lines``, ``total``,
``contract``, ``headline``). rak_billing never imports it (layers point downwards).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext, gettext_lazy, pgettext, pgettext_lazy

from rak_base.documents import (
    DocumentError,
    document_for_subject,
    document_reference_new,
    document_register,
    reference_display,
    verification_url,
)
from rak_base.models import Document
from rak_base.money import amount_in_words, money_format
from rak_billing.models import Bill, Payment, PaymentReversal
from rak_billing.pdf import qr_data_uri
from rak_customer.language import customer_language_code
from rak_customer.models import PortalAccount

RECEIPT_NUMBER_BASE = 10_000_000_000
RECEIPT_TITLE = gettext_lazy("Reçu de paiement")

_providers: list[Callable[[Payment], dict | None]] = []


def receipt_details_register(provider: Callable[[Payment], dict | None]) -> None:
    """Let a higher addon add what it knows about a payment to its receipt."""
    if provider not in _providers:
        _providers.append(provider)


def receipt_number(payment: Payment | int) -> str:
    """« Numéro de reçu de paiement »: 11 digits (``10000000042`` for payment 42)."""
    pk = payment if isinstance(payment, int) else payment.pk
    return str(RECEIPT_NUMBER_BASE + pk)


# The seed's codes for the service (« GERANCE:EAU »): French keeps them as written; the other
# languages say the service's name.
SERVICE_CODES = {
    "EAU": pgettext_lazy("gérance", "EAU"),
    "ELECTRICITE": pgettext_lazy("gérance", "ELECTRICITE"),
    "ASSAINISSEMENT": pgettext_lazy("gérance", "ASSAINISSEMENT"),
    "DIVERS": pgettext_lazy("gérance", "DIVERS"),
}


def bill_payment_description(bill: Bill, *, exigible: bool = False) -> str:
    """The bill as the payment pages and the receipt describe it (seed 001 step 3):
    ``GERANCE:ELECTRICITE, PERIODE:01/02/2018, DATE ECHEANCE:14/04/2018`` — other invoices name
    their object, exigible bills say so. In the active language (issue 12): the French wording is
    the seed's, unchanged."""
    service = bill.dossier.service if bill.dossier_id and bill.dossier else "DIVERS"
    service_name = SERVICE_CODES.get(service, service)
    parts = [gettext("GERANCE:%(service)s") % {"service": service_name}]
    if bill.kind != Bill.Kind.CONSUMPTION:
        parts.append(gettext("OBJET:%(object)s") % {"object": str(bill.get_kind_display()).upper()})
    if bill.period_start:
        parts.append(gettext("PERIODE:%(date)s") % {"date": f"{bill.period_start:%d/%m/%Y}"})
    parts.append(gettext("DATE ECHEANCE:%(date)s") % {"date": f"{bill.due_date:%d/%m/%Y}"})
    if exigible:
        parts.append(gettext("EXIGIBLE"))
    return pgettext("liste", ", ").join(parts)


def _payment_for_receipt(pk: int) -> Payment:
    return Payment.objects.select_related("customer", "received_by").get(pk=pk)


def payment_receipt_context(payment: Payment) -> dict:
    """What a receipt shows: the payment, the customer, what it paid, plus the providers' details."""
    allocations = list(
        payment.allocations.filter(reversal__isnull=True)
        .select_related("bill", "bill__dossier")
        .order_by("bill__due_date", "id")
    )
    lines = [
        {"reference": a.bill.number, "description": bill_payment_description(a.bill), "amount": a.amount}
        for a in allocations
    ]
    allocated = sum((a.amount for a in allocations), Decimal("0.00"))
    if payment.amount > allocated:
        lines.append(
            {
                "reference": gettext("AVANCE"),
                "description": gettext("Montant au crédit du compte"),
                "amount": payment.amount - allocated,
            }
        )
    context: dict[str, Any] = {
        "payment": payment,
        "customer": payment.customer,
        "number": receipt_number(payment),
        "paid_at": payment.paid_at,
        "method": payment.get_method_display(),
        "rows": [(gettext("Mode de paiement"), payment.get_method_display())]
        + ([(gettext("Référence"), payment.reference)] if payment.reference else [])
        + (
            [(gettext("Encaissé par"), payment.received_by.get_full_name() or payment.received_by.username)]
            if payment.received_by is not None  # no query when received_by_id is None
            else []
        ),
        "lines": lines,
        "fee": None,
        "total": payment.amount,
        "contract": payment.customer.code,
        "headline": gettext("Votre paiement a été enregistré"),
        "merchant": f"RAK ({settings.CMI_CLIENT_ID})" if getattr(settings, "CMI_CLIENT_ID", "") else "RAK",
    }
    for provider in _providers:
        extra = provider(payment)
        if extra:
            context.update(extra)
    context["total_words"] = amount_in_words(context["total"])
    return context


def render_receipt_pdf(context: dict, *, reference: str) -> bytes:
    from rak_base.pdf import pdf_render

    url = verification_url(reference)
    html = render_to_string(
        "rak_billing/pdf/receipt.html",
        {
            **context,
            "qr_uri": qr_data_uri(url),
            "verification_url": url,
            "verification_site": settings.SITE_URL.split("://", 1)[-1],
            "reference": reference_display(reference),
        },
    )
    return pdf_render(html)


def payment_receipt_pdf(payment: Payment, *, language: str | None = None) -> Document:
    """The registered PDF receipt of ``payment``: rendered and registered on the first call,
    the same Document afterwards (same SHA-256: the customer's copy can be verified). Written in
    ``language`` (the portal passes the page's), by default the customer's (a staff action)."""
    if PaymentReversal.objects.filter(payment_id=payment.pk).exists():
        raise DocumentError(gettext("Ce paiement a été annulé : son reçu n'est plus valable."))
    document = document_for_subject(kind=Document.Kind.RECEIPT, subject=payment)
    if document is not None:
        return document
    with transaction.atomic():
        Payment.objects.select_for_update().filter(pk=payment.pk).values_list("pk").first()  # one renderer
        document = document_for_subject(kind=Document.Kind.RECEIPT, subject=payment)
        if document is not None:
            return document
        payment = _payment_for_receipt(payment.pk)
        reference = document_reference_new()
        with translation.override(language or customer_language_code(payment.customer)):
            pdf = render_receipt_pdf(payment_receipt_context(payment), reference=reference)
            title = gettext("Reçu de paiement n° %(number)s — %(amount)s") % {
                "number": receipt_number(payment),
                "amount": money_format(payment.amount),
            }
        account = PortalAccount.objects.filter(customer_id=payment.customer_id).select_related("user").first()
        return document_register(
            kind=Document.Kind.RECEIPT,
            title=title,
            owner=account.user if account else None,
            owner_label=payment.customer.display_name,
            subject=payment,
            pdf_bytes=pdf,
            reference=reference,
        )
