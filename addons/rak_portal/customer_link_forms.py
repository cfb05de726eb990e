"""Forms of « Mes codes clients » (issue 13: several codes clients in one account), shared by the
portal's pages (rak_portal.views.customers) and the API (rak_api.views.customers)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from rak_customer.validators import InvalidIdentity, identity_normalize

REQUIRED = {"required": gettext_lazy("Ce champ est obligatoire.")}


class CustomerLinkStartForm(forms.Form):
    customer_code = forms.CharField(
        label=gettext_lazy("Code client à rattacher"),
        max_length=12,
        error_messages=REQUIRED,
        help_text=gettext_lazy("Il est indiqué sur les factures RAK de ce client."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "dir": "ltr"}),
    )
    identity = forms.CharField(
        label=gettext_lazy("CIN / ICE du titulaire"),
        max_length=20,
        error_messages=REQUIRED,
        help_text=gettext_lazy("Celui du client à qui appartient ce code client (comme pour « Mot de passe oublié »)."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "dir": "ltr"}),
    )
    label = forms.CharField(
        label=gettext_lazy("Libellé (facultatif)"),
        max_length=60,
        required=False,
        help_text=gettext_lazy("Un nom pour s'y retrouver, par exemple « Appartement Mehdia »."),
    )

    def clean_customer_code(self) -> str:
        code = self.cleaned_data["customer_code"].strip().replace(" ", "")
        if not code.isascii() or not code.isalnum():
            raise forms.ValidationError(gettext_lazy("Le code client ne comporte que des chiffres et des lettres."))
        return code

    def clean_identity(self) -> str:
        try:
            return identity_normalize(self.cleaned_data["identity"])[1]
        except InvalidIdentity as exc:
            raise forms.ValidationError(exc.message) from exc


class CustomerLinkLabelForm(forms.Form):
    label = forms.CharField(label=gettext_lazy("Libellé"), max_length=60, required=False)


class CustomerSwitchForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("Code client affiché"), max_length=12, error_messages=REQUIRED)
