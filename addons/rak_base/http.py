"""HTTP helpers shared by the addons."""

from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client address. Behind the production reverse proxy the first X-Forwarded-For hop is
    the client; the proxy must overwrite (not append to) the header it receives."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded:
        return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "") or "0.0.0.0"  # noqa: S104 - placeholder, not a bind
