"""Forms of the public requests (« Demande d'abonnement », « Demande de branchement »): parsing
and French field messages; the rules live in rak_requests.filing."""

from __future__ import annotations

from django import forms
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from rak_customer.models import Customer
from rak_portal.forms import REQUIRED, AcceptanceMixin, _identity_clean, _mobile_clean

SERVICES = [("EAU", _("Eau potable")), ("ELECTRICITE", _("Électricité"))]
USAGES = [
    ("", "—"),
    ("DOMESTIQUE", _("Domestique (habitation)")),
    ("PROFESSIONNEL", _("Professionnel (commerce, bureau)")),
    ("INDUSTRIEL", _("Industriel")),
    ("ADMINISTRATIF", _("Administration")),
]
#: one tariff category list per service (a single mixed list let a water contract say « Basse tension »)
WATER_CATEGORIES = [
    ("", "—"),
    ("EAU_DOMESTIQUE", _("Eau — usage domestique")),
    ("EAU_PREFERENTIEL", _("Eau — tarif préférentiel (hammams, bains publics)")),
    ("EAU_INDUSTRIEL", _("Eau — usage industriel")),
]
ELECTRICITY_CATEGORIES = [
    ("", "—"),
    ("BT_DOMESTIQUE", _("Basse tension — usage domestique")),
    ("BT_PROFESSIONNEL", _("Basse tension — usage professionnel")),
    ("MT", _("Moyenne tension")),
]
CALIBERS = [("", "—"), ("15", "15 mm"), ("20", "20 mm"), ("25", "25 mm"), ("40", "40 mm")]
BUILDINGS = [
    ("", "—"),
    ("VILLA", _("Villa / maison individuelle")),
    ("IMMEUBLE", _("Immeuble")),
    ("LOTISSEMENT", _("Lotissement")),
    ("LOCAL_COMMERCIAL", _("Local commercial")),
    ("INDUSTRIEL", _("Bâtiment industriel")),
]


class PersonForm(forms.Form):
    """Étape 1 : informations personnelles (+ le code OTP reçu par SMS)."""

    kind = forms.ChoiceField(label=_("Vous êtes"), choices=Customer.Kind.choices, initial=Customer.Kind.PARTICULIER)
    civility = forms.ChoiceField(label=_("Civilité"), choices=[("", "—"), *Customer.Civility.choices], required=False)
    last_name = forms.CharField(label=_("Nom"), max_length=80, required=False)
    first_name = forms.CharField(label=_("Prénom"), max_length=80, required=False)
    company_name = forms.CharField(label=_("Raison sociale"), max_length=160, required=False)
    identity = forms.CharField(
        label=_("CIN / ICE"), max_length=20, error_messages=REQUIRED, widget=forms.TextInput(attrs={"dir": "ltr"})
    )
    email = forms.EmailField(
        label=_("E-mail"),
        error_messages={**REQUIRED, "invalid": _("Adresse e-mail invalide.")},
        widget=forms.EmailInput(attrs={"dir": "ltr"}),
    )
    phone = forms.CharField(
        label=_("N° de téléphone (mobile)"),
        max_length=20,
        error_messages=REQUIRED,
        widget=forms.TextInput(attrs={"inputmode": "tel", "placeholder": "06 12 34 56 78", "dir": "ltr"}),
        help_text=_(
            "L'e-mail et le téléphone permettront à la RAK de vous contacter pour donner suite à votre demande."
        ),
    )
    otp = forms.CharField(
        label=_("OTP"),
        max_length=6,
        required=False,
        help_text=_("Le code de confirmation reçu par SMS après avoir cliqué sur « vérifier »."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "dir": "ltr"}),
    )

    def clean_identity(self):
        return _identity_clean(self.cleaned_data["identity"])

    def clean_phone(self):
        return _mobile_clean(self.cleaned_data["phone"])

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()

    def clean(self):
        data = super().clean()
        if data is None:  # a clean() may return None: the form's cleaned_data stands (Django's rule)
            data = self.cleaned_data
        if data.get("kind") == Customer.Kind.ENTREPRISE:
            if not data.get("company_name"):
                self.add_error("company_name", _("Veuillez indiquer la raison sociale."))
        else:
            if not data.get("last_name"):
                self.add_error("last_name", _("Veuillez indiquer votre nom."))
            if not data.get("first_name"):
                self.add_error("first_name", _("Veuillez indiquer votre prénom."))
        return data


