"""Quotes (devis) of connection requests, seen by the customer in « Mes devis ».

Staff issue a quote with its lines and VAT (``quote_issue``): it is numbered (``DV2026-000001``),
rendered as a registered PDF (kind QUOTE, QR code), becomes VALIDE, and the request enters the
« Devis » phase with the action « Accepter le devis » expected from the customer (SMS, e-mail,
bell). The customer accepts (``quote_accept``): the quote becomes ACCEPTE and the request moves on
to « Travaux » through ``request_transition``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from rak_base.documents import document_reference_new, document_register, reference_display, verification_url
from rak_base.errors import RakError
from rak_base.models import Document
from rak_base.money import amount_in_words, round_money
from rak_base.sequences import sequence_next
from rak_billing.pdf import qr_data_uri
from rak_customer.models import Customer, PortalAccount
from rak_requests.engine import Notice, request_transition
from rak_requests.models import Phase, Quote, RequestEvent, RequestType, ServiceRequest

VAT_RATE = Decimal("0.20")
VALIDITY_DAYS = 30


class QuoteError(RakError):
    default_message = "Cette action n'est pas possible sur ce devis."


class QuoteNotAcceptable(QuoteError):
    default_message = "Ce devis ne peut plus être accepté (déjà accepté, refusé ou expiré)."


@dataclass(frozen=True)
class QuoteLine:
    label: str
    quantity: Decimal
    unit_price: Decimal

    @property
    def amount(self) -> Decimal:
        return round_money(self.quantity * self.unit_price)


def quote_lines_parse(text: str) -> list[QuoteLine]:
    """Back-office input, one line per row: ``libellé ; quantité ; prix unitaire HT``."""
    lines = []
    for number, row in enumerate((text or "").splitlines(), start=1):
        if not row.strip():
            continue
        parts = [p.strip() for p in row.split(";")]
        if len(parts) != 3 or not parts[0]:
            raise QuoteError(f"Ligne {number} : écrivez « libellé ; quantité ; prix unitaire HT ».")
        try:
            quantity = Decimal(parts[1].replace(",", "."))
            price = Decimal(parts[2].replace(",", ".").replace(" ", ""))
        except InvalidOperation as exc:
            raise QuoteError(f"Ligne {number} : quantité ou prix invalide.") from exc
        if quantity <= 0 or price < 0:
            raise QuoteError(f"Ligne {number} : la quantité doit être positive et le prix non négatif.")
        lines.append(QuoteLine(parts[0], quantity, price))
    if not lines:
        raise QuoteError("Le devis doit comporter au moins une ligne.")
    return lines


def quote_number_next(*, now: datetime) -> str:
    year = timezone.localtime(now).year
    return f"DV{year}-{sequence_next(name=f'quote:{year}', start=1):06d}"


@transaction.atomic
def quote_issue(
    *,
    request_id: int,
    lines: list[QuoteLine],
    now: datetime,
    actor,
    vat_rate: Decimal = VAT_RATE,
    validity_days: int = VALIDITY_DAYS,
) -> Quote:
    """Staff issue a valid quote for a connection request in its « Étude technique » or « Devis »
    phase; the customer is asked to accept it."""
    request = (
        ServiceRequest.objects.select_for_update(of=("self",))
        .select_related("request_type", "phase")
        .get(pk=request_id)
    )
    if request.request_type.code != RequestType.Code.CONNECTION:
        raise QuoteError("Un devis ne s'émet que pour une demande de branchement.")
    if request.status not in (ServiceRequest.Status.EN_COURS, ServiceRequest.Status.COMPLEMENT_DEMANDE):
        raise QuoteError("Cette demande est close : aucun devis ne peut être émis.")
    if request.phase is None or request.phase.code not in (Phase.Code.ETUDE, Phase.Code.DEVIS):
        raise QuoteError("Le devis s'émet pendant l'étude technique.")
    if not lines:
        raise QuoteError("Le devis doit comporter au moins une ligne.")
    request.quotes.filter(status=Quote.Status.VALIDE).update(status=Quote.Status.EXPIRE)
    amount_ht = round_money(sum((line.amount for line in lines), Decimal(0)))
    amount_tva = round_money(amount_ht * vat_rate)
    quote = Quote.objects.create(
        request=request,
        number=quote_number_next(now=now),
        lines=[
            {
                "label": li.label,
                "quantity": str(li.quantity),
                "unit_price": str(li.unit_price),
                "amount": str(li.amount),
            }
            for li in lines
        ],
        amount_ht=amount_ht,
        amount_tva=amount_tva,
        amount_ttc=amount_ht + amount_tva,
        status=Quote.Status.VALIDE,
        valid_until=timezone.localdate(now) + timedelta(days=validity_days),
        issued_at=now,
    )
    quote.document = _quote_pdf(quote=quote, vat_rate=vat_rate)
    quote.save(update_fields=["document"])
    devis_phase = request.request_type.phases.filter(code=Phase.Code.DEVIS).first()
    request_transition(
        request_id=request.pk,
        now=now,
        event_kind=RequestEvent.Kind.QUOTE_ISSUED,
        actor=actor,
        to_phase=devis_phase,
        action=ServiceRequest.Action.ACCEPT_QUOTE,
        message=f"Devis {quote.number} : {quote.amount_ttc} DH TTC, valable jusqu'au {quote.valid_until:%d/%m/%Y}.",
        data={"quote": quote.number},
        notice=Notice(
            subject="Votre devis est disponible",
            text=(
                f"votre devis {quote.number} ({quote.amount_ttc} DH TTC) est disponible dans « Mes devis ». "
                "Acceptez-le pour lancer les travaux."
            ),
        ),
    )
    return quote


def _quote_pdf(*, quote: Quote, vat_rate: Decimal) -> Document:
    from weasyprint import HTML

    request = quote.request
    reference = document_reference_new()
    url = verification_url(reference)
    html = render_to_string(
        "rak_requests/pdf/quote.html",
        {
            "quote": quote,
            "request": request,
            "customer": request.customer,
            "vat_percent": round_money(vat_rate * 100).normalize(),
            "amount_words": amount_in_words(quote.amount_ttc),
            "reference": reference_display(reference),
            "qr_uri": qr_data_uri(url),
            "issued_at": timezone.localtime(quote.issued_at),
        },
    )
    pdf = HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
    account = PortalAccount.objects.filter(customer_id=request.customer_id).select_related("user").first()
    return document_register(
        kind=Document.Kind.QUOTE,
        title=f"Devis {quote.number} — demande {request.number}",
        owner=account.user if account else None,
        owner_label=request.customer.display_name,
        subject=quote,
        pdf_bytes=pdf,
        reference=reference,
    )


@transaction.atomic
def quote_accept(*, quote_id: int, customer: Customer, now: datetime, actor=None) -> Quote:
    """The customer accepts their valid quote: ACCEPTE, and the request goes to « Travaux »."""
    quote = (
        Quote.objects.select_for_update(of=("self",))
        .select_related("request__request_type")
        .filter(pk=quote_id, request__customer=customer)
        .first()
    )
    if quote is None:
        raise Quote.DoesNotExist()
    if quote.status != Quote.Status.VALIDE or (quote.valid_until and quote.valid_until < timezone.localdate(now)):
        raise QuoteNotAcceptable()
    quote.status = Quote.Status.ACCEPTE
    quote.accepted_at = now
    quote.save(update_fields=["status", "accepted_at"])
    works = quote.request.request_type.phases.filter(code=Phase.Code.TRAVAUX).first()
    request_transition(
        request_id=quote.request_id,
        now=now,
        event_kind=RequestEvent.Kind.QUOTE_ACCEPTED,
        actor=actor,
        actor_kind=RequestEvent.Actor.CUSTOMER,
        to_phase=works,
        action=ServiceRequest.Action.NONE,
        message=f"Devis {quote.number} accepté.",
        data={"quote": quote.number},
        notice=Notice(
            subject="Devis accepté",
            text=f"vous avez accepté le devis {quote.number}. Les travaux de branchement vont être programmés.",
            sms=False,
        ),
    )
    return quote
