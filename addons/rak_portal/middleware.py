"""A generated password must be changed at first login (seed 002, « Accès au compte e-facture »)."""

from django.shortcuts import redirect
from django.urls import reverse

# the web app's manifest, service worker and offline page (issue 13) load before any login step
ALLOWED_PREFIXES = ("/static/", "/backoffice/", "/sw.js", "/manifest.webmanifest", "/hors-ligne/")


class ForcePasswordChangeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and getattr(user, "must_change_password", False)
            and not request.path.startswith(ALLOWED_PREFIXES)
        ):
            allowed = {reverse("portal:password_first_change"), reverse("portal:logout")}
            if request.path not in allowed:
                return redirect("portal:password_first_change")
        return self.get_response(request)
