"""« Factures à imprimer » in the back office (issue 13, « facture électronique »): for a billing run
or a period, the bills of the customers who receive paper bills, with their postal address — a page
with the counts (to print / electronic, not printed) and the first rows, and the printer's CSV.

Wiring (rak_billing/admin/runs.py is not this module's): ``PrintRunAdminMixin`` mixed into
``BillingRunAdmin`` adds the page (``admin:rak_billing_billingrun_print_run``) and the changelist
action « Factures à imprimer (CSV) » for the selected runs. Screens only: the reads are
``rak_billing.print_run``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path

from rak_base.mixin_bases import ModelAdminMixinBase
from rak_billing.models import BillingRun
from rak_billing.print_run import bills_to_print, print_line, print_run_counts, print_run_csv

ROWS_SHOWN = 100


class PrintRunForm(forms.Form):
    run = forms.ModelChoiceField(
        label="Tournée de facturation",
        queryset=BillingRun.objects.order_by("-period_start", "-pk"),
        required=False,
        empty_label="— Une période plutôt —",
    )
    period_start = forms.DateField(label="Émises du", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(label="au (exclu)", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data is None:  # a clean() may return None: the form's cleaned_data stands (Django's rule)
            data = self.cleaned_data
        if data.get("run") is None:
            start, end = data.get("period_start"), data.get("period_end")
            if start is None or end is None:
                raise forms.ValidationError("Choisissez une tournée de facturation ou une période (du … au …).")
            if end <= start:
                self.add_error("period_end", "La fin de la période doit suivre son début.")
            elif (end - start).days > 366:
                self.add_error("period_end", "Une période d'un an au plus.")
        return data

    def scope(self) -> dict:
        run = self.cleaned_data.get("run")
        if run is not None:
            return {"run_id": run.pk}
        return {"period_start": self.cleaned_data["period_start"], "period_end": self.cleaned_data["period_end"]}


def print_csv_response(bills, *, name: str) -> HttpResponse:
    response = HttpResponse(print_run_csv(bills), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="factures-a-imprimer-{name}.csv"'
    return response


@admin.action(description="Factures à imprimer (CSV, clients sans facture électronique)")
def print_list_action(modeladmin, request, queryset):
    """The printer's file for the selected runs (their bills of paper-bill customers)."""
    runs = list(queryset.order_by("pk").values_list("pk", flat=True))
    bills = [bill for run_id in runs for bill in bills_to_print(run_id=run_id)]
    return print_csv_response(bills, name="-".join(str(pk) for pk in runs[:5]))


class PrintRunAdminMixin(ModelAdminMixinBase):
    """Mix into ``BillingRunAdmin`` (before ``ModelAdmin``)."""

    def get_urls(self):
        own = [
            path(
                "print-run/",
                self.admin_site.admin_view(self.print_run_view),
                name="rak_billing_billingrun_print_run",
            )
        ]
        return own + super().get_urls()

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        if self.has_view_permission(request):
            # set by @admin.action; django-stubs types the decorated function as a plain Callable
            description = print_list_action.short_description  # type: ignore[attr-defined]
            actions["print_list_action"] = (print_list_action, "print_list_action", description)
        return actions

    def print_run_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return print_run_page(request, admin_site=self.admin_site, opts=self.model._meta)  # noqa: SLF001


def print_run_page(request, *, admin_site, opts) -> HttpResponse:
    form = PrintRunForm(request.GET or None)
    context = {**admin_site.each_context(request), "title": "Factures à imprimer", "opts": opts, "form": form}
    if form.is_bound and form.is_valid():
        scope = form.scope()
        bills = bills_to_print(**scope)
        if request.GET.get("format") == "csv":
            label = str(scope.get("run_id") or f"{scope['period_start']:%Y%m%d}-{scope['period_end']:%Y%m%d}")
            return print_csv_response(bills, name=label)
        context.update(
            counts=print_run_counts(**scope),
            rows=[print_line(bill) for bill in bills[:ROWS_SHOWN]],
            rows_shown=ROWS_SHOWN,
            csv_query=request.GET.urlencode() + "&format=csv",
        )
    return TemplateResponse(request, "admin/rak_billing/billingrun/print_run.html", context)
