"""Forms of « Envoyer une réclamation », « Signaler une fuite ou une coupure » and « Mes
réclamations » (seed 000, issue 11): parsing and field-level French messages; the rules
(throttles, whose dossier, deadlines) live in ``rak_requests.complaints.services``.

Spam resistance of the public forms, without a third-party captcha:

- a honeypot (``website``): a field people never see (off-screen, out of the tab order,
  ``aria-hidden``) that robots fill in;
- a signed form timestamp (``started``): a form sent less than ``MIN_SECONDS`` after it was shown
  (a robot) or more than ``MAX_AGE`` later (a stale tab) is refused with a French message asking
  to check and send again — everything typed comes back;
- after ``CAPTCHA_AFTER`` posts from one address within an hour, the self-hosted « code de
  vérification » of quick-pay (django-simple-captcha, ``rak_portal.payment_forms.CaptchaInput``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from typing import cast

from captcha.fields import CaptchaField
from django import forms
from django.conf import settings
from django.core import signing
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from rak_base.phones import InvalidPhone, NotAMobile, phone_normalize
from rak_base.uploads import UploadRefused
from rak_requests.complaints.categories import category_name
from rak_requests.complaints.selectors import complaint_categories
from rak_requests.uploads import document_help_text, document_upload_hints, request_upload_validate

MIN_SECONDS = 3
MAX_AGE = timedelta(hours=3)
TOKEN_SALT = "rak_portal.complaint_form"  # noqa: S105 (a signing salt, not a secret)
REQUIRED = {"required": _("Ce champ est obligatoire.")}

TOO_FAST = _(
    "Votre demande a été envoyée trop rapidement après l'ouverture de la page. Vérifiez les informations "
    "puis cliquez à nouveau sur « Envoyer votre demande »."
)
EXPIRED = _(
    "Le formulaire a expiré (page ouverte depuis trop longtemps). Vos informations sont conservées : "
    "vérifiez-les puis cliquez à nouveau sur « Envoyer votre demande »."
)
HONEYPOT = _(
    "Votre demande n'a pas pu être envoyée. Si vous avez rempli automatiquement le formulaire, "
    "vérifiez les informations puis cliquez à nouveau sur « Envoyer votre demande »."
)


@dataclass(frozen=True)
class UploadRule:
    """What ``rak_requests.uploads`` reads from a required document: formats and maximum size."""

    allowed_kinds: str
    max_bytes: int


def attachment_rule() -> UploadRule:
    """« Vous pouvez également joindre un fichier ou une image »: PDF or image, the product's size limit."""
    return UploadRule("pdf,image", settings.UPLOAD_MAX_BYTES)


def photo_rule() -> UploadRule:
    return UploadRule("image", settings.UPLOAD_MAX_BYTES)


def form_token(started: float | None = None) -> str:
    """A signed « form shown at » timestamp (seconds)."""
    return signing.dumps(round(started if started is not None else time.time(), 1), salt=TOKEN_SALT)


def form_token_started(token: str) -> float | None:
    try:
        value = signing.loads(token or "", salt=TOKEN_SALT)
    except signing.BadSignature:
        return None
    return float(value) if isinstance(value, int | float) else None


def _mobile_clean(value: str) -> str:
    try:
        return phone_normalize(value, mobile=True)
    except (InvalidPhone, NotAMobile) as exc:
        raise forms.ValidationError(exc.message) from exc


class _UploadField(forms.FileField):
    """One optional file checked by content with ``request_upload_validate`` (formats and size of
    ``rule``); its help text and ``accept=`` come from the same data."""

    def __init__(self, *, rule: UploadRule, **kwargs):
        self.rule = rule
        hints = document_upload_hints(rule)
        # lazy: these fields are built when the module is imported (in French); the words must
        # follow the language of the page that shows them
        kwargs.setdefault("help_text", lazy(document_help_text, str)(rule))
        super().__init__(
            required=False,
            widget=forms.FileInput(attrs={"accept": hints["accept"]}),
            **kwargs,
        )

    def clean(self, data, initial=None):
        file = super().clean(data, initial)
        if not file:
            return None
        try:
            return request_upload_validate(file, document=self.rule)
        except UploadRefused as exc:
            raise forms.ValidationError(exc.message) from exc


