"""Bodies of the account endpoints (registration, passwords, profile, devices): parsing with the
portal's rules (identity and phone normalisers, the portal's password forms), answers documented
for the schema. Component names start with « Account » / « Device » (one schema for every area)."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from rak_base.phones import InvalidPhone, NotAMobile, phone_normalize
from rak_customer.models import ChangeRequest, Customer
from rak_customer.validators import InvalidIdentity, identity_normalize


class StrictCharField(serializers.CharField):
    """A JSON string only (DRF would read 12 as « 12 »): what the schema says is what is accepted."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """``true`` / ``false`` only (not « 1 », « oui »)."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictEmailField(serializers.EmailField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def _identity(value: str) -> str:
    try:
        return identity_normalize(value)[1]
    except InvalidIdentity as exc:
        raise serializers.ValidationError(exc.message) from exc


def _mobile(value: str) -> str:
    try:
        return phone_normalize(value, mobile=True)
    except (InvalidPhone, NotAMobile) as exc:
        raise serializers.ValidationError(exc.message) from exc


def form_validate(form) -> dict:
    """A portal form's checks (password rules, the current password…) as the API's field errors."""
    if form.is_valid():
        return form.cleaned_data
    errors = {}
    for field, problems in form.errors.as_data().items():
        key = "non_field_errors" if field == "__all__" else field
        errors[key] = [ErrorDetail(" ".join(map(str, p.messages)), code=p.code or "invalid") for p in problems]
    raise serializers.ValidationError(errors)


# --- answers shared by several operations ------------------------------------------------------


class AccountMessageSerializer(serializers.Serializer):
    message = serializers.CharField(help_text="Phrase de confirmation à afficher.")


class AccountDeliverySerializer(serializers.Serializer):
    channel = serializers.CharField(help_text="« SMS » ou « EMAIL » : par où le mot de passe est parti.")
    hint = serializers.CharField(help_text="Deux derniers chiffres du téléphone, ou e-mail masqué.")
    message = serializers.CharField(help_text="Phrase à afficher (« …envoyé par SMS au numéro se terminant par 78 »).")


class AccountPasswordSentSerializer(serializers.Serializer):
    delivery = AccountDeliverySerializer()


def delivery_body(delivery) -> dict:
    return {"delivery": {"channel": delivery.channel, "hint": delivery.hint, "message": delivery.message}}


# --- « Créer mon compte » ----------------------------------------------------------------------


class AcceptanceFields(serializers.Serializer):
    accept_terms = StrictBooleanField(help_text="J'accepte les conditions d'utilisation de l'agence en ligne.")
    accept_data_processing = StrictBooleanField(
        help_text="Accord au traitement des données personnelles (CIN, téléphone), loi 09-08."
    )


class AccountRegisterSerializer(AcceptanceFields):
    identity = StrictCharField(max_length=20, help_text="CIN ou ICE.")
    phone = StrictCharField(max_length=20, help_text="N° de téléphone mobile (06…, 07…, +212…).")

    def validate_identity(self, value):
        return _identity(value)

    def validate_phone(self, value):
        return _mobile(value)


class AccountRegisterResultSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=[("CREATED", "CREATED"), ("NEEDS_OTP", "NEEDS_OTP"), ("UNKNOWN", "UNKNOWN")],
        help_text=(
            "CREATED : client connu avec ce téléphone, compte créé et mot de passe envoyé ; NEEDS_OTP : client "
            "connu, autre téléphone — un code est envoyé par SMS (POST /account/register/new-phone/) ; UNKNOWN : "
            "inconnu — saisir ses informations (POST /account/register/prospect/)."
        ),
    )
    registration_token = serializers.CharField(
        allow_null=True, help_text="À renvoyer avec l'étape suivante (valable 30 minutes) ; null si CREATED."
    )
    phone_hint = serializers.CharField(allow_null=True, help_text="Deux derniers chiffres du téléphone (NEEDS_OTP).")
    delivery = AccountDeliverySerializer(allow_null=True, help_text="Où est parti le mot de passe (CREATED).")


