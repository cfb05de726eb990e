"""« Facture électronique » (issue 13): a customer who chooses it receives no paper bill any more —
the bills stay in « Mes factures » on the portal and the app, announced by SMS / e-mail as today.

The flag is ``Customer.e_invoice_since`` (the moment it was chosen; empty: paper bills). Every
change is a row of the customer's history (django-simple-history) with who made it and why, so
staff can answer « since when / who asked ». The customer changes it on the portal's page « Facture
électronique » or through the API (PUT /api/v1/e-invoice/); staff change it in the back office and
must give a reason. The print run reads it through ``rak_billing.print_run.bills_to_print``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from rak_base.errors import RakError
from rak_customer.models import Customer

CUSTOMER_REASON_IN = "facture électronique choisie par le client"  # i18n: not for customers (back office)
CUSTOMER_REASON_OUT = "retour à la facture papier demandé par le client"  # i18n: not for customers (back office)


EXPLANATION = _(
    "Avec la facture électronique, vous ne recevez plus de facture papier : chaque facture reste disponible "
    "dans « Mes factures » (à consulter, télécharger en PDF et payer en ligne) et vous est annoncée par SMS "
    "ou par e-mail dès son émission. Vous pouvez revenir à la facture papier à tout moment."
)


class EInvoiceError(RakError):
    default_message = _("La préférence de facture n'a pas pu être modifiée.")


class EInvoiceReasonRequired(EInvoiceError):
    default_message = _("Indiquez le motif du changement (demande du client, courrier, appel…).")


@dataclass(frozen=True)
class EInvoiceState:
    enabled: bool
    since: datetime | None


@dataclass(frozen=True)
class EInvoiceChange:
    at: datetime
    enabled: bool
    by_staff: bool
    by_name: str
    reason: str


def efacture_state(customer: Customer) -> EInvoiceState:
    return EInvoiceState(enabled=customer.e_invoice_since is not None, since=customer.e_invoice_since)


@transaction.atomic
def efacture_set(*, customer_id: int, enabled: bool, by, now: datetime, reason: str = "") -> Customer:
    """Opt in (``enabled``) or out. ``by``: the customer's user (portal, API) or a staff member, who
    must give ``reason``. Choosing what is already chosen changes nothing (no history row, the
    original date kept)."""
    by_staff = bool(getattr(by, "is_staff", False))
    reason = " ".join((reason or "").split())[:100]
    if by_staff and not reason:
        raise EInvoiceReasonRequired()
    customer = Customer.objects.select_for_update().get(pk=customer_id)
    if (customer.e_invoice_since is not None) == enabled:
        return customer
    customer.e_invoice_since = now if enabled else None
    customer._history_user = by  # noqa: SLF001 - django-simple-history reads who made the change here
    customer._change_reason = reason or (CUSTOMER_REASON_IN if enabled else CUSTOMER_REASON_OUT)  # noqa: SLF001
    customer.save(update_fields=["e_invoice_since"])
    return customer


def efacture_opt_in(*, customer_id: int, by, now: datetime, reason: str = "") -> Customer:
    return efacture_set(customer_id=customer_id, enabled=True, by=by, now=now, reason=reason)


def efacture_opt_out(*, customer_id: int, by, now: datetime, reason: str = "") -> Customer:
    return efacture_set(customer_id=customer_id, enabled=False, by=by, now=now, reason=reason)


@transaction.atomic
def efacture_set_many(*, customer_ids: list[int], enabled: bool, by, now: datetime, reason: str) -> int:
    """The back office's action on several customers: how many changed."""
    if not " ".join((reason or "").split()):
        raise EInvoiceReasonRequired()
    changed = 0
    for customer_id in sorted(customer_ids):
        before = Customer.objects.filter(pk=customer_id).values_list("e_invoice_since", flat=True).first()
        if (before is not None) != enabled:
            efacture_set(customer_id=customer_id, enabled=enabled, by=by, now=now, reason=reason)
            changed += 1
    return changed


def efacture_history(customer: Customer, *, limit: int = 20) -> list[EInvoiceChange]:
    """The changes of the flag, newest first (read from the customer's history rows: one query)."""
    rows = (
        customer.history.order_by("history_date", "history_id")
        .values_list(
            "history_date",
            "e_invoice_since",
            "history_user__is_staff",
            "history_user__username",
            "history_change_reason",
        )
        .iterator()
    )
    changes: list[EInvoiceChange] = []
    previous = False
    for at, since, is_staff, username, reason in rows:
        enabled = since is not None
        if enabled != previous:
            changes.append(
                EInvoiceChange(
                    at=at, enabled=enabled, by_staff=bool(is_staff), by_name=username or "", reason=reason or ""
                )
            )
        previous = enabled
    return list(reversed(changes))[:limit]
