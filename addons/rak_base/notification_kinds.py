"""What customers can choose to hear about (issue 13, « Mes notifications »).

Every message of the outbox has a ``kind`` (``payment``, ``request``, ``bill_available:42``,
``outage:7:notice``, ``complaint.filed``…). Its first word (before « : » or « . ») names a
customer-facing CATEGORY (« Factures disponibles », « Paiements »…); a customer turns a category
on or off per CHANNEL (SMS, e-mail, push, espace client) — ``NotificationPreference`` rows, none
until they change something (defaults: everything on). The outbox (``rak_base.outbox``) reads
them for every message it queues.

- ``always``: the legally required messages (codes and passwords, payment receipts, cut-off for
  non-payment, account security) are sent whatever the customer chose: the page shows them
  checked and greyed. A kind nobody registered is sent too (staff alerts, a kind added later
  without its category): a missing row must never silence a message.
- ``push``: the categories a Web Push copy is sent for (« facture disponible », payment
  confirmed, a request waiting for the customer, an outage in their district), when the browser
  subscribed and the VAPID keys are configured (``rak_base.push``).
- ``customer_flag``: the cell « Coupures et travaux × SMS » is the customer's own flag
  ``Customer.sms_service_notices`` (issue 11: the counter records it, the outage notices read it
  set-based); the page and the API show and write that flag for it, never a preference row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class Channel(models.TextChoices):
    """The channels a customer chooses among, in the page's order (values = Message.Channel's)."""

    SMS = "SMS", _("SMS")
    EMAIL = "EMAIL", _("E-mail")
    PUSH = "PUSH", _("Notification sur l'appareil")
    BELL = "BELL", _("Espace client")


class Category(models.TextChoices):
    BILLS = "BILLS", _("Factures disponibles")
    PAYMENTS = "PAYMENTS", _("Paiements")
    REQUESTS = "REQUESTS", _("Demandes")
    COMPLAINTS = "COMPLAINTS", _("Réclamations")
    OUTAGES = "OUTAGES", _("Coupures et travaux")
    READINGS = "READINGS", _("Relevés")
    REFUNDS = "REFUNDS", _("Remboursements et prélèvements")
    CUTOFF = "CUTOFF", _("Avis de coupure pour impayé")
    ACCOUNT = "ACCOUNT", _("Compte et sécurité")
    STAFF = "STAFF", _("Alertes du personnel")  # never shown to customers


@dataclass(frozen=True)
class CategorySpec:
    code: str
    kinds: tuple[str, ...]
    help: StrOrPromise
    always: bool = False
    push: bool = False
    url_name: str = "portal:notifications"  # where a push notification opens
    customer_only: bool = True  # listed on the customers' page

    @property
    def label(self) -> str:
        return str(Category(self.code).label)


CATEGORIES: dict[str, CategorySpec] = {
    spec.code: spec
    for spec in (
        CategorySpec(
            Category.BILLS,
            ("bill_available",),
            _("Une nouvelle facture est disponible dans votre espace."),
            push=True,
            url_name="portal:consumptions",
        ),
        CategorySpec(
            Category.PAYMENTS,
            ("payment",),
            _("Confirmation et reçu de chaque paiement : toujours envoyés."),
            always=True,
            push=True,
            url_name="portal:unpaid",
        ),
        CategorySpec(
            Category.REQUESTS,
            ("request", "change_request"),
            _("Suivi de vos demandes, et quand la RAK attend une réponse de votre part."),
            push=True,
            url_name="portal:requests",
        ),
        CategorySpec(Category.COMPLAINTS, ("complaint", "contact"), _("Réponses à vos réclamations et messages.")),
        CategorySpec(
            Category.OUTAGES,
            ("outage",),
            _("Coupures d'eau ou d'électricité et travaux dans votre quartier."),
            push=True,
            url_name="portal:dashboard",
        ),
        CategorySpec(Category.READINGS, ("reading_held", "reading_review"), _("Vérification de vos relevés d'index.")),
        CategorySpec(Category.REFUNDS, ("refund", "direct_debit"), _("Remboursements et domiciliation bancaire.")),
        CategorySpec(
            Category.CUTOFF,
            ("cutoff",),
            _("Avis de suspension de la fourniture pour facture impayée : toujours envoyés."),
            always=True,
        ),
        CategorySpec(
            Category.ACCOUNT,
            ("otp", "password", "security", "email_confirm"),
            _("Codes de confirmation, mots de passe et alertes de sécurité : toujours envoyés."),
            always=True,
        ),
        CategorySpec(
            Category.STAFF, ("sms_budget", "scheduler"), "", always=True, customer_only=False
        ),  # back-office alerts
    )
}

# the cell held by Customer.sms_service_notices (see the module's docstring)
CUSTOMER_FLAG_CELL = (Category.OUTAGES.value, Channel.SMS.value)

_BY_KIND: dict[str, str] = {kind: spec.code for spec in CATEGORIES.values() for kind in spec.kinds}


def kind_base(kind: str) -> str:
    """``bill_available:42`` → ``bill_available``; ``complaint.filed`` → ``complaint``."""
    return (kind or "").split(":", 1)[0].split(".", 1)[0]


def category_of(kind: str) -> CategorySpec | None:
    """The category of a message ``kind``; None for a kind nobody registered (sent anyway)."""
    code = _BY_KIND.get(kind_base(kind))
    return CATEGORIES[code] if code else None


def customer_categories() -> list[CategorySpec]:
    """The categories of the customers' page, in its order."""
    return [spec for spec in CATEGORIES.values() if spec.customer_only]


def can_turn_off(category: str, channel: str) -> bool:
    spec = CATEGORIES.get(category)
    return bool(spec and spec.customer_only and not spec.always and channel in Channel.values)


def push_eligible(kind: str) -> bool:
    spec = category_of(kind)
    return bool(spec and spec.push)
