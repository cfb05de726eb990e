"""JSON and multipart bodies, with digits typed on an Arabic keyboard (« ١٢٦٣ ») read as ASCII like
the portal's forms (rak_base.middleware.ArabicDigitsMiddleware); passwords are kept as typed."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, parsers

from rak_base.middleware import ARABIC_DIGITS

NUL_REFUSED = _("Requête invalide (caractère nul).")


def _ascii_digits(value, key: str = ""):
    """Arabic-Indic digits → ASCII in every string but passwords; a NUL character anywhere (which
    PostgreSQL cannot store) refuses the body."""
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
        return _ascii_digits(super().parse(stream, media_type, parser_context))


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
