"""Billing runs in the back office: create one for a month and a round, follow its progress,
resume it. Before a run is launched, the dossiers it cannot bill (no tariff, no meter, a reading
held for review) are listed with their counts, and the agent launches it knowingly (a second
« Enregistrer »; with nothing to list, the first one launches it); the run keeps the list
(``BillingRun.unbillable``) and its page shows it; the full list downloads as CSV.

Screens only: every write is one service call (``billing_run_create``, ``billing_run_resume``); a
domain error is shown with its French message.
"""

from __future__ import annotations

import csv
import datetime
from typing import TYPE_CHECKING, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect, QueryDict
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import ChoicesDropdownFilter
from unfold.decorators import action, display

from rak_base import clock
from rak_base.errors import RakError
from rak_billing.admin.print_run import PrintRunAdminMixin  # « Factures à imprimer » (e-facture, issue 13)
from rak_billing.billing import billing_run_create, billing_run_resume, month_start
from rak_billing.models import BillingRun, ReadingRound
from rak_billing.unbillable import REASONS, billing_run_unbillable, unbillable_ids, unbillable_rows
from rak_customer.models import Dossier, Premises, Service

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

ROWS_SHOWN = 200
MONTH_INPUT = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")


def _today() -> datetime.date:
    return timezone.localdate(clock.now())


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
    headline: StrOrPromise
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


class MonthField(forms.DateField):
    """``2026-03`` (an <input type="month">) or a full date -> the first of that month."""

    input_formats = ["%Y-%m", "%Y-%m-%d", "%d/%m/%Y", "%m/%Y"]

    def to_python(self, value):
        day = super().to_python(value)
        return month_start(day) if day else day


def _round_choices() -> list[tuple[str, StrOrPromise]]:
    names = dict(ReadingRound.objects.values_list("code", "name"))
    codes = sorted(set(Premises.objects.exclude(round_code="").values_list("round_code", flat=True).distinct()))
    return [("", _("Toutes les tournées"))] + [
        (code, f"{code} — {names[code]}" if code in names else code) for code in codes
    ]


class BillingRunForm(forms.ModelForm):
    """First « Enregistrer »: the dossiers the run cannot bill are listed; the second one (same
    month and round) launches it. With nothing to list, the first one launches it."""

    period = MonthField(label=_("Mois facturé"), widget=MONTH_INPUT, help_text=_("La période est le mois entier."))
    round_code = forms.ChoiceField(label=_("Tournée"), required=False)
    confirm = forms.CharField(required=False, widget=forms.HiddenInput)
    unbillable = forms.CharField(label=_("Dossiers non facturables"), required=False, widget=PreviewWidget)

    class Meta:
        model = BillingRun
        fields = ("period", "round_code", "issue_date", "due_date", "confirm")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unbillable"].widget = PreviewWidget()  # its own instance: the report is per form
        if "issue_date" not in self.fields:  # the change page is read only
            return
        cast(forms.ChoiceField, self.fields["round_code"]).choices = _round_choices()
        today = _today()
        previous = month_start(month_start(today) - datetime.timedelta(days=1))
        self.fields["period"].initial = previous
        self.fields["issue_date"].initial = today
        self.fields["due_date"].initial = today + datetime.timedelta(days=15)

    def clean(self):
        cleaned = super().clean()
        if cleaned is None:  # a clean() may return None: the form's cleaned_data stands (Django's rule)
            cleaned = self.cleaned_data
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
        data = cast(QueryDict, self.data).copy()  # bound to the add page's POST: a QueryDict
        self.data = data
        data[self.add_prefix("confirm")] = token
        raise forms.ValidationError(
            _(
                "Vérifiez ci-dessous les dossiers que cette campagne ne facturera pas (et pourquoi), puis cliquez "
                "de nouveau sur « Enregistrer » pour la lancer."
            )
        )

    def _post_clean(self):
        pass  # nothing is written from this form: billing_run_create checks and creates the run


def progress_bar(run: BillingRun) -> str:
    done = run.bills_created + run.dossiers_skipped
    total = run.dossiers_total
    percent = 100 if run.status == BillingRun.Status.DONE else (min(100, round(done * 100 / total)) if total else 0)
    colour = {"FAILED": "#dc2626", "DONE": "#16a34a"}.get(run.status, "#2563eb")
    return format_html(
        '<div style="min-width:12rem"><div style="background:#e5e7eb;border-radius:4px;height:10px;overflow:hidden">'
        '<div style="width:{}%;background:{};height:10px"></div></div>'
        '<div style="font-size:.8rem;margin-top:2px">'
        "{} / {} dossiers · {} factures émises · {} ignorés ({} %)</div></div>",
        percent,
        colour,
        f"{done:,}".replace(",", " "),
        f"{total:,}".replace(",", " "),
        f"{run.bills_created:,}".replace(",", " "),
        f"{run.dossiers_skipped:,}".replace(",", " "),
        percent,
    )


