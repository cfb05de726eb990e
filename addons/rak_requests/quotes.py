"""Quotes (devis) of connection requests, seen by the customer in « Mes devis ».

Staff issue a quote with its lines and VAT (``quote_issue``): it is numbered (``DV2026-000001``),
rendered as a registered PDF (kind QUOTE, QR code), becomes VALIDE, and the request enters the
« Devis » phase with the action « Accepter le devis » expected from the customer (SMS, e-mail,
bell). The customer accepts (``quote_accept``): the quote becomes ACCEPTE and the works invoice
(Bill kind WORKS, the quote's lines with their VAT, through ``rak_billing.api.bill_issue_other``)
is issued into ``request.fee_bill``; the request stays in « Devis » with the action « Payer ».
The invoice is paid online (``works_pay_start``: a CMI order, as for the subscription fees) or
at the counter / through a network; whatever settles it, the ledger's « facture réglée » hook
(``rak_requests.settlement``, handler registered for the « Devis » phase in ``apps.py``) calls
``works_paid_check``, which moves the request to « Travaux » with no human. A staff « Accepter
la phase » in « Devis » is refused until then (``devis_accept_check``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rak_base.documents import document_reference_new, document_register, reference_display, verification_url
from rak_base.errors import RakError
from rak_base.models import Document
from rak_base.money import amount_in_words, money_format, round_money
from rak_base.sequences import sequence_next
from rak_billing.api import OtherLine, bill_issue_other, vat_rate_other
from rak_billing.models import Bill
from rak_billing.pdf import qr_data_uri
from rak_customer.language import customer_language
from rak_customer.models import Customer, PortalAccount
from rak_payment_cmi.api import PaymentOrder, order_create_for_bills
from rak_requests.engine import OPEN_STATUSES, Notice, RequestError, request_lock, request_transition
from rak_requests.models import Phase, Quote, RequestEvent, RequestType, ServiceRequest

VALIDITY_DAYS = 30


class QuoteError(RakError):
    default_message = gettext_lazy("Cette action n'est pas possible sur ce devis.")


class QuoteNotAcceptable(QuoteError):
    default_message = gettext_lazy("Ce devis ne peut plus être accepté (déjà accepté, refusé ou expiré).")


class QuoteNotAccepted(RequestError):
    """« Accepter la phase » in « Devis » before the customer accepted a quote and paid the works."""

    default_message = gettext_lazy(
        "La phase « Devis » ne peut être acceptée qu'avec un devis accepté par le client : émettez le devis "
        "(menu « Devis »), le client l'accepte dans « Mes devis »."
    )


class WorksPaymentRefused(RequestError):
    default_message = gettext_lazy("Aucune facture de travaux n'est à payer sur cette demande.")


@dataclass(frozen=True)
class QuoteLine:
    label: str
    quantity: Decimal
    unit_price: Decimal

    @property
    def amount(self) -> Decimal:
        return round_money(self.quantity * self.unit_price)


QUANTITY_MAX = Decimal(100_000)
PRICE_MAX = Decimal(100_000_000)  # DH HT per unit; the amounts are DecimalField(14, 2)


def quote_lines_parse(text: str) -> list[QuoteLine]:
    """Back-office input, one line per row: ``libellé ; quantité ; prix unitaire HT``."""
    lines = []
    for number, row in enumerate((text or "").splitlines(), start=1):
        if not row.strip():
            continue
        parts = [p.strip() for p in row.split(";")]
        if len(parts) != 3 or not parts[0]:
            raise QuoteError(
                _("Ligne %(number)s : écrivez « libellé ; quantité ; prix unitaire HT ».") % {"number": number}
            )
        try:
            quantity = Decimal(parts[1].replace(",", "."))
            price = Decimal(parts[2].replace(",", ".").replace(" ", ""))
        except InvalidOperation as exc:
            raise QuoteError(_("Ligne %(number)s : quantité ou prix invalide.") % {"number": number}) from exc
        if not (quantity.is_finite() and price.is_finite()):  # NaN, Infinity: no comparison possible
            raise QuoteError(_("Ligne %(number)s : quantité ou prix invalide.") % {"number": number})
        if quantity > QUANTITY_MAX or price > PRICE_MAX:  # 1e309 would overflow the amounts (a 500)
            raise QuoteError(_("Ligne %(number)s : quantité ou prix hors limites.") % {"number": number})
        if quantity != quantity.quantize(Decimal("0.001")):
            raise QuoteError(_("Ligne %(number)s : la quantité a trois décimales au plus.") % {"number": number})
        if price != price.quantize(Decimal("0.01")):
            raise QuoteError(_("Ligne %(number)s : le prix a deux décimales au plus.") % {"number": number})
        if quantity <= 0 or price < 0:
            raise QuoteError(
                _("Ligne %(number)s : la quantité doit être positive et le prix non négatif.") % {"number": number}
            )
        lines.append(QuoteLine(parts[0], quantity, price))
    if not lines:
        raise QuoteError(_("Le devis doit comporter au moins une ligne."))
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
    vat_rate: Decimal | None = None,
    validity_days: int = VALIDITY_DAYS,
) -> Quote:
    """Staff issue a valid quote for a connection request in its « Étude technique » or « Devis »
    phase; the customer is asked to accept it. ``vat_rate`` None: the VAT table's normal rate
    (« frais et travaux ») in force on the day of issue."""
    if vat_rate is None:
        vat_rate = quote_vat_rate(now=now)
    request = request_lock(request_id=request_id)  # then read: its phase as it is after any wait
    if request.request_type.code != RequestType.Code.CONNECTION:
        raise QuoteError(_("Un devis ne s'émet que pour une demande de branchement."))
    if request.status not in (ServiceRequest.Status.EN_COURS, ServiceRequest.Status.COMPLEMENT_DEMANDE):
        raise QuoteError(_("Cette demande est close : aucun devis ne peut être émis."))
    if request.phase is None or request.phase.code not in (Phase.Code.ETUDE, Phase.Code.DEVIS):
        raise QuoteError(_("Le devis s'émet pendant l'étude technique."))
    if not lines:
        raise QuoteError(_("Le devis doit comporter au moins une ligne."))
    accepted = request.quotes.filter(status=Quote.Status.ACCEPTE).first()
    if accepted is not None:
        raise QuoteError(
            _("Le devis %(number)s a déjà été accepté par le client : aucun nouveau devis ne peut être émis.")
            % {"number": accepted.number}
        )
    request.quotes.filter(status=Quote.Status.VALIDE).update(status=Quote.Status.EXPIRE)
    # VAT per line, rounded per line: the works invoice (bill_issue_other) computes it the same way,
    # so the invoice's totals are the quote's to the centime
    amount_ht = round_money(sum((line.amount for line in lines), Decimal(0)))
    amount_tva = sum((round_money(line.amount * vat_rate) for line in lines), Decimal(0))
    quote = Quote.objects.create(
        request=request,
        number=quote_number_next(now=now),
        lines=[
            {
                "label": li.label,
                "quantity": str(li.quantity),
                "unit_price": str(li.unit_price),
                "amount": str(li.amount),
                "vat_rate": str(vat_rate),
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
    with customer_language(request.customer):  # the agent issues it; the customer reads it
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
        message=_("Devis %(number)s : %(amount)s TTC, valable jusqu'au %(until)s.")
        % {"number": quote.number, "amount": money_format(quote.amount_ttc), "until": f"{quote.valid_until:%d/%m/%Y}"},
        data={"quote": quote.number},
        notice=Notice(
            subject=gettext_lazy("Votre devis est disponible"),
            text=lambda: (
                _(
                    "votre devis %(number)s (%(amount)s TTC) est disponible dans « Mes devis ». "
                    "Acceptez-le pour lancer les travaux."
                )
                % {"number": quote.number, "amount": money_format(quote.amount_ttc, plain_space=True)}
            ),
        ),
    )
    return quote


def _quote_pdf(*, quote: Quote, vat_rate: Decimal) -> Document:
    from rak_base.pdf import pdf_render

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
    pdf = pdf_render(html)
    account = PortalAccount.objects.filter(customer_id=request.customer_id).select_related("user").first()
    return document_register(
        kind=Document.Kind.QUOTE,
        title=_("Devis %(quote)s — demande %(request)s") % {"quote": quote.number, "request": request.number},
        owner=account.user if account else None,
        owner_label=request.customer.display_name,
        subject=quote,
        pdf_bytes=pdf,
        reference=reference,
    )


def quote_vat_rate(*, now: datetime) -> Decimal:
    """The VAT rate a quote issued at ``now`` carries: the table's « frais et travaux » rate."""
    return vat_rate_other(on_date=timezone.localdate(now))


