"""Sign in a device, renew its tokens, sign it out (POST / DELETE /api/v1/session/)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotAuthenticated
from rest_framework.response import Response

from rak_api.base import PublicAPIView
from rak_api.throttles import Throttled
from rak_base import clock
from rak_base.http import client_ip
from rak_customer.auth import LOGIN_FAILED, ip_locked_out_message, login_ip_blocked
from rak_customer.device_models import Device
from rak_customer.devices import device_refresh, device_revoke, device_sign_in
from rak_customer.selectors import customer_for_user

SIGNED_OUT = "déconnexion depuis l'appareil"  # i18n: not for customers (back office)


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=254, help_text="Code client, adresse e-mail ou numéro de téléphone.")
    password = serializers.CharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})
    device_name = serializers.CharField(
        max_length=80, required=False, allow_blank=True, help_text="Nom de l'appareil (« Galaxy A54 de Samira »)."
    )
    platform = serializers.ChoiceField(choices=Device.Platform.choices, required=False, default=Device.Platform.OTHER)


class RefreshSerializer(serializers.Serializer):
    refresh_token = serializers.CharField(max_length=200)


class CustomerBriefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class TokensSerializer(serializers.Serializer):
    token_type = serializers.CharField(default="Bearer")
    access_token = serializers.CharField()
    access_expires_at = serializers.DateTimeField()
    refresh_token = serializers.CharField()
    refresh_expires_at = serializers.DateTimeField()
    device_id = serializers.IntegerField()
    password_change_required = serializers.BooleanField()
    customer = CustomerBriefSerializer(allow_null=True)


def _tokens_body(tokens, user) -> dict:
    customer = customer_for_user(user)
    return {
        "token_type": "Bearer",
        "access_token": tokens.access_token,
        "access_expires_at": tokens.access_expires_at,
        "refresh_token": tokens.refresh_token,
        "refresh_expires_at": tokens.refresh_expires_at,
        "device_id": tokens.device.pk,
        "password_change_required": bool(user.must_change_password),
        "customer": {"code": customer.code, "name": customer.display_name} if customer else None,
    }


class SessionView(PublicAPIView):
    """``POST``: sign a device in with the portal's identifiers (code client, e-mail or phone) and
    password; the same lockout (django-axes, per account and per address) as the portal's login.
    ``DELETE``: sign this device out."""

    @extend_schema(
        request=LoginSerializer, responses={201: TokensSerializer}, operation_id="session_create", tags=["Session"]
    )
    def post(self, request):
        data = LoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ip = client_ip(request)
        if login_ip_blocked(ip):
            raise Throttled(ip_locked_out_message(settings.LOGIN_COOLOFF_MINUTES))
        user = authenticate(
            request._request,  # noqa: SLF001  (django-axes counts failures on the Django request)
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        if user is None or not getattr(user, "is_customer", False):
            return Response({"code": "login_failed", "message": str(LOGIN_FAILED), "fields": {}}, status=401)
        tokens = device_sign_in(
            user=user,
            name=data.validated_data.get("device_name", ""),
            platform=data.validated_data.get("platform") or Device.Platform.OTHER,
            ip=ip,
            now=clock.now(),
        )
        return Response(TokensSerializer(_tokens_body(tokens, user)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None}, operation_id="session_delete", tags=["Session"])
    def delete(self, request):
        if not (request.user and request.user.is_authenticated and request.auth):
            raise NotAuthenticated()
        device_revoke(device_id=request.auth.pk, user=request.user, by=request.user, reason=SIGNED_OUT, now=clock.now())
        return Response(status=status.HTTP_204_NO_CONTENT)


class RefreshView(PublicAPIView):
    """Swap the refresh token for a new pair (the old refresh token stops working; replaying it
    signs the device out)."""

    @extend_schema(
        request=RefreshSerializer, responses={200: TokensSerializer}, operation_id="session_refresh", tags=["Session"]
    )
    def post(self, request):
        data = RefreshSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tokens = device_refresh(
            refresh_token=data.validated_data["refresh_token"], ip=client_ip(request), now=clock.now()
        )
        return Response(TokensSerializer(_tokens_body(tokens, tokens.device.user)).data)