class SpamGuardMixin(forms.Form):
    """Honeypot + signed timestamp (+ captcha when ``captcha=True``), public forms only."""

    website = forms.CharField(
        label=_("Ne remplissez pas ce champ"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )
    started = forms.CharField(required=False, widget=forms.HiddenInput)

    spam_guard = True

    def __init__(self, *args, captcha: bool = False, question: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.started_at: float | None = None
        if not self.spam_guard:
            del self.fields["website"]
            del self.fields["started"]
            return
        self.fields["started"].initial = form_token()
        if captcha:
            from rak_portal.payment_forms import CaptchaInput

            self.fields["captcha"] = CaptchaField(
                label=_("Réponse à la question (en chiffres)") if question else _("Code de vérification"),
                widget=CaptchaInput(question=question),
                help_text=_("Écrivez le résultat en chiffres (je ne suis pas un robot).")
                if question
                else _("Recopiez les caractères de l'image (je ne suis pas un robot)."),
                error_messages={
                    "invalid": _("Code de vérification incorrect : un nouveau code vous est proposé."),
                    "required": _("Saisissez le code de vérification."),
                },
            )

    def fresh_token(self) -> str:
        """The token for the page sent back: the first display's time when it was valid (a robot
        re-posting at once stays too fast), else now."""
        started = self.started_at
        if started is None or time.time() - started > MAX_AGE.total_seconds():
            started = time.time()
        return form_token(started)

    def clean(self):
        data = super().clean()
        if data is None:  # a clean() may return None: the form's cleaned_data stands (Django's rule)
            data = self.cleaned_data
        if not self.spam_guard:
            return data
        started = form_token_started(data.get("started", ""))
        self.started_at = started
        if self.errors:  # refused anyway: the fields' own messages are enough, the timing is checked next time
            return data
        if data.get("website"):
            raise forms.ValidationError(HONEYPOT, code="honeypot")
        now = time.time()
        if started is None or now - started > MAX_AGE.total_seconds():
            self.started_at = None
            raise forms.ValidationError(EXPIRED, code="expired")
        if now - started < MIN_SECONDS:
            raise forms.ValidationError(TOO_FAST, code="too_fast")
        return data


class _ContactFields(forms.Form):
    name = forms.CharField(
        label=_("Nom et prénom"),
        max_length=120,
        error_messages=REQUIRED,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("E-mail"),
        required=False,
        max_length=254,
        error_messages={"invalid": _("Adresse e-mail invalide.")},
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Téléphone"),
        max_length=20,
        error_messages=REQUIRED,
        help_text=_("Un SMS de prise en charge avec le numéro attribué à la réclamation y sera envoyé."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel", "placeholder": "06 12 34 56 78"}),
    )

    def clean_name(self):
        return " ".join(self.cleaned_data["name"].split())

    def clean_email(self):
        return (self.cleaned_data.get("email") or "").strip().lower()

    def clean_phone(self):
        return _mobile_clean(self.cleaned_data["phone"])


class _CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return category_name(obj)  # the seed's name translated


class _DossierChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return dossier_label(obj)


class ComplaintForm(SpamGuardMixin, _ContactFields):
    """« Envoyer une réclamation ». Public: code client and a free reference; logged in (``customer``):
    the customer's dossiers and recent bills to pick from (only theirs)."""

    customer_code = forms.CharField(
        label=_("Code client"),
        max_length=20,
        required=False,
        help_text=_(
            "Renseignez le « code client » si vous êtes client de la régie et la réclamation concerne votre abonnement"
        ),
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "spellcheck": "false"}),
    )
    category = _CategoryChoiceField(
        label=_("Catégorie"),
        queryset=complaint_categories(),
        empty_label=_("— Choisissez —"),
        error_messages={
            "required": _("Choisissez la catégorie de votre réclamation."),
            "invalid_choice": _("Choisissez une catégorie de la liste."),
        },
    )
    dossier: forms.ModelChoiceField = _DossierChoiceField(
        label=_("Dossier concerné"),
        queryset=None,
        required=False,
        empty_label=_("— Aucun en particulier —"),
        error_messages={"invalid_choice": _("Ce dossier ne fait pas partie de vos abonnements.")},
    )
    bill: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Facture concernée"),
        queryset=None,
        required=False,
        empty_label=_("— Aucune en particulier —"),
        error_messages={"invalid_choice": _("Cette facture ne fait pas partie de vos factures.")},
    )
    reference = forms.CharField(label=_("N° de dossier ou de facture"), max_length=40, required=False)
    subject = forms.CharField(label=_("Objet"), max_length=160, required=False)
    message = forms.CharField(
        label=_("Message"),
        max_length=4000,
        error_messages={"required": _("Décrivez votre réclamation.")},
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    file = _UploadField(rule=attachment_rule(), label=_("Vous pouvez également joindre un fichier ou une image"))

    field_order = [
        "customer_code",
        "name",
        "email",
        "phone",
        "category",
        "dossier",
        "bill",
        "reference",
        "subject",
        "message",
        "file",
        "website",
        "started",
    ]

    def __init__(self, *args, customer=None, dossiers=None, bills=None, bill_queryset=None, **kwargs):
        self.spam_guard = customer is None
        super().__init__(*args, **kwargs)
        self.customer = customer
        cast(forms.ModelChoiceField, self.fields["category"]).queryset = complaint_categories()
        if customer is None:
            del self.fields["dossier"]
            del self.fields["bill"]
            return
        del self.fields["customer_code"]
        del self.fields["reference"]
        dossier_field = cast(forms.ModelChoiceField, self.fields["dossier"])
        bill_field = cast(forms.ModelChoiceField, self.fields["bill"])
        dossier_field.queryset = dossiers
        bill_field.queryset = bill_queryset
        # the select shows the recent bills (and the one contested); any bill of theirs is accepted
        bill_field.widget.choices = [("", bill_field.empty_label)] + [(b.pk, bill_label(b)) for b in bills]

    def category_error(self, message) -> None:
        self.add_error("category", message)


def dossier_label(dossier) -> str:
    return f"{dossier.number} — {dossier.get_service_display()} — {dossier.premises.address}"


def bill_label(bill) -> str:
    from django.utils.formats import date_format, number_format

    return _("%(number)s du %(date)s — %(amount)s DH") % {
        "number": bill.number,
        "date": date_format(bill.issue_date, "d/m/Y"),
        "amount": number_format(bill.total_ttc, 2, force_grouping=True),
    }


#: the services an incident concerns (the form's choices; the API names the chosen one)
INCIDENT_SERVICES = [("EAU", _("Eau potable")), ("ELECTRICITE", _("Électricité"))]


class IncidentForm(SpamGuardMixin, _ContactFields):
    """« Signaler une fuite ou une coupure »: an incident category, where (the customer's premises,
    or an address and its district, or the browser's position), an optional photo."""

    category = _CategoryChoiceField(
        label=_("Quel problème ?"),
        queryset=complaint_categories(incident=True),
        empty_label=None,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choisissez le type de problème (fuite ou coupure)."),
            "invalid_choice": _("Choisissez le type de problème dans la liste."),
        },
    )
    service = forms.ChoiceField(
        label=_("Service concerné"),
        choices=INCIDENT_SERVICES,
        required=False,
        widget=forms.RadioSelect,
        help_text=_("Pour une coupure : l'eau ou l'électricité."),
    )
    premises: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Votre local"),
        help_text=_("Le problème est ailleurs ? Choisissez « Une autre adresse » et indiquez-la ci-dessous."),
        queryset=None,
        required=False,
        empty_label=_("— Une autre adresse (ci-dessous) —"),
        error_messages={"invalid_choice": _("Ce local ne fait pas partie de vos abonnements.")},
    )
    address = forms.CharField(
        label=_("Adresse du problème"),
        max_length=255,
        required=False,
        help_text=_("Rue, numéro, repère proche (école, mosquée, commerce…)."),
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    district = forms.CharField(
        label=_("Quartier"),
        max_length=80,
        required=False,
        widget=forms.TextInput(attrs={"list": "districts", "autocomplete": "off"}),
    )
    latitude = forms.DecimalField(
        required=False, max_digits=9, decimal_places=6, min_value=-90, max_value=90, widget=forms.HiddenInput
    )
    longitude = forms.DecimalField(
        required=False, max_digits=9, decimal_places=6, min_value=-180, max_value=180, widget=forms.HiddenInput
    )
    message = forms.CharField(
        label=_("Décrivez le problème"),
        max_length=4000,
        error_messages={"required": _("Décrivez le problème en quelques mots.")},
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    photo = _UploadField(rule=photo_rule(), label=_("Photo (facultative)"))
    outage_notice = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1, widget=forms.HiddenInput)

    field_order = [
        "category",
        "service",
        "premises",
        "address",
        "district",
        "message",
        "photo",
        "name",
        "email",
        "phone",
        "latitude",
        "longitude",
        "website",
        "started",
    ]

    def __init__(self, *args, customer=None, premises=None, **kwargs):
        self.spam_guard = customer is None
        super().__init__(*args, **kwargs)
        self.customer = customer
        cast(forms.ModelChoiceField, self.fields["category"]).queryset = complaint_categories(incident=True)
        if customer is None:
            del self.fields["premises"]
        else:  # labelled by str(), ModelChoiceField's default
            cast(forms.ModelChoiceField, self.fields["premises"]).queryset = premises

    def clean(self):
        data = super().clean()
        category = data.get("category")
        if category is not None and not category.service and not data.get("service"):
            self.add_error("service", _("Indiquez s'il s'agit de l'eau ou de l'électricité."))
        if (data.get("latitude") is None) != (data.get("longitude") is None):
            data["latitude"] = data["longitude"] = None
        has_place = data.get("premises") or (data.get("address") or "").strip() or data.get("latitude") is not None
        if not has_place and "address" not in self.errors:
            self.add_error(
                "address",
                _("Indiquez l'adresse du problème, choisissez votre local ou utilisez votre position.")
                if self.customer is not None
                else _("Indiquez l'adresse du problème ou utilisez votre position."),
            )
        return data

    def service_code(self) -> str:
        category = self.cleaned_data.get("category")
        return (category.service if category is not None and category.service else "") or self.cleaned_data.get(
            "service", ""
        )


class AddInfoForm(forms.Form):
    """« Ajouter une information » (text and/or a file) while the complaint is open."""

    body = forms.CharField(
        label=_("Votre message"), max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    file = _UploadField(rule=attachment_rule(), label=_("Joindre un fichier ou une image"))

    def clean(self):
        data = super().clean()
        if data is None:  # a clean() may return None: the form's cleaned_data stands (Django's rule)
            data = self.cleaned_data
        if not (data.get("body") or "").strip() and not data.get("file") and not self.errors:
            self.add_error("body", _("Écrivez votre message ou joignez un fichier."))
        return data


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label=_("Pourquoi rouvrir la réclamation ?"),
        max_length=2000,
        error_messages={"required": _("Expliquez pourquoi le problème n'est pas résolu.")},
        widget=forms.Textarea(attrs={"rows": 3}),
    )


RATING_CHOICES = [
    (5, _("5 étoiles — Très satisfait")),
    (4, _("4 étoiles — Satisfait")),
    (3, _("3 étoiles — Moyennement satisfait")),
    (2, _("2 étoiles — Peu satisfait")),
    (1, _("1 étoile — Pas du tout satisfait")),
]


class RateForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("Votre note"),
        choices=RATING_CHOICES,
        coerce=int,
        widget=forms.RadioSelect(attrs={"class": "star-input"}),
        error_messages={
            "required": _("Choisissez une note de 1 à 5 étoiles."),
            "invalid_choice": _("Choisissez une note de 1 à 5 étoiles."),
        },
    )
    comment = forms.CharField(
        label=_("Commentaire (facultatif)"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


EINVOICE_CHOICES = [
    ("electronique", _("Facture électronique — plus de facture papier")),
    ("papier", _("Facture papier, envoyée par courrier")),
]


class EInvoiceForm(forms.Form):
    """« Facture électronique » (issue 13): the customer's choice of bill delivery."""

    choice = forms.ChoiceField(
        label=_("Comment voulez-vous recevoir vos factures ?"),
        choices=EINVOICE_CHOICES,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choisissez la facture électronique ou la facture papier."),
            "invalid_choice": _("Choisissez la facture électronique ou la facture papier."),
        },
    )
