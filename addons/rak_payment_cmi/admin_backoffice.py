"""Back office of online payment, the staff side: the fee setting (« Aucun frais » in one
click), imports of other networks' payments, and the reconciliation with CMI's settlement file
(report of the mismatches, one-click resolution).

Screens only: each write is one service call (``payment_settings_fee_disable``,
``network_payments_import``, ``settlement_import``, ``settlement_line_apply``,
``settlement_line_flag``); a domain error is shown with its French message.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import ChoicesDropdownFilter
from unfold.decorators import action, display

from rak_base import clock
from rak_base.admin import ArchivedFilter, ArchivedImportAdminMixin, ReadOnlyAdminMixin
from rak_base.admin_labels import FieldLabelsMixin
from rak_base.errors import RakError
from rak_payment_cmi.csvfiles import MAX_BYTES
from rak_payment_cmi.models import NetworkPaymentImport, PaymentSettings, SettlementImport, SettlementLine
from rak_payment_cmi.network_imports import network_import_archive, network_payments_import
from rak_payment_cmi.paying import fee_for, payment_settings_fee_disable
from rak_payment_cmi.reconciliation import (
    settlement_import,
    settlement_line_apply,
    settlement_line_flag,
    settlement_summary,
)

SEED_EXAMPLES = (Decimal("218.83"), Decimal("113.02"))


def _dh(value) -> str:
    return f"{value:.2f}".replace(".", ",") + " DH"


# --- fee setting ---------------------------------------------------------------------------------------


@admin.register(PaymentSettings)
class PaymentSettingsAdmin(ModelAdmin):
    """One row: the changelist opens it; « Aucun frais » is a button on it."""

    fieldsets = (
        (
            _("Frais du service en ligne"),
            {"fields": ("fee_mode", "fee_fixed", "fee_percent", "fee_vat_rate", "examples")},
        ),
        (_("Alimentation des avances"), {"fields": ("advance_min", "advance_max")}),
        (None, {"fields": ("updated_at",)}),
    )
    readonly_fields = ("examples", "updated_at")
    actions_submit_line = ("fee_none",)  # a POST button next to « Enregistrer » (CSRF-protected)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        PaymentSettings.objects.get_or_create(pk=1)
        return HttpResponseRedirect(reverse("admin:rak_payment_cmi_paymentsettings_change", args=[1]))

    def has_fee_none_permission(self, request, object_id=None) -> bool:
        return self.has_change_permission(request)

    @action(description=_("Aucun frais (pris en charge par la RAK)"), permissions=["fee_none"])
    def fee_none(self, request, obj: PaymentSettings):
        payment_settings_fee_disable()
        messages.success(request, _("Le paiement en ligne est désormais sans frais pour le client."))

    @display(description=_("exemples (réglage enregistré)"))
    def examples(self, obj: PaymentSettings) -> str:
        rows = []
        for amount in SEED_EXAMPLES:
            fee, vat = fee_for(amount, obj)
            rows.append((_dh(amount), _dh(fee + vat), _dh(amount + fee + vat)))
        return format_html_join(
            "",
            "<div>Factures {} → frais {} → total général {}</div>",
            rows,
        )


# --- network payments -----------------------------------------------------------------------------------


class UploadForm(forms.Form):
    file = forms.FileField(label=_("Fichier CSV"))
    network = forms.CharField(
        label=_("Réseau"),
        max_length=40,
        required=False,
        help_text=_("Nom du réseau (Tasshilat, Wafacash...) quand le fichier n'a pas de colonne « reseau »."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(_("Fichier trop volumineux (10 Mo au plus)."))
        return upload


def _report_table(rows, headers) -> str:
    return format_html(
        '<table class="w-full text-left" data-testid="import-report">'
        "<thead><tr>{}</tr></thead><tbody>{}</tbody></table>",
        format_html_join("", "<th>{}</th>", ((h,) for h in headers)),
        format_html_join("", "<tr>" + "<td>{}</td>" * len(headers) + "</tr>", rows),
    )


STATUS_FR = {"created": _("enregistré"), "unchanged": _("déjà enregistré"), "rejected": _("rejeté")}


@admin.register(NetworkPaymentImport)
class NetworkPaymentImportAdmin(FieldLabelsMixin, ArchivedImportAdminMixin, ModelAdmin):
    field_labels = {"uploaded_by": _("importé par")}
    list_display = (
        "created_at",
        "file_name",
        "network",
        "rows_total",
        "rows_created",
        "rows_unchanged",
        "rows_rejected",
        "amount_created",
    )
    list_select_related = ("uploaded_by",)
    list_filter = (ArchivedFilter,)
    search_fields = ("file_name", "sha256")
    actions_list = ("import_file",)
    actions_detail = ("archive",)
    fields = (
        "file_name",
        "file_link",
        "network",
        "sha256",
        "uploaded_by",
        "created_at",
        ("rows_total", "rows_created", "rows_unchanged", "rows_rejected"),
        "amount_created",
        ("archived_at", "archived_by", "archive_reason"),
        "report_display",
    )
    readonly_fields = (
        "file_name",
        "file_link",
        "network",
        "sha256",
        "uploaded_by",
        "created_at",
        "rows_total",
        "rows_created",
        "rows_unchanged",
        "rows_rejected",
        "amount_created",
        "archived_at",
        "archived_by",
        "archive_reason",
        "report_display",
    )

    archive_permission = "rak_payment_cmi.archive_networkpaymentimport"
    archive_done_message = _(
        "Import « %(name)s » archivé : son fichier, son rapport et ses paiements restent consultables "
        "(filtre « Archivés »)."
    )

    def archive_call(self, *, batch, staff_user, reason: str, now) -> None:
        network_import_archive(import_id=batch.pk, staff_user=staff_user, reason=reason, now=now)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_import_permission(self, request) -> bool:
        return request.user.has_perm("rak_payment_cmi.add_networkpaymentimport")

    @action(
        description=_("Importer un fichier de paiements"), url_path="import", permissions=["import"], icon="upload_file"
    )
    def import_file(self, request):
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                batch = network_payments_import(
                    data=upload.read(),
                    file_name=upload.name,
                    network=form.cleaned_data["network"],
                    user=request.user,
                    now=clock.now(),
                )
            except RakError as exc:
                form.add_error("file", exc.message)
            else:
                messages.success(
                    request,
                    _(
                        "%(created)d paiement(s) enregistré(s) (%(amount)s), %(unchanged)d déjà enregistré(s), "
                        "%(rejected)d ligne(s) rejetée(s)."
                    )
                    % {
                        "created": batch.rows_created,
                        "amount": _dh(batch.amount_created),
                        "unchanged": batch.rows_unchanged,
                        "rejected": batch.rows_rejected,
                    },
                )
                return HttpResponseRedirect(
                    reverse("admin:rak_payment_cmi_networkpaymentimport_change", args=[batch.pk])
                )
        return TemplateResponse(
            request,
            "admin/rak_payment_cmi/upload.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Importer les paiements d'un autre réseau"),
                "opts": self.model._meta,
                "form": form,
                "help": _(
                    "CSV (« ; » ou « , »), une ligne par paiement : code_client ou numero_facture (la facture nommée "
                    "est payée en premier), montant, date, reference (du réseau), reseau (facultatif), motif "
                    "(obligatoire si le montant dépasse le solde dû). Montant plafonné, date future refusée : la "
                    "ligne est rejetée dans le rapport. Réimporter un fichier n'enregistre rien deux fois."
                ),
                "back": reverse("admin:rak_payment_cmi_networkpaymentimport_changelist"),
            },
        )

    @display(description=_("rapport ligne par ligne"))
    def report_display(self, obj: NetworkPaymentImport) -> str:
        if not obj.report:
            return "—"
        return _report_table(
            (
                (
                    e["line"],
                    e.get("customer", ""),
                    e.get("reference", ""),
                    e.get("amount", ""),
                    STATUS_FR.get(e["status"], e["status"]),
                    e.get("reason", ""),
                )
                for e in obj.report
            ),
            (_("Ligne"), _("Client"), _("Référence"), _("Montant"), _("Résultat"), _("Motif")),
        )


# --- reconciliation ----------------------------------------------------------------------------------------


CHECK_LABELS = {
    SettlementLine.Check.MATCHED: "success",
    SettlementLine.Check.NO_MONEY: "info",
    SettlementLine.Check.NOT_RECORDED: "danger",
    SettlementLine.Check.AMOUNT_DIFFERS: "warning",
    SettlementLine.Check.DOUBLE_CHARGE: "danger",
    SettlementLine.Check.UNKNOWN_ORDER: "danger",
    SettlementLine.Check.REFUNDED_HERE_PAID: "warning",
    SettlementLine.Check.NOT_AT_GATEWAY: "warning",
}


@admin.register(SettlementImport)
class SettlementImportAdmin(FieldLabelsMixin, ModelAdmin):
    field_labels = {"uploaded_by": _("importé par")}
    list_display = (
        "created_at",
        "file_name",
        "period_start",
        "period_end",
        "rows_total",
        "rows_matched",
        "rows_mismatched",
        "open_count",
    )
    search_fields = ("file_name", "sha256")
    actions_list = ("import_file",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_import_permission(self, request) -> bool:
        return request.user.has_perm("rak_payment_cmi.add_settlementimport")

    def has_resolve_permission(self, request) -> bool:
        return request.user.has_perm("rak_payment_cmi.change_settlementline")

    @display(description=_("écarts à traiter"))
    def open_count(self, obj: SettlementImport) -> int:
        return sum(1 for line in obj.lines.all() if line.needs_action)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("lines")

    def get_urls(self):
        own = [
            path(
                "<path:object_id>/lignes/<int:line_id>/<str:what>/",
                self.admin_site.admin_view(self.resolve_view),
                name="rak_payment_cmi_settlementimport_resolve",
            )
        ]
        return own + super().get_urls()

    @action(description=_("Importer un relevé CMI"), url_path="import", permissions=["import"], icon="upload_file")
    def import_file(self, request):
        form = UploadForm(request.POST or None, request.FILES or None)
        form.fields.pop("network")
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                settlement = settlement_import(
                    data=upload.read(), file_name=upload.name, user=request.user, now=clock.now()
                )
            except RakError as exc:
                form.add_error("file", exc.message)
            else:
                messages.success(
                    request,
                    _("Relevé importé : %(matched)d transaction(s) concordante(s), %(mismatched)d écart(s).")
                    % {"matched": settlement.rows_matched, "mismatched": settlement.rows_mismatched},
                )
                return HttpResponseRedirect(
                    reverse("admin:rak_payment_cmi_settlementimport_change", args=[settlement.pk])
                )
        return TemplateResponse(
            request,
            "admin/rak_payment_cmi/upload.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Importer un relevé de transactions CMI"),
                "opts": self.model._meta,
                "form": form,
                "help": _(
                    "CSV exporté du centre marchand CMI : date, oid, transid, autorisation, montant, carte, statut "
                    "(ACCEPTEE, REMBOURSEE, ANNULEE, REFUSEE). Format détaillé dans docs/OPERATIONS.md."
                ),
                "back": reverse("admin:rak_payment_cmi_settlementimport_changelist"),
            },
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The import's page is its report: every line, the mismatches first, with their buttons."""
        settlement = self.get_object(request, unquote(object_id))
        if settlement is None:
            raise Http404
        show_all = request.GET.get("tout") == "1"
        lines = list(
            settlement.lines.select_related("order", "order__customer", "resolved_by").order_by("line_no", "id")
        )
        if not show_all:
            lines = [
                line
                for line in lines
                if line.check_result not in (SettlementLine.Check.MATCHED, SettlementLine.Check.NO_MONEY)
            ]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Rapprochement : %(file)s") % {"file": settlement.file_name},
            "opts": self.model._meta,
            "settlement": settlement,
            "lines": lines,
            "show_all": show_all,
            "can_resolve": self.has_resolve_permission(request),
            "check_labels": CHECK_LABELS,
            "apply_checks": [SettlementLine.Check.NOT_RECORDED],
            "summary": settlement_summary(settlement),
        }
        return TemplateResponse(request, "admin/rak_payment_cmi/settlement_report.html", context)

    def resolve_view(self, request, object_id, line_id: int, what: str):
        if request.method != "POST":
            raise Http404
        if not self.has_resolve_permission(request):
            raise PermissionDenied
        settlement_id = unquote(object_id)
        line = (
            SettlementLine.objects.filter(pk=line_id, settlement_id=int(settlement_id)).first()
            if settlement_id.isdecimal() and len(settlement_id) <= 18
            else None
        )
        if line is None or what not in ("enregistrer", "signaler"):
            raise Http404
        try:
            if what == "enregistrer":
                line = settlement_line_apply(line_id=line.pk, user=request.user, now=clock.now())
            else:
                line = settlement_line_flag(
                    line_id=line.pk, user=request.user, now=clock.now(), note=request.POST.get("note", "")
                )
        except RakError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{line.get_resolution_display()} : {line.resolution_note}")
        return HttpResponseRedirect(reverse("admin:rak_payment_cmi_settlementimport_change", args=[line.settlement_id]))


