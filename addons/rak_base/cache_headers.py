"""``Cache-Control: private, no-store`` on every answer that depends on who asks.

A page or an API answer read through the session (a signed-in customer's dashboard, bills, profile;
an agent's back office) or for a bearer token must not stay in the browser's HTTP cache or its
back/forward cache after the customer signs out of a shared computer (« Précédent » would show it
again), nor in a proxy's. Answers that set their own Cache-Control (files, the never_cache pages,
the service worker, static files) keep it. The service worker's offline copies of the dashboard and
bills pages live in the Cache API, which these headers do not govern, and are dropped at sign-out.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

PRIVATE = "private, no-store"


class PrivateNoStoreMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if response.has_header("Cache-Control"):
            return response
        session = getattr(request, "session", None)
        if (session is not None and session.accessed) or "HTTP_AUTHORIZATION" in request.META:
            response["Cache-Control"] = PRIVATE
        return response
