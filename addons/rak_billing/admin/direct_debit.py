"""Back-office screens of direct debit (« Prélèvements bancaires »): mandates (« Révoquer le
mandat »), the files sent to the banks (« Exporter les prélèvements du mois », one file per bank,
each downloadable), the orders, and the banks' reject files (« Importer les rejets », kept with
their per-line report, archived — never deleted).

Screens only: each action is one service call of ``rak_billing.direct_debit``; a refusal is shown
with its French message. Export and rejects move money (payments recorded, reversed): the
recouvrement group (permissions ``export_debitbatch``, ``add_debitrejectimport``).
"""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import ChoicesDropdownFilter
from unfold.decorators import action, display

from rak_base import clock
from rak_base.admin import ArchivedFilter, ArchivedImportAdminMixin
from rak_base.errors import RakError
from rak_base.money import money_format
from rak_base.private_files import private_file_response
from rak_base.uploads import size_label
from rak_billing.direct_debit import (
    REJECTS_MAX_BYTES,
    debit_reject_import_archive,
    debit_rejects_import,
    debits_export,
    debits_to_export,
    mandate_revoke,
    month_start,
)
from rak_billing.direct_debit_models import DebitBatch, DebitOrder, DebitRejectImport, Mandate
from rak_customer.admin import admin_link


def _today() -> datetime.date:
    return timezone.localdate(clock.now())


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# --- mandates --------------------------------------------------------------------------------------


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif de la révocation"),
        max_length=255,
        help_text=_("Le dossier repasse en facturation normale ; les prélèvements déjà envoyés restent."),
    )


@admin.register(Mandate)
class MandateAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = (
        "reference",
        "dossier_link",
        "customer_display",
        "bank_name",
        "rib_display",
        "signed_date",
        "status_display",
        "request_reference",
    )
    list_select_related = ("dossier__customer",)
    list_filter = (("status", ChoicesDropdownFilter),)
    list_filter_submit = True
    search_fields = ("=reference", "=dossier__number", "=request_reference", "=rib")
    search_help_text = _("Référence du mandat, n° dossier, n° de demande ou RIB (exacts).")
    show_full_result_count = False
    ordering = ("-id",)
    actions_detail = ("revoke",)
    fields = (
        "reference",
        "dossier_link",
        "customer_display",
        ("bank_code", "bank_name"),
        "rib_display",
        "signed_date",
        "status_display",
        "request_reference",
        ("created_by", "created_at"),
        ("revoked_by", "revoked_at", "revoke_reason"),
    )
    readonly_fields = (
        "reference",
        "dossier_link",
        "customer_display",
        "bank_code",
        "bank_name",
        "rib_display",
        "signed_date",
        "status_display",
        "request_reference",
        "created_by",
        "created_at",
        "revoked_by",
        "revoked_at",
        "revoke_reason",
    )

    @display(description=_("dossier"))
    def dossier_link(self, obj: Mandate):
        return admin_link(obj.dossier)

    @display(description=_("client"))
    def customer_display(self, obj: Mandate) -> str:
        customer = obj.dossier.customer
        return f"{customer.code} — {customer.display_name}"

    @display(description=_("RIB"))
    def rib_display(self, obj: Mandate) -> str:
        return obj.rib_display

    @display(description=_("statut"), label={"ACTIVE": "success", "REVOKED": "danger"})
    def status_display(self, obj: Mandate):
        return obj.status, obj.get_status_display()

    def has_revoke_permission(self, request, object_id=None) -> bool:
        if not request.user.has_perm("rak_billing.revoke_mandate"):
            return False
        return object_id is None or Mandate.objects.filter(pk=object_id, status=Mandate.Status.ACTIVE).exists()

    @action(description=_("Révoquer le mandat"), url_path="revoquer", permissions=["revoke"], icon="block")
    def revoke(self, request, object_id):
        mandate = self.get_object(request, unquote(str(object_id)))
        if mandate is None:
            raise Http404
        change_url = reverse("admin:rak_billing_mandate_change", args=[mandate.pk])
        form = RevokeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                mandate_revoke(
                    mandate_id=mandate.pk, by=request.user, reason=form.cleaned_data["reason"], now=clock.now()
                )
            except RakError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request,
                    _("Mandat %(reference)s révoqué : le dossier %(dossier)s repasse en facturation normale.")
                    % {"reference": mandate.reference, "dossier": mandate.dossier.number},
                )
                return HttpResponseRedirect(change_url)
        return TemplateResponse(
            request,
            "admin/rak_billing/direct_debit/form.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Révoquer le mandat %(reference)s") % {"reference": mandate.reference},
                "opts": self.model._meta,
                "form": form,
                "back_url": change_url,
                "submit_label": _("Révoquer le mandat"),
                "danger": True,
            },
        )


