"""The account through the API: « Créer mon compte », « Mot de passe oublié », the first-login
password change, « Mon profil » (language, notices, password, phone, e-mail, change requests) and
the « appareils connectés » — the portal's services (rak_customer.services, .devices) behind the
portal's throttles (identity checks, SMS limits), one service call per operation.

Where the portal keeps a step in the session (the registration between its two forms, the new
phone waiting for its code), the API hands the app a signed token to post back
(rak_customer.services.registration_token / phone_change_token)."""

from __future__ import annotations

from types import SimpleNamespace

from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from rak_api.base import OwnCustomerAPIView, OwnCustomerGenericView, PublicAPIView
from rak_api.pagination import RakPagination
from rak_api.parsers import JSONParser
from rak_api.serializers_account import (
    AccountChangeRequestCreateSerializer,
    AccountChangeRequestSerializer,
    AccountEmailSerializer,
    AccountFirstPasswordInfoSerializer,
    AccountFirstPasswordSerializer,
    AccountForgotPasswordSerializer,
    AccountLanguageSerializer,
    AccountMessageSerializer,
    AccountNoticesSerializer,
    AccountOtpSerializer,
    AccountPasswordChangeSerializer,
    AccountPasswordSentSerializer,
    AccountPhoneChangeConfirmSerializer,
    AccountPhoneChangeStartedSerializer,
    AccountPhoneChangeTokenSerializer,
    AccountPhoneSerializer,
    AccountProfileSerializer,
    AccountRegisterNewPhoneSerializer,
    AccountRegisterProspectSerializer,
    AccountRegisterResultSerializer,
    AccountRegisterSerializer,
    AccountRegisterTokenSerializer,
    DeviceSerializer,
    delivery_body,
    form_validate,
)
from rak_api.throttles import Throttled
from rak_base import clock
from rak_base.phones import phone_last_digits
from rak_base.sms_limits import SmsLimitReached, sms_request_allow
from rak_customer import services
from rak_customer.device_models import Device
from rak_customer.devices import device_revoke, devices_active
from rak_customer.language import customer_language_code
from rak_customer.models import ChangeRequest
from rak_customer.selectors import customer_profile
from rak_portal.forms import (
    AcceptanceMixin,
    FirstPasswordChangeAcceptanceForm,
    FirstPasswordChangeForm,
    PasswordChangeForm,
)
from rak_portal.throttling import IDENTITY_CHECKS_WINDOW, identity_check_allowed, identity_check_refused_message

TAGS = ["Compte"]
DEVICE_TAGS = ["Appareils connectés"]  # i18n: not for customers (API docs)
SIGNED_OUT_FROM_APP = "déconnecté depuis l'application"  # i18n: not for customers (back office)


PAGE_SIZE_INVALID = gettext_lazy("Nombre d'éléments par page invalide.")


# --- throttles ---------------------------------------------------------------------------------


class _SmsCaller:
    """What ``sms_request_allow`` reads of a request. The API has no browser session: a signed-in
    device counts as one (its own per-session budget); an anonymous caller is counted by address
    and, for codes to unproven numbers, against the hourly budget — as the portal does."""

    def __init__(self, request):
        self.META = request.META
        self.user = request.user
        self.session = SimpleNamespace(session_key=f"device-{request.auth.pk}") if request.auth else None


def _sms_allow(request, *, essential: bool | None = None) -> None:
    try:
        sms_request_allow(_SmsCaller(request), now=clock.now(), essential=essential)
    except SmsLimitReached as exc:
        raise Throttled(exc.message, wait=3600) from None


def _identity_check(request, *targets: str) -> None:
    if not identity_check_allowed(request._request, *targets):  # noqa: SLF001  (client address)
        raise Throttled(identity_check_refused_message(), wait=IDENTITY_CHECKS_WINDOW.total_seconds())


def _parse(serializer_class, request, **context):
    serializer = serializer_class(data=request.data, context={"request": request, **context})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _message(text: str, code: int = status.HTTP_200_OK) -> Response:
    return Response({"message": text}, status=code)


# --- « Créer mon compte » ----------------------------------------------------------------------


