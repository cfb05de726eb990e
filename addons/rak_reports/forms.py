"""The filters of every report page, read from the query string (so a filtered page, its XLSX and
its PDF share one address) and checked: a bad value gets a message, never a 500."""

from __future__ import annotations

import re
from datetime import date
from typing import cast

from django import forms
from django.db import DatabaseError, transaction
from django.utils.translation import gettext_lazy as _

from rak_base.db_router import reports_database
from rak_customer.models import Agency, Customer, Service
from rak_reports.matviews import MatView, matview_register
from rak_reports.query import ReportFilters, add_months, rows

MAX_MONTHS = 36

DISTRICTS = matview_register(
    MatView(
        name="districts",
        sql="SELECT DISTINCT district FROM rak_customer_premises WHERE district <> ''",
        unique=("district",),
        label="quartiers (liste du filtre)",
    )
)

MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


class MonthField(forms.CharField):
    """« 2026-03 » (an ``<input type="month">``) → date(2026, 3, 1)."""

    widget = forms.TextInput(attrs={"type": "month", "pattern": r"\d{4}-\d{2}", "placeholder": "AAAA-MM"})
    default_error_messages = {"invalid": _("Mois invalide : écrivez-le AAAA-MM (par exemple 2026-03).")}

    def to_python(self, value):
        value = (super().to_python(value) or "").strip()
        if not value:
            return None
        match = MONTH_RE.match(value)
        if not match:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        year, month = int(match[1]), int(match[2])
        if not (2000 <= year <= 2100 and 1 <= month <= 12):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return date(year, month, 1)


def district_choices() -> list[tuple[str, str]]:
    try:
        with transaction.atomic(using=reports_database()):  # the replica when configured
            found = [r["district"] for r in rows(f"SELECT district FROM {DISTRICTS.table} ORDER BY district")]  # noqa: S608
    except DatabaseError:  # the view is built by the first migrate
        found = []
    return [("", _("Tous les quartiers")), *((d, d) for d in found)]


class ReportFilterForm(forms.Form):
    du = MonthField(label=_("Du mois"), required=False)
    au = MonthField(label=_("Au mois"), required=False)
    quartier = forms.ChoiceField(label=_("Quartier"), required=False)
    agence = forms.ModelChoiceField(
        label=_("Agence"), queryset=Agency.objects.order_by("name"), required=False, empty_label=_("Toutes les agences")
    )
    metier = forms.ChoiceField(
        label=_("Métier"), required=False, choices=[("", _("Tous les métiers")), *Service.choices]
    )
    type_client = forms.ChoiceField(
        label=_("Type de client"), required=False, choices=[("", _("Tous les types")), *Customer.Kind.choices]
    )

    def __init__(self, data=None, *, today: date, allowed: tuple[str, ...], **kwargs):
        super().__init__(data, **kwargs)
        self.today = today
        choices = district_choices()
        wanted = (data or {}).get("quartier") or ""
        if wanted and wanted not in dict(choices) and len(wanted) <= 80 and "\x00" not in wanted:
            # a district created since the last refresh of the list is still a district
            from rak_customer.models import Premises

            if Premises.objects.filter(district=wanted).exists():
                choices.append((wanted, wanted))
        cast(forms.ChoiceField, self.fields["quartier"]).choices = choices
        if "du" in self.fields:  # the period shown is the one used: the last 12 months by default
            default = self.default_filters()
            self.fields["du"].initial = f"{default.month_from:%Y-%m}"
            self.fields["au"].initial = f"{default.month_to:%Y-%m}"
        names = {
            "period": ("du", "au"),
            "district": ("quartier",),
            "agency": ("agence",),
            "service": ("metier",),
            "customer_kind": ("type_client",),
        }
        for key, fields in names.items():
            if key not in allowed:
                for name in fields:
                    del self.fields[name]

    def clean(self):
        data = super().clean()
        if data is None:  # a clean() may return None: the form's cleaned_data stands (Django's rule)
            data = self.cleaned_data
        this_month = self.today.replace(day=1)
        month_to = data.get("au") or this_month
        month_from = data.get("du") or add_months(month_to, -11)
        if month_from > month_to:
            raise forms.ValidationError(_("Le mois de début doit précéder le mois de fin."))
        if len(range(month_from.year * 12 + month_from.month, month_to.year * 12 + month_to.month + 1)) > MAX_MONTHS:
            raise forms.ValidationError(_("Choisissez une période de %(max)d mois au plus.") % {"max": MAX_MONTHS})
        data["month_from"], data["month_to"] = month_from, month_to
        return data

    def report_filters(self) -> ReportFilters:
        data = self.cleaned_data
        agency = data.get("agence")
        return ReportFilters(
            month_from=data["month_from"],
            month_to=data["month_to"],
            district=data.get("quartier") or "",
            agency_id=agency.pk if agency else None,
            service=data.get("metier") or "",
            customer_kind=data.get("type_client") or "",
        )

    def default_filters(self) -> ReportFilters:
        this_month = self.today.replace(day=1)
        return ReportFilters(month_from=add_months(this_month, -11), month_to=this_month)

    def describe(self) -> list[tuple[str, str]]:
        """What the filters were, in words, for the exports' header."""
        out: list[tuple[str, str]] = []
        if not self.is_bound or not hasattr(self, "cleaned_data"):
            return out
        data = self.cleaned_data
        out.append((str(_("Période")), f"{data['month_from']:%m/%Y} – {data['month_to']:%m/%Y}"))
        for name in ("quartier", "agence", "metier", "type_client"):
            if name in self.fields and data.get(name):
                field = self.fields[name]
                value = data[name]
                if isinstance(field, forms.ChoiceField) and not isinstance(field, forms.ModelChoiceField):
                    value = dict(field.choices).get(value, value)  # type: ignore[arg-type]  # flat (value, label) pairs
                out.append((str(field.label), str(value)))
        return out
