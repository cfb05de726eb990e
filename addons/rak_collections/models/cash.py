"""Cash closing of the agency counters (« clôture de caisse »): at the end of the day each agent
counts what the counter holds per payment method; the expected amounts are the payments the agent
recorded that day; a difference must be explained; a closed day is printed and can no longer change
(a payment reversed afterwards shows on the next closing as an adjustment)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from rak_billing.models import Payment
from rak_customer.models import Agency

MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2}


class CounterPost(models.Model):
    """Which agency's counter a staff member works at (for the closing and the reports)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("agent"), on_delete=models.CASCADE, related_name="counter_post"
    )
    agency = models.ForeignKey(Agency, verbose_name=_("agence"), on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("poste de guichet")
        verbose_name_plural = _("postes de guichet")

    def __str__(self) -> str:
        return f"{self.user} — {self.agency}"


class CashClosing(models.Model):
    class Status(models.TextChoices):
        OPEN = "OPEN", _("En cours")
        CLOSED = "CLOSED", _("Clôturée")

    agency = models.ForeignKey(Agency, verbose_name=_("agence"), on_delete=models.PROTECT, related_name="+")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("agent"), on_delete=models.PROTECT, related_name="cash_closings"
    )
    day = models.DateField(_("journée"))
    status = models.CharField(_("statut"), max_length=8, choices=Status.choices, default=Status.OPEN)
    expected_total = models.DecimalField(_("total attendu"), **MONEY, default=0)
    counted_total = models.DecimalField(_("total compté"), **MONEY, default=0)
    difference = models.DecimalField(_("écart"), **MONEY, default=0)
    explanation = models.TextField(_("explication de l'écart"), blank=True)
    closed_at = models.DateTimeField(_("clôturée le"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("clôturée par"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("clôture de caisse")
        verbose_name_plural = _("clôtures de caisse")
        ordering = ["-day", "agency"]
        permissions = [("supervise_cashclosing", _("Peut voir les clôtures de caisse de tous les agents"))]
        constraints = [
            models.UniqueConstraint(fields=["agent", "day"], name="cashclosing_one_per_agent_day"),
            models.CheckConstraint(condition=Q(status__in=["OPEN", "CLOSED"]), name="cashclosing_status_valid"),
            models.CheckConstraint(
                condition=Q(difference=0) | ~Q(explanation="") | Q(status="OPEN"),
                name="cashclosing_difference_explained",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agency} {self.agent} {self.day:%d/%m/%Y}"


class CashClosingLine(models.Model):
    closing = models.ForeignKey(CashClosing, on_delete=models.CASCADE, related_name="lines")
    method = models.CharField(_("mode"), max_length=14)
    payments_count = models.PositiveIntegerField(_("paiements"), default=0)
    expected = models.DecimalField(_("attendu"), **MONEY, default=0)
    counted = models.DecimalField(_("compté"), **MONEY, default=0)
    difference = models.DecimalField(_("écart"), **MONEY, default=0)

    class Meta:
        verbose_name = _("ligne de clôture")
        verbose_name_plural = _("lignes de clôture")
        constraints = [models.UniqueConstraint(fields=["closing", "method"], name="cashclosingline_unique_method")]

    def __str__(self) -> str:
        return f"{self.method} {self.expected}"


class CashClosingEntry(models.Model):
    """A payment a closed day counted (written when the day is closed, never changed): the payments
    of the day, the ones of an earlier day recorded after that day was closed (``late``), and, as a
    negative entry, a payment counted by an earlier closing and reversed since. A payment is counted
    once and its reversal once (unique), so a later closing never counts it again."""

    class Kind(models.TextChoices):
        COUNTED = "COUNTED", _("Encaissé")
        REVERSED = "REVERSED", _("Annulé après clôture")

    closing = models.ForeignKey(CashClosing, on_delete=models.CASCADE, related_name="entries")
    payment = models.ForeignKey(Payment, verbose_name=_("paiement"), on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("nature"), max_length=8, choices=Kind.choices, default=Kind.COUNTED)
    late = models.BooleanField(_("enregistré après la clôture de son jour"), default=False)
    method = models.CharField(_("mode"), max_length=14)
    amount = models.DecimalField(_("montant"), **MONEY)

    class Meta:
        verbose_name = _("paiement de la clôture")
        verbose_name_plural = _("paiements de la clôture")
        constraints = [
            models.UniqueConstraint(fields=["payment", "kind"], name="cashclosingentry_once_per_kind"),
            models.CheckConstraint(condition=Q(kind__in=["COUNTED", "REVERSED"]), name="cashclosingentry_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.payment_id} {self.amount}"
