"""Billing runs in the back office: before a run is launched, the dossiers it cannot bill (no
tariff, no meter, a reading held for review) are listed with their counts, and the agent
launches it knowingly (a second « Enregistrer »); the run keeps the list (``BillingRun.unbillable``)
and its page shows it; the full list downloads as CSV (« Télécharger la liste (CSV) »).

The screens of bills.py's ``BillingRunAdmin`` are kept (progress, resume); this module adds the
up-front list to them. (It registers a subclass in place of bills.py's, so that the two areas
could be edited at the same time; the lead may fold it back into bills.py.)
"""

from __future__ import annotations

import csv
import datetime

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.decorators import display

from rak_billing.admin.bills import BillingRunAdmin as BaseBillingRunAdmin
from rak_billing.admin.bills import BillingRunForm as BaseBillingRunForm
from rak_billing.models import BillingRun
from rak_billing.unbillable import REASONS, billing_run_unbillable, unbillable_querysets, unbillable_rows
from rak_customer.models import Dossier, Service

ROWS_SHOWN = 200


def _csv_url(period_start: datetime.date, round_code: str) -> str:
    query = urlencode({"period": period_start.isoformat(), "round_code": round_code or ""})
    return reverse("admin:rak_billing_billingrun_unbillable_csv") + "?" + query


def unbillable_html(report: dict, *, period_start: datetime.date, round_code: str) -> str:
    """The counts, the reasons and the first rows of a report (``UnbillableReport.as_json()``)."""
    total = report.get("total", 0)
    to_bill = report.get("to_bill", 0)
    summary = [
        ngettext("%(n)d dossier à facturer", "%(n)d dossiers à facturer", to_bill) % {"n": to_bill},
        ngettext(
            "%(n)d dossier facturé sur estimation (pas de relevé ce mois-ci)",
            "%(n)d dossiers facturés sur estimation (pas de relevé ce mois-ci)",
            report.get("without_reading", 0),
        )
        % {"n": report.get("without_reading", 0)},
    ]
    if report.get("already_billed"):
        summary.append(
            ngettext(
                "%(n)d dossier déjà facturé pour ce mois",
                "%(n)d dossiers déjà facturés pour ce mois",
                report["already_billed"],
            )
            % {"n": report["already_billed"]}
        )
    if not total:
        headline = _("Aucun dossier non facturable : tous les dossiers de la période seront facturés.")
        return format_html(
            '<div data-testid="unbillable"><p class="font-semibold">{}</p><p>{}</p></div>',
            headline,
            " · ".join(summary),
        )
    headline = ngettext(
        "%(n)d dossier ne sera pas facturé par cette campagne :",
        "%(n)d dossiers ne seront pas facturés par cette campagne :",
        total,
    ) % {"n": total}
    counts = format_html_join(
        "", "<li>{} : <strong>{}</strong></li>", ((REASONS[k], v) for k, v in report.get("counts", {}).items() if v)
    )
    rows = report.get("rows", [])[:ROWS_SHOWN]
    services, categories = dict(Service.choices), dict(Dossier.TariffCategory.choices)
    table = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                row["dossier"],
                row["customer"],
                services.get(row["service"], row["service"]),
                categories.get(row["category"], row["category"]),
                row.get("round") or "—",
                REASONS.get(row["reason"], row["reason"]),
            )
            for row in rows
        ),
    )
    more = ""
    if total > len(rows):
        more = format_html(
            "<p>{}</p>",
            _("%(shown)d premiers dossiers affichés sur %(total)d : la liste complète est dans le fichier CSV.")
            % {"shown": len(rows), "total": total},
        )
    return format_html(
        '<div data-testid="unbillable"><p class="font-semibold">{}</p><ul class="list-disc ms-6">{}</ul>'
        "<p>{}</p>"
        '<p><a class="text-primary-600 font-medium" href="{}">{}</a></p>'
        '<table class="w-full text-left mt-2"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>'
        "<th>{}</th></tr></thead><tbody>{}</tbody></table>{}</div>",
        headline,
        counts,
        " · ".join(summary),
        _csv_url(period_start, round_code),
        _("Télécharger la liste (CSV)"),
        _("N° dossier"),
        _("Code client"),
        _("Métier"),
        _("Catégorie"),
        _("Tournée"),
        _("Motif"),
        table,
        more,
    )


