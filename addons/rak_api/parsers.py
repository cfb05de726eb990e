"""JSON and multipart bodies, with digits typed on an Arabic keyboard (« ١٢٦٣ ») read as ASCII like
the portal's forms (rak_base.middleware.ArabicDigitsMiddleware); passwords are kept as typed.

A body nested deeper than ``rak_base.http.JSON_MAX_DEPTH`` is a 400 ``parse_error``: nested 500
deep it exceeded the recursion limit in the walk below, 1,000 deep in ``json.load`` itself (a
RecursionError, not a parse error: every JSON endpoint, the login included, answered 500)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, parsers

from rak_base.http import json_too_deep
from rak_base.middleware import ARABIC_DIGITS

NUL_REFUSED = _("Requête invalide (caractère nul).")
TOO_DEEP = _("Requête invalide : données JSON trop imbriquées.")
UNREADABLE = _("Requête invalide : le corps n'est pas un JSON lisible.")


def _ascii_digits(value, key: str = ""):
    """Arabic-Indic digits → ASCII in every string but passwords; a NUL character anywhere (which
    PostgreSQL cannot store) refuses the body. Recursive: only for a body ``json_too_deep`` let
    through (at most ``JSON_MAX_DEPTH`` deep)."""
    if (isinstance(value, str) and "\x00" in value) or "\x00" in key:
        raise exceptions.ParseError(NUL_REFUSED)
    if "password" in key or "mot_de_passe" in key:
        return value
    if isinstance(value, str):
        return value.translate(ARABIC_DIGITS)
    if isinstance(value, dict):
        return {k: _ascii_digits(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_ascii_digits(v, key) for v in value]
    return value


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:  # json.load, nested about 1,000 deep
            raise exceptions.ParseError(TOO_DEEP) from None
        except exceptions.ParseError:  # DRF's « JSON parse error - Expecting value… », in English
            raise exceptions.ParseError(UNREADABLE) from None
        if json_too_deep(data):
            raise exceptions.ParseError(TOO_DEEP)
        return _ascii_digits(data)


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        data = result.data.copy()
        for key in list(data.keys()):
            data.setlist(key, [_ascii_digits(v, key) for v in data.getlist(key)])
        for key, upload in result.files.items():
            if "\x00" in key or "\x00" in (getattr(upload, "name", None) or ""):
                raise exceptions.ParseError(NUL_REFUSED)
        return parsers.DataAndFiles(data, result.files)
