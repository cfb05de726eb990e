"""Portal usage counters for the adoption report (issue 14): the pages of the customer portal and of
the API viewed per day (``PageHit``), and the portal accounts active per day (``ActiveDay``).

Counted: successful (2xx) GET answers of the portal (URL namespace ``portal``) and of the API
(``api``: the mobile app), by route name (« portal:bills », never the path with its ids), for
visitors and customers. Never counted: staff (even on a portal page), the back office, static
files, the web app's manifest, service worker and offline page (fetched by the worker itself), health
checks, the API's schema and docs, images and scripts a page loads (a reading's photo), errors,
redirects.

Cost: one ``INSERT … ON CONFLICT (day, route) DO UPDATE`` per counted page, and, once a day per
account (remembered under a cache key), one ``INSERT … ON CONFLICT DO NOTHING`` of its active
day, once the request's work is committed (at once: requests are not wrapped in a transaction),
in one short transaction committed asynchronously (no wait for the disk: a crash may lose the
last counts, never a page's time). A failing counter never breaks the answer: it runs in its own
transaction, or in a savepoint when a transaction is open, and the error is logged."""

from __future__ import annotations

import functools
import logging

from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from rak_base import clock
from rak_reports.models import ActiveDay, PageHit

logger = logging.getLogger(__name__)

NAMESPACES = frozenset({"portal", "api"})
# not pages a person reads: the web app's files, the API's own description
IGNORED_ROUTES = frozenset({"portal:manifest", "portal:service_worker", "portal:offline", "api:schema", "api:docs"})
# what a page loads with it (a reading's photo, an attachment's thumbnail), not a page viewed
NOT_PAGES = ("image/", "text/css", "text/javascript", "application/javascript", "font/")
ACTIVE_KEY = "rak_reports:active:{day}:{user}"
ACTIVE_TTL = 26 * 3600  # a day and a margin: the key's day is in its name

# a lost count after a crash is acceptable, waiting for the WAL flush on every page is not: the
# counter's own transaction commits asynchronously (≈ 0.5 ms instead of ≈ 4 ms here); SET LOCAL
# never touches the connection's other transactions
_ASYNC_COMMIT = "SET LOCAL synchronous_commit TO OFF"
_HIT_SQL = (
    f"INSERT INTO {PageHit._meta.db_table} (day, route, hits) VALUES (%s, %s, 1) "  # noqa: S608 - names from code
    f"ON CONFLICT (day, route) DO UPDATE SET hits = {PageHit._meta.db_table}.hits + 1"
)
_ACTIVE_SQL = (
    f"INSERT INTO {ActiveDay._meta.db_table} (day, user_id) VALUES (%s, %s) "  # noqa: S608 - names from code
    "ON CONFLICT (day, user_id) DO NOTHING"
)


def usage_route(request) -> str:
    """The route name to count this request under, or "" when it is not counted."""
    match = getattr(request, "resolver_match", None)
    if match is None or not match.namespaces or match.namespaces[0] not in NAMESPACES:
        return ""
    route = match.view_name if match.url_name else f"{match.namespaces[0]}:{match.route}"
    if route in IGNORED_ROUTES or "health" in route:  # a probe is not a visit
        return ""
    return route[: PageHit._meta.get_field("route").max_length]


def _is_staff(user) -> bool:
    return bool(user.is_staff or user.is_superuser or getattr(user, "role", "") == "STAFF")


def _execute(statements: list[tuple[str, list]]) -> None:
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)


def usage_count(request, *, route: str) -> None:
    """Count one page view (and the account's day, once a day). Never raises."""
    user = getattr(request, "user", None)
    authenticated = user is not None and user.is_authenticated
    if authenticated and _is_staff(user):
        return
    try:
        day = timezone.localdate(clock.now())
        statements = [(_HIT_SQL, [day, route])]
        key = ""
        if authenticated and user is not None:
            key = ACTIVE_KEY.format(day=day.isoformat(), user=user.pk)
            if cache.get(key) is None:
                statements.append((_ACTIVE_SQL, [day, user.pk]))
            else:
                key = ""
        if connection.in_atomic_block:  # a test, or a caller's transaction: a savepoint keeps it usable
            with transaction.atomic():
                _execute(statements)
        else:  # its own short transaction, committed without waiting for the disk
            with transaction.atomic():
                _execute([(_ASYNC_COMMIT, []), *statements])
        if key:
            cache.set(key, 1, ACTIVE_TTL)
    except Exception:  # noqa: BLE001 - a counter must never break the customer's page
        logger.warning("portal usage not counted for %s", route, exc_info=True)


class PortalUsageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.method == "GET"
            and 200 <= response.status_code < 300
            and not response.get("Content-Type", "").startswith(NOT_PAGES)
        ):
            route = usage_route(request)
            if route:
                # at once in production (autocommit); after the commit of a transaction still open
                # (a test's: never, so that no other test's query count includes the counters)
                transaction.on_commit(functools.partial(usage_count, request, route=route))
        return response
