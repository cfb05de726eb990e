"""One log line per request (logger ``rak.request``), and a request id on every log line.

``RequestLogMiddleware`` (first in MIDDLEWARE, config/settings_observability.py) takes the id from
``X-Request-ID`` (nginx: ``proxy_set_header X-Request-ID $request_id;``) when it is a plain token,
or makes one, echoes it in the response's ``X-Request-ID`` header and keeps it for the request
(``RequestIdFilter`` adds it to every record logged meanwhile). The line says: method, route (the
URL pattern's name and pattern: never the ids, tokens or query values of this request), the query's
parameter names only, status, duration in ms, the account's id when the request already loaded it
(never its username or phone; no extra query for it). [log] requests = false: the id only.

No database access: the line costs a ``time.perf_counter()`` and a log call."""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid

from django.conf import settings
from django.core.signals import request_finished
from django.utils.functional import empty

from rak_base.redact import mask_text

logger = logging.getLogger("rak.request")

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("rak_request_id", default="")
_VALID_ID = re.compile(r"[A-Za-z0-9._:\-]{8,64}")
HEADER = "X-Request-ID"


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (empty outside a request) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = request_id_var.get()
        return True


def request_id_from(request) -> str:
    given = request.META.get("HTTP_X_REQUEST_ID", "")
    # fullmatch: « $ » also matches before a final newline, and a newline in the echoed header is a 500
    return given if _VALID_ID.fullmatch(given) else uuid.uuid4().hex


def _user_id(request) -> int | None:
    """The account's id if the request already loaded it (``request.user`` is lazy: reading it
    here would cost a session and a user query on pages that never needed them)."""
    user = request.__dict__.get("user")
    if user is None:
        return None
    wrapped = getattr(user, "_wrapped", user)
    if wrapped is empty or not getattr(wrapped, "is_authenticated", False):
        return None
    return wrapped.pk


def _route(request) -> tuple[str, str]:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "", ""
    return match.view_name or "", match.route or ""


class RequestLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_from(request)
        request.request_id = request_id
        # kept until the response is closed (request_finished): Django logs « Not Found » and
        # « Internal Server Error » after the middleware chain has returned
        request_id_var.set(request_id)
        started = time.perf_counter()
        response = self.get_response(request)
        response[HEADER] = request_id
        if not getattr(settings, "LOG_REQUESTS"):  # noqa: B009 - set by settings_observability.apply(): django-stubs cannot see it
            return response
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        view, pattern = _route(request)
        status = response.status_code
        logger.log(
            logging.WARNING if status >= 500 else logging.INFO,
            "%s %s %s %.1f ms",
            request.method,
            view or pattern or mask_text(request.path),  # unresolved (404): the path, masked
            status,
            duration_ms,
            extra={
                "method": request.method,
                "route": view,
                "pattern": pattern if view or pattern else mask_text(request.path),
                "query_keys": sorted(request.GET.keys()) if request.META.get("QUERY_STRING") else [],
                "status": status,
                "duration_ms": duration_ms,
                "user_id": _user_id(request),
            },
        )
        return response


def _request_finished(**kwargs) -> None:
    request_id_var.set("")


request_finished.connect(_request_finished, dispatch_uid="rak_request_id_clear")