# --- monthly export -------------------------------------------------------------------------------


class ExportForm(forms.Form):
    month = forms.DateField(
        label=_("Mois des prélèvements"),
        input_formats=["%Y-%m", "%m/%Y", "%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        help_text=_(
            "Les factures ouvertes émises avant la fin de ce mois, des dossiers en prélèvement bancaire avec un mandat "
            "actif. Une facture déjà envoyée n'est jamais prélevée deux fois."
        ),
        error_messages={"invalid": _("Indiquez un mois (AAAA-MM).")},
    )

    def clean_month(self) -> datetime.date:
        """A month the bank can be asked for: from 2000 to next year (9999-12 overflowed the month's end)."""
        month = self.cleaned_data["month"]
        last_year = timezone.localdate(clock.now()).year + 1
        if not 2000 <= month.year <= last_year:
            raise forms.ValidationError(
                _("Indiquez un mois entre 2000 et %(year)s (AAAA-MM).") % {"year": last_year}, code="out_of_range"
            )
        return month


@admin.register(DebitBatch)
class DebitBatchAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = (
        "reference",
        "period_display",
        "bank_code",
        "bank_name",
        "orders_count",
        "total_display",
        "created_at",
        "created_by",
        "file_link",
    )
    list_select_related = ("created_by",)
    list_filter = ("bank_name",)
    search_fields = ("=reference",)
    ordering = ("-created_at", "bank_code")
    actions_list = ("export",)
    fields = (
        "reference",
        "period_display",
        ("bank_code", "bank_name"),
        ("orders_count", "total_display"),
        ("created_by", "created_at"),
        "file_link",
        "orders_link",
    )
    readonly_fields = (
        "reference",
        "period_display",
        "bank_code",
        "bank_name",
        "orders_count",
        "total_display",
        "created_by",
        "created_at",
        "file_link",
        "orders_link",
    )

    @display(description=_("mois"))
    def period_display(self, obj: DebitBatch) -> str:
        return f"{obj.period:%m/%Y}"

    @display(description=_("montant total"))
    def total_display(self, obj: DebitBatch) -> str:
        return money_format(obj.total_amount, plain_space=True)

    @display(description=_("fichier"))
    def file_link(self, obj: DebitBatch):
        if not obj.file:
            return "—"
        url = reverse("admin:rak_billing_debitbatch_file", args=[obj.pk])
        return format_html(
            '<a class="text-primary-600 font-medium" href="{}" data-testid="batch-file">{}</a>', url, obj.file_name
        )

    @display(description=_("ordres"))
    def orders_link(self, obj: DebitBatch):
        url = reverse("admin:rak_billing_debitorder_changelist") + f"?batch__id__exact={obj.pk}"
        return format_html('<a class="text-primary-600 font-medium" href="{}">{}</a>', url, _("Voir les ordres"))

    def get_urls(self):
        return [
            path(
                "<path:object_id>/fichier/",
                self.admin_site.admin_view(self.file_view),
                name="rak_billing_debitbatch_file",
            ),
            *super().get_urls(),
        ]

    def file_view(self, request, object_id):
        batch = self.get_object(request, unquote(object_id))
        if batch is None or not batch.file:
            raise Http404
        if not self.has_view_permission(request, batch):
            raise PermissionDenied
        return private_file_response(batch.file, as_attachment=True, download_name=batch.file_name)

    def has_export_permission(self, request) -> bool:
        return request.user.has_perm("rak_billing.export_debitbatch")

    @action(
        description=_("Exporter les prélèvements du mois"), url_path="exporter", permissions=["export"], icon="download"
    )
    def export(self, request):
        today = _today()
        form = ExportForm(request.POST or None, initial={"month": month_start(today)})
        pending = None
        if request.method == "POST" and form.is_valid():
            try:
                result = debits_export(period=form.cleaned_data["month"], by=request.user, now=clock.now())
            except RakError as exc:
                form.add_error(None, exc.message)
            else:
                if result.orders:
                    messages.success(
                        request,
                        _("%(orders)d prélèvement(s) exporté(s) pour %(total)s : %(files)d fichier(s), un par banque.")
                        % {
                            "orders": result.orders,
                            "total": money_format(result.total, plain_space=True),
                            "files": len(result.batches),
                        },
                    )
                else:
                    messages.warning(request, _("Aucune facture à prélever : rien n'a été exporté."))
                return HttpResponseRedirect(reverse("admin:rak_billing_debitbatch_changelist"))
        else:
            pending = debits_to_export(period=today).count()
        return TemplateResponse(
            request,
            "admin/rak_billing/direct_debit/form.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Exporter les prélèvements du mois"),
                "opts": self.model._meta,
                "form": form,
                "back_url": reverse("admin:rak_billing_debitbatch_changelist"),
                "submit_label": _("Exporter les prélèvements du mois"),
                "pending": pending,
            },
        )


