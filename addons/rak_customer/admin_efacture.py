"""« Facture électronique » in the back office (issue 13): staff see the flag (list column and
filter, the change page's « Préférences » with the history of choices) and change it with a reason
(two changelist actions with an intermediate page) — always through rak_customer.efacture, never
by editing the field (which stays read-only, so the history says who and why).

Wiring (rak_customer/admin.py is not this module's): ``EInvoiceAdminMixin`` mixed into
``CustomerAdmin`` (first base) adds all of it.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Q
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from rak_base import clock
from rak_base.errors import RakError
from rak_base.mixin_bases import ModelAdminMixinBase
from rak_customer.efacture import efacture_history, efacture_set_many

FIELD = "e_invoice_since"


class EInvoiceListFilter(admin.SimpleListFilter):
    title = "facture électronique"
    parameter_name = "facture_electronique"

    def lookups(self, request, model_admin):
        return (("oui", "Facture électronique"), ("non", "Facture papier"))

    def queryset(self, request, queryset):
        if self.value() == "oui":
            return queryset.filter(e_invoice_since__isnull=False)
        if self.value() == "non":
            return queryset.filter(Q(e_invoice_since__isnull=True))
        return queryset


class EInvoiceReasonForm(forms.Form):
    reason = forms.CharField(
        label="Motif",
        max_length=100,
        help_text="Demande du client (appel, agence, courrier…) : gardé dans l'historique du client.",
    )


def _change_action(modeladmin, request, queryset, *, enabled: bool, title: str):
    form = EInvoiceReasonForm(request.POST if "apply" in request.POST else None)
    if form.is_bound and form.is_valid():
        try:
            changed = efacture_set_many(
                customer_ids=list(queryset.values_list("pk", flat=True)),
                enabled=enabled,
                by=request.user,
                now=clock.now(),
                reason=form.cleaned_data["reason"],
            )
        except RakError as exc:
            modeladmin.message_user(request, exc.message, messages.ERROR)
            return None
        modeladmin.message_user(request, f"{changed} client(s) modifié(s) : {title.lower()}.", messages.SUCCESS)
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "opts": modeladmin.model._meta,  # noqa: SLF001
        "customers": queryset[:50],
        "count": queryset.count(),
        "form": form,
        "action": request.POST.get("action", ""),
        "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
        "select_across": request.POST.get("select_across", "0"),
    }
    return TemplateResponse(request, "admin/rak_customer/customer/efacture_action.html", context)


@admin.action(description="Passer à la facture électronique (plus de papier)")
def efacture_opt_in_action(modeladmin, request, queryset):
    return _change_action(modeladmin, request, queryset, enabled=True, title="Passer à la facture électronique")


@admin.action(description="Revenir à la facture papier")
def efacture_opt_out_action(modeladmin, request, queryset):
    return _change_action(modeladmin, request, queryset, enabled=False, title="Revenir à la facture papier")


class EInvoiceAdminMixin(ModelAdminMixinBase):
    """Mix into ``CustomerAdmin`` (first base): column, filter, actions, read-only flag and history."""

    @admin.display(description="Facture électronique", ordering=FIELD)
    def e_invoice_display(self, obj):
        since = getattr(obj, FIELD)
        if since is None:
            return "Papier"
        return format_html("Électronique depuis le {}", timezone.localtime(since).strftime("%d/%m/%Y"))

    @admin.display(description="Historique facture électronique")
    def e_invoice_history_display(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        # the theme asks a read-only field for its contents several times per page: read once
        changes = obj.__dict__.get("_efacture_history")
        if changes is None:
            changes = obj.__dict__["_efacture_history"] = efacture_history(obj, limit=10)
        if not changes:
            return "Aucun changement : facture papier."
        return format_html(
            '<ul data-testid="efacture-history">{}</ul>',
            format_html_join(
                "",
                "<li>{} — {} — {}{}</li>",
                (
                    (
                        timezone.localtime(c.at).strftime("%d/%m/%Y %H:%M"),
                        "facture électronique" if c.enabled else "facture papier",
                        ("par " + c.by_name) if c.by_staff else "par le client",
                        f" ({c.reason})" if c.reason else "",
                    )
                    for c in changes
                ),
            ),
        )

    def get_list_display(self, request):
        return (*super().get_list_display(request), "e_invoice_display")

    def get_list_filter(self, request):
        return (*super().get_list_filter(request), EInvoiceListFilter)

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), FIELD, "e_invoice_history_display")

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        fieldsets.append(("Facture électronique", {"fields": (FIELD, "e_invoice_history_display")}))
        return fieldsets

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        if self.has_change_permission(request):
            for action in (efacture_opt_in_action, efacture_opt_out_action):
                # set by @admin.action; django-stubs types the decorated function as a plain Callable
                description = action.short_description  # type: ignore[attr-defined]
                actions[action.__name__] = (action, action.__name__, description)
        return actions
