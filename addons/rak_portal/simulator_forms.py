"""The simulator's form and its one engine call, shared by the portal's « Simulateur de
consommation » (rak_portal.views.simulator) and the API (POST /api/v1/simulator/): the same inputs,
the same French refusals, the same engine (``rak_billing.api.simulate``)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import cast

from django import forms
from django.utils import formats
from django.utils.translation import gettext, gettext_lazy

from rak_billing.api import SIMULATED_SERVICES, simulate, tariff_book
from rak_customer.models import Dossier, Service

REQUIRED = {"required": gettext_lazy("Ce champ est obligatoire.")}
NUMBER = {
    "invalid": gettext_lazy("Saisissez un nombre (ex. 152 ou 12,5)."),
    "max_decimal_places": gettext_lazy("Au plus 3 chiffres après la virgule."),
    "max_digits": gettext_lazy("Ce nombre est trop grand : vérifiez la valeur saisie."),
    "max_whole_digits": gettext_lazy("Ce nombre est trop grand : vérifiez la valeur saisie."),
}
# Above these, a typing error is more likely than a household or shop bill.
MAX_CONSUMPTION: dict[str, Decimal] = {Service.ELECTRICITE: Decimal("100000"), Service.EAU: Decimal("10000")}
MAX_INDEX = Decimal("999999999")
MAX_DAYS = 366
SERVICE_CHOICES = [
    (Service.ELECTRICITE.value, gettext_lazy("Électricité")),
    (Service.EAU.value, gettext_lazy("Eau (avec l'assainissement)")),
]
MODE_CHOICES = [
    ("consommation", gettext_lazy("Ma consommation")),
    ("index", gettext_lazy("Mes index (ancien et nouveau)")),
]
PERIOD_CHOICES = [("jours", gettext_lazy("Un nombre de jours")), ("dates", gettext_lazy("Des dates de relève"))]


class CategorySelect(forms.Select):
    """Each option names the services it has a tariff for (``data-services``): simulator.js shows
    only those of the chosen service."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.services_of: dict[str, list[str]] = {}

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        if value:
            option["attrs"]["data-services"] = " ".join(self.services_of.get(str(value), []))
        return option


