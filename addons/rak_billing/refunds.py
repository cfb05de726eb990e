"""Refunds (« Demande de remboursement », « Mes remboursements »): the money the RAK owes a customer
and its payout.

What the customer is owed is their credit: the ledger's balance when it is negative, held as the
unused part of their payments and credit notes. Each such remainder is a refundable item with its
origin (seed 000: « suite à une opération de résiliation, avance devis ou de double paiement »):

- a credit note on the subscription invoice (deposit) or on a terminated dossier, or a terminated
  dossier's deposit released: « Résiliation » (the deposit above the last bills);
- a credit note on an advance invoice (the provision given back at a termination, « Restitution
  de la provision »): « Provision (carte congé) restituée »;
- a credit note on a works invoice: « Avance sur devis » (a quote paid and not carried out);
- a payment that paid nothing: « Double paiement » (the bills were already settled);
- a payment's remainder above what it paid: « Trop-perçu conservé en crédit »;
- any other credit note: « Avoir ».

Services (keyword-only, atomic, under the customer's row lock — the ledger's lock order):
- ``refund_record``: pays out ``amount`` (default: all the credit) by transfer to a validated RIB,
  cheque or cash at an agency; refused above the credit available or when nothing is owed;
  idempotent on ``external_id`` (the request engine passes ``REQ:<n° de demande>``), so two clicks,
  two agents or a retry never pay twice. One REFUND ledger entry (a debit), the credit consumed
  source by source (``RefundAllocation``: never applied to a bill afterwards), a receipt PDF
  registered (« Vérifier des documents »), the customer told by SMS, e-mail and bell.
- ``refund_cancel``: a reason, a ``RefundCancellation`` row, a REFUND_CANCEL entry (a credit),
  negative allocations giving the credit back, the receipt revoked. Never a delete.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Sum
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rak_base.documents import (
    document_reference_new,
    document_register,
    documents_revoke,
    reference_display,
    verification_url,
)
from rak_base.errors import RakError
from rak_base.models import Document
from rak_base.money import amount_in_words, money_format, round_money
from rak_base.outbox import event_key, message_queue_bell, message_queue_email, message_queue_sms
from rak_base.rib import InvalidRib, rib_validate
from rak_billing.ledger import (
    ZERO,
    _announce_settled,
    _apply_credit,
    _local_date,
    _lock_customer,
    _used_subquery,
    bills_open,
    bills_with_outstanding,
    customer_balance,
)
from rak_billing.models import (
    Bill,
    DossierClosing,
    LedgerEntry,
    Payment,
    PaymentAllocation,
    Refund,
    RefundAllocation,
    RefundCancellation,
)
from rak_billing.pdf import qr_data_uri
from rak_customer.language import customer_language
from rak_customer.models import Customer, Dossier, PortalAccount
from rak_customer.selectors import customer_email, customer_sms_phone

REFUND_RECEIPT_BASE = 30_000_000_000


class RefundRefused(RakError):
    default_message = gettext_lazy("Le remboursement ne peut pas être enregistré.")


class RefundCancelRefused(RakError):
    default_message = gettext_lazy("Le remboursement ne peut pas être annulé.")


# --- what the customer is owed ----------------------------------------------------------------------


class Origin:
    TERMINATION = "TERMINATION"
    PROVISION = "PROVISION"
    QUOTE_ADVANCE = "QUOTE_ADVANCE"
    DOUBLE_PAYMENT = "DOUBLE_PAYMENT"
    OVERPAYMENT = "OVERPAYMENT"
    CREDIT_NOTE = "CREDIT_NOTE"


ORIGIN_LABELS = {
    Origin.TERMINATION: gettext_lazy("Résiliation : dépôt de garantie au-delà des dernières factures"),
    Origin.PROVISION: gettext_lazy("Provision (carte congé) restituée"),
    Origin.QUOTE_ADVANCE: gettext_lazy("Avance sur devis"),
    Origin.DOUBLE_PAYMENT: gettext_lazy("Double paiement"),
    Origin.OVERPAYMENT: gettext_lazy("Trop-perçu conservé en crédit"),
    Origin.CREDIT_NOTE: gettext_lazy("Avoir"),
}


@dataclass(frozen=True)
class RefundableItem:
    """One remainder of credit: ``key`` is ``P<payment id>`` or ``C<credit note id>``."""

    key: str
    amount: Decimal
    origin: str
    date: datetime.date
    reference: str
    dossier_number: str = ""

    @property
    def origin_label(self) -> str:
        return str(ORIGIN_LABELS[self.origin])


def _credit_note_origin(note: Bill, *, deposit: bool = False) -> str:
    """``deposit``: the note is a terminated dossier's deposit released (``DossierClosing``)."""
    credited = note.credited_bill
    dossier = note.dossier
    if not deposit and credited is not None and credited.kind == Bill.Kind.ADVANCE:
        # the provision (« carte congé ») given back (« Restitution de la provision », at a termination)
        return Origin.PROVISION
    if (
        deposit
        # the deposit paid at subscription
        or (credited is not None and credited.kind == Bill.Kind.SUBSCRIPTION)
        or (dossier is not None and dossier.status == Dossier.Status.TERMINATED)
    ):
        return Origin.TERMINATION
    if credited is not None and credited.kind == Bill.Kind.WORKS:
        return Origin.QUOTE_ADVANCE
    return Origin.CREDIT_NOTE


