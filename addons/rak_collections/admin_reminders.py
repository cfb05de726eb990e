"""Back office of the reminders: the reminder plans and their steps (recouvrement, superviseur),
and « Dossiers de recouvrement » — one line per episode of overdue debt of a customer, its steps
done (read only: the scheduler's job writes them), filters by status and plan."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.http import Http404
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.filters.admin import ChoicesDropdownFilter, RelatedDropdownFilter
from unfold.decorators import action, display

from rak_base.documents import document_for_subject
from rak_base.models import Document
from rak_base.private_files import private_file_response
from rak_collections.models import DunningCase, ReminderEvent, ReminderPlan, ReminderStep
from rak_customer.admin import admin_link


class ReminderStepInline(TabularInline):
    model = ReminderStep
    extra = 0
    fields = ("position", "days_after_due", "action", "label")
    ordering = ("position",)


@admin.register(ReminderPlan)
class ReminderPlanAdmin(ModelAdmin):
    list_display = ("name", "customer_kind", "min_amount", "cut_fee", "is_active", "steps_count")
    list_filter = ("is_active",)
    search_fields = ("name",)
    inlines = (ReminderStepInline,)
    fields = ("name", "customer_kind", "min_amount", "cut_fee", "is_active")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("steps")

    @display(description=_("étapes"))
    def steps_count(self, obj: ReminderPlan) -> str:
        return " → ".join(str(step) for step in obj.steps.all()) or "—"

    def has_delete_permission(self, request, obj=None) -> bool:
        # a plan that has cases is kept (their history names it): deactivate it instead
        if obj is not None and obj.cases.exists():
            return False
        return super().has_delete_permission(request, obj)


class ReminderEventInline(TabularInline):
    model = ReminderEvent
    extra = 0
    can_delete = False
    fields = ("at", "step", "action", "amount_due", "outcome", "detail")
    readonly_fields = fields
    ordering = ("at", "id")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("step")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(DunningCase)
class DunningCaseAdmin(ModelAdmin):
    list_display = (
        "customer_link",
        "plan",
        "status_display",
        "amount_due",
        "oldest_due_date",
        "opened_at",
        "last_step",
        "closed_at",
    )
    list_select_related = ("customer", "plan")
    list_filter = (("status", ChoicesDropdownFilter), ("plan", RelatedDropdownFilter))
    list_filter_submit = True
    search_fields = ("customer__code",)
    search_help_text = _("Code client (exact).")
    ordering = ("-opened_at", "-id")
    list_per_page = 50
    inlines = (ReminderEventInline,)
    actions_detail = ("notice_pdf",)
    fields = (
        "customer_link",
        "plan",
        "status_display",
        "amount_due",
        "oldest_due_date",
        "opened_at",
        "closed_at",
        "close_reason",
        "orders",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("customer", "plan")

    def get_search_results(self, request, queryset, search_term):
        term = (search_term or "").strip()
        if not term:
            return queryset, False
        return queryset.filter(customer__code=term[:12]), False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_notice_pdf_permission(self, request, object_id=None) -> bool:
        return self.has_view_permission(request)

    @display(description=_("client"), ordering="customer__code")
    def customer_link(self, obj: DunningCase) -> str:
        return format_html("{} {}", admin_link(obj.customer, obj.customer.code), obj.customer.display_name)

    @display(
        description=_("statut"),
        ordering="status",
        label={"OPEN": "warning", "PAID": "success", "PLAN": "info", "CANCELLED": "info"},
    )
    def status_display(self, obj: DunningCase):
        return obj.status, obj.get_status_display()

    @display(description=_("dernière relance"))
    def last_step(self, obj: DunningCase) -> str:
        last = getattr(obj, "_last_event", None)
        if last is None:
            return "—"
        return f"{last.get_action_display()} {last.at:%d/%m/%Y}"

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        cases = list(changelist.result_list)
        latest: dict[int, ReminderEvent] = {}
        for event in ReminderEvent.objects.filter(case__in=cases).order_by("case_id", "at", "id"):
            latest[event.case_id] = event  # one query for the page
        for case in cases:
            case._last_event = latest.get(case.pk)
        changelist.result_list = cases
        return changelist

    @display(description=_("ordres de coupure"))
    def orders(self, obj: DunningCase) -> str:
        links = [admin_link(order, order.number) for order in obj.cutoff_orders.all()]
        return format_html(", ".join(["{}"] * len(links)), *links) if links else "—"

    @action(description=_("Mise en demeure (PDF)"), permissions=["notice_pdf"], icon="picture_as_pdf")
    def notice_pdf(self, request, object_id):
        case = self.get_object(request, unquote(str(object_id)))
        if case is None:
            raise Http404
        event = case.events.filter(action=ReminderStep.Action.FORMAL_NOTICE).order_by("-at").first()
        document = document_for_subject(kind=Document.Kind.OTHER, subject=event) if event else None
        if document is None:
            raise Http404
        return private_file_response(document.file, download_name=f"mise-en-demeure-{case.customer.code}.pdf")
