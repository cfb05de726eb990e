"""French error pages; the CSRF failure page explains what to do instead of Django's English one."""

from django.shortcuts import render


def csrf_failure(request, reason=""):
    return render(
        request,
        "rak_portal/message.html",
        {
            "title": "Formulaire expiré",
            "error": (
                "Votre formulaire a expiré ou votre navigateur bloque les cookies. Rechargez la page puis réessayez."
            ),
        },
        status=403,
    )