def _sources(customer_id: int) -> list[tuple[RefundableItem, Payment | Bill]]:
    """Every unused remainder of the customer's payments and credit notes, oldest first (2 queries)."""
    items: list[tuple[RefundableItem, Payment | Bill]] = []
    payments = (
        Payment.objects.filter(customer_id=customer_id, reversal__isnull=True)
        .annotate(
            used=_used_subquery("payment"),
            paid_bills=Exists(PaymentAllocation.objects.filter(payment=OuterRef("pk"), reversal__isnull=True)),
        )
        .order_by("paid_at", "id")
    )
    for payment in payments:
        left = round_money(payment.amount - payment.used)
        if left <= ZERO:
            continue
        origin = Origin.OVERPAYMENT if payment.paid_bills or payment.reason else Origin.DOUBLE_PAYMENT
        reference = payment.reference or payment.get_method_display()
        item = RefundableItem(f"P{payment.pk}", left, origin, _local_date(payment.paid_at), str(reference))
        items.append((item, payment))
    notes = (
        Bill.objects.filter(customer_id=customer_id, kind=Bill.Kind.CREDIT_NOTE)
        .select_related("credited_bill", "dossier")
        .annotate(
            used=_used_subquery("credit_note"),
            deposit=Exists(DossierClosing.objects.filter(deposit_note=OuterRef("pk"))),
        )
        .order_by("issue_date", "id")
    )
    for note in notes:
        left = round_money(note.total_ttc - note.used)
        if left <= ZERO:
            continue
        item = RefundableItem(
            f"C{note.pk}",
            left,
            _credit_note_origin(note, deposit=note.deposit),
            note.issue_date,
            note.number,
            note.dossier.number if note.dossier is not None else "",
        )
        items.append((item, note))
    items.sort(key=lambda pair: (pair[0].date, pair[0].key))
    return items


def refund_credit_available(customer: Customer | int) -> Decimal:
    """What can be paid back now: the credit balance (the ledger's sum when negative), never more
    than the unused payments and credit notes that hold it."""
    customer_id = customer if isinstance(customer, int) else customer.pk
    balance = customer_balance(customer_id)
    if balance >= ZERO:
        return ZERO
    held = sum((item.amount for item, _source in _sources(customer_id)), ZERO)
    return min(-balance, held)


def refundable_items(customer: Customer | int) -> list[RefundableItem]:
    """The refunds the customer is owed, each with its amount and origin (oldest first), within
    the credit balance (3 queries)."""
    customer_id = customer if isinstance(customer, int) else customer.pk
    balance = customer_balance(customer_id)
    if balance >= ZERO:
        return []
    left = -balance
    items = []
    for item, _source in _sources(customer_id):
        if left <= ZERO:
            break
        amount = min(item.amount, left)
        items.append(item if amount == item.amount else RefundableItem(**{**item.__dict__, "amount": amount}))
        left -= amount
    return items


def customer_unpaid_amount(customer: Customer | int) -> Decimal:
    """« Solde des impayés »: what is left to pay on the customer's bills not settled (1 query)."""
    customer_id = customer if isinstance(customer, int) else customer.pk
    total = ZERO
    for bill in bills_with_outstanding(bills_open(customer_id)).only("pk", "total_ttc"):
        total += round_money(bill.total_ttc - bill.paid)
    return total


# --- reads for « Mes remboursements » and the back office ----------------------------------------------


