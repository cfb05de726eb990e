"""After an online payment: what its receipt shows (card, authorisation, transaction, the
order's lines and fee), the confirmation e-mail, and the signed token that opens the receipt
without an account.

Wired in ``RakPaymentCmiConfig.ready()``: ``receipt_details`` is a provider of
``rak_billing.receipts`` (one receipt per payment, whatever the channel) and ``order_paid_notify``
subscribes to ``HOOK_ORDER_PAID`` (it runs in the transaction that marks the order PAID: the
e-mail is queued there and sent after commit by the worker).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.core import signing
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

from rak_base.errors import RakError
from rak_base.money import money_format
from rak_base.outbox import event_key, message_queue_bell, message_queue_email, message_queue_sms
from rak_base.phones import phone_normalize
from rak_base.workdays import working_day_after
from rak_billing.models import Payment
from rak_billing.receipts import bill_payment_description, receipt_number
from rak_customer.language import customer_language
from rak_customer.models import PortalAccount
from rak_customer.selectors import customer_sms_phone
from rak_payment_cmi.models import CmiCallback, PaymentOrder, PaymentOrderBill

TOKEN_SALT = "rak.payment.receipt"  # noqa: S105 - a signing namespace, not a secret
TOKEN_MAX_AGE = 90 * 24 * 3600  # the e-mail's link works for 90 days
AGENCY_CUTOFF_HOUR = 22  # a card payment after 22 h reaches the agency a working day later (seed 001)


def agency_posting_date(paid_at: datetime.datetime) -> datetime.date:
    """The day a card payment is seen by the customer's agency (seed 001 step 6): the next
    working day (J+1), or the second one (J+2) when paid at or after 22 h, Casablanca time."""
    local = timezone.localtime(paid_at)
    return working_day_after(local.date(), 2 if local.hour >= AGENCY_CUTOFF_HOUR else 1)


def agency_posting_sentence(paid_at: datetime.datetime) -> str:
    """« Votre paiement sera constaté au niveau de votre agence RAK le lundi 7 décembre 2026 … »."""
    return gettext(
        "Votre paiement sera constaté au niveau de votre agence %(short)s le %(day)s (jour J+1 ouvré, ou J+2 "
        "si le paiement est effectué après 22h)."
    ) % {"short": settings.COMPANY_SHORT_NAME, "day": date_format(agency_posting_date(paid_at), "l j F Y")}


def receipt_token(oid: str) -> str:
    """A signed, unguessable token for the receipt of order ``oid`` (e-mail link, quick-pay)."""
    return signing.dumps(oid, salt=TOKEN_SALT, compress=True)


def receipt_token_oid(token: str) -> str | None:
    """The oid a token opens, None when forged or too old."""
    try:
        return signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None


def receipt_url(order: PaymentOrder, *, absolute: bool = False, with_token: bool = False) -> str:
    try:
        path = reverse("portal:payment_receipt", kwargs={"oid": order.oid})
    except NoReverseMatch:
        path = reverse("cmi:order_return", kwargs={"oid": order.oid})
    if with_token:
        path += f"?t={receipt_token(order.oid)}"
    return f"{settings.SITE_URL}{path}" if absolute else path


def _approved_message(order: PaymentOrder) -> dict:
    callback = (
        CmiCallback.objects.filter(order=order, kind=CmiCallback.Kind.CALLBACK, outcome=CmiCallback.Outcome.APPLIED)
        .order_by("id")
        .first()
    )
    return callback.raw if callback and isinstance(callback.raw, dict) else {}


def receipt_details(payment: Payment) -> dict | None:
    """Provider for ``rak_billing.receipts``: the card payment's details (seed 001 step 6)."""
    order = PaymentOrder.objects.filter(payment=payment).select_related("customer").first()
    if order is None:
        return None
    raw = _approved_message(order)
    brand = str(raw.get("EXTRA.CARDBRAND") or "") or gettext("Carte bancaire")
    lines = [
        {
            "reference": line.bill.number,
            "description": bill_payment_description(line.bill),
            "amount": line.amount,
        }
        for line in order.order_bills.select_related("bill", "bill__dossier").order_by("bill__due_date", "bill_id")
    ]
    paid_at = order.paid_at or payment.paid_at
    return {
        "order": order,
        "headline": gettext("Votre paiement a été accepté"),
        "paid_at": paid_at,
        "agency_notice": agency_posting_sentence(paid_at),
        "method": brand,
        "rows": [
            (gettext("N° de paiement"), str(raw.get("acqStan") or raw.get("HostRefNum") or "—")),
            (gettext("Code d'autorisation"), order.auth_code or "—"),
            (gettext("Méthode de paiement"), brand),
            (gettext("N° de carte de paiement"), order.masked_pan or "—"),
            (gettext("N° transaction"), order.trans_id or "—"),
            (gettext("N° de commande"), order.oid),
        ],
        "lines": lines,
        "fee": order.fee_total if order.fee_total else None,
        "total": order.amount_total,
        "email": order.email,
    }


def order_paid_notify(
    *, order_id: int, order: PaymentOrder | None = None, lines: list[PaymentOrderBill] | None = None, **_more
) -> None:
    """« Vous recevrez un mail de confirmation du paiement » (seed 001 step 6), written in the
    customer's language (``Customer.language``), whoever's request runs the callback. ``order``
    (with its customer) and ``lines`` (its lines with their bills): what the callback has just
    written, not read again."""
    if order is None or order.pk != order_id:
        order = PaymentOrder.objects.select_related("customer", "payment").get(pk=order_id)
        lines = None
    with customer_language(order.customer):
        subject, body = _paid_email(order, lines)
    account = PortalAccount.objects.filter(customer_id=order.customer_id).select_related("user").first()
    message_queue_email(
        to=order.email,
        subject=subject,
        body=body,
        user=account.user if account else None,
        kind="payment",
    )