class PreviewWidget(forms.Widget):
    """Shows the report computed by the form's clean (nothing to post back)."""

    html = ""

    def render(self, name, value, attrs=None, renderer=None):
        return self.html or str(_("Choisissez le mois et la tournée, puis « Enregistrer » : la liste s'affiche ici."))


class BillingRunForm(BaseBillingRunForm):
    """First « Enregistrer »: the dossiers the run cannot bill are listed; the second one (same
    month and round) launches it. With nothing to list, the first one launches it."""

    confirm = forms.CharField(required=False, widget=forms.HiddenInput)
    unbillable = forms.CharField(label=_("Dossiers non facturables"), required=False, widget=PreviewWidget)

    class Meta(BaseBillingRunForm.Meta):
        fields = (*BaseBillingRunForm.Meta.fields, "confirm")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "unbillable" in self.fields:
            self.fields["unbillable"].widget = PreviewWidget()

    def clean(self):
        cleaned = super().clean()
        period = cleaned.get("period")
        if period is None or self.errors:
            return cleaned
        round_code = (cleaned.get("round_code") or "").strip().upper()
        token = f"{period.isoformat()}|{round_code}"
        if cleaned.get("confirm") == token:
            return cleaned
        report = billing_run_unbillable(period_start=period, round_code=round_code, limit=ROWS_SHOWN)
        if not report.total:
            return cleaned
        self.fields["unbillable"].widget.html = unbillable_html(
            report.as_json(), period_start=report.period_start, round_code=round_code
        )
        self.data = self.data.copy()
        self.data[self.add_prefix("confirm")] = token
        raise forms.ValidationError(
            _(
                "Vérifiez ci-dessous les dossiers que cette campagne ne facturera pas (et pourquoi), puis cliquez "
                "de nouveau sur « Enregistrer » pour la lancer."
            )
        )

    def _post_clean(self):
        pass  # nothing is written from this form: billing_run_create checks and creates the run


admin.site.unregister(BillingRun)


@admin.register(BillingRun)
class BillingRunAdmin(BaseBillingRunAdmin):
    form = BillingRunForm
    readonly_fields = (*BaseBillingRunAdmin.readonly_fields, "unbillable_display")

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return ((None, {"fields": ("period", "round_code", "issue_date", "due_date", "confirm", "unbillable")}),)
        fieldsets = list(super().get_fieldsets(request, obj))
        fieldsets.insert(1, (_("Dossiers non facturables"), {"fields": ("unbillable_display",)}))
        return fieldsets

    @display(description=_("dossiers que la campagne ne facture pas"))
    def unbillable_display(self, obj: BillingRun) -> str:
        if not obj.unbillable:
            return "—"
        return unbillable_html(obj.unbillable, period_start=obj.period_start, round_code=obj.round_code)

    def get_urls(self):
        return [
            path(
                "non-factures.csv",
                self.admin_site.admin_view(self.unbillable_csv_view),
                name="rak_billing_billingrun_unbillable_csv",
            ),
            *super().get_urls(),
        ]

    def unbillable_csv_view(self, request):
        """Every dossier the run of a month (and round) leaves out today, with its reason."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            period = datetime.date.fromisoformat(request.GET.get("period", ""))
        except ValueError:
            period = None
        if period is None:
            return HttpResponse(_("Indiquez le mois (period=AAAA-MM-JJ)."), status=400, content_type="text/plain")
        round_code = (request.GET.get("round_code") or "").strip().upper()
        querysets, _missing = unbillable_querysets(period.replace(day=1), round_code)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="non-factures-{period:%Y-%m}.csv"'
        response.write("\ufeff")  # Excel opens UTF-8 with its BOM
        writer = csv.writer(response, delimiter=";")
        writer.writerow([_("N° dossier"), _("Code client"), _("Métier"), _("Catégorie"), _("Tournée"), _("Motif")])
        services, categories = dict(Service.choices), dict(Dossier.TariffCategory.choices)
        for row in unbillable_rows(querysets, limit=None):
            writer.writerow(
                [
                    row["dossier"],
                    row["customer"],
                    services.get(row["service"], row["service"]),
                    categories.get(row["category"], row["category"]),
                    row.get("round") or "",
                    REASONS[row["reason"]],
                ]
            )
        return response
