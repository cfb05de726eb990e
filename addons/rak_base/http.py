"""HTTP helpers shared by the addons."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from django.conf import settings


def _valid_ip(value: str) -> str | None:
    value = value.strip()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


class RequestLike(Protocol):
    """What the client-address helpers read of a request (an HttpRequest, or the API's stand-in)."""

    @property
    def META(self) -> Mapping[str, Any]: ...  # Django's name


def client_ip(request: RequestLike) -> str:
    """The client address, the one every per-IP limit counts (portal views and django-axes,
    through ``AXES_CLIENT_IP_CALLABLE``).

    ``[server] trusted_proxies`` (rak.conf) says how many reverse proxies stand in front of the
    application, each appending the address it saw to X-Forwarded-For (nginx:
    ``proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;``). With 0 (the default) the
    header is ignored: anyone can write it. With N, the client is the Nth entry from the right —
    what the outermost trusted proxy appended; entries further left were written by the client
    and are never read. Fewer than N entries, or a malformed one: the socket address."""
    remote = request.META.get("REMOTE_ADDR", "") or "0.0.0.0"  # noqa: S104 - placeholder, not a bind
    trusted = getattr(settings, "TRUSTED_PROXIES", 0)
    if trusted <= 0:
        return remote
    entries = [entry for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if entry.strip()]
    if len(entries) < trusted:
        return remote
    return _valid_ip(entries[-trusted]) or remote


#: how deep a JSON body may nest (arrays and objects): the API's and the portal's bodies are at most
#: 3 deep; a body nested hundreds deep is an attack on Python's recursion limit (json.loads raises
#: RecursionError from about 1,000, a recursive walk of the result much earlier: a 500)
JSON_MAX_DEPTH = 32


def json_too_deep(value: object, limit: int = JSON_MAX_DEPTH) -> bool:
    """Whether the parsed JSON ``value`` nests lists and dicts more than ``limit`` deep (a walk
    without recursion, so that it cannot itself exceed the recursion limit)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children: Iterable[object]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False