class RegisterView(PublicAPIView):
    """Step 1 of « Créer mon compte »: CIN/ICE, mobile phone and both acceptances. A known customer
    with this phone gets the account at once (password by SMS); a known customer with another
    phone receives a code on it (step 2: new-phone); an unknown person gives their details (step 2:
    prospect)."""

    parser_classes = [JSONParser]

    @extend_schema(
        tags=TAGS,
        operation_id="account_register",
        request=AccountRegisterSerializer,
        responses={200: AccountRegisterResultSerializer},
    )
    def post(self, request):
        data = _parse(AccountRegisterSerializer, request)
        _identity_check(request, data["identity"])
        _sms_allow(request)  # OTP or password by SMS
        result = services.account_register_start(
            identity=data["identity"],
            phone=data["phone"],
            accept_terms=data["accept_terms"],
            accept_data_processing=data["accept_data_processing"],
            now=clock.now(),
        )
        body = {"outcome": result.outcome, "registration_token": None, "phone_hint": None, "delivery": None}
        if result.outcome == "CREATED":
            body["delivery"] = delivery_body(result.delivery)["delivery"]
        else:
            body["registration_token"] = services.registration_token(result)
            if result.outcome == "NEEDS_OTP":
                body["phone_hint"] = phone_last_digits(result.phone)
        return Response(body)


class RegisterOtpResendView(PublicAPIView):
    parser_classes = [JSONParser]

    @extend_schema(
        tags=TAGS,
        operation_id="account_register_otp_resend",
        request=AccountRegisterTokenSerializer,
        responses={200: AccountMessageSerializer},
    )
    def post(self, request):
        data = _parse(AccountRegisterTokenSerializer, request)
        registration = services.registration_from_token(data["registration_token"], outcome="NEEDS_OTP")
        _sms_allow(request)
        services.account_register_resend_otp(phone=registration.phone, now=clock.now())
        return _message(gettext("Un nouveau code de confirmation vous a été envoyé par SMS."))


class RegisterNewPhoneView(PublicAPIView):
    """Step 2 for a known customer on a new phone: code client, the code received by SMS, the
    acceptances; the password then goes to that phone."""

    parser_classes = [JSONParser]

    @extend_schema(
        tags=TAGS,
        operation_id="account_register_new_phone",
        request=AccountRegisterNewPhoneSerializer,
        responses={201: AccountPasswordSentSerializer},
    )
    def post(self, request):
        data = _parse(AccountRegisterNewPhoneSerializer, request)
        registration = services.registration_from_token(data["registration_token"], outcome="NEEDS_OTP")
        _identity_check(request, registration.identity, data["customer_code"])
        _sms_allow(request, essential=True)  # to the number just proved by OTP
        delivery = services.account_register_new_phone(
            identity=registration.identity,
            phone=registration.phone,
            customer_code=data["customer_code"],
            otp_code=data["otp"],
            accept_terms=data["accept_terms"],
            accept_data_processing=data["accept_data_processing"],
            now=clock.now(),
        )
        return Response(delivery_body(delivery), status=status.HTTP_201_CREATED)