class _PremisesForm(forms.Form):
    services = forms.MultipleChoiceField(
        label=_("Service(s) demandé(s)"),
        choices=SERVICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choisissez l'eau, l'électricité ou les deux.")},
    )
    address = forms.CharField(label=_("Adresse du local"), max_length=200, error_messages=REQUIRED)
    district = forms.CharField(label=_("Quartier"), max_length=80, error_messages=REQUIRED)
    city = forms.CharField(label=_("Ville"), max_length=80, initial="Kénitra", error_messages=REQUIRED)
    power_kva = forms.DecimalField(
        label=_("Puissance demandée (kVA)"),
        required=False,
        min_value=1,
        max_value=250,
        decimal_places=1,
        error_messages={"invalid": _("Indiquez une puissance en kVA (ex. 6).")},
    )
    caliber_mm = forms.ChoiceField(label=_("Calibre du compteur d'eau"), choices=CALIBERS, required=False)

    def clean(self):
        data = super().clean()
        if data is None:  # a clean() may return None: the form's cleaned_data stands (Django's rule)
            data = self.cleaned_data
        services = data.get("services") or []
        if "ELECTRICITE" in services and not data.get("power_kva"):
            self.add_error("power_kva", _("Indiquez la puissance demandée pour l'électricité."))
        if "EAU" in services and not data.get("caliber_mm"):
            self.add_error("caliber_mm", _("Choisissez le calibre demandé pour l'eau."))
        return data

    def to_data(self) -> dict:
        """JSON-able data of the request, with the labels the receipt shows: stored in French (the
        back office's language), shown translated to the customer (``PremisesData.display``)."""
        with translation.override("fr"):
            return self._data()

    def _data(self) -> dict:
        data = {}
        for name, value in self.cleaned_data.items():
            if value in (None, ""):
                continue
            data[name] = str(value) if not isinstance(value, list | int) else value
            field = self.fields[name]
            choices = dict(getattr(field, "choices", []) or [])
            if choices and isinstance(value, list):
                data[f"{name}_labels"] = [str(choices.get(v, v)) for v in value]
            elif choices and value in choices:
                data[f"{name}_label"] = str(choices[value])
        return data


class SubscriptionInfoForm(_PremisesForm):
    """Étape 2 : informations relatives à l'abonnement."""

    usage = forms.ChoiceField(label=_("Usage"), choices=USAGES, error_messages=REQUIRED)
    tariff_category_eau = forms.ChoiceField(
        label=_("Catégorie tarifaire — eau"),
        choices=WATER_CATEGORIES,
        required=False,
        help_text=_("Seulement si vous demandez l'eau."),
    )
    tariff_category_electricite = forms.ChoiceField(
        label=_("Catégorie tarifaire — électricité"),
        choices=ELECTRICITY_CATEGORIES,
        required=False,
        help_text=_("Seulement si vous demandez l'électricité."),
    )
    field_order = [
        "services",
        "address",
        "district",
        "city",
        "usage",
        "tariff_category_eau",
        "caliber_mm",
        "tariff_category_electricite",
        "power_kva",
    ]

    def clean(self):
        data = super().clean()
        services = data.get("services") or []
        for service, name, message in (
            ("EAU", "tariff_category_eau", _("Choisissez la catégorie tarifaire de l'eau.")),
            ("ELECTRICITE", "tariff_category_electricite", _("Choisissez la catégorie tarifaire de l'électricité.")),
        ):
            if service not in services:
                data[name] = ""  # a category for a service not requested is not kept
            elif not data.get(name) and name not in self.errors:
                self.add_error(name, message)
        return data


class ConnectionInfoForm(_PremisesForm):
    """Étape 2 : informations relatives au branchement."""

    building_type = forms.ChoiceField(label=_("Type de construction"), choices=BUILDINGS, error_messages=REQUIRED)
    units = forms.IntegerField(
        label=_("Nombre de logements / locaux"),
        min_value=1,
        max_value=999,
        initial=1,
        error_messages={**REQUIRED, "min_value": _("Au moins un logement ou local.")},
    )
    works_description = forms.CharField(
        label=_("Description des travaux"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    field_order = [
        "services",
        "address",
        "district",
        "city",
        "building_type",
        "units",
        "power_kva",
        "caliber_mm",
        "works_description",
    ]


def info_initial(form: forms.Form) -> dict:
    """A valid info form's values as the form shows them again (« précédent »): JSON-able."""
    return {k: (str(v) if v is not None and not isinstance(v, list | int) else v) for k, v in form.cleaned_data.items()}


class ConfirmForm(AcceptanceMixin):
    """Étape 4 : conditions générales et loi 09-08."""

    terms_anchor = "#abonnement"

    accept_terms = forms.BooleanField(
        label=_("J'accepte les conditions générales"),
        required=True,
        error_messages={"required": _("Vous devez accepter les conditions générales.")},
    )
