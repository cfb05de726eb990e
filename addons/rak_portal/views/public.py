"""Public pages: « Contactez-nous », « Nos agences », services not built yet."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_POST

from rak_base.errors import RakError
from rak_customer.services import contact_message_create
from rak_portal.agencies import _agency_card, _national_phone, agency_cards  # noqa: F401 - tests read them
from rak_portal.forms import ContactForm, LoginForm
from rak_portal.throttling import contact_message_allowed, contact_refused_message
from rak_portal.views.customers import request_acting_customer

# Services listed on the home page and in the menu; ``url`` when built, else « bientôt disponible ».
SERVICES: dict[str, dict[str, Any]] = {
    "paiement": {"title": gettext_lazy("Payer mes factures en ligne"), "url_name": "portal:quickpay"},
    "reclamation": {"title": gettext_lazy("Envoyer une réclamation"), "url_name": "portal:complaint_new"},
    "incident": {"title": gettext_lazy("Signaler une fuite ou une coupure"), "url_name": "portal:incident_new"},
    "abonnement": {"title": gettext_lazy("Demande d'abonnement"), "url_name": "portal:subscription"},
    "branchement": {"title": gettext_lazy("Demande de branchement"), "url_name": "portal:connection"},
    "simulation": {"title": gettext_lazy("Simuler votre consommation"), "url_name": "portal:simulator"},
    "verification": {"title": gettext_lazy("Vérifier des documents"), "url_name": "portal:verify"},
    "agences": {"title": gettext_lazy("Nos agences"), "url_name": "portal:agencies"},
}


def services_menu() -> list[dict]:
    """The services with their link: the built page, or the « bientôt disponible » page."""
    return [
        {
            **service,
            "slug": slug,
            "href": reverse(service.get("url_name", "portal:service"), args=None if "url_name" in service else [slug]),
        }
        for slug, service in SERVICES.items()
    ]


def _local_url(request: HttpRequest, url: str) -> str:
    """``url`` when it is a path of this site (« //host », « /\\host », a scheme: refused)."""
    local = url.startswith("/") and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return url if local and not url.startswith(("//", "/\\")) else ""


@require_POST
def contact(request: HttpRequest) -> HttpResponse:
    form = ContactForm(request.POST)
    status = 400
    if form.is_valid() and not contact_message_allowed(request):
        form.add_error(None, contact_refused_message())  # the form again, nothing stored
        status = 429
    elif form.is_valid():
        try:
            contact_message_create(**form.cleaned_data, customer=request_acting_customer(request))
        except RakError as exc:
            form.add_error("phone", exc.message)
        else:
            messages.success(
                request, gettext("Votre message a bien été envoyé. Notre service client vous répondra rapidement.")
            )
            return redirect(_local_url(request, request.POST.get("back", "")) or "portal:home")
    template = "rak_portal/contact.html" if request.user.is_authenticated else "rak_portal/home.html"
    return render(request, template, {"contact_form": form, "login_form": LoginForm()}, status=status)


def contact_page(request: HttpRequest) -> HttpResponse:
    """« Contacter la RAK » from the logged-in menu."""
    customer = request_acting_customer(request)
    initial = {}
    if customer is not None:
        initial = {"name": customer.display_name, "email": getattr(request.user, "email", "")}
    return render(request, "rak_portal/contact.html", {"contact_form": ContactForm(initial=initial)})


def agencies(request: HttpRequest) -> HttpResponse:
    return render(request, "rak_portal/agencies.html", {"agencies": agency_cards()})


def coming_soon(request: HttpRequest, slug: str) -> HttpResponse:
    service = SERVICES.get(slug)
    if service is None:
        raise Http404("Service inconnu")  # i18n: not for customers (the 404 page says it)
    return render(request, "rak_portal/coming_soon.html", {"service": service})


def terms(request: HttpRequest) -> HttpResponse:
    """« Conditions d'utilisation de l'agence en ligne », linked wherever they must be accepted."""
    return render(request, "rak_portal/terms.html")