def quote_other_lines(quote: Quote) -> list[OtherLine]:
    """The quote's lines as the works invoice's lines (label, quantity, unit price HT, VAT rate of
    the line; a quote issued before the rate was kept per line uses the quote's own rate)."""
    fallback = (quote.amount_tva / quote.amount_ht).quantize(Decimal("0.0001")) if quote.amount_ht else Decimal(0)
    return [
        OtherLine(
            label=line["label"],
            unit_price=Decimal(line["unit_price"]),
            quantity=Decimal(line["quantity"]),
            vat_rate=Decimal(line["vat_rate"]) if line.get("vat_rate") not in (None, "") else fallback,
        )
        for line in quote.lines
    ]


@transaction.atomic
def quote_accept(*, quote_id: int, customer: Customer, now: datetime, actor=None) -> Quote:
    """The customer accepts their valid quote: ACCEPTE, and the works invoice is issued (payable
    online or at the counter); its payment moves the request to « Travaux »."""
    request_id = Quote.objects.filter(pk=quote_id, request__customer=customer).values_list("request_id", flat=True)
    if not request_id:
        raise Quote.DoesNotExist()
    # the request first, then the quote: the order quote_issue takes them in (no deadlock between a
    # customer accepting and an agent issuing a new quote at the same instant)
    request = request_lock(request_id=request_id[0])
    quote = Quote.objects.select_for_update().get(pk=quote_id)
    if quote.status != Quote.Status.VALIDE or (quote.valid_until and quote.valid_until < timezone.localdate(now)):
        raise QuoteNotAcceptable()
    if request.status not in OPEN_STATUSES or request.phase is None or request.phase.code != Phase.Code.DEVIS:
        raise QuoteNotAcceptable(_("Ce devis ne peut plus être accepté : la demande a changé entre-temps."))
    quote.status = Quote.Status.ACCEPTE
    quote.accepted_at = now
    quote.save(update_fields=["status", "accepted_at"])
    bill = bill_issue_other(
        kind=Bill.Kind.WORKS,
        customer=request.customer,
        lines=quote_other_lines(quote),
        issue_date=timezone.localdate(now),
        now=now,
    )
    ServiceRequest.objects.filter(pk=request.pk).update(fee_bill=bill)
    request_transition(
        request_id=request.pk,
        now=now,
        event_kind=RequestEvent.Kind.QUOTE_ACCEPTED,
        actor=actor,
        actor_kind=RequestEvent.Actor.CUSTOMER,
        expect_phase=Phase.Code.DEVIS,
        message=_("Devis %(number)s accepté.") % {"number": quote.number},
        data={"quote": quote.number},
    )

    def text() -> str:  # composed in the customer's language by notify_customer
        return _(
            "vous avez accepté le devis %(quote)s. Payez la facture des travaux %(bill)s (%(amount)s) en ligne "
            "depuis « Suivi des demandes » ou en agence : les travaux de branchement seront programmés dès son "
            "paiement."
        ) % {"quote": quote.number, "bill": bill.number, "amount": money_format(bill.total_ttc, plain_space=True)}

    request_transition(
        request_id=request.pk,
        now=now,
        event_kind=RequestEvent.Kind.WORKS_INVOICED,
        actor_kind=RequestEvent.Actor.SYSTEM,
        expect_phase=Phase.Code.DEVIS,
        action=ServiceRequest.Action.PAY,
        message=_("Facture des travaux %(bill)s : %(amount)s TTC (devis %(quote)s).")
        % {"bill": bill.number, "amount": money_format(bill.total_ttc), "quote": quote.number},
        data={"quote": quote.number, "bill": bill.number, "amount": str(bill.total_ttc)},
        notice=Notice(subject=gettext_lazy("Facture des travaux de branchement"), text=text),
    )
    if bill.settled_at is not None:  # the customer's credit paid it at once
        works_paid_check(request_id=request.pk, now=now)
    return quote