@admin.register(DebitOrder)
class DebitOrderAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = (
        "reference",
        "bill_link",
        "customer_display",
        "amount_display",
        "status_display",
        "reject_code",
        "reject_reason",
        "batch",
    )
    list_select_related = ("bill__customer", "batch")
    list_filter = (("status", ChoicesDropdownFilter), "batch")
    list_filter_submit = True
    search_fields = ("=reference", "=bill__number")
    search_help_text = _("Référence de l'ordre ou n° de facture (exacts).")
    show_full_result_count = False
    ordering = ("-id",)
    fields = (
        "reference",
        "bill_link",
        "customer_display",
        "amount_display",
        "mandate",
        "batch",
        "payment",
        "status_display",
        ("reject_code", "reject_reason", "rejected_at"),
        "reject_import",
    )
    readonly_fields = (
        "reference",
        "bill_link",
        "customer_display",
        "amount_display",
        "mandate",
        "batch",
        "payment",
        "status_display",
        "reject_code",
        "reject_reason",
        "rejected_at",
        "reject_import",
    )

    @display(description=_("facture"))
    def bill_link(self, obj: DebitOrder):
        return admin_link(obj.bill)

    @display(description=_("client"))
    def customer_display(self, obj: DebitOrder) -> str:
        return f"{obj.bill.customer.code} — {obj.bill.customer.display_name}"

    @display(description=_("montant"))
    def amount_display(self, obj: DebitOrder) -> str:
        return money_format(obj.amount, plain_space=True)

    @display(description=_("statut"), label={"SENT": "success", "REJECTED": "danger"})
    def status_display(self, obj: DebitOrder):
        return obj.status, obj.get_status_display()


# --- reject files ----------------------------------------------------------------------------------


class RejectsForm(forms.Form):
    file = forms.FileField(
        label=_("Fichier de rejets de la banque"),
        help_text=_("CSV : référence de l'ordre ; code de rejet ; motif (format décrit dans OPERATIONS.md)."),
    )


LEVELS = {"rejected": _("rejet enregistré"), "unchanged": _("déjà enregistré"), "error": _("erreur")}