@admin.register(BillingRun)
class BillingRunAdmin(PrintRunAdminMixin, ModelAdmin):
    list_display = ("period_display", "round_display", "status_display", "progress_display", "issue_date", "created_at")
    list_filter = (("status", ChoicesDropdownFilter),)
    ordering = ("-id",)
    actions_detail = ("resume",)
    form = BillingRunForm
    readonly_fields = (
        "period_display",
        "round_display",
        "status_display",
        "progress_live",
        "issue_date",
        "due_date",
        "dossiers_total",
        "bills_created",
        "dossiers_skipped",
        "last_dossier_id",
        "error",
        "created_by",
        "created_at",
        "started_at",
        "finished_at",
        "bills_link",
        "unbillable_display",
    )

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return ((None, {"fields": ("period", "round_code", "issue_date", "due_date", "confirm", "unbillable")}),)
        return (
            (None, {"fields": ("period_display", "round_display", "status_display", "progress_live", "bills_link")}),
            (_("Dossiers non facturables"), {"fields": ("unbillable_display",)}),
            (_("Dates"), {"fields": (("issue_date", "due_date"), ("created_at", "started_at", "finished_at"))}),
            (
                _("Détail"),
                {
                    "fields": (
                        ("dossiers_total", "bills_created", "dossiers_skipped"),
                        "last_dossier_id",
                        "created_by",
                        "error",
                    )
                },
            ),
        )

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def has_change_permission(self, request, obj=None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_resume_permission(self, request, object_id=None) -> bool:
        return request.user.has_perm("rak_billing.add_billingrun")

    def save_model(self, request, obj, form, change):
        try:
            run = billing_run_create(
                period_start=form.cleaned_data["period"],
                round_code=form.cleaned_data.get("round_code") or "",
                issue_date=form.cleaned_data["issue_date"],
                due_date=form.cleaned_data["due_date"],
                created_by=request.user,
            )
        except RakError as exc:
            request._rak_error = exc.message
            return
        obj.pk = run.pk
        obj.__dict__.update({f.attname: getattr(run, f.attname) for f in BillingRun._meta.concrete_fields})

    def response_add(self, request, obj, post_url_continue=None):
        if getattr(request, "_rak_error", None):
            messages.error(request, request._rak_error)
            return HttpResponseRedirect(reverse("admin:rak_billing_billingrun_add"))
        messages.success(request, _("Campagne créée : le worker la traite par lots, suivez sa progression ici."))
        return HttpResponseRedirect(reverse("admin:rak_billing_billingrun_change", args=[obj.pk]))

    def log_addition(self, request, obj, message):
        if obj.pk:
            return super().log_addition(request, obj, message)
        return None

    @display(description=_("période"), ordering="period_start")
    def period_display(self, obj: BillingRun) -> str:
        return obj.period_start.strftime("%m/%Y")

    @display(description=_("tournée"), ordering="round_code")
    def round_display(self, obj: BillingRun) -> StrOrPromise:
        return obj.round_code or _("toutes")

    @display(
        description=_("statut"),
        label={"PENDING": "info", "RUNNING": "warning", "DONE": "success", "FAILED": "danger"},
    )
    def status_display(self, obj: BillingRun):
        return obj.status, obj.get_status_display()

    @display(description=_("progression"))
    def progress_display(self, obj: BillingRun) -> str:
        return progress_bar(obj)

    @display(description=_("progression"))
    def progress_live(self, obj: BillingRun) -> str:
        bar = progress_bar(obj)
        if obj.status in (BillingRun.Status.PENDING, BillingRun.Status.RUNNING):
            # refresh while the worker bills: the numbers come from the committed chunks
            return format_html(
                '{}<div style="font-size:.8rem;color:#6b7280">{}</div>'
                "<script>setTimeout(function () {{ window.location.reload(); }}, 3000);</script>",
                bar,
                _("Actualisation automatique toutes les 3 secondes."),
            )
        return bar

    @display(description=_("factures"))
    def bills_link(self, obj: BillingRun) -> str:
        url = reverse("admin:rak_billing_bill_changelist") + f"?run__id__exact={obj.pk}"
        return format_html(
            '<a class="text-primary-600 font-medium" href="{}">{}</a>', url, _("Voir les factures émises")
        )

    @action(description=_("Reprendre"), permissions=["resume"], icon="play_arrow")
    def resume(self, request, object_id):
        run = self.get_object(request, unquote(object_id))
        if run is None:
            raise Http404
        try:
            billing_run_resume(run=run)
        except RakError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("La campagne reprend là où elle s'était arrêtée."))
        return HttpResponseRedirect(reverse("admin:rak_billing_billingrun_change", args=[run.pk]))

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
        ids = unbillable_ids(period.replace(day=1), round_code)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="non-factures-{period:%Y-%m}.csv"'
        response.write("\ufeff")  # Excel opens UTF-8 with its BOM
        writer = csv.writer(response, delimiter=";")
        writer.writerow([_("N° dossier"), _("Code client"), _("Métier"), _("Catégorie"), _("Tournée"), _("Motif")])
        services, categories = dict(Service.choices), dict(Dossier.TariffCategory.choices)
        for row in unbillable_rows(ids, limit=None):
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