def request_accepted_quote(request: ServiceRequest) -> Quote | None:
    return request.quotes.filter(status=Quote.Status.ACCEPTE).order_by("-accepted_at", "-id").first()


def devis_accept_check(*, request: ServiceRequest) -> None:
    """Staff « Accepter la phase » in « Devis »: refused (French message) until the customer
    accepted a quote and its works invoice is paid — the payment itself moves the request on."""
    quote = request_accepted_quote(request)
    if quote is None:
        raise QuoteNotAccepted()
    bill = (
        Bill.objects.filter(pk=request.fee_bill_id, kind=Bill.Kind.WORKS).first()
        if request.fee_bill_id is not None
        else None
    )
    if bill is None:
        raise QuoteNotAccepted(
            _("Le devis %(number)s est accepté mais sa facture des travaux n'est pas émise.") % {"number": quote.number}
        )
    if bill.settled_at is None:
        raise QuoteNotAccepted(
            _(
                "La facture des travaux %(number)s n'est pas encore réglée : la demande passera aux travaux dès "
                "son paiement (en ligne ou en agence)."
            )
            % {"number": bill.number}
        )


def works_bill_payable(request: ServiceRequest) -> bool:
    """The request waits for the payment of its works invoice (« Payer les travaux » is shown)."""
    return (
        request.status in OPEN_STATUSES
        and request.phase is not None
        and request.phase.code == Phase.Code.DEVIS
        and request.fee_bill is not None
        and request.fee_bill.kind == Bill.Kind.WORKS
        and request.fee_bill.settled_at is None
    )


