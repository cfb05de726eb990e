"""Portal forms: parsing and field-level French messages. Business rules live in the services."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy

from rak_base.phones import InvalidPhone, NotAMobile, phone_normalize
from rak_customer.models import ChangeRequest, Customer
from rak_customer.validators import InvalidIdentity, identity_normalize

REQUIRED = {"required": gettext_lazy("Ce champ est obligatoire.")}


def _identity_clean(value: str) -> str:
    try:
        return identity_normalize(value)[1]
    except InvalidIdentity as exc:
        raise forms.ValidationError(exc.message) from exc


def _mobile_clean(value: str) -> str:
    try:
        return phone_normalize(value, mobile=True)
    except (InvalidPhone, NotAMobile) as exc:
        raise forms.ValidationError(exc.message) from exc


class LoginForm(forms.Form):
    username = forms.CharField(
        label=gettext_lazy("Code client, e-mail ou téléphone"),
        max_length=254,
        error_messages=REQUIRED,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=gettext_lazy("Mot de passe"),
        max_length=128,
        error_messages=REQUIRED,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class ContactForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Nom complet"), max_length=120, error_messages=REQUIRED)
    email = forms.EmailField(
        label=gettext_lazy("E-mail"), error_messages={**REQUIRED, "invalid": gettext_lazy("Adresse e-mail invalide.")}
    )
    phone = forms.CharField(label=gettext_lazy("Téléphone"), max_length=20, required=False)
    subject = forms.CharField(label=gettext_lazy("Objet"), max_length=160, error_messages=REQUIRED)
    body = forms.CharField(
        label=gettext_lazy("Message"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages=REQUIRED,
    )

    def clean_phone(self):
        value = self.cleaned_data["phone"].strip()
        if not value:
            return ""
        try:
            return phone_normalize(value)
        except InvalidPhone as exc:
            raise forms.ValidationError(exc.message) from exc


class AcceptanceMixin(forms.Form):
    accept_terms = forms.BooleanField(
        label=gettext_lazy("J'accepte les conditions d'utilisation de l'agence en ligne"),
        required=True,
        error_messages={"required": gettext_lazy("Vous devez accepter les conditions d'utilisation.")},
    )
    accept_data_processing = forms.BooleanField(
        label=gettext_lazy(
            "Je donne mon accord au traitement de mes données personnelles (CIN, téléphone) conformément à la loi 09-08"
        ),
        required=True,
        error_messages={
            "required": gettext_lazy("Vous devez donner votre accord au traitement de vos données personnelles.")
        },
    )
    terms_anchor = ""  # a section of the terms page (« #abonnement » for the subscription's form)
    # the words of the label that link to the terms, as the label's translation words them
    terms_words = (gettext_lazy("conditions d'utilisation"), gettext_lazy("conditions générales"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        label = str(self.fields["accept_terms"].label)
        for words in map(str, self.terms_words):
            if words in label:  # the words link to the text accepted (opens in a new tab)
                before, after = label.split(words, 1)
                self.fields["accept_terms"].label = format_html(
                    '{}<a href="{}{}" target="_blank" rel="noopener">{}</a>{}',
                    before,
                    reverse("portal:terms"),
                    self.terms_anchor,
                    words,
                    after,
                )
                break


class RegisterStartForm(AcceptanceMixin):
    """« Créer mon compte »: a known customer whose phone is on record gets the account at once, so
    the conditions d'utilisation and the loi 09-08 consent are asked here (issue 9 §2)."""

    identity = forms.CharField(label=gettext_lazy("CIN / ICE"), max_length=20, error_messages=REQUIRED)
    phone = forms.CharField(
        label=gettext_lazy("N° de téléphone (mobile)"),
        max_length=20,
        error_messages=REQUIRED,
        widget=forms.TextInput(attrs={"inputmode": "tel", "placeholder": "06 12 34 56 78"}),
    )
    field_order = ["identity", "phone", "accept_terms", "accept_data_processing"]

    def clean_identity(self):
        return _identity_clean(self.cleaned_data["identity"])

    def clean_phone(self):
        return _mobile_clean(self.cleaned_data["phone"])