def customer_refunds(customer_id: int):
    """The customer's refunds, newest first, with their cancellation and receipt (one query)."""
    return (
        Refund.objects.filter(customer_id=customer_id)
        .select_related("cancellation", "receipt")
        .order_by("-paid_at", "-id")
    )


def customer_refund(customer_id: int, refund_id: int) -> Refund | None:
    return Refund.objects.filter(customer_id=customer_id, pk=refund_id).select_related("receipt").first()


def refund_for_external_id(external_id: str) -> Refund | None:
    return Refund.objects.filter(external_id=external_id).select_related("cancellation").first()


def refund_receipt_number(refund: Refund | int) -> str:
    """« N° de reçu de remboursement »: 11 digits, derived from the refund."""
    pk = refund if isinstance(refund, int) else refund.pk
    return str(REFUND_RECEIPT_BASE + pk)


# --- record ------------------------------------------------------------------------------------------


def _same_refund(existing: Refund, *, customer: Customer, amount: Decimal | None) -> Refund:
    if existing.customer_id != customer.pk or (amount is not None and existing.amount != round_money(amount)):
        raise RefundRefused(
            _("La référence %(ref)s est déjà enregistrée pour un autre remboursement (%(amount)s, client %(code)s).")
            % {"ref": existing.external_id, "amount": money_format(existing.amount), "code": existing.customer.code}
        )
    return existing


def _rib_checked(method: str, rib: str) -> tuple[str, str]:
    if method != Refund.Method.VIREMENT:
        return "", ""
    if not (rib or "").strip():
        raise RefundRefused(_("Saisissez le RIB du client (24 chiffres) pour un virement."), field="rib")
    try:
        checked = rib_validate(rib)
    except InvalidRib as exc:
        raise RefundRefused(exc.message, field="rib") from exc
    return checked.number, checked.bank_name


@transaction.atomic
def refund_record(
    *,
    customer: Customer,
    method: str,
    paid_at: datetime.datetime,
    now: datetime.datetime,
    recorded_by,
    amount: Decimal | None = None,
    rib: str = "",
    reference: str = "",
    external_id: str | None = None,
    request_ref: str = "",
    sources: tuple[str, ...] = (),
) -> Refund:
    """Pay ``amount`` (default: all the credit available) back to ``customer``. ``sources``: the
    refundable items' keys to take first (the item the customer asked for). Recording the same
    ``external_id`` again returns the first refund and pays nothing."""
    if external_id:
        existing = Refund.objects.filter(external_id=external_id).select_related("customer").first()
        if existing is not None:
            return _same_refund(existing, customer=customer, amount=amount)
    if recorded_by is None:
        raise RefundRefused(_("Le remboursement doit être enregistré par un agent identifié."))
    if method not in Refund.Method.values:
        raise RefundRefused(_("Choisissez le mode de versement."), field="method")
    if paid_at > now:
        raise RefundRefused(_("La date du remboursement ne peut pas être dans le futur."), field="paid_at")
    rib_digits, bank_name = _rib_checked(method, rib)
    _lock_customer(customer.pk)  # two agents, two tabs: the second sees the credit already paid out
    if external_id:  # recorded by a transaction that committed while this one waited for the lock
        existing = Refund.objects.filter(external_id=external_id).select_related("customer").first()
        if existing is not None:
            return _same_refund(existing, customer=customer, amount=amount)
    available = refund_credit_available(customer.pk)
    if available <= ZERO:
        raise RefundRefused(_("Ce client n'a aucun crédit à rembourser."), field="amount")
    amount = available if amount is None else round_money(amount)
    if amount <= ZERO:
        raise RefundRefused(_("Le montant du remboursement doit être positif."), field="amount")
    if amount > available:
        raise RefundRefused(
            _("Le montant (%(amount)s) dépasse le crédit du client (%(available)s).")
            % {"amount": money_format(amount), "available": money_format(available)},
            field="amount",
        )
    try:
        with transaction.atomic():
            refund = Refund.objects.create(
                customer=customer,
                amount=amount,
                method=method,
                rib=rib_digits,
                bank_name=bank_name[:80],
                reference=(reference or "").strip()[:64],
                external_id=external_id or None,
                request_ref=(request_ref or "")[:40],
                paid_at=paid_at,
                recorded_by=recorded_by,
            )
    except IntegrityError:  # the same external id for another customer, recorded concurrently
        existing = Refund.objects.filter(external_id=external_id).select_related("customer").first()
        if existing is None:
            raise
        return _same_refund(existing, customer=customer, amount=amount)
    # the credit paid out, source by source: the item asked for first, then the oldest
    ordered = sorted(_sources(customer.pk), key=lambda pair: (pair[0].key not in sources, pair[0].date, pair[0].key))
    left, rows = amount, []
    for item, source in ordered:
        if left <= ZERO:
            break
        part = min(item.amount, left)
        rows.append(
            RefundAllocation(
                refund=refund,
                payment=source if isinstance(source, Payment) else None,
                credit_note=source if isinstance(source, Bill) else None,
                amount=part,
            )
        )
        left -= part
    RefundAllocation.objects.bulk_create(rows)
    LedgerEntry.objects.create(
        customer=customer,
        kind=LedgerEntry.Kind.REFUND,
        entry_date=_local_date(paid_at),
        amount=amount,
        refund=refund,
        label=_refund_label(refund)[:160],
    )
    refund.receipt = refund_receipt_register(refund=refund)
    refund.save(update_fields=["receipt"])
    _refund_notify(refund)
    return refund


