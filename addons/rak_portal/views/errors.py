"""Error pages in the visitor's language; the CSRF failure page explains what to do instead of
Django's English one."""

from django.shortcuts import render
from django.utils.translation import gettext


def csrf_failure(request, reason=""):
    return render(
        request,
        "rak_portal/message.html",
        {
            "title": gettext("Formulaire expiré"),
            "error": gettext(
                "Votre formulaire a expiré ou votre navigateur bloque les cookies. Rechargez la page puis réessayez."
            ),
        },
        status=403,
    )
