"""Reads of the CMI payment addon."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from rak_billing.models import PaymentReversal
from rak_payment_cmi.models import CmiCallback, PaymentOrder, PaymentOrderBill

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

#: asked (``hook_collect``) when the return page is shown, with ``request=`` and ``order=``: a
#: higher addon answers a dict — ``layout`` (the template the page extends), ``retry_url`` (a POST
#: to it sends the order to the platform again), ``restart_url`` (a GET that starts a new payment),
#: ``back_url`` and ``back_label`` (where the payment came from) — or None
HOOK_ORDER_RETURN_PAGE = "cmi.order_return_page"

PENDING_STATUSES = (PaymentOrder.Status.CREATED, PaymentOrder.Status.SENT)

#: What the return page and the status endpoint say for each status (French, seed 001 wording
#: where it gives one).
STATUS_MESSAGES: dict[str, StrOrPromise] = {
    PaymentOrder.Status.CREATED: gettext_lazy("Paiement en cours de confirmation"),
    PaymentOrder.Status.SENT: gettext_lazy("Paiement en cours de confirmation"),
    PaymentOrder.Status.PAID: gettext_lazy("Votre paiement a été accepté"),
    PaymentOrder.Status.DECLINED: gettext_lazy("Votre paiement a été refusé par votre banque"),
    PaymentOrder.Status.FAILED: gettext_lazy("Votre paiement n'a pas abouti"),
    PaymentOrder.Status.AMOUNT_MISMATCH: gettext_lazy("Votre paiement est en cours de vérification par nos services"),
    PaymentOrder.Status.EXPIRED: gettext_lazy("Cet ordre de paiement a expiré"),
    PaymentOrder.Status.CANCELLED: gettext_lazy("Cet ordre de paiement a été annulé"),
}
#: the statuses in which an order may still go to the gateway (``services.PAYABLE``)
AWAITING_STATUSES = (
    PaymentOrder.Status.CREATED,
    PaymentOrder.Status.SENT,
    PaymentOrder.Status.DECLINED,
    PaymentOrder.Status.FAILED,
)


def order_by_oid(oid: str) -> PaymentOrder | None:
    return PaymentOrder.objects.select_related("customer", "payment").filter(oid=oid).first()


def order_bills(order: PaymentOrder) -> QuerySet[PaymentOrderBill]:
    """The bills an order pays, with the amounts frozen at order time (receipt, recap)."""
    return order.order_bills.select_related("bill", "bill__dossier").order_by("bill__due_date", "bill_id")


def orders_for_customer(customer_id: int) -> QuerySet[PaymentOrder]:
    return PaymentOrder.objects.filter(customer_id=customer_id).order_by("-created_at")


def order_is_pending(order: PaymentOrder) -> bool:
    """Still waiting for CMI's callback: the return page says « en cours de confirmation »."""
    return order.status in PENDING_STATUSES


def order_is_awaiting_gateway(order: PaymentOrder, *, now: datetime) -> bool:
    """Payable and younger than the expiry delay: it blocks another order for its bills."""
    return order.status in AWAITING_STATUSES and order.created_at > now - timedelta(
        minutes=settings.CMI_ORDER_EXPIRY_MINUTES
    )


def order_receipt_url(order: PaymentOrder) -> str | None:
    """The receipt page, once paid, when the portal provides one (``portal:payment_receipt``)."""
    if order.status != PaymentOrder.Status.PAID:
        return None
    try:
        return reverse("portal:payment_receipt", kwargs={"oid": order.oid})
    except NoReverseMatch:
        return None


def order_payment_reversal(order: PaymentOrder):
    """The reversal of the payment ``order`` captured (« Annuler le paiement »: a chargeback, a
    refund to the card), None when it stands."""
    if order.payment_id is None:
        return None
    return PaymentReversal.objects.filter(payment_id=order.payment_id).first()


def order_public_status(order: PaymentOrder) -> dict[str, object]:
    """What the return page's poll gets: no personal data (the oid is the only key). A paid order
    whose payment was reversed since is no longer « accepté » and has no receipt."""
    reversal = order_payment_reversal(order) if order.status == PaymentOrder.Status.PAID else None
    if reversal is not None:
        return {
            "oid": order.oid,
            "status": order.status,
            "pending": False,
            "paid": False,
            "message": gettext("Ce paiement a été annulé le %(date)s : les factures qu'il réglait sont à payer.")
            % {"date": f"{timezone.localtime(reversal.reversed_at):%d/%m/%Y}"},
            "receipt_url": None,
        }
    return {
        "oid": order.oid,
        "status": order.status,
        "pending": order_is_pending(order),
        "paid": order.status == PaymentOrder.Status.PAID,
        "message": str(STATUS_MESSAGES[order.status]),
        "receipt_url": order_receipt_url(order),
    }


def callbacks_for_order(order: PaymentOrder) -> QuerySet[CmiCallback]:
    return CmiCallback.objects.filter(oid=order.oid).order_by("received_at", "id")


#: what the bank's answer code (ProcReturnCode) means for the customer
REFUSAL_REASONS = {
    "05": gettext_lazy("Transaction refusée par votre banque."),
    "51": gettext_lazy("Provision insuffisante sur votre carte."),
    "54": gettext_lazy("Carte expirée."),
    "12": gettext_lazy("Opération non autorisée par votre banque pour cette carte."),
    "14": gettext_lazy("Numéro de carte invalide."),
    "57": gettext_lazy("Opération non autorisée par votre banque pour cette carte."),
    "61": gettext_lazy("Plafond de paiement de votre carte dépassé."),
    "65": gettext_lazy("Plafond de paiement de votre carte dépassé."),
}


