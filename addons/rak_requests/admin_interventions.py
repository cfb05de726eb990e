"""Back office: field intervention orders for the technical team (issue 11).

- The list (« Ordres d'intervention »): pending orders first, by planned date; filters: status,
  nature, district, planned date, « en retard » (pending past their planned date).
- The order's page: the complaint, the place, the instructions; « Marquer réalisée » (compte rendu
  required, visible to the customer in the complaint's thread unless « interne » is ticked — the
  agent in charge is told) and « Annuler » (a reason), each one call of
  ``rak_requests.complaints.interventions``; « Imprimer l'ordre » (PDF through rak_base.pdf).

Orders are issued from a complaint (« Ordre d'intervention », complaints.actions), never added here.
"""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Q, Value, When
from django.http import Http404, HttpResponse
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.contrib.filters.admin import ChoicesDropdownFilter, RangeDateFilter
from unfold.decorators import action, display

from rak_base import clock
from rak_requests.admin_lifecycle import _ActionsOnlyAdmin
from rak_requests.complaint_models import FieldIntervention
from rak_requests.complaints import interventions

PERFORM_PERMISSION = "rak_requests.perform_intervention"
CANCEL_PERMISSION = "rak_requests.add_fieldintervention"  # who orders may cancel (the technical team too)
LINK_CLASSES = "text-primary-600 dark:text-primary-500 font-medium"
STATUS_LABELS = {"PENDING": "warning", "DONE": "success", "CANCELLED": "danger"}


