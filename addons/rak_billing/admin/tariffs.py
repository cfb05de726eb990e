"""Back-office screens of the tariffs: schedules (barèmes) with their tranches and charges, VAT
rates, both with their history; « Simuler » on a schedule previews the bill the engine computes
for a consumption typed by the staff member (the same engine the billing runs and the public
simulator use).

Screens only: overlapping validity periods are refused by ``tariff_schedule_check_overlap`` (form
clean) and the save goes through ``tariff_schedule_save`` (the same check under a lock). A version
needs at least one tranche, and a version already used by a bill is not edited (prices, rules,
dates): the form and the tranche and charge formsets refuse it with the service's message, and
point to a new version.
"""

from __future__ import annotations

import copy
import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.forms.models import BaseInlineFormSet
from django.http import Http404
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.filters.admin import ChoicesDropdownFilter
from unfold.decorators import action, display

from rak_base import clock
from rak_billing import engine
from rak_billing.models import TariffCharge, TariffSchedule, TariffTranche, VatRate
from rak_billing.tariffs import (
    TariffNotFound,
    TariffOverlap,
    TariffVersionInUse,
    engine_schedule,
    tariff_schedule_check_editable,
    tariff_schedule_check_overlap,
    tariff_schedule_save,
    tranches_required_message,
    vat_rate_for,
)
from rak_customer.admin import HistoryAdmin

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

SIMULATION_MAX = Decimal("1000000")


class LinesFormSet(BaseInlineFormSet):
    """Tranches or charges of a schedule: none of them changes on a version already used by a
    bill; a schedule keeps at least one tranche (``require_one``)."""

    require_one = False

    def _kept_count(self) -> int:
        kept = len(
            [
                form
                for form in self.forms
                if getattr(form, "cleaned_data", None)
                # django-stubs leave out BaseFormSet's private _should_delete_form (Django 5.2 has it)
                and not self._should_delete_form(form)  # type: ignore[attr-defined]
                and (form.instance.pk is not None or form.has_changed())
            ]
        )
        if self.instance.pk is not None:  # rows of the schedule that the page did not post
            listed = [form.instance.pk for form in self.initial_forms if form.instance.pk is not None]
            kept += self.get_line_model().objects.filter(schedule_id=self.instance.pk).exclude(pk__in=listed).count()
        return kept

    def get_line_model(self) -> type[TariffTranche] | type[TariffCharge]:
        # an inline formset always has its model (inlineformset_factory sets it); the stubs say Optional
        if self.model is None:
            raise TypeError("LinesFormSet without a model")
        return self.model

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        if self.require_one and self._kept_count() == 0:
            raise forms.ValidationError(tranches_required_message())
        # _should_delete_form: BaseFormSet's private test, which django-stubs does not declare
        changed = any(form.has_changed() or self._should_delete_form(form) for form in self.forms)  # type: ignore[attr-defined]
        if changed and self.instance.pk is not None:
            stored = TariffSchedule.objects.filter(pk=self.instance.pk).first()
            if stored is not None:
                try:
                    tariff_schedule_check_editable(schedule=stored, lines_changed=True)
                except TariffVersionInUse as exc:
                    raise forms.ValidationError(exc.message) from exc


class TrancheFormSet(LinesFormSet):
    require_one = True


class TariffTrancheInline(TabularInline):
    model = TariffTranche
    formset = TrancheFormSet
    extra = 0
    fields = ("position", "mode", "lower_bound", "upper_bound", "unit_price")
    ordering = ("mode", "lower_bound")


class TariffChargeInline(TabularInline):
    model = TariffCharge
    formset = LinesFormSet
    extra = 0
    fields = (
        "position",
        "label",
        "kind",
        "amount",
        "taxable",
        "vat_rate_override",
        "lower_bound",
        "upper_bound",
        "exempt_up_to",
        "monthly_cap",
    )


class TariffScheduleForm(forms.ModelForm):
    class Meta:
        model = TariffSchedule
        fields = (
            "name",
            "service",
            "category",
            "valid_from",
            "valid_to",
            "unit",
            "combination",
            "switch_threshold",
            "prices_include_tax",
            "source",
        )

    def clean(self):
        cleaned = super().clean()
        if cleaned is None:  # a clean() may return None: the form's cleaned_data stands (Django's rule)
            cleaned = self.cleaned_data
        service, category = cleaned.get("service"), cleaned.get("category")
        valid_from, valid_to = cleaned.get("valid_from"), cleaned.get("valid_to")
        if service and category and valid_from:
            try:
                tariff_schedule_check_overlap(
                    service=service,
                    category=category,
                    valid_from=valid_from,
                    valid_to=valid_to,
                    exclude_pk=self.instance.pk,
                )
            except TariffOverlap as exc:
                raise forms.ValidationError(exc.message) from exc
        if self.instance.pk is not None and not self.errors:
            candidate = copy.copy(self.instance)
            for name in self.Meta.fields:
                if name in cleaned:
                    setattr(candidate, name, cleaned[name])
            try:
                tariff_schedule_check_editable(schedule=candidate)
            except TariffVersionInUse as exc:
                raise forms.ValidationError(exc.message) from exc
        if cleaned.get("combination") == TariffSchedule.Combination.SWITCH and cleaned.get("switch_threshold") is None:
            self.add_error(
                "switch_threshold", _("Indiquez le seuil de bascule pour une règle « progressive puis sélective ».")
            )
        return cleaned