class SimulatorForm(forms.Form):
    service = forms.ChoiceField(
        label=gettext_lazy("Service"),
        choices=SERVICE_CHOICES,
        widget=forms.RadioSelect,
        initial=Service.ELECTRICITE.value,
    )
    category = forms.ChoiceField(
        label=gettext_lazy("Catégorie tarifaire"), widget=CategorySelect, error_messages=REQUIRED
    )
    mode = forms.ChoiceField(
        label=gettext_lazy("Je connais"), choices=MODE_CHOICES, widget=forms.RadioSelect, initial="consommation"
    )
    consumption = forms.DecimalField(
        label=gettext_lazy("Consommation (kWh ou m³)"),
        required=False,
        localize=True,
        max_digits=12,
        decimal_places=3,
        error_messages=NUMBER,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    old_index = forms.DecimalField(
        label=gettext_lazy("Ancien index"),
        required=False,
        localize=True,
        max_digits=12,
        decimal_places=3,
        error_messages=NUMBER,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    new_index = forms.DecimalField(
        label=gettext_lazy("Nouvel index"),
        required=False,
        localize=True,
        max_digits=12,
        decimal_places=3,
        error_messages=NUMBER,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    period = forms.ChoiceField(
        label=gettext_lazy("Période"), choices=PERIOD_CHOICES, widget=forms.RadioSelect, initial="jours"
    )
    days = forms.IntegerField(
        label=gettext_lazy("Durée de la période (jours)"),
        required=False,
        initial=30,
        error_messages={"invalid": gettext_lazy("Saisissez un nombre entier de jours.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    start_date = forms.DateField(
        label=gettext_lazy("Date de l'ancienne relève"),
        required=False,
        error_messages={"invalid": gettext_lazy("Saisissez une date valide (jj/mm/aaaa).")},
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
    )
    end_date = forms.DateField(
        label=gettext_lazy("Date de la nouvelle relève"),
        required=False,
        error_messages={"invalid": gettext_lazy("Saisissez une date valide (jj/mm/aaaa).")},
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
    )

    def __init__(self, *args, categories: dict[str, list[str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.categories = categories
        offered = {c for values in categories.values() for c in values}
        labels = dict(Dossier.TariffCategory.choices)
        #: the category field's choices (the page and the API list them)
        self.category_choices = [(value, labels[value]) for value in Dossier.TariffCategory.values if value in offered]
        cast(forms.ChoiceField, self.fields["category"]).choices = self.category_choices
        self.fields["category"].initial = Dossier.TariffCategory.DOMESTIQUE.value
        self.fields["category"].widget.services_of = {
            category: [service for service, values in categories.items() if category in values] for category in offered
        }

    def clean(self):
        cleaned = super().clean()
        if cleaned is None:  # a clean() may return None: the form's cleaned_data stands (Django's rule)
            cleaned = self.cleaned_data
        service, category = cleaned.get("service"), cleaned.get("category")
        if service and category and category not in self.categories.get(service, []):
            label = dict(Dossier.TariffCategory.choices).get(category, category)  # as the field's choices
            if service == Service.ELECTRICITE:
                message = gettext(
                    "La catégorie « %(category)s » n'a pas de tarif d’électricité : choisissez-en une autre."
                )
            else:
                message = gettext("La catégorie « %(category)s » n'a pas de tarif d’eau : choisissez-en une autre.")
            self.add_error("category", message % {"category": label})
        self._clean_consumption(cleaned)
        self._clean_period(cleaned)
        return cleaned

    def _clean_consumption(self, cleaned: dict) -> None:
        if cleaned.get("mode") == "index":
            old, new = cleaned.get("old_index"), cleaned.get("new_index")
            if old is None and "old_index" not in self.errors:
                self.add_error("old_index", gettext("Saisissez l'ancien index (indiqué sur votre dernière facture)."))
            if new is None and "new_index" not in self.errors:
                self.add_error("new_index", gettext("Saisissez le nouvel index (lu sur votre compteur)."))
            if old is None or new is None:
                return
            if old < 0 or new < 0:
                self.add_error("new_index" if new < 0 else "old_index", gettext("Un index ne peut pas être négatif."))
                return
            if old > MAX_INDEX or new > MAX_INDEX:
                self.add_error("new_index", gettext("Cet index est trop grand : vérifiez la valeur saisie."))
                return
            if new < old:
                self.add_error(
                    "new_index",
                    gettext(
                        "Le nouvel index doit être supérieur ou égal à l'ancien index. Si votre compteur a été "
                        "remplacé, saisissez directement votre consommation."
                    ),
                )
                return
            consumption = new - old
        else:
            consumption = cleaned.get("consumption")
            if consumption is None:
                if "consumption" not in self.errors:
                    self.add_error("consumption", gettext("Saisissez votre consommation."))
                return
            if consumption < 0:
                self.add_error("consumption", gettext("La consommation ne peut pas être négative."))
                return
        limit = MAX_CONSUMPTION.get(cleaned.get("service") or "")
        if limit is not None and consumption > limit:
            unit = "kWh" if cleaned.get("service") == Service.ELECTRICITE else "m³"
            self.add_error(
                "new_index" if cleaned.get("mode") == "index" else "consumption",
                gettext(
                    "Cette consommation paraît anormale (%(consumption)s %(unit)s) : vérifiez la valeur saisie "
                    "(au plus %(limit)s %(unit)s pour une simulation)."
                )
                % {"consumption": _fmt(consumption), "limit": _fmt(limit), "unit": unit},
            )
            return
        cleaned["quantity"] = consumption

    def _clean_period(self, cleaned: dict) -> None:
        if cleaned.get("period") == "dates":
            start, end = cleaned.get("start_date"), cleaned.get("end_date")
            if start is None and "start_date" not in self.errors:
                self.add_error("start_date", gettext("Saisissez la date de l'ancienne relève."))
            if end is None and "end_date" not in self.errors:
                self.add_error("end_date", gettext("Saisissez la date de la nouvelle relève."))
            if start is None or end is None:
                return
            if end <= start:
                self.add_error(
                    "end_date", gettext("La date de la nouvelle relève doit être postérieure à celle de l'ancienne.")
                )
                return
            days = (end - start).days
            cleaned["on_date"] = end
        else:
            days = cleaned.get("days")
            if days is None:
                if "days" not in self.errors:
                    self.add_error("days", gettext("Saisissez la durée de la période en jours (30 pour un mois)."))
                return
            if days <= 0:
                self.add_error("days", gettext("La période doit compter au moins un jour."))
                return
        if days > MAX_DAYS:
            self.add_error(
                "end_date" if cleaned.get("period") == "dates" else "days",
                gettext("La période ne peut pas dépasser %(days)d jours.") % {"days": MAX_DAYS},
            )
            return
        cleaned["period_days"] = days


def _decimal_mark() -> str:
    """The decimal separator of the active language (« , » in French and Arabic, « . » in English)."""
    return formats.get_format("DECIMAL_SEPARATOR")


def simulator_book(today: datetime.date):
    """Today's tariffs of the simulated services."""
    return tariff_book(today, services=SIMULATED_SERVICES)


def simulator_categories(book) -> dict[str, list[str]]:
    """The tariff categories each service has a tariff for (the form's choices)."""
    return {service: book.categories(service) for service in (Service.ELECTRICITE, Service.EAU)}


def simulation_run(data: dict, *, today: datetime.date, book):
    """The engine's bill for a valid form's ``cleaned_data``; raises ``TariffNotFound`` /
    ``EngineError`` (their message is shown)."""
    on_date: datetime.date = data.get("on_date") or today
    return simulate(
        service=data["service"],
        category=data["category"],
        consumption=data["quantity"],
        days=data["period_days"],
        on_date=on_date,
        book=book if on_date == today else None,
    )


def _fmt(value: Decimal) -> str:
    text = f"{value.normalize():f}" if value == value.to_integral() else f"{value:f}"
    return text.replace(".", _decimal_mark())