@admin.register(SettlementLine)
class SettlementLineAdmin(FieldLabelsMixin, ReadOnlyAdminMixin, ModelAdmin):
    field_labels = {
        "settlement": _("relevé CMI"),
        "order": _("ordre de paiement en ligne"),
        "resolved_by": _("résolu par"),
    }
    """Every line of every settlement file: « écarts à traiter » across the files."""

    list_display = (
        "transaction_at",
        "oid",
        "trans_id",
        "amount",
        "gateway_status",
        "check_badge",
        "resolution",
        "settlement_link",
    )
    list_filter = (
        ("check_result", ChoicesDropdownFilter),
        ("resolution", ChoicesDropdownFilter),
        ("gateway_status", ChoicesDropdownFilter),
    )
    list_filter_submit = True
    search_fields = ("=oid", "=trans_id")
    list_select_related = ("settlement",)
    ordering = ("-id",)

    @display(description=_("rapprochement"), ordering="check_result", label=CHECK_LABELS)
    def check_badge(self, obj: SettlementLine) -> tuple[str, str]:
        return obj.check_result, obj.get_check_result_display()

    @display(description=_("relevé"))
    def settlement_link(self, obj: SettlementLine) -> str:
        url = reverse("admin:rak_payment_cmi_settlementimport_change", args=[obj.settlement_id])
        return format_html('<a href="{}" class="text-primary-600 font-medium">{}</a>', url, obj.settlement.file_name)