class RegisterNewPhoneForm(AcceptanceMixin):
    customer_code = forms.CharField(
        label=gettext_lazy("Code client"),
        max_length=12,
        error_messages=REQUIRED,
        help_text=gettext_lazy("Votre code client est indiqué sur vos factures RAK."),
    )
    otp = forms.CharField(
        label=gettext_lazy("Code de confirmation (OTP)"),
        max_length=6,
        min_length=6,
        error_messages={**REQUIRED, "min_length": gettext_lazy("Le code de confirmation comporte 6 chiffres.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
    field_order = ["customer_code", "otp", "accept_terms", "accept_data_processing"]


class RegisterProspectForm(AcceptanceMixin):
    kind = forms.ChoiceField(
        label=gettext_lazy("Vous êtes"), choices=Customer.Kind.choices, initial=Customer.Kind.PARTICULIER
    )
    civility = forms.ChoiceField(
        label=gettext_lazy("Civilité"), choices=[("", "—"), *Customer.Civility.choices], required=False
    )
    last_name = forms.CharField(label=gettext_lazy("Nom"), max_length=80, required=False)
    first_name = forms.CharField(label=gettext_lazy("Prénom"), max_length=80, required=False)
    company_name = forms.CharField(label=gettext_lazy("Raison sociale"), max_length=160, required=False)
    email = forms.EmailField(
        label=gettext_lazy("E-mail"),
        required=False,
        error_messages={"invalid": gettext_lazy("Adresse e-mail invalide.")},
    )
    field_order = [
        "kind",
        "civility",
        "last_name",
        "first_name",
        "company_name",
        "email",
        "accept_terms",
        "accept_data_processing",
    ]

    def clean(self):
        data = super().clean()
        if data is None:  # a clean() may return None: the form's cleaned_data stands (Django's rule)
            data = self.cleaned_data
        if data.get("kind") == Customer.Kind.ENTREPRISE:
            if not data.get("company_name"):
                self.add_error("company_name", gettext_lazy("Veuillez indiquer la raison sociale."))
        else:
            if not data.get("last_name"):
                self.add_error("last_name", gettext_lazy("Veuillez indiquer votre nom."))
            if not data.get("first_name"):
                self.add_error("first_name", gettext_lazy("Veuillez indiquer votre prénom."))
        return data


class ForgotPasswordForm(forms.Form):
    customer_code = forms.CharField(label=gettext_lazy("Code client"), max_length=12, error_messages=REQUIRED)
    identity = forms.CharField(label=gettext_lazy("CIN / ICE"), max_length=20, error_messages=REQUIRED)

    def clean_identity(self):
        return _identity_clean(self.cleaned_data["identity"])


class NewPasswordMixin(forms.Form):
    new_password1 = forms.CharField(
        label=gettext_lazy("Nouveau mot de passe"),
        strip=False,
        error_messages=REQUIRED,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password2 = forms.CharField(
        label=gettext_lazy("Confirmation du nouveau mot de passe"),
        strip=False,
        error_messages=REQUIRED,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        if data is None:  # a clean() may return None: the form's cleaned_data stands (Django's rule)
            data = self.cleaned_data
        p1, p2 = data.get("new_password1"), data.get("new_password2")
        if p1 and p2 and p1 != p2:
            self.add_error("new_password2", gettext_lazy("Les deux mots de passe ne correspondent pas."))
        elif p1:
            try:
                password_validation.validate_password(p1, self.user)
            except forms.ValidationError as exc:
                self.add_error("new_password1", exc)
        return data


class PasswordChangeForm(NewPasswordMixin):
    """Current password + new one twice (seed 002: « le mot de passe reçu, le nouveau, la confirmation »)."""

    old_password = forms.CharField(
        label=gettext_lazy("Mot de passe actuel"),
        strip=False,
        error_messages=REQUIRED,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    field_order = ["old_password", "new_password1", "new_password2"]

    def clean_old_password(self):
        value = self.cleaned_data["old_password"]
        if not self.user.check_password(value):
            raise forms.ValidationError(gettext_lazy("Le mot de passe actuel est incorrect."))
        return value

    def clean(self):
        data = super().clean()
        if data.get("old_password") and data.get("old_password") == data.get("new_password1"):
            self.add_error("new_password1", gettext_lazy("Le nouveau mot de passe doit être différent de l'actuel."))
        return data


class FirstPasswordChangeForm(PasswordChangeForm):
    """First login (seed 002): « le mot de passe reçu dans le premier champ, le nouveau dans le
    deuxième et confirmez le nouveau mot de passe dans le troisième »; the received one cannot be kept."""

    old_password = forms.CharField(
        label=gettext_lazy("Mot de passe reçu (SMS ou e-mail)"),
        strip=False,
        error_messages=REQUIRED,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )

    def clean_old_password(self):
        value = self.cleaned_data["old_password"]
        if not self.user.check_password(value):
            raise forms.ValidationError(gettext_lazy("Le mot de passe reçu est incorrect."))
        return value

    def clean(self):
        data = forms.Form.clean(self)
        if data is None:  # a clean() may return None: the form's cleaned_data stands (Django's rule)
            data = self.cleaned_data
        p1, p2 = data.get("new_password1"), data.get("new_password2")
        if p1 and p2 and p1 != p2:
            self.add_error("new_password2", gettext_lazy("Les deux mots de passe ne correspondent pas."))
        elif p1 and data.get("old_password") and p1 == data.get("old_password"):
            self.add_error(
                "new_password1",
                gettext_lazy("Le nouveau mot de passe doit être différent du mot de passe reçu."),
            )
        elif p1:
            try:
                password_validation.validate_password(p1, self.user)
            except forms.ValidationError as exc:
                self.add_error("new_password1", exc)
        return data


class FirstPasswordChangeAcceptanceForm(FirstPasswordChangeForm, AcceptanceMixin):
    """First login of an account created without the acceptances (« Mot de passe oublié » for a
    customer who had no account, accounts opened by the staff): the conditions d'utilisation and
    the loi 09-08 consent are asked with the new password (issue 9 §2)."""

    field_order = ["old_password", "new_password1", "new_password2", "accept_terms", "accept_data_processing"]


class PhoneChangeForm(forms.Form):
    phone = forms.CharField(
        label=gettext_lazy("Nouveau n° de téléphone (mobile)"),
        max_length=20,
        error_messages=REQUIRED,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )

    def clean_phone(self):
        return _mobile_clean(self.cleaned_data["phone"])


class OtpForm(forms.Form):
    otp = forms.CharField(
        label=gettext_lazy("Code de confirmation (OTP)"),
        max_length=6,
        min_length=6,
        error_messages={**REQUIRED, "min_length": gettext_lazy("Le code de confirmation comporte 6 chiffres.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class EmailForm(forms.Form):
    email = forms.EmailField(
        label=gettext_lazy("Adresse e-mail"),
        error_messages={**REQUIRED, "invalid": gettext_lazy("Adresse e-mail invalide.")},
    )


class NoticePreferencesForm(forms.Form):
    """« Mes préférences » on the profile page: the outage and works notices by SMS (issue 11)."""

    sms_service_notices = forms.BooleanField(
        label=gettext_lazy("Recevoir par SMS les avis de coupure et de travaux"),
        required=False,
        help_text=gettext_lazy(
            "Décochée, vous ne recevez plus ces SMS ; les avis restent affichés sur votre tableau de bord. "
            "Les SMS sur vos demandes, réclamations et factures ne sont pas concernés."
        ),
    )


class LanguageForm(forms.Form):
    """« Langue de communication » on the profile page: the language of the portal and of the SMS,
    e-mails and documents sent to the customer (posted to ``portal:set_language``, which stores it
    on the account through ``customer_language_set``)."""

    language = forms.ChoiceField(
        label=gettext_lazy("Langue de communication"),
        choices=settings.LANGUAGES,
        widget=forms.RadioSelect,
        help_text=gettext_lazy(
            "La langue de votre agence en ligne et des SMS, e-mails et documents que la RAK vous envoie."
        ),
    )


class ChangeRequestForm(forms.Form):
    field = forms.ChoiceField(label=gettext_lazy("Information à modifier"), choices=ChangeRequest.Field.choices)
    requested_value = forms.CharField(label=gettext_lazy("Nouvelle valeur"), max_length=200, error_messages=REQUIRED)
    reason = forms.CharField(
        label=gettext_lazy("Motif (facultatif)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