class InterventionForm(forms.ModelForm):
    """Feeds the buttons; saving writes nothing by itself."""

    report_text = forms.CharField(
        label=_("Compte rendu"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Ce qui a été constaté et fait. Obligatoire pour « Marquer réalisée »."),
    )
    report_internal = forms.BooleanField(
        label=_("Compte rendu interne (non visible du client)"),
        required=False,
        help_text=_("Par défaut, le compte rendu est versé au fil de la réclamation, visible du client."),
    )
    cancel_reason = forms.CharField(
        label=_("Motif de l'annulation"), required=False, max_length=500, help_text=_("Obligatoire pour « Annuler ».")
    )

    class Meta:
        model = FieldIntervention
        fields = ()


class DistrictFilter(admin.SimpleListFilter):
    title = _("quartier")
    parameter_name = "district"

    def lookups(self, request, model_admin):
        districts = (
            FieldIntervention.objects.exclude(district="")
            .order_by("district")
            .values_list("district", flat=True)
            .distinct()
        )
        return [(d, d) for d in districts]

    def queryset(self, request, queryset):
        return queryset.filter(district=self.value()) if self.value() else queryset


class OverdueFilter(admin.SimpleListFilter):
    title = _("retard")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return (("yes", _("En retard (date prévue dépassée)")),)

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(overdue_filter(timezone.localdate(clock.now())))
        return queryset


def overdue_filter(today: datetime.date) -> Q:
    return Q(status=FieldIntervention.Status.PENDING, planned_for__lt=today)


def _complaint_link(intervention: FieldIntervention) -> str:
    complaint = intervention.complaint
    try:
        url = reverse("admin:rak_requests_complaint_change", args=[complaint.pk])
    except NoReverseMatch:
        return complaint.number
    return format_html('<a href="{}" class="{}">{}</a>', url, LINK_CLASSES, complaint.number)


@admin.register(FieldIntervention)
class FieldInterventionAdmin(_ActionsOnlyAdmin):
    """Never added here (issued from a complaint, « Ordre d'intervention ») nor deleted (cancelled
    with a reason); the form feeds the buttons (``_ActionsOnlyAdmin``)."""

    form = InterventionForm
    list_display = (
        "number",
        "kind",
        "service",
        "complaint_display",
        "address",
        "district",
        "planned_display",
        "status_display",
        "created_at",
        "done_at",
    )
    list_select_related = ("complaint",)
    list_filter = (
        ("status", ChoicesDropdownFilter),
        ("kind", ChoicesDropdownFilter),
        DistrictFilter,
        ("planned_for", RangeDateFilter),
        OverdueFilter,
    )
    list_filter_submit = True
    search_fields = ("number", "complaint__number", "address")
    search_help_text = _("N° d'ordre, n° de réclamation ou adresse.")
    show_full_result_count = False
    actions_submit_line = ("mark_done", "cancel")
    actions_detail = ("print_order",)
    readonly_fields = (
        "number",
        "complaint_display",
        "kind",
        "service",
        "address",
        "district",
        "instructions",
        "planned_for",
        "status_display",
        "created_at",
        "created_by",
        "done_at",
        "done_by",
        "report",
    )
    fieldsets = (
        (
            _("Ordre d'intervention"),
            {
                "fields": (
                    ("number", "status_display"),
                    ("complaint_display", "kind", "service"),
                    ("address", "district"),
                    "instructions",
                    ("planned_for", "created_at", "created_by"),
                )
            },
        ),
        (_("Résultat"), {"fields": (("done_at", "done_by"), "report")}),
        (_("Compte rendu de l'équipe technique"), {"fields": ("report_text", "report_internal", "cancel_reason")}),
    )

    def get_queryset(self, request):
        pending_first = Case(When(status="PENDING", then=Value(0)), default=Value(1), output_field=IntegerField())
        return (
            super()
            .get_queryset(request)
            .select_related("complaint", "created_by", "done_by")
            .order_by(pending_first, "planned_for", "-created_at", "-id")
        )

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or obj.status != FieldIntervention.Status.PENDING:
            return fieldsets[:2]  # done or cancelled: nothing left to write
        if not request.user.has_perm(PERFORM_PERMISSION):  # the agent who orders may only cancel
            return (*fieldsets[:2], (_("Annulation de l'ordre"), {"fields": ("cancel_reason",)}))
        return fieldsets

    def has_change_permission(self, request, obj=None) -> bool:
        """The technical team changes any order; an agent who may order one (« Ordre
        d'intervention ») may post a pending one's page to cancel it (« Annuler l'ordre »)."""
        if super().has_change_permission(request, obj):
            return True
        return (
            obj is not None
            and obj.status == FieldIntervention.Status.PENDING
            and request.user.has_perm(CANCEL_PERMISSION)
        )

    def _pending(self, object_id) -> bool:
        return FieldIntervention.objects.filter(pk=object_id, status=FieldIntervention.Status.PENDING).exists()

    def has_perform_permission(self, request, object_id=None) -> bool:
        if not request.user.has_perm(PERFORM_PERMISSION):
            return False
        return object_id is None or self._pending(object_id)

    def has_cancel_order_permission(self, request, object_id=None) -> bool:
        user = request.user
        if not (user.has_perm(PERFORM_PERMISSION) or user.has_perm(CANCEL_PERMISSION)):
            return False
        return object_id is None or self._pending(object_id)

    def has_print_permission(self, request, object_id=None) -> bool:
        return self.has_view_permission(request)

    @action(description=_("Marquer réalisée"), permissions=["perform"], icon="task_alt")
    def mark_done(self, request, obj: FieldIntervention):
        data = getattr(request, "_rak_form_data", {}) or {}
        self._run(
            request,
            lambda: interventions.intervention_complete(
                intervention_id=obj.pk,
                staff_user=request.user,
                report=data.get("report_text") or "",
                public=not data.get("report_internal"),
                now=clock.now(),
            ),
            _("Intervention réalisée : le compte rendu est versé à la réclamation, l'agent en charge est informé."),
        )

    @action(description=_("Annuler l'ordre"), permissions=["cancel_order"], icon="cancel")
    def cancel(self, request, obj: FieldIntervention):
        data = getattr(request, "_rak_form_data", {}) or {}
        self._run(
            request,
            lambda: interventions.intervention_cancel(
                intervention_id=obj.pk, staff_user=request.user, reason=data.get("cancel_reason") or "", now=clock.now()
            ),
            _("Ordre d'intervention annulé."),
        )

    @action(description=_("Imprimer l'ordre"), url_path="imprimer", permissions=["print"], icon="print")
    def print_order(self, request, object_id):
        intervention = self.get_object(request, unquote(object_id))
        if intervention is None:
            raise Http404
        if not self.has_view_permission(request, intervention):
            raise PermissionDenied
        pdf = intervention_order_pdf(intervention)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="ordre-{intervention.number}.pdf"'
        return response

    @display(description=_("réclamation"), ordering="complaint__number")
    def complaint_display(self, obj: FieldIntervention) -> str:
        return _complaint_link(obj)

    @display(description=_("prévue le"), ordering="planned_for")
    def planned_display(self, obj: FieldIntervention):
        if obj.planned_for is None:
            return "—"
        late = obj.status == FieldIntervention.Status.PENDING and obj.planned_for < timezone.localdate(clock.now())
        text = obj.planned_for.strftime("%d/%m/%Y")
        if late:
            return format_html(
                '<span class="text-red-600 font-semibold" data-testid="late">{} ({})</span>', text, _("en retard")
            )
        return text

    @display(description=_("statut"), ordering="status", label=STATUS_LABELS)
    def status_display(self, obj: FieldIntervention):
        return obj.status, obj.get_status_display()


def intervention_order_pdf(intervention: FieldIntervention) -> bytes:
    """The printable order (tagged PDF through rak_base.pdf, as the other documents)."""
    from rak_base.pdf import pdf_render

    complaint = intervention.complaint
    html = render_to_string(
        "rak_requests/pdf/intervention_order.html",
        {
            "intervention": intervention,
            "complaint": complaint,
            "printed_at": timezone.localtime(clock.now()),
        },
    )
    return pdf_render(html)
