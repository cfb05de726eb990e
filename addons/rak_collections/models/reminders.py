"""Reminder plans (« plans de relance », data) and what they did to each customer.

A plan is a list of steps, each « at the due date + N days, do this »: an SMS, an e-mail, a formal
notice (« mise en demeure », a PDF letter), then a cut-off order. A customer with overdue bills has
one open dunning case (« dossier de recouvrement ») at a time; each step done is a ReminderEvent of
that case (unique: a step is never done twice for the same case). The case closes by itself when
the overdue debt is paid (or covered by a payment plan)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from rak_customer.models import Customer

MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2}


class ReminderPlan(models.Model):
    name = models.CharField(_("nom"), max_length=120, unique=True)
    customer_kind = models.CharField(
        _("type de client"),
        max_length=16,
        choices=Customer.Kind.choices,
        blank=True,
        help_text=_("Vide : tous les types de clients sans plan propre."),
    )
    min_amount = models.DecimalField(
        _("montant minimal relancé"),
        **MONEY,
        default=50,
        help_text=_("En dessous de ce montant échu, le client n'est pas relancé."),
    )
    cut_fee = models.DecimalField(
        _("frais de coupure (HT)"),
        **MONEY,
        default=100,
        help_text=_("Facturés au client quand la coupure est exécutée (TVA « frais et travaux » en sus)."),
    )
    is_active = models.BooleanField(_("actif"), default=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)

    class Meta:
        verbose_name = _("plan de relance")
        verbose_name_plural = _("plans de relance")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer_kind"], condition=Q(is_active=True), name="reminderplan_one_active_per_kind"
            ),
            models.CheckConstraint(condition=Q(min_amount__gte=0), name="reminderplan_min_amount_positive"),
            models.CheckConstraint(condition=Q(cut_fee__gte=0), name="reminderplan_cut_fee_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class ReminderStep(models.Model):
    class Action(models.TextChoices):
        SMS = "SMS", _("SMS de rappel")
        EMAIL = "EMAIL", _("E-mail de rappel")
        FORMAL_NOTICE = "FORMAL_NOTICE", _("Mise en demeure")
        CUTOFF = "CUTOFF", _("Ordre de coupure")

    plan = models.ForeignKey(ReminderPlan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(_("ordre"))
    days_after_due = models.PositiveSmallIntegerField(_("jours après l'échéance"))
    action = models.CharField(_("action"), max_length=14, choices=Action.choices)
    label = models.CharField(_("libellé"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("étape de relance")
        verbose_name_plural = _("étapes de relance")
        ordering = ["plan", "position"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "position"], name="reminderstep_unique_position"),
            models.CheckConstraint(
                condition=Q(action__in=["SMS", "EMAIL", "FORMAL_NOTICE", "CUTOFF"]), name="reminderstep_action_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.label or f"J+{self.days_after_due} {self.get_action_display()}"


class DunningCase(models.Model):
    """One episode of overdue debt of a customer, from the first overdue bill to payment."""

    class Status(models.TextChoices):
        OPEN = "OPEN", _("En cours")
        PAID = "PAID", _("Réglé")
        PLAN = "PLAN", _("Sous échéancier")
        CANCELLED = "CANCELLED", _("Abandonné")

    customer = models.ForeignKey(
        Customer, verbose_name=_("client"), on_delete=models.PROTECT, related_name="dunning_cases"
    )
    plan = models.ForeignKey(ReminderPlan, verbose_name=_("plan"), on_delete=models.PROTECT, related_name="cases")
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.OPEN)
    oldest_due_date = models.DateField(_("plus ancienne échéance impayée"))
    amount_due = models.DecimalField(_("montant échu"), **MONEY)
    opened_at = models.DateTimeField(_("ouvert le"))
    closed_at = models.DateTimeField(_("clos le"), null=True, blank=True)
    close_reason = models.CharField(_("motif de clôture"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("dossier de recouvrement")
        verbose_name_plural = _("dossiers de recouvrement")
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(fields=["customer"], condition=Q(status="OPEN"), name="dunningcase_one_open"),
            models.CheckConstraint(
                condition=Q(status__in=["OPEN", "PAID", "PLAN", "CANCELLED"]), name="dunningcase_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["status", "oldest_due_date"], name="dunningcase_status_due")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.opened_at:%d/%m/%Y}"


class ReminderEvent(models.Model):
    """A step of the plan done for a case: logged on the customer (timeline, back office)."""

    class Outcome(models.TextChoices):
        SENT = "SENT", _("Envoyé")
        NO_CONTACT = "NO_CONTACT", _("Aucun moyen de contact")
        ORDER_ISSUED = "ORDER_ISSUED", _("Ordre émis")
        SUSPENDED = "SUSPENDED", _("Suspendu (échéancier respecté)")
        SKIPPED = "SKIPPED", _("Non fait")

    case = models.ForeignKey(DunningCase, verbose_name=_("dossier"), on_delete=models.CASCADE, related_name="events")
    step = models.ForeignKey(ReminderStep, verbose_name=_("étape"), on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(
        Customer, verbose_name=_("client"), on_delete=models.PROTECT, related_name="reminder_events", db_index=False
    )
    at = models.DateTimeField(_("le"))
    action = models.CharField(_("action"), max_length=14, choices=ReminderStep.Action.choices)
    amount_due = models.DecimalField(_("montant échu"), **MONEY)
    outcome = models.CharField(_("résultat"), max_length=12, choices=Outcome.choices, default=Outcome.SENT)
    detail = models.CharField(_("détail"), max_length=255, blank=True)
    # a formal notice's letter as the job gave it to the worker ([reference, deadline ISO, language]):
    # what the recovery sweep needs to render it again if its task was lost
    letter = models.JSONField(_("lettre"), default=list, blank=True)

    class Meta:
        verbose_name = _("relance")
        verbose_name_plural = _("relances")
        ordering = ["-at"]
        constraints = [models.UniqueConstraint(fields=["case", "step"], name="reminderevent_once_per_step")]
        indexes = [models.Index(fields=["customer", "-at"], name="reminderevent_customer_recent")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.at:%d/%m/%Y}"
