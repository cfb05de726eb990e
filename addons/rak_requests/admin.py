"""Back-office screens of rak_requests.

- « Demandes »: the queues per type and phase with their counters (open, complement awaited,
  overdue, mine) above the list; filters by type, phase, status, « En retard » (phase deadline
  passed; oldest deadline first: the supervisor's view of SLA breaches) and « Mes demandes ».
- A request's page: every field read only; the actions of its current phase as buttons
  (accepter la phase, demander un complément, rejeter, affecter, note interne) that read the
  « Message / motif » and « Agent » boxes of the same form and call one service each; the
  attachments (opened in the browser through the access-checked staff view), the whole history
  (internal notes included), the link to the customer 360.
- Types of request, their phases (name, order, SLA in days) and required documents (label,
  required, formats, maximum size): the low-code part, with history.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.filters.admin import ChoicesDropdownFilter, RelatedDropdownFilter
from unfold.decorators import action, display

from rak_base import clock
from rak_base.errors import RakError
from rak_base.mixin_bases import ModelAdminMixinBase
from rak_base.money import money_format
from rak_base.private_files import private_file_response
from rak_customer.admin import HistoryAdmin, admin_link
from rak_requests.admin_actions import staff_action_urls, staff_actions_context
from rak_requests.engine import OPEN_STATUSES, WrongState, stale_state
from rak_requests.filing import request_summary
from rak_requests.models import Attachment, Phase, RequestEvent, RequestType, RequiredDocument, ServiceRequest
from rak_requests.selectors import queue_counters, request_final_state
from rak_requests.services import (
    ADMINISTRATIVE_PERMISSION,
    TECHNICAL_PERMISSION,
    phase_decide_permission,
    phase_is_customer_driven,
    request_accept_phase,
    request_ask_complement,
    request_assign,
    request_note,
    request_reject,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

CHANGE_PERMISSION = "rak_requests.change_servicerequest"
REQUEST_TYPE_LABEL = _("type de demande")
# Who decides a phase (accept it, ask a complement): the technical service the phases its type's
# module marks technical (``PhaseRule.technical``), the front desk the others
# (``services.phase_decide_permission``); rejecting (with a reason), assigning and notes stay open
# to both.
__all__ = ["ADMINISTRATIVE_PERMISSION", "TECHNICAL_PERMISSION"]


# --- the low-code part: types, phases, documents ----------------------------------------------------


class PhaseInline(TabularInline):
    model = Phase
    extra = 0
    fields = ("position", "code", "name", "sla_days", "customer_help")
    ordering = ("position",)


class RequiredDocumentInline(TabularInline):
    model = RequiredDocument
    extra = 0
    fields = ("position", "code", "label", "required", "allowed_kinds", "max_bytes")
    ordering = ("position",)


@admin.register(RequestType)
class RequestTypeAdmin(HistoryAdmin, ModelAdmin):
    list_display = ("name", "code", "number_prefix", "is_public", "requires_otp", "is_active", "position")
    list_editable = ("position",)
    inlines = (PhaseInline, RequiredDocumentInline)
    fields = ("code", "name", "description", "number_prefix", "is_public", "requires_otp", "is_active", "position")

    def get_readonly_fields(self, request, obj=None):
        return ("code",) if obj is not None else ()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # requests refer to it: deactivate instead


class PhaseForm(forms.ModelForm):
    """A phase's own page: its type is read only, so Django would skip the (type, code) and (type,
    order) constraints and let the database refuse with its constraint name; check them all here
    so the agent reads the constraint's French sentence."""

    class Meta:
        model = Phase
        fields = ("position", "name", "sla_days", "customer_help")  # type and code: read only

    # _post_clean and _update_errors: BaseModelForm's private hooks, which django-stubs does not declare
    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]
        try:
            self.instance.validate_constraints()
        except ValidationError as error:
            self._update_errors(error)  # type: ignore[attr-defined]


class RequestTypeFilter(RelatedDropdownFilter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = REQUEST_TYPE_LABEL


class RequestTypeLabelMixin(ModelAdminMixinBase):
    """Phase.request_type and RequiredDocument.request_type have no French verbose_name (adding one
    is a migration): the back office names them here, in the list, its filter and the form."""

    @display(description=REQUEST_TYPE_LABEL, ordering="request_type__name")
    def request_type_display(self, obj) -> str:
        return str(obj.request_type)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "request_type":
            kwargs["label"] = capfirst(REQUEST_TYPE_LABEL)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Phase)
