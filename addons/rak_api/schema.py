"""drf-spectacular: the device token as an HTTP bearer scheme, and the error answers every
operation can give (same body, rak_api.errors.ErrorSerializer) documented on each of them, so that
schemathesis checks them against the schema like the successes."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema

ERROR_STATUSES = {
    "400": "Données invalides ou refusées (code et message).",
    "401": "Jeton absent, invalide ou expiré.",
    "403": "Action non permise (par ex. mot de passe initial à changer).",
    "404": "Introuvable, ou appartient à un autre client.",
    "405": "Méthode non permise.",
    "406": "Format de réponse non disponible.",
    "413": "Envoi trop volumineux.",
    "415": "Format de requête non pris en charge.",
    "429": "Trop de tentatives : réessayer plus tard.",
}


class DeviceTokenScheme(OpenApiAuthenticationExtension):
    target_class = "rak_api.authentication.DeviceTokenAuthentication"
    name = "jeton"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "Jeton d'accès d'un appareil (POST /api/v1/session/), valable 15 minutes.",
        }


class RakAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        from rak_api.errors import ErrorSerializer

        responses = super()._get_response_bodies(direction)
        for code, description in ERROR_STATUSES.items():
            if code not in responses:
                body = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                body["description"] = description
                responses[code] = body
        return responses