def order_failure_reason(order: PaymentOrder) -> str:
    """Why the last card attempt of a refused or failed order did not go through, in French, from
    the bank's answer code and the last signed answer of the platform; "" for any other order."""
    if order.status not in (PaymentOrder.Status.DECLINED, PaymentOrder.Status.FAILED):
        return ""
    last = (
        CmiCallback.objects.filter(order=order, hash_valid=True)
        .exclude(proc_return_code__in=("", "00"))
        .order_by("-received_at", "-id")
        .values_list("raw", flat=True)
        .first()
    ) or {}
    error = " ".join(str(last.get(name, "")) for name in ("ErrMsg", "mdErrorMsg")).lower()
    if "annul" in error or "cancel" in error:
        return gettext("Vous avez annulé le paiement sur la page de paiement : votre carte n'a pas été débitée.")
    from rak_payment_cmi.services import AUTHENTICATED_MD_STATUS

    md_status = str(last.get("mdStatus", ""))
    if md_status and md_status not in AUTHENTICATED_MD_STATUS:
        return gettext(
            "L'authentification 3-D Secure a échoué : le code de confirmation de votre banque n'a pas été validé."
        )
    code = order.proc_return_code or str(last.get("ProcReturnCode", ""))
    if code in REFUSAL_REASONS:
        return str(REFUSAL_REASONS[code])
    return gettext("La plateforme de paiement n'a pas pu traiter l'opération (code %(code)s).") % {"code": code or "—"}


# --- for the mobile API (issue 13): the customer's own orders and payments ---------------------------


class OrderState:
    """What an app shows of an order, in one word (``order_state``)."""

    PENDING = "pending"  # created or at the gateway: wait for the callback (or resume)
    PAID = "paid"
    FAILED = "failed"  # the last card attempt was refused or failed: may be tried again while awaiting
    EXPIRED = "expired"
    CANCELLED = "cancelled"  # abandoned, or not captured (bills already settled)
    VERIFICATION = "verification"  # amount mismatch: staff check it
    REVERSED = "reversed"  # paid, then the payment was cancelled by staff

    choices = (PENDING, PAID, FAILED, EXPIRED, CANCELLED, VERIFICATION, REVERSED)


_STATES: dict[str, str] = {
    PaymentOrder.Status.CREATED: OrderState.PENDING,
    PaymentOrder.Status.SENT: OrderState.PENDING,
    PaymentOrder.Status.PAID: OrderState.PAID,
    PaymentOrder.Status.DECLINED: OrderState.FAILED,
    PaymentOrder.Status.FAILED: OrderState.FAILED,
    PaymentOrder.Status.EXPIRED: OrderState.EXPIRED,
    PaymentOrder.Status.CANCELLED: OrderState.CANCELLED,
    PaymentOrder.Status.AMOUNT_MISMATCH: OrderState.VERIFICATION,
}


def order_state(order: PaymentOrder, *, reversed_payment: bool = False) -> str:
    if order.status == PaymentOrder.Status.PAID and reversed_payment:
        return OrderState.REVERSED
    return _STATES[order.status]


def customer_order(customer_id: int, oid: str) -> PaymentOrder | None:
    """``oid`` if it is ``customer_id``'s order (else None: another customer's order is not found)."""
    oid = (oid or "")[:64]
    return (
        PaymentOrder.objects.select_related("customer", "payment", "payment__reversal")
        .filter(oid=oid, customer_id=customer_id)
        .first()
    )


def customer_orders(customer_id: int) -> QuerySet[PaymentOrder]:
    """The customer's payment orders, newest first, with their payment and its reversal."""
    return (
        PaymentOrder.objects.filter(customer_id=customer_id)
        .select_related("payment", "payment__reversal")
        .order_by("-created_at", "-pk")
    )


def customer_payment_receipts(customer_id: int):
    """The customer's payments (every channel: counter, card, direct debit, agents' networks),
    newest first, each with its reversal and the card order that made it (``cmi_order``) — a
    receipt each (``rak_billing.receipts``)."""
    from rak_billing.models import Payment

    return (
        Payment.objects.filter(customer_id=customer_id)
        .select_related("reversal", "cmi_order")
        .order_by("-paid_at", "-pk")
    )


def customer_payment(customer_id: int, payment_id: int):
    from rak_billing.models import Payment

    if not 0 < payment_id < 2**63:
        return None
    return Payment.objects.select_related("reversal").filter(pk=payment_id, customer_id=customer_id).first()


def customer_order_awaiting(customer_id: int, bill_ids, *, now: datetime) -> PaymentOrder | None:
    """The customer's own order awaiting the gateway for one of ``bill_ids`` (the pay list's
    « Reprendre / Abandonner » banner); another customer's order is never returned."""
    since = now - timedelta(minutes=settings.CMI_ORDER_EXPIRY_MINUTES)
    return (
        PaymentOrder.objects.filter(
            customer_id=customer_id,
            order_bills__bill_id__in=list(bill_ids),
            status__in=AWAITING_STATUSES,
            created_at__gt=since,
            created_at__lte=now,
        )
        .order_by("-created_at", "-pk")
        .first()
    )
