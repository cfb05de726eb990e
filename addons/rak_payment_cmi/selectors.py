"""Reads of the CMI payment addon."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.urls import NoReverseMatch, reverse

from rak_payment_cmi.models import CmiCallback, PaymentOrder, PaymentOrderBill

PENDING_STATUSES = (PaymentOrder.Status.CREATED, PaymentOrder.Status.SENT)

#: What the return page and the status endpoint say for each status (French, seed 001 wording
#: where it gives one).
STATUS_MESSAGES = {
    PaymentOrder.Status.CREATED: "Paiement en cours de confirmation",
    PaymentOrder.Status.SENT: "Paiement en cours de confirmation",
    PaymentOrder.Status.PAID: "Votre paiement a été accepté",
    PaymentOrder.Status.DECLINED: "Votre paiement a été refusé par votre banque",
    PaymentOrder.Status.FAILED: "Votre paiement n'a pas abouti",
    PaymentOrder.Status.AMOUNT_MISMATCH: "Votre paiement est en cours de vérification par nos services",
    PaymentOrder.Status.EXPIRED: "Cet ordre de paiement a expiré",
    PaymentOrder.Status.CANCELLED: "Cet ordre de paiement a été annulé",
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


def order_public_status(order: PaymentOrder) -> dict[str, object]:
    """What the return page's poll gets: no personal data (the oid is the only key)."""
    return {
        "oid": order.oid,
        "status": order.status,
        "pending": order_is_pending(order),
        "paid": order.status == PaymentOrder.Status.PAID,
        "message": STATUS_MESSAGES[order.status],
        "receipt_url": order_receipt_url(order),
    }


def callbacks_for_order(order: PaymentOrder) -> QuerySet[CmiCallback]:
    return CmiCallback.objects.filter(oid=order.oid).order_by("received_at", "id")
