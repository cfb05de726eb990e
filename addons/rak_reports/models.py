"""What the reports addon stores itself: the state of its materialised views, and the portal's
usage counters (pages viewed per day, customers active per day) that the adoption report reads."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportView(models.Model):
    """One materialised view of ``rak_reports.matviews``: the hash of the SQL it was built from (a
    changed definition is rebuilt at the next migrate) and its last refresh."""

    name = models.CharField(_("vue"), max_length=63, unique=True)
    definition_hash = models.CharField(_("empreinte de la définition"), max_length=64)
    created_at = models.DateTimeField(_("créée le"))
    refreshed_at = models.DateTimeField(_("rafraîchie le"), null=True, blank=True)
    refresh_seconds = models.FloatField(_("durée du rafraîchissement (s)"), null=True, blank=True)
    row_count = models.BigIntegerField(_("lignes"), null=True, blank=True)

    class Meta:
        verbose_name = _("agrégat des rapports")
        verbose_name_plural = _("agrégats des rapports")
        ordering = ["name"]
        permissions = [("view_reports", _("Peut consulter les rapports de direction"))]

    def __str__(self) -> str:
        return self.name


class PageHit(models.Model):
    """Portal pages viewed per day (route name), for « pages les plus consultées »."""

    day = models.DateField(_("jour"))
    route = models.CharField(_("page"), max_length=80)
    hits = models.PositiveIntegerField(_("vues"), default=0)

    class Meta:
        verbose_name = _("consultations d'une page")
        verbose_name_plural = _("consultations des pages")
        constraints = [models.UniqueConstraint(fields=["day", "route"], name="pagehit_day_route")]

    def __str__(self) -> str:
        return f"{self.day} {self.route}"


class ActiveDay(models.Model):
    """A portal account used the portal or the app that day (« utilisateurs actifs »)."""

    day = models.DateField(_("jour"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)

    class Meta:
        verbose_name = _("jour d'activité")
        verbose_name_plural = _("jours d'activité")
        constraints = [models.UniqueConstraint(fields=["day", "user"], name="activeday_day_user")]

    def __str__(self) -> str:
        return f"{self.day} {self.user_id}"


class MonthlyReport(models.Model):
    """The monthly report of one month (``rak_reports.monthly``): every report for that month as one
    XLSX and one PDF, e-mailed to the « direction » group. One row per month (the scheduler's job
    sends it once); « Envoyer le rapport mensuel maintenant » sends it again and says who asked."""

    month = models.DateField(_("mois"), unique=True, help_text=_("Premier jour du mois du rapport."))
    sent_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)
    recipients = models.JSONField(_("destinataires"), default=list, blank=True)
    reports = models.JSONField(_("rapports inclus"), default=list, blank=True)
    failed_reports = models.JSONField(_("rapports en erreur"), default=list, blank=True)
    sent_count = models.PositiveSmallIntegerField(_("envois"), default=0)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("envoyé par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Vide : envoyé par la tâche planifiée."),
    )

    class Meta:
        verbose_name = _("rapport mensuel")
        verbose_name_plural = _("rapports mensuels")
        ordering = ["-month"]
        permissions = [("send_monthlyreport", _("Peut envoyer le rapport mensuel maintenant"))]

    def __str__(self) -> str:
        return f"{self.month:%m/%Y}"
