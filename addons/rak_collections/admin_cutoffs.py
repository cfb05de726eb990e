"""Back office of the technical team: « Ordres de coupure » (filters status / district / agency,
printable order sheet, « Exécuté » with the meter index, « Non exécuté » with the reason) and
« Ordres de rétablissement » (overdue ones highlighted, « Rétabli »). Each write is one service
call of ``rak_collections.cutoffs``; a domain error is shown with its French message."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import ChoicesDropdownFilter
from unfold.decorators import action, display

from rak_base import clock
from rak_base.errors import RakError
from rak_collections.cutoffs import (
    cutoff_order_execute,
    cutoff_order_not_done,
    reconnection_order_execute,
)
from rak_collections.models import CutoffOrder, ReconnectionOrder
from rak_customer.admin import admin_link
from rak_customer.models import Agency, Premises


class DistrictFilter(admin.SimpleListFilter):
    title = _("quartier")
    parameter_name = "quartier"

    def lookups(self, request, model_admin):
        districts = Premises.objects.order_by("district").values_list("district", flat=True).distinct()
        return [(d, d) for d in districts if d]

    def queryset(self, request, queryset):
        return queryset.filter(dossier__premises__district=self.value()) if self.value() else queryset


class AgencyFilter(admin.SimpleListFilter):
    title = _("agence")
    parameter_name = "agence"

    def lookups(self, request, model_admin):
        return [(str(pk), name) for pk, name in Agency.objects.order_by("name").values_list("pk", "name")]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if not value.isdigit():
            return queryset.none()
        return queryset.filter(customer__agency_id=int(value))


class ExecuteForm(forms.Form):
    meter_index = forms.DecimalField(
        label=_("Index du compteur à la coupure"), required=False, max_digits=12, decimal_places=3, min_value=0
    )
    note = forms.CharField(label=_("Observation"), required=False, max_length=2000, widget=forms.Textarea)


class NotDoneForm(forms.Form):
    reason = forms.CharField(label=_("Motif"), max_length=255)


class ReconnectForm(forms.Form):
    note = forms.CharField(label=_("Observation"), required=False, max_length=2000, widget=forms.Textarea)


#: order sheets printed at once (a day's round of a team)
MAX_SHEETS = 200


def _sheets_response(orders: list[CutoffOrder], filename: str) -> HttpResponse:
    """One PDF, one page per order (the team's round sorted by district and address)."""
    from rak_base.pdf import pdf_render

    pdf = pdf_render(render_to_string("rak_collections/pdf/cutoff_order.html", {"orders": orders}))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _form_page(admin_obj, request, *, order, form, title, submit, testid):
    context = {
        **admin_obj.admin_site.each_context(request),
        "title": title,
        "order": order,
        "form": form,
        "submit": submit,
        "testid": testid,
        "opts": admin_obj.model._meta,
        "back": reverse(f"admin:rak_collections_{admin_obj.model._meta.model_name}_change", args=[order.pk]),
    }
    return TemplateResponse(request, "admin/rak_collections/cutoffs/order_form.html", context)


@admin.register(CutoffOrder)
class CutoffOrderAdmin(ModelAdmin):
    list_display = (
        "number",
        "customer_link",
        "dossier_link",
        "district",
        "amount_due",
        "status_display",
        "issued_at",
        "executed_at",
    )
    list_select_related = ("customer", "dossier", "dossier__premises")
    list_filter = (("status", ChoicesDropdownFilter), DistrictFilter, AgencyFilter)
    list_filter_submit = True
    search_fields = ("number", "customer__code", "dossier__number")
    ordering = ("-issued_at", "-id")
    list_per_page = 50
    actions = ("print_sheets",)
    actions_detail = ("sheet", "execute", "not_done")
    actions_row = ("sheet",)
    fields = (
        "number",
        "customer_link",
        "dossier_link",
        "address",
        "meter",
        "case_link",
        "amount_due",
        "status_display",
        "issued_at",
        "issued_by",
        "executed_at",
        "executed_by",
        "meter_index",
        "fee_bill_link",
        "note",
        "closed_reason",
        "reconnection_link",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related(
                "customer", "dossier", "dossier__premises", "dossier__meter", "fee_bill", "issued_by", "executed_by"
            )
        )

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_sheet_permission(self, request, object_id=None) -> bool:
        return self.has_view_permission(request)

    def has_execute_permission(self, request, object_id=None) -> bool:
        return request.user.has_perm("rak_collections.execute_cutofforder")

    def has_not_done_permission(self, request, object_id=None) -> bool:
        return request.user.has_perm("rak_collections.execute_cutofforder")

    @display(description=_("client"), ordering="customer__code")
    def customer_link(self, obj: CutoffOrder) -> str:
        return format_html("{} {}", admin_link(obj.customer, obj.customer.code), obj.customer.display_name)

    @display(description=_("dossier"))
    def dossier_link(self, obj: CutoffOrder) -> str:
        return admin_link(obj.dossier, obj.dossier.number)

    @display(description=_("quartier"), ordering="dossier__premises__district")
    def district(self, obj: CutoffOrder) -> str:
        return obj.dossier.premises.district

    @display(description=_("adresse"))
    def address(self, obj: CutoffOrder) -> str:
        premises = obj.dossier.premises
        return f"{premises.address}, {premises.district}, {premises.city}"

    @display(description=_("compteur"))
    def meter(self, obj: CutoffOrder) -> str:
        return obj.dossier.meter.number if obj.dossier.meter else "—"

    @display(description=_("dossier de recouvrement"))
    def case_link(self, obj: CutoffOrder) -> str:
        return admin_link(obj.case, _("voir")) if obj.case_id else "—"

    @display(description=_("facture des frais de coupure"))
    def fee_bill_link(self, obj: CutoffOrder) -> str:
        return admin_link(obj.fee_bill, obj.fee_bill.number) if obj.fee_bill else "—"

    @display(description=_("ordre de rétablissement"))
    def reconnection_link(self, obj: CutoffOrder) -> str:
        reconnection = ReconnectionOrder.objects.filter(cutoff=obj).first()
        return admin_link(reconnection, reconnection.number) if reconnection else "—"

    @display(
        description=_("statut"),
        ordering="status",
        label={"ISSUED": "warning", "EXECUTED": "danger", "CANCELLED": "info", "NOT_DONE": "info"},
    )
    def status_display(self, obj: CutoffOrder):
        return obj.status, obj.get_status_display()

    def _order(self, request, object_id) -> CutoffOrder:
        order = self.get_object(request, unquote(str(object_id)))
        if order is None:
            raise Http404
        return order

    @action(description=_("Fiche d'intervention (PDF)"), permissions=["sheet"], icon="print")
    def sheet(self, request, object_id):
        order = self._order(request, object_id)
        return _sheets_response([order], f"ordre-coupure-{order.number}.pdf")

    @admin.action(description=_("Imprimer les fiches d'intervention (PDF)"), permissions=["view"])
    def print_sheets(self, request, queryset):
        orders = list(
            queryset.select_related("customer", "dossier__premises", "dossier__meter").order_by(
                "dossier__premises__district", "dossier__premises__address", "number"
            )[:MAX_SHEETS]
        )
        return _sheets_response(orders, "ordres-de-coupure.pdf")

    @action(description=_("Exécuté"), permissions=["execute"], icon="power_off")
    def execute(self, request, object_id):
        if not self.has_execute_permission(request):
            raise PermissionDenied
        order = self._order(request, object_id)
        form = ExecuteForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                cutoff_order_execute(
                    order=order,
                    now=clock.now(),
                    by=request.user,
                    meter_index=form.cleaned_data["meter_index"],
                    note=form.cleaned_data["note"],
                )
            except RakError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Coupure enregistrée : %(number)s.") % {"number": order.number})
                return HttpResponseRedirect(reverse("admin:rak_collections_cutofforder_change", args=[order.pk]))
        return _form_page(
            self,
            request,
            order=order,
            form=form,
            title=_("Coupure exécutée — %(number)s") % {"number": order.number},
            submit=_("Enregistrer la coupure"),
            testid="form-execute",
        )

    @action(description=_("Non exécuté"), permissions=["not_done"], icon="block")
    def not_done(self, request, object_id):
        if not self.has_not_done_permission(request):
            raise PermissionDenied
        order = self._order(request, object_id)
        form = NotDoneForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                cutoff_order_not_done(order=order, reason=form.cleaned_data["reason"], now=clock.now(), by=request.user)
            except RakError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Ordre %(number)s marqué non exécuté.") % {"number": order.number})
                return HttpResponseRedirect(reverse("admin:rak_collections_cutofforder_change", args=[order.pk]))
        return _form_page(
            self,
            request,
            order=order,
            form=form,
            title=_("Coupure non exécutée — %(number)s") % {"number": order.number},
            submit=_("Enregistrer"),
            testid="form-not-done",
        )


class ReconnectionOverdueFilter(admin.SimpleListFilter):
    title = _("retard")
    parameter_name = "retard"

    def lookups(self, request, model_admin):
        return (("oui", _("En retard (à exécuter avant une date passée)")),)

    def queryset(self, request, queryset):
        if self.value() == "oui":
            return queryset.filter(status=ReconnectionOrder.Status.ISSUED, due_at__lt=clock.now())
        return queryset


@admin.register(ReconnectionOrder)
class ReconnectionOrderAdmin(ModelAdmin):
    list_display = (
        "number",
        "customer_link",
        "dossier_link",
        "district",
        "status_display",
        "issued_at",
        "due_display",
        "executed_at",
    )
    list_select_related = ("customer", "dossier", "dossier__premises")
    list_filter = (("status", ChoicesDropdownFilter), ReconnectionOverdueFilter, DistrictFilter)
    list_filter_submit = True
    search_fields = ("number", "customer__code", "dossier__number")
    ordering = ("status", "due_at", "-id")
    list_per_page = 50
    actions_detail = ("reconnect",)
    fields = (
        "number",
        "customer_link",
        "dossier_link",
        "cutoff",
        "status_display",
        "issued_at",
        "due_display",
        "executed_at",
        "executed_by",
        "note",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("customer", "dossier", "dossier__premises", "cutoff")

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_reconnect_permission(self, request, object_id=None) -> bool:
        return request.user.has_perm("rak_collections.change_reconnectionorder")

    @display(description=_("client"), ordering="customer__code")
    def customer_link(self, obj: ReconnectionOrder) -> str:
        return format_html("{} {}", admin_link(obj.customer, obj.customer.code), obj.customer.display_name)

    @display(description=_("dossier"))
    def dossier_link(self, obj: ReconnectionOrder) -> str:
        return admin_link(obj.dossier, obj.dossier.number)

    @display(description=_("quartier"))
    def district(self, obj: ReconnectionOrder) -> str:
        return obj.dossier.premises.district

    @display(description=_("statut"), ordering="status", label={"ISSUED": "warning", "EXECUTED": "success"})
    def status_display(self, obj: ReconnectionOrder):
        return obj.status, obj.get_status_display()

    @display(description=_("à exécuter avant le"), ordering="due_at")
    def due_display(self, obj: ReconnectionOrder) -> str:
        when = timezone.localtime(obj.due_at).strftime("%d/%m/%Y %H:%M")
        if obj.status == ReconnectionOrder.Status.ISSUED and obj.due_at < clock.now():
            return format_html(
                '<span class="text-red-600 font-semibold" data-testid="reconnection-overdue">{} — {}</span>',
                when,
                _("en retard"),
            )
        return when

    @action(description=_("Rétabli"), permissions=["reconnect"], icon="power")
    def reconnect(self, request, object_id):
        if not self.has_reconnect_permission(request):
            raise PermissionDenied
        order = self.get_object(request, unquote(str(object_id)))
        if order is None:
            raise Http404
        form = ReconnectForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                reconnection_order_execute(
                    order=order, now=clock.now(), by=request.user, note=form.cleaned_data["note"]
                )
            except RakError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Fourniture rétablie : %(number)s.") % {"number": order.number})
                return HttpResponseRedirect(reverse("admin:rak_collections_reconnectionorder_change", args=[order.pk]))
        return _form_page(
            self,
            request,
            order=order,
            form=form,
            title=_("Rétablissement — %(number)s") % {"number": order.number},
            submit=_("Enregistrer le rétablissement"),
            testid="form-reconnect",
        )