class PhaseAdmin(RequestTypeLabelMixin, HistoryAdmin, ModelAdmin):
    form = PhaseForm
    list_display = ("request_type_display", "position", "name", "code", "sla_days")
    list_filter = (("request_type", RequestTypeFilter),)
    list_select_related = ("request_type",)
    readonly_fields = ("request_type_display", "code")

    def has_add_permission(self, request) -> bool:
        return False  # phases are added on their type's page

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RequiredDocument)
class RequiredDocumentAdmin(RequestTypeLabelMixin, HistoryAdmin, ModelAdmin):
    list_display = ("request_type_display", "position", "label", "required", "allowed_kinds", "max_bytes")
    list_filter = (("request_type", RequestTypeFilter),)
    list_select_related = ("request_type",)


# --- the queues ---------------------------------------------------------------------------------------


class OverdueFilter(admin.SimpleListFilter):
    title = _("délai")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return (("1", _("En retard (échéance dépassée)")),)

    def queryset(self, request, queryset):
        if self.value() == "1":
            return queryset.filter(status__in=OPEN_STATUSES, phase_due_at__lt=clock.now())
        return queryset


class MineFilter(admin.SimpleListFilter):
    title = _("affectation")
    parameter_name = "mine"

    def lookups(self, request, model_admin):
        return (("1", _("Mes demandes")), ("none", _("Non affectées")))

    def queryset(self, request, queryset):
        if self.value() == "1":
            return queryset.filter(assigned_to=request.user)
        if self.value() == "none":
            return queryset.filter(assigned_to__isnull=True)
        return queryset


class OpenFilter(admin.SimpleListFilter):
    title = _("état")
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return (("1", _("Ouvertes")), ("0", _("Clôturées")))

    def queryset(self, request, queryset):
        if self.value() == "1":
            return queryset.filter(status__in=OPEN_STATUSES)
        if self.value() == "0":
            return queryset.exclude(status__in=OPEN_STATUSES)
        return queryset


class ReadOnlyInline(TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False
    hide_title = True  # no « 12 Demande déposée » (the row's id and repr) above each line

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class AttachmentInline(ReadOnlyInline):
    model = Attachment
    verbose_name_plural = _("pièces jointes")
    fields = ("open_link", "document_code", "original_name", "content_type", "size", "uploaded_at", "sha256")
    readonly_fields = fields

    @display(description=_("ouvrir"))
    def open_link(self, obj: Attachment) -> str:
        url = reverse("admin:rak_requests_servicerequest_attachment", args=[obj.request_id, obj.pk])
        return format_html(
            '<a href="{}" target="_blank" rel="noopener" class="text-primary-600">{}</a>', url, obj.label
        )


class EventInline(ReadOnlyInline):
    model = RequestEvent
    verbose_name_plural = _("historique (notes internes comprises)")
    fields = ("at", "kind", "actor_kind", "agent", "phase_reached", "message", "internal")
    readonly_fields = fields
    ordering = ("at", "id")

    @display(description=_("agent"))
    def agent(self, obj: RequestEvent) -> str:
        return (obj.actor.get_full_name() or obj.actor.username) if obj.actor is not None else "—"

    @display(description=_("vers la phase"))
    def phase_reached(self, obj: RequestEvent) -> str:
        return obj.to_phase.name if obj.to_phase is not None else "—"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor", "to_phase")


def open_state(obj: ServiceRequest) -> str:
    """An open request, for staff: the action expected from the customer, or that none is (the
    customer's « En cours : aucune action » reads as if nothing were happening)."""
    if obj.expected_action == ServiceRequest.Action.NONE:
        return str(_("Aucune action attendue du client"))
    return obj.get_expected_action_display()


def staff_agents():
    return get_user_model().objects.filter(is_staff=True, is_active=True).order_by("username")


class RequestActionForm(forms.ModelForm):
    """No field of the request is edited here: the two boxes feed the action buttons."""

    action_message = forms.CharField(
        label=_("Message / motif / note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Le complément demandé au client, le motif du rejet ou la note interne, selon le bouton choisi."),
    )
    documents = forms.ModelMultipleChoiceField(
        label=_("Pièces demandées"),
        queryset=RequiredDocument.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Pour « Demander un complément » : les pièces de ce type de demande à fournir de nouveau."),
    )
    agent = forms.ModelChoiceField(label=_("Agent"), queryset=staff_agents(), required=False)
    # the phase and the status the agent saw: if the request moved meanwhile (another agent, another
    # tab), every action button is refused with where the request is now
    seen_phase = forms.CharField(required=False, widget=forms.HiddenInput)
    seen_status = forms.CharField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = ServiceRequest
        fields = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["agent"]).queryset = staff_agents()
        if self.instance.pk:
            cast(forms.ModelChoiceField, self.fields["documents"]).queryset = RequiredDocument.objects.filter(
                request_type_id=self.instance.request_type_id
            ).order_by("position")
        if self.instance.pk and self.instance.phase_id:
            self.fields["seen_phase"].initial = self.instance.phase.code
        if self.instance.pk:
            self.fields["seen_status"].initial = self.instance.status


