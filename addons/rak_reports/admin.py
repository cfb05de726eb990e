"""The reports addon in the back office: « Agrégats des rapports » (the materialised views: last
refresh, its duration, rows; « Rafraîchir maintenant ») and « Rapports mensuels » (what was sent to
the direction each month; « Envoyer le rapport mensuel maintenant »). Read only; the two actions
(superviseur) confirm on a page and, on POST, hand the work to a worker (the refresh job made due
now, the monthly report as a background task): minutes on a large database, never in the request.
The direction reads both lists with its report permission."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.decorators import action, display

from rak_base import clock
from rak_base.errors import RakError
from rak_base.models import ScheduledJob
from rak_base.scheduler import jobs_sync, scheduled_job_run_now
from rak_reports import matviews, monthly
from rak_reports.models import MonthlyReport, ReportView
from rak_reports.tasks import monthly_report_send_now_task

REPORTS_PERMISSION = "rak_reports.view_reports"


class _ReadOnly(ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_view_permission(self, request, obj=None) -> bool:
        return super().has_view_permission(request, obj) or request.user.has_perm(REPORTS_PERMISSION)

    def _confirm(self, request, *, title, lines, button, testid):
        return TemplateResponse(
            request,
            "admin/rak_reports/confirm_action.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "opts": self.model._meta,
                "lines": lines,
                "button": button,
                "testid": testid,
                "back_url": self._changelist_url(),
            },
        )

    def _changelist_url(self) -> str:
        meta = self.model._meta
        return reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")


@admin.register(ReportView)
class ReportViewAdmin(_ReadOnly):
    list_display = ("name", "label", "refreshed_at", "duration", "row_count")
    fields = ("name", "label", "created_at", "refreshed_at", "duration", "row_count", "definition_hash")
    readonly_fields = fields
    ordering = ("name",)
    actions_list = ("refresh_now",)

    def has_refresh_permission(self, request) -> bool:
        return request.user.has_perm("rak_reports.change_reportview")

    @display(description=_("contenu"))
    def label(self, obj: ReportView) -> str:
        view = matviews.matviews_registered().get(obj.name)
        return view.label if view else ""

    @display(description=_("durée"), ordering="refresh_seconds")
    def duration(self, obj: ReportView) -> str:
        if obj.refresh_seconds is None:
            return "—"
        return f"{formats.number_format(obj.refresh_seconds, 2)} s"

    @action(description=_("Rafraîchir maintenant"), url_path="rafraichir", permissions=["refresh"], icon="refresh")
    def refresh_now(self, request):
        if not self.has_refresh_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            # the worker does it (minutes on a large database: never inside the web request)
            now = clock.now()
            jobs_sync(now=now)
            row = ScheduledJob.objects.get(name="reports_refresh")
            try:
                scheduled_job_run_now(job_id=row.pk, now=now)
            except RakError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(
                    request,
                    gettext(
                        "Rafraîchissement demandé : un worker recalcule les %(count)d agrégat(s) dans les secondes qui "
                        "viennent (suivi dans « Tâches planifiées »), les rapports restent consultables."
                    )
                    % {"count": len(matviews.matviews_registered())},
                )
            return HttpResponseRedirect(self._changelist_url())
        return self._confirm(
            request,
            title=gettext("Rafraîchir les agrégats des rapports"),
            lines=[
                gettext(
                    "Les agrégats sont rafraîchis toutes les 15 minutes par la tâche planifiée. Les rafraîchir "
                    "maintenant recalcule chacun d'eux (quelques secondes à quelques minutes sur une grande base) ; "
                    "les rapports restent consultables pendant ce temps."
                )
            ],
            button=gettext("Rafraîchir maintenant"),
            testid="reportview-refresh-form",
        )


@admin.register(MonthlyReport)
class MonthlyReportAdmin(_ReadOnly):
    list_display = (
        "month_display",
        "sent_at",
        "recipients_display",
        "reports_count",
        "failed_display",
        "sent_count",
        "sent_by",
    )
    list_select_related = ("sent_by",)
    fields = ("month_display", "sent_at", "sent_by", "sent_count", "recipients_display", "reports", "failed_display")
    readonly_fields = fields
    actions_list = ("send_now",)

    def has_send_permission(self, request) -> bool:
        return request.user.has_perm("rak_reports.send_monthlyreport")

    @display(description=_("mois"), ordering="month")
    def month_display(self, obj: MonthlyReport) -> str:
        return formats.date_format(obj.month, "F Y")

    @display(description=_("destinataires"))
    def recipients_display(self, obj: MonthlyReport) -> str:
        return ", ".join(obj.recipients) or gettext("personne (aucun membre de la direction avec une adresse e-mail)")

    @display(description=_("rapports"))
    def reports_count(self, obj: MonthlyReport) -> int:
        return len(obj.reports)

    @display(description=_("rapports en erreur"))
    def failed_display(self, obj: MonthlyReport) -> str:
        return ", ".join(obj.failed_reports) or "—"

    @action(
        description=_("Envoyer le rapport mensuel maintenant"), url_path="envoyer", permissions=["send"], icon="send"
    )
    def send_now(self, request):
        if not self.has_send_permission(request):
            raise PermissionDenied
        now = clock.now()
        month = monthly.previous_month(timezone.localdate(now))
        if request.method == "POST":
            # built and sent by a worker: every report, XLSX and PDF take minutes on a large database
            monthly_report_send_now_task.enqueue(request.user.pk)
            messages.success(
                request,
                gettext(
                    "Envoi du rapport mensuel de %(month)s lancé : un worker le calcule et l'envoie dans les minutes "
                    "qui viennent ; il apparaîtra dans cette liste."
                )
                % {"month": formats.date_format(month, "F Y")},
            )
            return HttpResponseRedirect(self._changelist_url())
        recipients = [user.email for user in monthly.direction_recipients()]
        return self._confirm(
            request,
            title=gettext("Envoyer le rapport mensuel maintenant"),
            lines=[
                gettext(
                    "Le rapport de %(month)s (tous les rapports de direction, en XLSX et en PDF) sera calculé sur "
                    "les données de maintenant et envoyé par e-mail, même s'il a déjà été envoyé."
                )
                % {"month": formats.date_format(month, "F Y")},
                gettext("Destinataires : %(list)s")
                % {
                    "list": ", ".join(recipients)
                    or gettext("personne (aucun membre de la direction avec une adresse e-mail)")
                },
            ],
            button=gettext("Envoyer maintenant"),
            testid="monthly-send-form",
        )
