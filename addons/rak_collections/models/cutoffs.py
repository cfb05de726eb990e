"""Cut-off orders (« ordres de coupure ») for the technical team, with the « frais de coupure »
invoice issued when the cut is done, and the reconnection orders (« ordres de rétablissement »)
issued automatically, to be done the same day, once the debt is paid."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from rak_billing.models import Bill
from rak_collections.models.reminders import DunningCase
from rak_customer.models import Customer, Dossier

MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2}


class CutoffOrder(models.Model):
    class Status(models.TextChoices):
        ISSUED = "ISSUED", _("À exécuter")
        EXECUTED = "EXECUTED", _("Coupé")
        CANCELLED = "CANCELLED", _("Annulé")
        NOT_DONE = "NOT_DONE", _("Non exécuté")

    number = models.CharField(_("n° d'ordre"), max_length=20, unique=True)
    customer = models.ForeignKey(Customer, verbose_name=_("client"), on_delete=models.PROTECT, related_name="+")
    dossier = models.ForeignKey(
        Dossier, verbose_name=_("dossier"), on_delete=models.PROTECT, related_name="cutoff_orders"
    )
    case = models.ForeignKey(
        DunningCase,
        verbose_name=_("dossier de recouvrement"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cutoff_orders",
    )
    amount_due = models.DecimalField(_("montant échu"), **MONEY)
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.ISSUED)
    issued_at = models.DateTimeField(_("émis le"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("émis par"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    executed_at = models.DateTimeField(_("exécuté le"), null=True, blank=True)
    executed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("exécuté par"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    meter_index = models.DecimalField(_("index à la coupure"), max_digits=12, decimal_places=3, null=True, blank=True)
    fee_bill = models.OneToOneField(
        Bill,
        verbose_name=_("facture des frais de coupure"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cutoff_order",
    )
    note = models.TextField(_("observation"), blank=True)
    closed_reason = models.CharField(_("motif (annulé / non exécuté)"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("ordre de coupure")
        verbose_name_plural = _("ordres de coupure")
        ordering = ["-issued_at"]
        permissions = [("execute_cutofforder", _("Peut enregistrer l'exécution d'un ordre de coupure"))]
        constraints = [
            models.UniqueConstraint(
                fields=["dossier"], condition=Q(status="ISSUED"), name="cutoff_one_issued_per_dossier"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["ISSUED", "EXECUTED", "CANCELLED", "NOT_DONE"]), name="cutoff_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["status", "issued_at"], name="cutoff_status_issued")]

    def __str__(self) -> str:
        return self.number


class ReconnectionOrder(models.Model):
    class Status(models.TextChoices):
        ISSUED = "ISSUED", _("À exécuter")
        EXECUTED = "EXECUTED", _("Rétabli")

    number = models.CharField(_("n° d'ordre"), max_length=20, unique=True)
    cutoff = models.OneToOneField(
        CutoffOrder, verbose_name=_("ordre de coupure"), on_delete=models.PROTECT, related_name="reconnection"
    )
    customer = models.ForeignKey(Customer, verbose_name=_("client"), on_delete=models.PROTECT, related_name="+")
    dossier = models.ForeignKey(
        Dossier, verbose_name=_("dossier"), on_delete=models.PROTECT, related_name="reconnection_orders"
    )
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.ISSUED)
    issued_at = models.DateTimeField(_("émis le"))
    due_at = models.DateTimeField(_("à exécuter avant le"))
    executed_at = models.DateTimeField(_("exécuté le"), null=True, blank=True)
    executed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("exécuté par"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.TextField(_("observation"), blank=True)

    class Meta:
        verbose_name = _("ordre de rétablissement")
        verbose_name_plural = _("ordres de rétablissement")
        ordering = ["-issued_at"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["ISSUED", "EXECUTED"]), name="reconnection_status_valid"),
        ]
        indexes = [models.Index(fields=["status", "due_at"], name="reconnection_status_due")]

    def __str__(self) -> str:
        return self.number