@admin.register(DebitRejectImport)
class DebitRejectImportAdmin(ArchivedImportAdminMixin, ModelAdmin):
    list_display = (
        "created_at",
        "file_name",
        "uploaded_by",
        "rows_total",
        "rows_rejected",
        "rows_unchanged",
        "rows_errors",
    )
    list_select_related = ("uploaded_by",)
    list_filter = (ArchivedFilter,)
    search_fields = ("file_name", "=sha256")
    actions_list = ("import_rejects",)
    actions_detail = ("archive",)
    fields = (
        "file_name",
        "file_link",
        "sha256",
        "uploaded_by",
        "created_at",
        ("rows_total", "rows_rejected", "rows_unchanged", "rows_errors"),
        ("archived_at", "archived_by", "archive_reason"),
        "report_display",
    )
    readonly_fields = (
        "file_name",
        "file_link",
        "sha256",
        "uploaded_by",
        "created_at",
        "rows_total",
        "rows_rejected",
        "rows_unchanged",
        "rows_errors",
        "archived_at",
        "archived_by",
        "archive_reason",
        "report_display",
    )
    archive_permission = "rak_billing.archive_debitrejectimport"

    def has_add_permission(self, request) -> bool:
        return False  # through « Importer les rejets »

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def archive_call(self, *, batch, staff_user, reason: str, now) -> None:
        debit_reject_import_archive(batch_id=batch.pk, staff_user=staff_user, reason=reason, now=now)

    def has_import_rejects_permission(self, request) -> bool:
        return request.user.has_perm("rak_billing.add_debitrejectimport")

    @action(
        description=_("Importer les rejets"), url_path="importer", permissions=["import_rejects"], icon="upload_file"
    )
    def import_rejects(self, request):
        form = RejectsForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = debit_rejects_import(file=upload, file_name=upload.name, by=request.user, now=clock.now())
            except RakError as exc:
                form.add_error("file", exc.message)
            else:
                batch = result.batch
                messages.success(
                    request,
                    _(
                        "%(rejected)d rejet(s) enregistré(s) (factures de nouveau à régler, clients prévenus), "
                        "%(unchanged)d déjà enregistré(s), %(errors)d ligne(s) en erreur."
                    )
                    % {"rejected": batch.rows_rejected, "unchanged": batch.rows_unchanged, "errors": batch.rows_errors},
                )
                if result.previously_imported:
                    messages.warning(
                        request,
                        _("Ce fichier avait déjà été importé le %(date)s : les rejets déjà enregistrés sont inchangés.")
                        % {"date": f"{timezone.localtime(result.previously_imported.created_at):%d/%m/%Y %H:%M}"},
                    )
                return HttpResponseRedirect(reverse("admin:rak_billing_debitrejectimport_change", args=[batch.pk]))
        return TemplateResponse(
            request,
            "admin/rak_billing/direct_debit/form.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Importer les rejets"),
                "opts": self.model._meta,
                "form": form,
                "multipart": True,
                "back_url": reverse("admin:rak_billing_debitrejectimport_changelist"),
                "submit_label": _("Importer les rejets"),
                "max_size": size_label(REJECTS_MAX_BYTES),
            },
        )

    @display(description=_("rapport"))
    def report_display(self, obj: DebitRejectImport):
        if not obj.report:
            return "—"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    entry.get("line", ""),
                    entry.get("reference", ""),
                    entry.get("code", ""),
                    LEVELS.get(entry.get("level"), ""),
                    entry.get("reason", ""),
                )
                for entry in obj.report
            ),
        )
        return format_html(
            '<table class="w-full text-left" data-testid="import-report"><thead><tr><th>{}</th><th>{}</th><th>{}</th>'
            "<th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>",
            _("Ligne"),
            _("Ordre"),
            _("Code"),
            _("Résultat"),
            _("Motif"),
            rows,
        )
