"""Back office of online payments: payment orders (status, bills, history, the gateway's messages)
and the log of every message CMI sent, raw, with its verification result. Both are journals:
consulted, never edited by hand (states change only through the services)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.filters.admin import ChoicesDropdownFilter, RangeDateTimeFilter
from unfold.decorators import display

from rak_base.admin import ReadOnlyAdminMixin
from rak_billing.models import PaymentReversal
from rak_payment_cmi.models import CmiCallback, PaymentOrder, PaymentOrderBill, PaymentOrderEvent

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

LINK_CLASSES = "text-primary-600 dark:text-primary-500 font-medium"
STATUS_LABELS = {
    PaymentOrder.Status.PAID: "success",
    PaymentOrder.Status.DECLINED: "danger",
    PaymentOrder.Status.FAILED: "danger",
    PaymentOrder.Status.AMOUNT_MISMATCH: "warning",
    PaymentOrder.Status.EXPIRED: "info",
    PaymentOrder.Status.CANCELLED: "warning",
    "REVERSED": "danger",  # paid, then its payment reversed in the back office (« Annuler le paiement »)
}


def _link(obj, text=None) -> str:
    if obj is None:
        return "—"
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}" class="{}">{}</a>', url, LINK_CLASSES, text or obj)


def pretty_json(data) -> str:
    return format_html(
        '<pre class="text-xs whitespace-pre-wrap break-all">{}</pre>',
        json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True),
    )


class ReadOnlyInline(TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False
    tab = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class PaymentOrderBillInline(ReadOnlyInline):
    model = PaymentOrderBill
    verbose_name_plural = _("factures payées (montants figés à la commande)")
    fields = ("bill", "amount")
    readonly_fields = fields


class PaymentOrderEventInline(ReadOnlyInline):
    model = PaymentOrderEvent
    fields = ("at", "from_status", "to_status", "note", "callback")
    readonly_fields = fields


class CmiCallbackInline(ReadOnlyInline):
    model = CmiCallback
    verbose_name_plural = _("messages de la plateforme CMI")
    fields = ("received_at", "kind", "hash_valid", "outcome", "response", "trans_id", "proc_return_code", "message")
    readonly_fields = fields
    ordering = ("received_at", "id")

    @display(description=_("détail"))
    def message(self, obj: CmiCallback) -> str:
        return _link(obj, _("voir le message"))


@admin.register(PaymentOrder)
class PaymentOrderAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ("oid", "customer_link", "purpose", "amount_total", "status_badge", "created_at", "paid_at")
    list_filter = (
        ("status", ChoicesDropdownFilter),
        ("purpose", ChoicesDropdownFilter),
        ("card_type", ChoicesDropdownFilter),
        ("created_at", RangeDateTimeFilter),
    )
    list_filter_submit = True
    search_fields = ("=oid", "=trans_id", "=customer__code")
    search_help_text = _("N° de commande (oid), n° de transaction CMI ou code client (exacts).")
    list_select_related = ("customer",)
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    inlines = (PaymentOrderBillInline, PaymentOrderEventInline, CmiCallbackInline)
    fieldsets = (
        (
            None,
            {"fields": ("oid", "customer", "purpose", "status", "card_type", "lang", "email", "bill_to_name", "tel")},
        ),
        (
            _("Montants"),
            {
                "fields": (
                    "amount_bills",
                    "fee_amount",
                    "fee_vat",
                    "fee_vat_rate",
                    "fee_bill",
                    "amount_total",
                    "currency",
                )
            },
        ),
        (
            _("Résultat du paiement"),
            {
                "fields": (
                    "payment",
                    "paid_at",
                    "trans_id",
                    "auth_code",
                    "proc_return_code",
                    "masked_pan",
                    "cancel_reason",
                    "payment_reversal",
                )
            },
        ),
        (_("Dates"), {"fields": ("created_at", "updated_at")}),
    )
    readonly_fields = flatten_fieldsets(fieldsets)

    def get_queryset(self, request):
        # whether the captured payment was reversed since, in the list's one query
        return (
            super()
            .get_queryset(request)
            .annotate(payment_reversed=Exists(PaymentReversal.objects.filter(payment_id=OuterRef("payment_id"))))
        )

    @display(description=_("client"), ordering="customer__code")
    def customer_link(self, obj: PaymentOrder) -> str:
        return _link(obj.customer, f"{obj.customer.code} — {obj.customer}")

    @display(description=_("statut"), ordering="status", label=STATUS_LABELS)
    def status_badge(self, obj: PaymentOrder) -> tuple[str, StrOrPromise]:
        if obj.status == PaymentOrder.Status.PAID and getattr(obj, "payment_reversed", False):
            return "REVERSED", _("Payé puis annulé")
        return obj.status, obj.get_status_display()

    @display(description=_("annulation du paiement"))
    def payment_reversal(self, obj: PaymentOrder) -> str:
        reversal = (
            PaymentReversal.objects.filter(payment_id=obj.payment_id).select_related("reversed_by").first()
            if obj.payment_id
            else None
        )
        if reversal is None:
            return "—"
        who = reversal.reversed_by.get_full_name() or reversal.reversed_by.get_username()
        return _("Annulé le %(date)s par %(who)s — motif : %(reason)s") % {
            "date": f"{timezone.localtime(reversal.reversed_at):%d/%m/%Y %H:%M}",
            "who": who,
            "reason": reversal.reason,
        }


@admin.register(CmiCallback)
class CmiCallbackAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ("received_at", "kind", "oid", "hash_badge", "outcome", "response", "trans_id", "remote_ip")
    list_filter = (
        ("kind", ChoicesDropdownFilter),
        ("outcome", ChoicesDropdownFilter),
        "hash_valid",
        ("received_at", RangeDateTimeFilter),
    )
    list_filter_submit = True
    search_fields = ("=oid", "=trans_id")
    search_help_text = _("oid ou TransId (exacts).")
    date_hierarchy = "received_at"
    ordering = ("-received_at", "-id")
    fields = (
        "kind",
        "received_at",
        "remote_ip",
        "order_link",
        "oid",
        "trans_id",
        "proc_return_code",
        "hash_valid",
        "outcome",
        "response",
        "detail",
        "raw_pretty",
    )
    readonly_fields = fields

    @display(description=_("signature"), ordering="hash_valid", label={"VALID": "success", "INVALID": "danger"})
    def hash_badge(self, obj: CmiCallback) -> tuple[str, StrOrPromise]:
        return ("VALID", _("valide")) if obj.hash_valid else ("INVALID", _("invalide"))

    @display(description=_("ordre de paiement"))
    def order_link(self, obj: CmiCallback) -> str:
        return _link(obj.order)

    @display(description=_("champs reçus (bruts)"))
    def raw_pretty(self, obj: CmiCallback) -> str:
        return pretty_json(obj.raw)


from rak_payment_cmi import admin_backoffice  # noqa: E402,F401 - fee setting, network imports, reconciliation
