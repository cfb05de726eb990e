"""The input forms of the bills and readings pages, shared with the mobile API (rak_api may import
the portal's forms, never its views): the e-facture filters and the self-reading, correction and
contest forms."""

from __future__ import annotations

import datetime
import re
from typing import cast

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rak_billing.readings import PHOTO_REQUIRED
from rak_customer.models import Dossier

MONTH_RE = re.compile(r"^\s*(?:(\d{4})-(\d{1,2})|(\d{1,2})\s*[/.-]?\s*(\d{4}))\s*$")
PHOTO_ACCEPT = "image/jpeg,image/png,image/webp,image/heic,image/heif,.heic"


def billing_month_parse(text: str) -> datetime.date | None:
    """« 01/2026 », « 1-2026 », « 012026 » or « 2026-01 » → the first day of that month; None when
    the text is not a month (the caller says so in its own words)."""
    match = MONTH_RE.match(text or "")
    if not match:
        return None
    year, month = (match.group(1), match.group(2)) if match.group(1) else (match.group(4), match.group(3))
    if not 1 <= int(month) <= 12 or int(year) < 1:
        return None
    return datetime.date(int(year), int(month), 1)


class EFactureFilterForm(forms.Form):
    """Filters of the table: N° client (the customer's own only), échéance, dossier."""

    client = forms.ChoiceField(
        label=gettext_lazy("N° client"),
        required=False,
        error_messages={"invalid_choice": gettext_lazy("Ce numéro client n'est pas rattaché à votre compte.")},
    )
    echeance = forms.CharField(
        label=gettext_lazy("Échéance"),
        required=False,
        max_length=10,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("MM/AAAA"), "inputmode": "numeric"}),
        help_text=gettext_lazy("Mois facturé, par exemple 01/2026."),
    )
    dossier = forms.ChoiceField(label=gettext_lazy("N° dossier"), required=False)

    def __init__(self, *args, customer, dossiers: list[Dossier], **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer
        self.dossiers = {d.number: d for d in dossiers}
        cast(forms.ChoiceField, self.fields["client"]).choices = [("", _("Tous")), (customer.code, customer.code)]
        cast(forms.ChoiceField, self.fields["dossier"]).choices = [("", _("Tous"))] + [
            (d.number, f"{d.number} — {d.get_service_display()}") for d in dossiers
        ]

    def clean_echeance(self) -> datetime.date | None:
        text = self.cleaned_data["echeance"]
        if not text:
            return None
        month = billing_month_parse(text)
        if month is None:
            raise forms.ValidationError(_("Saisissez un mois au format MM/AAAA (par exemple 01/2026)."))
        return month

    def clean_dossier(self) -> Dossier | None:
        number = self.cleaned_data["dossier"]
        return self.dossiers[number] if number else None

    def selector_filters(self) -> dict:
        """The arguments of ``rak_billing.selectors.efacture_bills`` (call after ``is_valid()``)."""
        dossier = self.cleaned_data.get("dossier")
        return {"dossier_id": dossier.pk if dossier else None, "month": self.cleaned_data.get("echeance")}


class SelfReadingForm(forms.Form):
    index = forms.CharField(
        label=gettext_lazy("Index relevé"),
        max_length=20,
        help_text=gettext_lazy("Les chiffres affichés par votre compteur (sans les décimales rouges pour l'eau)."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        error_messages={"required": gettext_lazy("Saisissez l'index affiché par votre compteur.")},
    )
    photo = forms.FileField(
        label=gettext_lazy("Photo de l'index"),
        help_text=gettext_lazy("Photo nette du cadran (JPEG, PNG, WebP ou HEIC, 2 Mo au plus)."),
        widget=forms.ClearableFileInput(attrs={"accept": PHOTO_ACCEPT}),
        error_messages={"required": PHOTO_REQUIRED, "invalid": PHOTO_REQUIRED, "empty": PHOTO_REQUIRED},
    )
    confirm = forms.BooleanField(label=gettext_lazy("Je confirme cet index"), required=False)

    def __init__(self, *args, ask_confirmation: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not ask_confirmation:  # the box appears once an implausible index was refused
            del self.fields["confirm"]


class CorrectionForm(SelfReadingForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["index"].label = gettext_lazy("Index corrigé")
        self.fields["photo"].required = False
        self.fields["photo"].help_text = gettext_lazy(
            "Facultative : sans nouvelle photo, celle de votre relevé est conservée."
        )


CONTEST_PHOTO_REQUIRED = gettext_lazy("Joignez une photo de l'index de votre compteur pour contester ce relevé.")


class ContestForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Votre explication"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    photo = forms.FileField(
        label=gettext_lazy("Photo de l'index de votre compteur"),
        help_text=gettext_lazy("JPEG, PNG, WebP ou HEIC, 2 Mo au plus."),
        widget=forms.ClearableFileInput(attrs={"accept": PHOTO_ACCEPT}),
        error_messages={"required": CONTEST_PHOTO_REQUIRED},
    )
