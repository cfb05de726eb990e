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
