"""One error format for every API answer that is not a success:

    {"code": "otp_invalid", "message": "Le code saisi est incorrect.", "fields": {"otp": [...]}}

``code`` is stable (apps branch on it); ``message`` is the sentence to show, in the request's
language (French by default); ``fields`` lists, for a 400 on input, each field's problems
(``[{"code": …, "message": …}]``). Domain errors (rak_base.errors.RakError) keep their French
message and answer 400 (or their ``http_status``); their code is their ``code`` attribute, else
their class name in snake_case (``OtpExpired`` → ``otp_expired``), so it does not change while the
class keeps its name.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from rak_base.errors import RakError

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

logger = logging.getLogger(__name__)

INVALID = _("Certaines informations sont invalides : vérifiez les champs indiqués.")
NOT_FOUND = _("Introuvable : cet élément n'existe pas ou ne vous appartient pas.")


def rak_error_code(error: RakError) -> str:
    code = getattr(error, "code", "") or ""
    if code:
        return str(code)
    name = type(error).__name__
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def error_body(code: str, message: StrOrPromise, fields: dict | None = None) -> dict:
    return {"code": code, "message": str(message), "fields": fields or {}}


def _field_errors(detail) -> dict:
    """DRF's nested ``ErrorDetail`` lists → {"field": [{"code", "message"}]}, nested serialisers
    flattened with dots (``keys.p256dh``), list items with their index."""
    fields: dict[str, list[dict]] = {}

    def walk(value, prefix: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{prefix}.{key}" if prefix else str(key))
        elif isinstance(value, list) and value and not all(isinstance(v, exceptions.ErrorDetail) for v in value):
            for index, item in enumerate(value):
                walk(item, f"{prefix}.{index}" if prefix else str(index))
        else:
            items = value if isinstance(value, list) else [value]
            fields.setdefault(prefix or "non_field_errors", []).extend(
                {"code": getattr(item, "code", "invalid") or "invalid", "message": str(item)} for item in items
            )

    walk(detail, "")
    return fields


def api_exception_handler(exc, context):
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]."""
    headers = {}
    if isinstance(exc, RakError):
        set_rollback()
        code = getattr(exc, "http_status", status.HTTP_400_BAD_REQUEST)
        return Response(error_body(rak_error_code(exc), exc.message), status=code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(NOT_FOUND)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None  # a bug: Django's 500 (logged, reported)
    auth_header = getattr(exc, "auth_header", None)  # NotAuthenticated / AuthenticationFailed's
    if auth_header:
        headers["WWW-Authenticate"] = auth_header
    wait = getattr(exc, "wait", None)  # Throttled's
    if wait:
        headers["Retry-After"] = str(int(wait))
    set_rollback()
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        if isinstance(detail, list) and len(detail) == 1 and isinstance(detail[0], exceptions.ErrorDetail):
            body = error_body(detail[0].code or "invalid", str(detail[0]))
        else:
            body = error_body("invalid", INVALID, _field_errors(detail))
    else:
        other = exc.detail
        if isinstance(other, exceptions.ErrorDetail):
            body = error_body(other.code or exc.default_code, str(other))
        else:
            body = error_body(exc.default_code, str(exc.default_detail))
        if isinstance(exc, exceptions.NotFound) and body["message"] == str(exceptions.NotFound.default_detail):
            body["message"] = str(NOT_FOUND)
    return Response(body, status=exc.status_code, headers=headers)


class ErrorFieldSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    """The body of every error answer (documented on each operation)."""

    code = serializers.CharField(help_text="Code stable, par ex. « otp_invalid », « not_found ».")
    message = serializers.CharField(help_text="Phrase à afficher, dans la langue de la requête.")
    fields = serializers.DictField(child=ErrorFieldSerializer(many=True), help_text="Erreurs par champ (400).")  # type: ignore[assignment]  # a declared field (DRF)


def json_error(request, code: str, message: str, status_code: int) -> JsonResponse:
    """Django-level errors under /api/ (unknown URL, a 500) in the same format."""
    return JsonResponse(error_body(code, message), status=status_code)


def api_not_found(request, exception=None) -> JsonResponse:
    return json_error(request, "not_found", gettext("Adresse inconnue de l'API."), 404)


def api_bad_request(request, exception=None) -> JsonResponse:
    return json_error(request, "bad_request", gettext("Requête invalide."), 400)


def api_server_error(request) -> JsonResponse:
    return json_error(
        request, "server_error", gettext("Une erreur s'est produite de notre côté, veuillez réessayer."), 500
    )
