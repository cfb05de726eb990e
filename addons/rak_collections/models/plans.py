"""Payment plans (« échéanciers ») for large debts: the overdue bills are covered by the plan
(credit notes on them) and the debt comes back as instalment bills (Bill.Kind.INSTALMENT), one per
due date; reminders and cut-offs are suspended while the plan is honoured, a plan whose instalment
stays unpaid past the grace period is flagged broken and reminders resume."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from rak_billing.models import Bill
from rak_customer.models import Customer

MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2}


class PaymentPlan(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "ACTIVE", _("En cours")
        COMPLETED = "COMPLETED", _("Soldé")
        BROKEN = "BROKEN", _("Rompu")
        CANCELLED = "CANCELLED", _("Annulé")

    number = models.CharField(_("n° d'échéancier"), max_length=20, unique=True)
    customer = models.ForeignKey(
        Customer, verbose_name=_("client"), on_delete=models.PROTECT, related_name="payment_plans"
    )
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    total_amount = models.DecimalField(_("dette couverte"), **MONEY)
    down_payment = models.DecimalField(_("acompte"), **MONEY, default=0)
    instalments_count = models.PositiveSmallIntegerField(_("nombre d'échéances"))
    first_due_date = models.DateField(_("première échéance"))
    reason = models.TextField(_("motif / accord"), blank=True)
    created_at = models.DateTimeField(_("accordé le"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("accordé par"), on_delete=models.PROTECT, related_name="+"
    )
    broken_at = models.DateTimeField(_("rompu le"), null=True, blank=True)
    closed_at = models.DateTimeField(_("clos le"), null=True, blank=True)
    close_reason = models.CharField(_("motif de clôture"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("échéancier")
        verbose_name_plural = _("échéanciers")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["customer"], condition=Q(status="ACTIVE"), name="plan_one_active"),
            models.CheckConstraint(
                condition=Q(status__in=["ACTIVE", "COMPLETED", "BROKEN", "CANCELLED"]), name="plan_status_valid"
            ),
            models.CheckConstraint(condition=Q(total_amount__gt=0), name="plan_total_positive"),
            models.CheckConstraint(condition=Q(instalments_count__gte=2), name="plan_two_instalments_or_more"),
        ]

    def __str__(self) -> str:
        return self.number


class PaymentPlanBill(models.Model):
    """An overdue bill the plan covers, and how much of it."""

    plan = models.ForeignKey(PaymentPlan, on_delete=models.PROTECT, related_name="covered")
    bill = models.ForeignKey(Bill, verbose_name=_("facture"), on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(_("montant couvert"), **MONEY)
    credit_note = models.OneToOneField(
        Bill, verbose_name=_("avoir"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("facture couverte")
        verbose_name_plural = _("factures couvertes")
        constraints = [models.UniqueConstraint(fields=["plan", "bill"], name="planbill_unique")]

    def __str__(self) -> str:
        return f"{self.bill_id} {self.amount}"


class Instalment(models.Model):
    plan = models.ForeignKey(
        PaymentPlan, verbose_name=_("échéancier"), on_delete=models.PROTECT, related_name="instalments"
    )
    position = models.PositiveSmallIntegerField(_("échéance n°"))
    due_date = models.DateField(_("date d'échéance"))
    amount = models.DecimalField(_("montant"), **MONEY)
    bill = models.OneToOneField(
        Bill, verbose_name=_("facture d'échéance"), on_delete=models.PROTECT, related_name="instalment"
    )

    class Meta:
        verbose_name = _("échéance")
        verbose_name_plural = _("échéances")
        ordering = ["plan", "position"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "position"], name="instalment_unique_position"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="instalment_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id}/{self.position}"