def _refund_label(refund: Refund) -> str:
    label = _("Remboursement — %(method)s") % {"method": refund.get_method_display()}
    if refund.reference:
        label += f" ({refund.reference})"
    return label


def refund_receipt_register(*, refund: Refund) -> Document:
    """Render the « Reçu de remboursement » and register it (QR code, « Vérifier des documents »), in
    the customer's language (it is rendered by the agent's action)."""
    with customer_language(refund.customer):
        return _refund_receipt_render(refund)


def _refund_receipt_render(refund: Refund) -> Document:
    from rak_base.pdf import pdf_render

    reference = document_reference_new()
    url = verification_url(reference)
    customer = refund.customer
    rib = refund.rib
    html = render_to_string(
        "rak_billing/pdf/refund_receipt.html",
        {
            "refund": refund,
            "customer": customer,
            "number": refund_receipt_number(refund),
            "paid_at": timezone.localtime(refund.paid_at),
            "rib_masked": f"{rib[:3]} … {rib[-4:]}" if rib else "",
            "origins": [
                (
                    str(ORIGIN_LABELS[_allocation_origin(a)]),
                    _allocation_source_number(a),
                    a.amount,
                )
                for a in refund.allocations.select_related(
                    "payment", "credit_note", "credit_note__credited_bill", "credit_note__dossier"
                ).order_by("id")
            ],
            "total_words": amount_in_words(refund.amount),
            "qr_uri": qr_data_uri(url),
            "verification_url": url,
            "reference": reference_display(reference),
        },
    )
    account = PortalAccount.objects.filter(customer_id=refund.customer_id).select_related("user").first()
    return document_register(
        kind=Document.Kind.RECEIPT,
        title=_("Reçu de remboursement n° %(number)s — %(amount)s")
        % {"number": refund_receipt_number(refund), "amount": money_format(refund.amount)},
        owner=account.user if account else None,
        owner_label=customer.display_name,
        subject=refund,
        pdf_bytes=pdf_render(html),
        reference=reference,
    )


def _allocation_source(allocation: RefundAllocation) -> Payment | Bill:
    """The payment or the credit note the refund paid out of (exactly one: refund_allocation_one_source)."""
    source = allocation.payment or allocation.credit_note  # no query for the one whose id is None
    if source is None:
        raise RuntimeError(f"refund allocation {allocation.pk} without a payment or a credit note")
    return source


def _allocation_source_number(allocation: RefundAllocation) -> str:
    source = _allocation_source(allocation)
    return source.reference if isinstance(source, Payment) else source.number


def _allocation_origin(allocation: RefundAllocation) -> str:
    source = _allocation_source(allocation)
    if isinstance(source, Bill):
        deposit = DossierClosing.objects.filter(deposit_note_id=source.pk).exists()
        return _credit_note_origin(source, deposit=deposit)
    payment = source
    paid_bills = PaymentAllocation.objects.filter(payment=payment, reversal__isnull=True).exists()
    return Origin.OVERPAYMENT if paid_bills or payment.reason else Origin.DOUBLE_PAYMENT


def _refund_notify(refund: Refund) -> None:
    """SMS, e-mail and bell: « votre remboursement de … a été effectué » (outbox, same transaction),
    in the customer's language."""
    with customer_language(refund.customer):
        _refund_notify_compose(refund)