class RegisterProspectView(PublicAPIView):
    """Step 2 for an unknown person: their details; a prospect customer and its account are created
    and the password goes by SMS to the phone of step 1."""

    parser_classes = [JSONParser]

    @extend_schema(
        tags=TAGS,
        operation_id="account_register_prospect",
        request=AccountRegisterProspectSerializer,
        responses={201: AccountPasswordSentSerializer},
    )
    def post(self, request):
        data = _parse(AccountRegisterProspectSerializer, request)
        registration = services.registration_from_token(data["registration_token"], outcome="UNKNOWN")
        _sms_allow(request)  # password to a number nobody proved yet
        _customer, delivery = services.account_register_prospect(
            identity=registration.identity,
            phone=registration.phone,
            civility=data["civility"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            company_name=data["company_name"],
            email=data["email"],
            kind=data["customer_kind"],
            accept_terms=data["accept_terms"],
            accept_data_processing=data["accept_data_processing"],
            now=clock.now(),
        )
        return Response(delivery_body(delivery), status=status.HTTP_201_CREATED)


class ForgotPasswordView(PublicAPIView):
    """« Mot de passe oublié »: code client + CIN/ICE → a new password by SMS (e-mail when no
    phone); the current one works until the new one is used, which signs every device out."""

    parser_classes = [JSONParser]

    @extend_schema(
        tags=TAGS,
        operation_id="account_password_forgot",
        request=AccountForgotPasswordSerializer,
        responses={200: AccountPasswordSentSerializer},
    )
    def post(self, request):
        data = _parse(AccountForgotPasswordSerializer, request)
        _identity_check(request, data["customer_code"], data["identity"])
        _sms_allow(request, essential=True)  # to the number on record
        delivery = services.password_reset(
            customer_code=data["customer_code"], identity=data["identity"], now=clock.now()
        )
        return Response(delivery_body(delivery))


# --- passwords ---------------------------------------------------------------------------------


class FirstPasswordView(OwnCustomerAPIView):
    """After signing in with a password received by SMS or e-mail (``password_change_required``):
    the received password, the new one twice, and — for an account opened without them — the
    conditions d'utilisation and loi 09-08 acceptances. The other devices are signed out."""

    allow_password_change_pending = True
    parser_classes = [JSONParser]

    @extend_schema(
        tags=TAGS, operation_id="account_password_first_info", responses={200: AccountFirstPasswordInfoSerializer}
    )
    def get(self, request):
        fields = AcceptanceMixin.base_fields
        return Response(
            {
                "password_change_required": bool(request.user.must_change_password),
                "acceptance_required": services.account_needs_acceptance(request.user),
                "terms_label": str(fields["accept_terms"].label),
                "data_processing_label": str(fields["accept_data_processing"].label),
                "terms_url": request.build_absolute_uri(reverse("portal:terms")),
            }
        )

    @extend_schema(
        tags=TAGS,
        operation_id="account_password_first",
        request=AccountFirstPasswordSerializer,
        responses={200: AccountMessageSerializer},
    )
    def post(self, request):
        _parse(AccountFirstPasswordSerializer, request)  # types; the portal's form checks the rest
        if not request.user.must_change_password:
            raise services.PasswordAlreadyChanged()  # before the form: the received password is gone
        ask_acceptance = services.account_needs_acceptance(request.user)
        form_class = FirstPasswordChangeAcceptanceForm if ask_acceptance else FirstPasswordChangeForm
        data = form_validate(form_class(request.user, request.data))
        services.account_first_password_set(
            user=request.user,
            new_password=data["new_password1"],
            accept_terms=data.get("accept_terms", False),
            accept_data_processing=data.get("accept_data_processing", False),
            keep_device_id=request.auth.pk,
            now=clock.now(),
        )
        return _message(gettext("Votre mot de passe a été modifié. Bienvenue sur votre agence en ligne."))


class PasswordView(OwnCustomerAPIView):
    """« Changer mon mot de passe »: the current one and the new one twice; every other device of
    the account is signed out (this one stays signed in)."""

    parser_classes = [JSONParser]

    @extend_schema(
        tags=TAGS,
        operation_id="account_password_change",
        request=AccountPasswordChangeSerializer,
        responses={200: AccountMessageSerializer},
    )
    def post(self, request):
        _parse(AccountPasswordChangeSerializer, request)
        services.account_password_check_allow(user=request.user, now=clock.now())  # 429 past the limit
        data = form_validate(PasswordChangeForm(request.user, request.data))
        services.account_password_change(
            user=request.user, new_password=data["new_password1"], now=clock.now(), keep_device_id=request.auth.pk
        )
        return _message(gettext("Votre mot de passe a été modifié."))


# --- profile -----------------------------------------------------------------------------------


def _profile_body(customer_id: int) -> dict:
    customer = customer_profile(customer_id)
    contacts = list(customer.contacts.all())
    sms = next((c for c in contacts if c.is_sms), None)
    email = next((c for c in contacts if c.kind == "EMAIL" and c.is_primary_email), None)
    return {
        "code": customer.code,
        "customer_kind": customer.kind,
        "status": customer.status,
        "civility": customer.civility,
        "name": customer.display_name,
        "identity_kind": "ICE" if customer.ice else "CIN",
        "identity": customer.identity,
        "sms_phone": {"value": sms.value, "verified": sms.verified} if sms else None,
        "email": {"value": email.value, "verified": email.verified} if email else None,
        "language": customer_language_code(customer),
        "sms_service_notices": customer.sms_service_notices,
        "dossiers": [
            {
                "number": d.number,
                "service": d.service,
                "service_label": d.get_service_display(),
                "status": d.status,
                "status_label": d.get_status_display(),
                "address": str(d.premises),
                "meter_number": d.meter.number if d.meter else None,
            }
            for d in customer.dossiers.all()
        ],
    }


class ProfileView(OwnCustomerAPIView):
    """« Mon profil »: identity, contacts, dossiers, language, SMS notices (of the customer the call
    acts for)."""

    @extend_schema(tags=TAGS, operation_id="account_profile", responses={200: AccountProfileSerializer})
    def get(self, request):
        return Response(_profile_body(request.customer.pk))


class LanguageView(OwnCustomerAPIView):
    """« Langue de communication »: the account's language (portal, SMS, e-mails, documents)."""

    parser_classes = [JSONParser]

    @extend_schema(
        tags=TAGS,
        operation_id="account_language_set",
        request=AccountLanguageSerializer,
        responses={200: AccountMessageSerializer},
    )
    def put(self, request):
        data = _parse(AccountLanguageSerializer, request)
        # the account's own customer, as the portal's language switch (rak_portal.views.language)
        services.customer_language_set(customer=request.customer, language=data["language"])  # the own one
        return _message(gettext("Votre langue de communication a été enregistrée."))


class NoticesView(OwnCustomerAPIView):
    """« Recevoir par SMS les avis de coupure et de travaux »."""

    parser_classes = [JSONParser]

    @extend_schema(
        tags=TAGS,
        operation_id="account_notices_set",
        request=AccountNoticesSerializer,
        responses={200: AccountMessageSerializer},
    )
    def put(self, request):
        data = _parse(AccountNoticesSerializer, request)
        services.customer_notice_preferences_set(
            customer_id=request.customer.pk,
            sms_service_notices=data["sms_service_notices"],
            user=request.user,
            now=clock.now(),
        )
        return _message(gettext("Vos préférences ont été enregistrées."))


class PhoneChangeView(OwnCustomerAPIView):
    """Step 1 of « Changer mon numéro de téléphone »: a code goes by SMS to the new number; the
    answer's token comes back with the code (confirm) or to ask for another code (resend)."""

    parser_classes = [JSONParser]

    @extend_schema(
        tags=TAGS,
        operation_id="account_phone_change",
        request=AccountPhoneSerializer,
        responses={200: AccountPhoneChangeStartedSerializer},
    )
    def post(self, request):
        data = _parse(AccountPhoneSerializer, request)
        _sms_allow(request)
        phone = services.profile_phone_change_start(
            customer=request.customer, user=request.user, phone=data["phone"], now=clock.now()
        )
        return Response(
            {
                "phone_change_token": services.phone_change_token(
                    customer=request.customer, user=request.user, phone=phone
                ),
                "phone_hint": phone_last_digits(phone),
                "message": gettext(
                    "Un code de confirmation a été envoyé par SMS au numéro se terminant par %(digits)s."
                )
                % {"digits": phone_last_digits(phone)},
            }
        )


class PhoneChangeResendView(OwnCustomerAPIView):
    parser_classes = [JSONParser]

    @extend_schema(
        tags=TAGS,
        operation_id="account_phone_change_resend",
        request=AccountPhoneChangeTokenSerializer,
        responses={200: AccountMessageSerializer},
    )
    def post(self, request):
        data = _parse(AccountPhoneChangeTokenSerializer, request)
        phone = services.phone_change_from_token(
            data["phone_change_token"], customer=request.customer, user=request.user
        )
        _sms_allow(request)
        services.profile_phone_change_start(customer=request.customer, user=request.user, phone=phone, now=clock.now())
        return _message(gettext("Un nouveau code de confirmation vous a été envoyé par SMS."))


class PhoneChangeConfirmView(OwnCustomerAPIView):
    """Step 2: the code received on the new number; it becomes the SMS number (and a login
    identifier), the former number is told."""

    parser_classes = [JSONParser]

    @extend_schema(
        tags=TAGS,
        operation_id="account_phone_change_confirm",
        request=AccountPhoneChangeConfirmSerializer,
        responses={200: AccountMessageSerializer},
    )
    def post(self, request):
        data = _parse(AccountPhoneChangeConfirmSerializer, request)
        phone = services.phone_change_from_token(
            data["phone_change_token"], customer=request.customer, user=request.user
        )
        services.profile_phone_change_confirm(
            customer=request.customer, user=request.user, phone=phone, otp_code=data["otp"], now=clock.now()
        )
        return _message(gettext("Votre numéro de téléphone a été modifié et vérifié."))


class PhoneVerifyView(OwnCustomerAPIView):
    """« Confirmer mon numéro actuel par SMS »: a code goes to the current SMS number."""

    @extend_schema(
        tags=TAGS, operation_id="account_phone_verify", request=None, responses={200: AccountMessageSerializer}
    )
    def post(self, request):
        _sms_allow(request)
        services.profile_phone_confirm_start(customer=request.customer, user=request.user, now=clock.now())
        return _message(gettext("Un code de confirmation vous a été envoyé par SMS."))


class PhoneVerifyConfirmView(OwnCustomerAPIView):
    parser_classes = [JSONParser]

    @extend_schema(
        tags=TAGS,
        operation_id="account_phone_verify_confirm",
        request=AccountOtpSerializer,
        responses={200: AccountMessageSerializer},
    )
    def post(self, request):
        data = _parse(AccountOtpSerializer, request)
        services.profile_phone_confirm(customer=request.customer, otp_code=data["otp"], now=clock.now())
        return _message(gettext("Votre numéro de téléphone est confirmé."))


class EmailView(OwnCustomerAPIView):
    """« Confirmer mon adresse e-mail »: recorded as the main e-mail, a link (48 hours) sent to it."""

    parser_classes = [JSONParser]

    @extend_schema(
        tags=TAGS,
        operation_id="account_email_confirm_send",
        request=AccountEmailSerializer,
        responses={202: AccountMessageSerializer},
    )
    def post(self, request):
        data = _parse(AccountEmailSerializer, request)
        services.profile_email_confirm_send(
            customer=request.customer, user=request.user, email=data["email"], now=clock.now()
        )
        return _message(
            gettext("Un lien de confirmation vous a été envoyé par e-mail. Il est valable 48 heures."),
            status.HTTP_202_ACCEPTED,
        )


class ChangeRequestsView(OwnCustomerGenericView):
    """« Demander une modification (CIN/ICE, nom) »: the customer's requests (newest first) and a
    new one, handled by the staff."""

    parser_classes = [JSONParser]
    serializer_class = AccountChangeRequestSerializer
    pagination_class = RakPagination

    def get_queryset(self):
        return ChangeRequest.objects.filter(customer=self.request.customer).order_by("-created_at", "-id")

    @extend_schema(
        tags=TAGS, operation_id="account_change_requests", responses={200: AccountChangeRequestSerializer(many=True)}
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(AccountChangeRequestSerializer(page, many=True).data)

    @extend_schema(
        tags=TAGS,
        operation_id="account_change_request_create",
        request=AccountChangeRequestCreateSerializer,
        responses={201: AccountChangeRequestSerializer},
    )
    def post(self, request):
        data = _parse(AccountChangeRequestCreateSerializer, request)
        change_request = services.change_request_create(
            customer=request.customer,
            user=request.user,
            field=data["field"],
            requested_value=data["requested_value"],
            reason=data["reason"],
        )
        return Response(AccountChangeRequestSerializer(change_request).data, status=status.HTTP_201_CREATED)


# --- « appareils connectés » -------------------------------------------------------------------


class DevicesView(OwnCustomerGenericView):
    """The account's signed-in devices, the most recently used first; ``current`` marks the one
    making this call."""

    serializer_class = DeviceSerializer
    pagination_class = RakPagination

    @extend_schema(tags=DEVICE_TAGS, operation_id="devices_list", responses={200: DeviceSerializer(many=True)})
    def get(self, request):
        page = self.paginate_queryset(devices_active(request.user))
        context = {"current_device_id": request.auth.pk}
        return self.get_paginated_response(DeviceSerializer(page, many=True, context=context).data)


class DeviceView(OwnCustomerAPIView):
    """Sign one of the account's devices out (this one included); another account's is 404."""

    @extend_schema(
        tags=DEVICE_TAGS,
        operation_id="devices_revoke",
        request=None,
        responses={204: OpenApiResponse(description="Appareil déconnecté.")},
    )
    def delete(self, request, pk: int):
        device = get_object_or_404(Device, pk=pk, user=request.user, revoked_at__isnull=True)
        device_revoke(
            device_id=device.pk, user=request.user, by=request.user, reason=SIGNED_OUT_FROM_APP, now=clock.now()
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
