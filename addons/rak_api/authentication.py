"""``Authorization: Bearer rak_a_…``: the access token of a device (rak_customer.devices)."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from rak_base import clock
from rak_base.http import client_ip
from rak_customer.devices import DeviceTokenExpired, DeviceTokenInvalid, device_authenticate


class TokenExpired(exceptions.AuthenticationFailed):
    default_code = "token_expired"


class DeviceTokenAuthentication(BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(str(DeviceTokenInvalid.default_message), code="token_invalid")
        try:
            token = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(
                str(DeviceTokenInvalid.default_message), code="token_invalid"
            ) from None
        try:
            device = device_authenticate(access_token=token, ip=client_ip(request), now=clock.now())
        except DeviceTokenExpired as error:
            raise TokenExpired(error.message, code="token_expired") from None
        except DeviceTokenInvalid as error:
            raise exceptions.AuthenticationFailed(error.message, code="token_invalid") from None
        request._request.device = device  # noqa: SLF001  (the plain request: logging, throttles)
        return device.user, device

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="rak-api"'