def works_pay_start(*, request_id: int, customer: Customer, email: str, now: datetime) -> PaymentOrder:
    """The CMI payment order for the request's works invoice (then ``order_checkout_form``)."""
    with transaction.atomic():
        request = request_lock(request_id=request_id)
        if request.customer_id != customer.pk:
            raise ServiceRequest.DoesNotExist()
        fee_bill_id = request.fee_bill_id
        if fee_bill_id is None or not works_bill_payable(request):  # not payable without a fee bill
            if request.fee_bill is not None and request.fee_bill.settled_at is not None:
                raise WorksPaymentRefused(_("La facture des travaux est déjà payée."))
            raise WorksPaymentRefused()
        bill = Bill.objects.get(pk=fee_bill_id)
    return order_create_for_bills(
        customer=customer, bills=[bill], email=email, now=now, purpose=PaymentOrder.Purpose.REQUEST_FEE
    )


@transaction.atomic
def works_paid_check(*, request_id: int, now: datetime, actor=None) -> bool:
    """If the request waits in « Devis » for its works invoice and the invoice is settled (card,
    agency counter, other network, credit), move it to « Travaux ». Returns whether it moved;
    safe to call any number of times."""
    request = request_lock(request_id=request_id)
    if (
        request.status not in OPEN_STATUSES
        or request.phase is None
        or request.phase.code != Phase.Code.DEVIS
        or request.fee_bill_id is None
    ):
        return False
    bill = Bill.objects.only("settled_at", "number", "kind").get(pk=request.fee_bill_id)
    if bill.kind != Bill.Kind.WORKS or bill.settled_at is None:
        return False
    works = request.request_type.phases.filter(code=Phase.Code.TRAVAUX).first()
    request_transition(
        request_id=request.pk,
        now=now,
        event_kind=RequestEvent.Kind.WORKS_PAID,
        actor=actor,
        actor_kind=RequestEvent.Actor.SYSTEM if actor is None else RequestEvent.Actor.STAFF,
        expect_phase=Phase.Code.DEVIS,
        to_phase=works,
        action=ServiceRequest.Action.NONE,
        message=_("Facture des travaux %(number)s payée : travaux de branchement à programmer.")
        % {"number": bill.number},
        data={"bill": bill.number},
        notice=Notice(
            subject=gettext_lazy("Facture des travaux payée"),
            text=gettext_lazy("votre facture des travaux est payée : les travaux de branchement vont être programmés."),
        ),
    )
    return True