def _paid_email(order: PaymentOrder, order_lines: Iterable[PaymentOrderBill] | None = None) -> tuple[str, str]:
    """The confirmation e-mail's subject and body, in the active language."""
    if order_lines is None:
        order_lines = order.order_bills.select_related("bill").order_by("bill__due_date", "bill_id")
    lines = "\n".join(
        gettext("  - %(number)s : %(amount)s")
        % {"number": line.bill.number, "amount": money_format(line.amount, plain_space=True)}
        for line in order_lines
    )
    fee = (
        gettext("Frais du service en ligne : %(amount)s") % {"amount": money_format(order.fee_total, plain_space=True)}
        + "\n"
        if order.fee_total
        else ""
    )
    name = order.bill_to_name or order.customer.display_name
    if order.paid_at:
        paid_at = timezone.localtime(order.paid_at)
        accepted = gettext("Votre paiement en ligne a été accepté le %(date)s à %(time)s.") % {
            "date": date_format(paid_at, "d/m/Y"),
            "time": date_format(paid_at, "H:i"),
        }
    else:
        accepted = gettext("Votre paiement en ligne a été accepté.")
    values = {
        "oid": order.oid,
        "trans_id": order.trans_id or "—",
        "auth_code": order.auth_code or "—",
        "receipt": receipt_number(order.payment_id) if order.payment_id is not None else "—",  # PAID: always one
    }
    body = (
        gettext("Bonjour %(name)s,") % {"name": name}
        + "\n\n"
        + accepted
        + "\n\n"
        + gettext(
            "N° de commande : %(oid)s\n"
            "N° transaction : %(trans_id)s\n"
            "Code d'autorisation : %(auth_code)s\n"
            "Numéro de reçu de paiement : %(receipt)s"
        )
        % values
        + "\n\n"
        + gettext("Factures réglées :")
        + f"\n{lines}\n{fee}"
        + gettext("Total payé : %(amount)s") % {"amount": money_format(order.amount_total, plain_space=True)}
        + "\n\n"
        + (f"{agency_posting_sentence(order.paid_at)}\n\n" if order.paid_at else "")
        + gettext("Votre reçu (à imprimer ou télécharger en PDF) : %(url)s")
        % {"url": receipt_url(order, absolute=True, with_token=True)}
        + "\n\n"
        + gettext("Merci de votre confiance.\nRAK — Service de paiement en ligne")
    )
    subject = gettext("RAK — Confirmation de votre paiement en ligne (%(amount)s)") % {
        "amount": money_format(order.amount_total, plain_space=True)
    }
    return subject, body


def _mobile(tel: str) -> str | None:
    try:
        return phone_normalize(tel, mobile=True) if tel else None
    except RakError:
        return None


def order_cancelled_notify(*, order_id: int) -> None:
    """Called by ``services`` in the transaction that cancels the order: an approved card payment
    not captured because its bills were already settled. The customer learns that the card was not
    charged (the pre-authorisation is released) and why."""
    order = PaymentOrder.objects.select_related("customer").get(pk=order_id)
    with customer_language(order.customer):
        subject, body, sms = _cancelled_texts(order)
    account = PortalAccount.objects.filter(customer_id=order.customer_id).select_related("user").first()
    user = account.user if account else None
    event = event_key()
    if order.email:
        message_queue_email(to=order.email, subject=subject, body=body, user=user, kind="payment", event=event)
    phone = customer_sms_phone(order.customer) or _mobile(order.tel)
    if phone:
        message_queue_sms(to=phone, body=sms, user=user, kind="payment", event=event)
    if user is not None:
        message_queue_bell(user=user, subject=subject, body=body, kind="payment", event=event)


def _cancelled_texts(order: PaymentOrder) -> tuple[str, str, str]:
    """The cancellation's e-mail subject, body and SMS, in the active language."""
    numbers = ", ".join(
        line.bill.number for line in order.order_bills.select_related("bill").order_by("bill__due_date", "bill_id")
    )
    values = {
        "name": order.bill_to_name or order.customer.display_name,
        "oid": order.oid,
        "total": money_format(order.amount_total, plain_space=True, currency=""),
        "bills": numbers,
    }
    subject = gettext("RAK — Paiement en ligne non débité : factures déjà réglées (commande %(oid)s)") % values
    body = (
        gettext(
            "Bonjour %(name)s,\n\n"
            "Votre paiement en ligne de la commande %(oid)s (%(total)s DH) n'a pas été encaissé : les factures "
            "%(bills)s étaient déjà réglées par un autre paiement.\n\n"
            "Votre carte n'a pas été débitée : la pré-autorisation de %(total)s DH est libérée. Selon votre "
            "banque, le montant réservé peut rester visible quelques jours sur votre compte avant de disparaître.\n\n"
            "Vous n'avez rien à faire. Pour toute question, contactez notre service client en indiquant le "
            "n° de commande.\n\nRAK — Service de paiement en ligne"
        )
        % values
    )
    sms = (
        gettext(
            "RAK : paiement %(oid)s de %(total)s DH non encaissé, vos factures étaient déjà réglées. "
            "Votre carte n'est pas débitée (pré-autorisation libérée)."
        )
        % values
    )
    return subject, body, sms