class SimulationForm(forms.Form):
    consumption = forms.DecimalField(
        label=_("Consommation"), min_value=Decimal("0"), max_value=SIMULATION_MAX, decimal_places=3, initial=150
    )
    days = forms.IntegerField(label=_("Durée de la période (jours)"), min_value=1, max_value=366, initial=30)
    on_date = forms.DateField(
        label=_("Date (taux de TVA)"), widget=forms.DateInput(attrs={"type": "date"}), required=False
    )


@admin.register(TariffSchedule)
class TariffScheduleAdmin(HistoryAdmin, ModelAdmin):
    form = TariffScheduleForm
    list_display = ("name", "service", "category", "valid_from_display", "valid_to_display", "prices_display")
    list_filter = (("service", ChoicesDropdownFilter), ("category", ChoicesDropdownFilter))
    list_filter_submit = True
    search_fields = ("name",)
    ordering = ("service", "category", "-valid_from")
    inlines = (TariffTrancheInline, TariffChargeInline)
    actions_detail = ("simulate",)
    fieldsets = (
        (None, {"fields": ("name", ("service", "category"), ("valid_from", "valid_to"), "unit")}),
        (_("Règle de calcul"), {"fields": ("combination", "switch_threshold", "prices_include_tax")}),
        (_("Source"), {"fields": ("source",)}),
    )

    object_history_template = "admin/rak_billing/tariffschedule_history.html"

    def save_model(self, request, obj, form, change):
        if change:
            tariff_schedule_save(schedule=obj)
        # a new schedule is saved with its tranches in save_related (the service wants both)

    def save_related(self, request, form, formsets, change):
        if change:
            return super().save_related(request, form, formsets, change)
        tranche_formset = next(fs for fs in formsets if fs.model is TariffTranche)
        tranches = [
            tranche_form.instance
            for tranche_form in tranche_formset.extra_forms
            if tranche_form.has_changed() and not tranche_formset._should_delete_form(tranche_form)
        ]
        tariff_schedule_save(schedule=form.instance, tranches=tranches)
        tranche_formset.new_objects, tranche_formset.changed_objects, tranche_formset.deleted_objects = tranches, [], []
        form.save_m2m()
        for formset in formsets:
            if formset is not tranche_formset:
                formset.instance = form.instance
                self.save_formset(request, form, formset, change=change)

    def history_view(self, request, object_id, extra_context=None):
        """The schedule's own versions, then the changes of its tranches and charges (prices,
        bounds), newest first: a price edited in an inline leaves a trace too."""
        extra_context = extra_context or {}
        if str(object_id).isdigit():
            extra_context["lines_history"] = _lines_history(int(object_id))
        return super().history_view(request, object_id, extra_context)

    @display(description=_("valable à partir du"), ordering="valid_from")
    def valid_from_display(self, obj: TariffSchedule) -> str:
        return date_format(obj.valid_from, "d/m/Y")

    @display(description=_("jusqu'au (exclu)"), ordering="valid_to")
    def valid_to_display(self, obj: TariffSchedule) -> str:
        return date_format(obj.valid_to, "d/m/Y") if obj.valid_to else "—"

    @display(description=_("prix"), label={"TTC": "info", "HT": "success"})
    def prices_display(self, obj: TariffSchedule):
        return ("TTC", "TTC") if obj.prices_include_tax else ("HT", "HT")

    @action(description=_("Simuler"), url_path="simuler", icon="calculate")
    def simulate(self, request, object_id):
        """Preview of the bill this schedule produces for a consumption, a period length and the
        VAT rate in force on a date (default: today, or the schedule's first day if later)."""
        schedule = self.get_object(request, unquote(str(object_id)))
        if schedule is None:
            raise Http404
        if not self.has_view_permission(request, schedule):
            raise PermissionDenied
        today = timezone.localdate(clock.now())
        default_date = max(today, schedule.valid_from)
        if schedule.valid_to and default_date >= schedule.valid_to:
            default_date = schedule.valid_to - datetime.timedelta(days=1)
        form = SimulationForm(request.GET or None, initial={"on_date": default_date})
        computation = error = vat_rate = on_date = None
        if form.is_valid():
            on_date = form.cleaned_data["on_date"] or default_date
            try:
                vat_rate = vat_rate_for(service=schedule.service, category=schedule.category, on_date=on_date)
                computation = engine.compute(
                    engine_schedule(schedule, schedule.tranches.all(), schedule.charges.all()),
                    vat_rate=vat_rate,
                    consumption=form.cleaned_data["consumption"],
                    days=form.cleaned_data["days"],
                )
            except (TariffNotFound, engine.EngineError) as exc:
                error = str(exc)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Simuler « %(name)s »") % {"name": schedule.name},
            "original": schedule,
            "schedule": schedule,
            "form": form,
            "computation": computation,
            "vat_rate": f"{engine.fmt_qty(vat_rate * 100)} %" if vat_rate is not None else None,
            "on_date": on_date,
            "error": error,
            "table": _lines_table(computation) if computation else None,
        }
        return TemplateResponse(request, "admin/rak_billing/tariff_simulate.html", context)