@admin.register(ServiceRequest)
class ServiceRequestAdmin(ModelAdmin):
    form = RequestActionForm
    list_display = (
        "number",
        "request_type",
        "phase",
        "status_display",
        "state_display",
        "customer_link",
        "filed_at",
        "due_display",
        "assigned_to",
    )
    list_select_related = ("request_type", "phase", "customer", "assigned_to")
    list_filter = (
        OverdueFilter,
        MineFilter,
        OpenFilter,
        ("request_type", RelatedDropdownFilter),
        ("phase", RelatedDropdownFilter),
        ("status", ChoicesDropdownFilter),
    )
    list_before_template = "admin/rak_requests/queue_counters.html"
    search_fields = ("number",)
    search_help_text = _("N° de la demande ou code client.")
    ordering = ("-filed_at", "-id")
    inlines = (AttachmentInline, EventInline)
    actions_submit_line = ("accept_phase", "ask_complement", "reject", "assign", "add_note")
    readonly_fields = (
        "number",
        "request_type",
        "customer_link",
        "phase",
        "status",
        "state_detail_display",
        "channel",
        "assigned_to",
        "filed_at",
        "phase_started_at",
        "phase_due_at",
        "processed_at",
        "escalated_at",
        "data_display",
        "bill_display",
        "premises",
    )
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("number", "request_type"),
                    "customer_link",
                    ("phase", "status", "state_detail_display"),
                    ("filed_at", "phase_due_at", "processed_at"),
                    ("assigned_to", "escalated_at", "channel"),
                )
            },
        ),
        (_("Informations de la demande"), {"fields": ("data_display", "premises", "bill_display")}),
        (_("Traitement"), {"fields": ("action_message", "documents", "agent", "seen_phase", "seen_status")}),
    )

    def get_queryset(self, request):
        return (
            super().get_queryset(request).select_related("request_type", "phase", "customer", "assigned_to", "fee_bill")
        )

    def get_search_results(self, request, queryset, search_term):
        term = (search_term or "").strip()
        if not term:
            return queryset, False
        return queryset.filter(Q(number=term.upper()) | Q(customer__code=term)), False

    def get_ordering(self, request):
        if request.GET.get(OverdueFilter.parameter_name) == "1":
            return ("phase_due_at", "id")  # the SLA breaches: oldest deadline first
        return super().get_ordering(request)

    def has_add_permission(self, request) -> bool:
        return False  # requests are filed by the customer or at the counter (filing)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # the phase's action buttons are the only way to act: no « Enregistrer » buttons
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
        }
        current = self.get_object(request, object_id)
        if current is not None:  # the type's own buttons (rak_requests.admin_actions)
            extra_context["staff_actions"] = staff_actions_context(
                current, request.user, bound=extra_context.get("staff_action_bound")
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        now = clock.now()
        counters = queue_counters(now=now, user_id=request.user.pk)
        base = reverse("admin:rak_requests_servicerequest_changelist")
        for row in counters:
            query = f"?request_type__id__exact={row['request_type_id']}&open=1"
            if row["phase_id"]:
                query += f"&phase__id__exact={row['phase_id']}"
            row["url"] = base + query
            row["overdue_url"] = base + query + "&overdue=1"
            row["mine_url"] = base + query + "&mine=1"
        extra_context["queue_counters"] = counters
        extra_context["queue_totals"] = {
            key: sum(row[key] for row in counters) for key in ("total", "complement", "overdue", "mine")
        }
        extra_context["queue_base_url"] = base
        return super().changelist_view(request, extra_context)

    # --- displays ---

    @display(description=_("client"), ordering="customer__code")
    def customer_link(self, obj: ServiceRequest) -> str:
        return admin_link(obj.customer, f"{obj.customer.code} — {obj.customer.display_name}")

    @display(
        description=_("statut"),
        ordering="status",
        label={
            "EN_COURS": "info",
            "COMPLEMENT_DEMANDE": "warning",
            "ACCEPTEE": "success",
            "REJETEE": "danger",
            "ANNULEE": "danger",
        },
    )
    def status_display(self, obj: ServiceRequest):
        return obj.status, obj.get_status_display()

    @display(description=_("état / action attendue"))
    def state_display(self, obj: ServiceRequest) -> str:
        """Open: the action expected from the customer. Closed: how and when it ended (never
        « En cours : aucune action » for a closed request)."""
        if obj.status in OPEN_STATUSES:
            return open_state(obj)
        return request_final_state(obj, with_actor=False)

    @display(description=_("état / action attendue"))
    def state_detail_display(self, obj: ServiceRequest) -> str:
        """The request's page: a closed request also says who decided (and the reason of a refusal)."""
        if obj.status in OPEN_STATUSES:
            return open_state(obj)
        return request_final_state(obj, with_actor=True)

    @display(description=_("facture (frais d'abonnement ou travaux)"))
    def bill_display(self, obj: ServiceRequest) -> str:
        bill = obj.fee_bill
        if bill is None:
            return "—"
        paid = (
            _("payée le %(date)s") % {"date": timezone.localtime(bill.settled_at).strftime("%d/%m/%Y")}
            if bill.settled_at
            else _("à payer")
        )
        return format_html(
            '<a href="{}" class="text-primary-600">{}</a> — {} — {} — {}',
            reverse("admin:rak_billing_bill_change", args=[bill.pk]),
            bill.number,
            bill.get_kind_display(),
            money_format(bill.total_ttc),
            paid,
        )

    @display(description=_("échéance"), ordering="phase_due_at")
    def due_display(self, obj: ServiceRequest) -> str:
        if obj.phase_due_at is None:
            return "—"
        text = obj.phase_due_at.strftime("%d/%m/%Y")
        if obj.status in OPEN_STATUSES and obj.phase_due_at < clock.now():
            return format_html('<span class="text-red-600 font-semibold" title="{}">⚠ {}</span>', _("En retard"), text)
        return text

    @display(description=_("informations"))
    def data_display(self, obj: ServiceRequest) -> str:
        """The request's data as the customer's form named it (French labels, chosen options'
        labels), never the stored keys and Python lists."""
        rows = request_summary(obj)
        if not rows:
            return "—"
        return format_html(
            "<dl>{}</dl>",
            format_html_join("", "<dt class='font-medium'>{}</dt><dd class='mb-1'>{}</dd>", rows),
        )

    # --- actions of the phase ---

    def _open(self, object_id) -> ServiceRequest | None:
        return (
            ServiceRequest.objects.select_related("phase", "request_type")
            .filter(pk=object_id, status__in=OPEN_STATUSES)
            .first()
        )

    def _can_change(self, request) -> bool:
        return request.user.has_perm(CHANGE_PERMISSION)

    def _decides(self, request, current: ServiceRequest) -> bool:
        """The agent's team decides this phase (technical or administrative)."""
        return request.user.has_perm(phase_decide_permission(current))

    def has_accept_phase_permission(self, request, object_id=None) -> bool:
        if not self._can_change(request):
            return False
        if object_id is None:
            return True
        current = self._open(object_id)
        return (
            current is not None
            and current.status == ServiceRequest.Status.EN_COURS
            and not phase_is_customer_driven(current)
            and self._decides(request, current)
        )

    def has_ask_complement_permission(self, request, object_id=None) -> bool:
        if not self._can_change(request):
            return False
        current = self._open(object_id) if object_id is not None else None
        return object_id is None or (
            current is not None and current.status == ServiceRequest.Status.EN_COURS and self._decides(request, current)
        )

    def has_reject_permission(self, request, object_id=None) -> bool:
        # a request can be turned down at any phase (withdrawn, fraud, duplicate), with a reason
        return self._can_change(request) and (object_id is None or self._open(object_id) is not None)

    has_assign_permission = has_reject_permission

    def has_add_note_permission(self, request, object_id=None) -> bool:
        return self._can_change(request)

    def _run(self, request, obj: ServiceRequest, call, success: StrOrPromise) -> None:
        try:
            call()
        except RakError as exc:
            messages.error(request, f"{obj.number} : {exc.message}")
        else:
            messages.success(request, f"{obj.number} : {success}")

    def _message(self, request) -> str:
        return (request.POST.get("action_message") or "").strip()

    def _seen(self, request, obj: ServiceRequest) -> dict | None:
        """The phase and the status the agent's page showed (posted by the form); None (and the
        refusal shown) when the post does not say: the action is not run blind."""
        if "seen_phase" not in request.POST or "seen_status" not in request.POST:
            messages.error(request, f"{obj.number} : {WrongState.default_message}")
            return None
        return {
            "expect_phase": request.POST["seen_phase"] or None,
            "expect_status": request.POST["seen_status"] or None,
        }

    @action(description=_("Accepter la phase"), permissions=["accept_phase"], icon="check")
    def accept_phase(self, request, obj: ServiceRequest):
        seen = self._seen(request, obj)
        if seen is None:
            return
        self._run(
            request,
            obj,
            lambda: request_accept_phase(request_id=obj.pk, staff=request.user, now=clock.now(), **seen),
            _("phase acceptée."),
        )

    @action(description=_("Demander un complément"), permissions=["ask_complement"], icon="mail")
    def ask_complement(self, request, obj: ServiceRequest):
        seen = self._seen(request, obj)
        if seen is None:
            return
        message = self._message(request)
        documents = RequiredDocument.objects.filter(
            request_type_id=obj.request_type_id, pk__in=[v for v in request.POST.getlist("documents") if v.isdigit()]
        ).order_by("position")
        labels = [document.label for document in documents]
        self._run(
            request,
            obj,
            lambda: request_ask_complement(
                request_id=obj.pk, staff=request.user, message=message, documents=labels, now=clock.now(), **seen
            ),
            _("complément demandé au client (SMS, e-mail, notification)."),
        )

    @action(description=_("Rejeter"), permissions=["reject"], icon="block")
    def reject(self, request, obj: ServiceRequest):
        seen = self._seen(request, obj)
        if seen is None:
            return
        reason = self._message(request)
        self._run(
            request,
            obj,
            lambda: request_reject(request_id=obj.pk, staff=request.user, reason=reason, now=clock.now(), **seen),
            _("demande rejetée."),
        )

    @action(description=_("Affecter"), permissions=["assign"], icon="person_add")
    def assign(self, request, obj: ServiceRequest):
        agent = staff_agents().filter(pk=request.POST.get("agent") or None).first()
        self._run(
            request,
            obj,
            lambda: request_assign(request_id=obj.pk, staff=request.user, agent=agent, now=clock.now()),
            _("demande affectée."),
        )

    @action(description=_("Note interne"), permissions=["add_note"], icon="sticky_note_2")
    def add_note(self, request, obj: ServiceRequest):
        text = self._message(request)
        self._run(
            request,
            obj,
            lambda: request_note(request_id=obj.pk, staff=request.user, text=text, now=clock.now()),
            _("note ajoutée."),
        )

    def save_model(self, request, obj, form, change):
        # Nothing of the request is written from the form (a stale page must never put back an old
        # status): only the pressed button's service runs, under the row lock.
        allowed = self.get_actions_submit_line(request, obj.pk)
        pressed = [a for a in allowed if a.action_name in request.POST]
        for unfold_action in pressed:
            unfold_action.method(request, obj)
        if not pressed and any(a.action_name in request.POST for a in self._get_base_actions_submit_line()):
            # a button the request no longer offers (closed, or waiting for the customer since the
            # page was loaded): say so instead of doing nothing
            current = ServiceRequest.objects.select_related("phase").get(pk=obj.pk)
            messages.error(request, stale_state(current).message)

    def response_change(self, request, obj):
        return HttpResponseRedirect(reverse("admin:rak_requests_servicerequest_change", args=[obj.pk]))

    # --- attachments viewer ---

    def get_urls(self):
        from rak_requests.admin_counter import counter_urls  # « Déposer une demande » at the counter

        urls = super().get_urls()
        return [
            path(
                "<int:request_id>/pieces/<int:attachment_id>/",
                self.admin_site.admin_view(self.attachment_view),
                name="rak_requests_servicerequest_attachment",
            ),
            *staff_action_urls(self),
            *counter_urls(self.admin_site),
            *urls,
        ]

    def attachment_view(self, request, request_id: int, attachment_id: int):
        """An attachment, inline (images and PDF open in the browser), for staff who may view
        requests."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        attachment = get_object_or_404(Attachment, pk=attachment_id, request_id=request_id)
        if not attachment.file:
            raise Http404
        return private_file_response(attachment.file, download_name=attachment.original_name or None)