class AccountRegisterTokenSerializer(serializers.Serializer):
    registration_token = StrictCharField(max_length=500)


class AccountRegisterNewPhoneSerializer(AcceptanceFields):
    registration_token = StrictCharField(max_length=500)
    customer_code = StrictCharField(max_length=12, help_text="Code client, indiqué sur les factures RAK.")
    otp = StrictCharField(min_length=6, max_length=6, help_text="Code de confirmation reçu par SMS.")


class AccountRegisterProspectSerializer(AcceptanceFields):
    registration_token = StrictCharField(max_length=500)
    customer_kind = serializers.ChoiceField(choices=Customer.Kind.choices, default=Customer.Kind.PARTICULIER)
    civility = serializers.ChoiceField(choices=Customer.Civility.choices, required=False, allow_blank=True, default="")
    last_name = StrictCharField(max_length=80, required=False, allow_blank=True, default="")
    first_name = StrictCharField(max_length=80, required=False, allow_blank=True, default="")
    company_name = StrictCharField(max_length=160, required=False, allow_blank=True, default="")
    email = StrictEmailField(required=False, allow_blank=True, default="")

    def validate(self, data):
        errors = {}
        if data.get("customer_kind") == Customer.Kind.ENTREPRISE:
            if not data.get("company_name", "").strip():
                errors["company_name"] = [_("Veuillez indiquer la raison sociale.")]
        else:
            if not data.get("last_name", "").strip():
                errors["last_name"] = [_("Veuillez indiquer votre nom.")]
            if not data.get("first_name", "").strip():
                errors["first_name"] = [_("Veuillez indiquer votre prénom.")]
        if errors:
            raise serializers.ValidationError(errors)
        return data


class AccountForgotPasswordSerializer(serializers.Serializer):
    customer_code = StrictCharField(max_length=12, help_text="Code client, indiqué sur les factures RAK.")
    identity = StrictCharField(max_length=20, help_text="CIN ou ICE.")

    def validate_identity(self, value):
        return _identity(value)


# --- passwords ---------------------------------------------------------------------------------


class AccountPasswordChangeSerializer(serializers.Serializer):
    old_password = StrictCharField(max_length=128, trim_whitespace=False, help_text="Mot de passe actuel.")
    new_password1 = StrictCharField(max_length=128, trim_whitespace=False, help_text="Nouveau mot de passe.")
    new_password2 = StrictCharField(max_length=128, trim_whitespace=False, help_text="Confirmation.")


class AccountFirstPasswordSerializer(serializers.Serializer):
    old_password = StrictCharField(
        max_length=128, trim_whitespace=False, help_text="Mot de passe reçu par SMS ou e-mail."
    )
    new_password1 = StrictCharField(max_length=128, trim_whitespace=False, help_text="Nouveau mot de passe.")
    new_password2 = StrictCharField(max_length=128, trim_whitespace=False, help_text="Confirmation.")
    accept_terms = StrictBooleanField(
        required=False, help_text="Demandé quand acceptance_required (GET) est vrai : conditions d'utilisation."
    )
    accept_data_processing = StrictBooleanField(
        required=False, help_text="Demandé quand acceptance_required (GET) est vrai : accord loi 09-08."
    )


class AccountFirstPasswordInfoSerializer(serializers.Serializer):
    password_change_required = serializers.BooleanField(help_text="Le mot de passe reçu doit encore être changé.")
    acceptance_required = serializers.BooleanField(
        help_text="Les conditions d'utilisation et l'accord loi 09-08 sont à accepter avec le nouveau mot de passe."
    )
    terms_label = serializers.CharField(help_text="Libellé de la case « conditions d'utilisation ».")
    data_processing_label = serializers.CharField(help_text="Libellé de la case « loi 09-08 ».")
    terms_url = serializers.CharField(help_text="Adresse des conditions d'utilisation (portail).")


# --- profile -----------------------------------------------------------------------------------


class AccountContactSerializer(serializers.Serializer):
    value = serializers.CharField()
    verified = serializers.BooleanField()