LINES_HISTORY_SHOWN = 100
HISTORY_ACTIONS = {"+": _("Ajout"), "~": _("Modification"), "-": _("Suppression")}


def _lines_history(schedule_id: int) -> dict:
    """The latest changes of a schedule's tranches and charges as a table (2 queries)."""
    tranches = TariffTranche.history.filter(schedule_id=schedule_id).select_related("history_user")
    charges = TariffCharge.history.filter(schedule_id=schedule_id).select_related("history_user")
    entries = [
        (
            row.history_date,
            row.history_user,
            _("Tranche"),
            row.history_type,
            f"{row.get_mode_display()} {engine.fmt_qty(row.lower_bound)}–"
            f"{engine.fmt_qty(row.upper_bound) if row.upper_bound is not None else '∞'} : "
            f"{row.unit_price}".replace(".", ","),
        )
        for row in tranches.order_by("-history_date")[:LINES_HISTORY_SHOWN]
    ] + [
        (
            row.history_date,
            row.history_user,
            _("Redevance ou taxe"),
            row.history_type,
            f"{row.label} : {row.amount}".replace(".", ","),
        )
        for row in charges.order_by("-history_date")[:LINES_HISTORY_SHOWN]
    ]
    entries.sort(key=lambda entry: entry[0], reverse=True)
    return {
        "headers": [_("date"), _("par"), _("élément"), _("action"), _("valeur")],
        "rows": [
            [
                date_format(timezone.localtime(when), "d/m/Y H:i"),
                str(user) if user else "—",
                kind,
                HISTORY_ACTIONS.get(action, action),
                detail,
            ]
            for when, user, kind, action, detail in entries[:LINES_HISTORY_SHOWN]
        ],
    }


def _money(value: Decimal) -> str:
    return f"{value:,.2f}".replace(",", " ").replace(".", ",")


def _lines_table(computation: engine.Computation) -> dict:
    rows: list[list[StrOrPromise]] = [
        [
            line.label,
            engine.fmt_qty(line.quantity),
            f"{line.unit_price}".replace(".", ","),
            _money(line.amount_ht),
            f"{line.vat_rate * 100:.0f} %",
            _money(line.amount_tva),
            _money(line.amount_ttc),
        ]
        for line in computation.lines
    ]
    rows.append(
        [
            _("Total"),
            "",
            "",
            _money(computation.total_ht),
            "",
            _money(computation.total_tva),
            _money(computation.total_ttc),
        ]
    )
    return {
        "headers": [_("libellé"), _("quantité"), _("prix unitaire"), _("HT"), _("TVA %"), _("TVA"), _("TTC")],
        "rows": rows,
    }


@admin.register(VatRate)
class VatRateAdmin(HistoryAdmin, ModelAdmin):
    list_display = ("service", "category_display", "valid_from_display", "rate_display", "source")
    list_filter = (("service", ChoicesDropdownFilter),)
    list_filter_submit = True
    ordering = ("service", "category", "-valid_from")
    fields = ("service", "category", "valid_from", "rate", "source")

    @display(description=_("catégorie tarifaire"), ordering="category")
    def category_display(self, obj: VatRate) -> StrOrPromise:
        return obj.get_category_display() if obj.category else _("Toutes les catégories")

    @display(description=_("à partir du"), ordering="valid_from")
    def valid_from_display(self, obj: VatRate) -> str:
        return date_format(obj.valid_from, "d/m/Y")

    @display(description=_("taux"), ordering="rate")
    def rate_display(self, obj: VatRate) -> str:
        return f"{obj.rate * 100:.2f}".rstrip("0").rstrip(",.").replace(".", ",") + " %"
