"""The WSGI application (config/wsgi.py): Django's, but a request announcing a charset other than
UTF-8 is built without taking it as its encoding.

Django decodes the query string with the Content-Type's charset while it builds the request,
before any middleware can answer: ``POST /contact/?a=1`` with ``charset=rot13`` (or base64, hex,
punycode…) raised LookupError or UnicodeError there — a bare 500 from the server, no French page,
no security headers. Here the encoding is taken only when it names UTF-8; a form, multipart or JSON
body in another charset is then refused by ``RequestCharsetMiddleware`` (a 400, from the
Content-Type itself)."""

from __future__ import annotations

from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
from django.utils.http import parse_header_parameters

from rak_base.middleware import charset_is_utf8


class RakWSGIRequest(WSGIRequest):
    def _set_content_type_params(self, meta) -> None:
        self.content_type, self.content_params = parse_header_parameters(meta.get("CONTENT_TYPE", ""))
        charset = self.content_params.get("charset")
        if charset is not None and charset_is_utf8(charset):
            self.encoding = "utf-8"


class RakWSGIHandler(WSGIHandler):
    request_class = RakWSGIRequest