class AccountDossierSerializer(serializers.Serializer):
    number = serializers.CharField()
    service = serializers.CharField(help_text="EAU, ELECTRICITE…")
    service_label = serializers.CharField()
    status = serializers.CharField(help_text="Statut du dossier (code).")
    status_label = serializers.CharField()
    address = serializers.CharField()
    meter_number = serializers.CharField(allow_null=True)


class AccountProfileSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Code client.")
    customer_kind = serializers.CharField(help_text="PARTICULIER, ENTREPRISE…")
    status = serializers.CharField(help_text="PROSPECT ou CLIENT.")
    civility = serializers.CharField(allow_blank=True)
    name = serializers.CharField()
    identity_kind = serializers.CharField(help_text="CIN ou ICE.")
    identity = serializers.CharField()
    sms_phone = AccountContactSerializer(allow_null=True)
    email = AccountContactSerializer(allow_null=True)
    language = serializers.CharField(help_text="Langue de communication : fr, ar ou en.")
    sms_service_notices = serializers.BooleanField(help_text="Recevoir par SMS les avis de coupure et de travaux.")
    dossiers = AccountDossierSerializer(many=True)


class AccountLanguageSerializer(serializers.Serializer):
    language = serializers.ChoiceField(choices=[code for code, _name in settings.LANGUAGES])


class AccountNoticesSerializer(serializers.Serializer):
    sms_service_notices = StrictBooleanField(help_text="Recevoir par SMS les avis de coupure et de travaux.")


class AccountPhoneSerializer(serializers.Serializer):
    phone = StrictCharField(max_length=20, help_text="Nouveau n° de téléphone mobile.")

    def validate_phone(self, value):
        return _mobile(value)


class AccountPhoneChangeStartedSerializer(serializers.Serializer):
    phone_change_token = serializers.CharField(help_text="À renvoyer avec le code (valable 30 minutes).")
    phone_hint = serializers.CharField(help_text="Deux derniers chiffres du nouveau numéro.")
    message = serializers.CharField()


class AccountPhoneChangeTokenSerializer(serializers.Serializer):
    phone_change_token = StrictCharField(max_length=500)


class AccountPhoneChangeConfirmSerializer(serializers.Serializer):
    phone_change_token = StrictCharField(max_length=500)
    otp = StrictCharField(min_length=6, max_length=6, help_text="Code de confirmation reçu par SMS.")


class AccountOtpSerializer(serializers.Serializer):
    otp = StrictCharField(min_length=6, max_length=6, help_text="Code de confirmation reçu par SMS.")


class AccountEmailSerializer(serializers.Serializer):
    email = StrictEmailField(max_length=254)


class AccountChangeRequestCreateSerializer(serializers.Serializer):
    field = serializers.ChoiceField(choices=ChangeRequest.Field.choices, help_text="Information à modifier.")
    requested_value = StrictCharField(max_length=200, help_text="Nouvelle valeur.")
    reason = StrictCharField(max_length=1000, required=False, allow_blank=True, default="", help_text="Motif.")


class AccountChangeRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    field = serializers.CharField(help_text="IDENTITY ou NAME.")
    field_label = serializers.CharField(source="get_field_display")
    current_value = serializers.CharField()
    requested_value = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)
    status = serializers.CharField(help_text="PENDING, ACCEPTED ou REJECTED.")
    status_label = serializers.CharField(source="get_status_display")
    staff_note = serializers.CharField(allow_blank=True, help_text="Réponse de la RAK.")
    created_at = serializers.DateTimeField()
    handled_at = serializers.DateTimeField(allow_null=True)


# --- devices -----------------------------------------------------------------------------------


class DeviceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="Nom de l'appareil.")
    platform = serializers.CharField(help_text="ANDROID, IOS, WEB ou OTHER.")
    platform_label = serializers.CharField(source="get_platform_display")
    created_at = serializers.DateTimeField(help_text="Connecté le.")
    last_seen_at = serializers.DateTimeField(help_text="Dernière activité.")
    current = serializers.SerializerMethodField(help_text="L'appareil qui fait cet appel.")

    def get_current(self, device) -> bool:
        return device.pk == self.context.get("current_device_id")