def _refund_notify_compose(refund: Refund) -> None:
    customer = refund.customer
    account = PortalAccount.objects.select_related("user").filter(customer_id=customer.pk).first()
    user = account.user if account else None
    hows: dict[str, str] = {
        Refund.Method.VIREMENT: _("par virement sur votre compte bancaire"),
        Refund.Method.CHEQUE: _("par chèque"),
        Refund.Method.ESPECES: _("en espèces à l'agence"),
    }
    how = hows[refund.method]
    text = _("votre remboursement de %(amount)s a été effectué %(how)s le %(date)s.") % {
        "amount": money_format(refund.amount, plain_space=True),
        "how": how,
        "date": f"{timezone.localtime(refund.paid_at):%d/%m/%Y}",
    }
    event = event_key()
    phone = customer_sms_phone(customer)
    if phone:
        message_queue_sms(to=phone, body=f"RAK : {text}"[:459], user=user, kind="refund", event=event)
    email = customer_email(customer)
    if email:
        message_queue_email(
            to=email,
            subject=_("Votre remboursement RAK"),
            user=user,
            kind="refund",
            event=event,
            body=_(
                "Bonjour,\n\n%(text)s\n\nLe reçu est disponible sur l'agence en ligne de la RAK, rubrique "
                "« Mes remboursements ».\n"
            )
            % {"text": text[0].upper() + text[1:]},
        )
    if user is not None:
        message_queue_bell(user=user, subject=_("Remboursement effectué"), body=text, kind="refund", event=event)


# --- cancel --------------------------------------------------------------------------------------------


@transaction.atomic
def refund_cancel(*, refund: Refund | int, reason: str, by, at: datetime.datetime) -> RefundCancellation:
    """« Annuler le remboursement » (a cheque never cashed, a transfer returned by the bank): the
    refund stays, a REFUND_CANCEL entry credits its amount back, the credit it had taken is the
    customer's again (applied to their open bills, if any), its receipt is revoked. Once."""
    reason = (reason or "").strip()
    if not reason:
        raise RefundCancelRefused(_("Indiquez le motif de l'annulation."), field="reason")
    if by is None:
        raise RefundCancelRefused(_("L'annulation doit être faite par un agent identifié."))
    pk = refund if isinstance(refund, int) else refund.pk
    customer_id = Refund.objects.filter(pk=pk).values_list("customer_id", flat=True).first()
    if customer_id is None:
        raise RefundCancelRefused(_("Remboursement introuvable."))
    _lock_customer(customer_id)
    refund = Refund.objects.select_for_update().get(pk=pk)
    done = RefundCancellation.objects.filter(refund=refund).select_related("cancelled_by").first()
    if done is not None:
        raise RefundCancelRefused(
            _("Ce remboursement a déjà été annulé le %(date)s par %(who)s.")
            % {
                "date": f"{timezone.localtime(done.cancelled_at):%d/%m/%Y %H:%M}",
                "who": done.cancelled_by.get_full_name() or done.cancelled_by.get_username(),
            }
        )
    try:
        with transaction.atomic():
            cancellation = RefundCancellation.objects.create(
                refund=refund, reason=reason, cancelled_by=by, cancelled_at=at
            )
    except IntegrityError as exc:
        raise RefundCancelRefused(_("Ce remboursement a déjà été annulé.")) from exc
    taken = (
        refund.allocations.order_by()
        .values("payment_id", "credit_note_id")
        .annotate(total=Sum("amount"))
        .values_list("payment_id", "credit_note_id", "total")
    )
    RefundAllocation.objects.bulk_create(
        RefundAllocation(
            refund=refund, payment_id=payment_id, credit_note_id=note_id, amount=-total, cancellation=cancellation
        )
        for payment_id, note_id, total in taken
        if total > ZERO
    )
    LedgerEntry.objects.create(
        customer_id=customer_id,
        kind=LedgerEntry.Kind.REFUND_CANCEL,
        entry_date=_local_date(at),
        amount=-refund.amount,
        refund_cancellation=cancellation,
        label=(
            _("Annulation du remboursement du %(date)s — %(reason)s")
            % {"date": f"{_local_date(refund.paid_at):%d/%m/%Y}", "reason": reason}
        )[:160],
    )
    documents_revoke(kind=Document.Kind.RECEIPT, subject=refund, at=at)
    _rest, settled = _apply_credit(customer_id, at=at)  # the credit given back pays open bills first
    _announce_settled(customer_id=customer_id, bill_ids=settled)
    return cancellation
