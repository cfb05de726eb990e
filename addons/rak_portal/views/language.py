"""The language switch (header and login page) and the language a customer finds after logging in.

A visitor's choice is a cookie (``settings.LANGUAGE_COOKIE_NAME``); a first visit follows the
browser's Accept-Language (LocaleMiddleware). A logged-in customer's choice is also stored on their
account (``Customer.language``), which SMS, e-mails and documents sent later follow. At login the
account's language wins, unless the visitor chose one on the login page during this visit: that
choice is then stored on the account; an account whose language was never chosen takes the language
of the visit (its cookie, else the browser's Accept-Language)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from rak_customer.language import customer_language_code
from rak_customer.selectors import customer_for_user
from rak_customer.services import customer_language_set

CHOSEN_KEY = "rak_language_chosen"


def _set_cookie(response: HttpResponse, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,  # type: ignore[arg-type]  # a str setting, "Lax" by default
    )


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.META.get("HTTP_REFERER") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return "/"
    return target


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """POST ``language`` (fr, ar, en) and ``next``: back to the page in that language. An unknown
    language changes nothing (no error page for a tampered form)."""
    response = HttpResponseRedirect(_safe_next(request))
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        return response
    translation.activate(language)
    _set_cookie(response, language)
    customer = customer_for_user(request.user) if getattr(request.user, "is_customer", False) else None
    if customer is not None:
        customer_language_set(customer=customer, language=language)
        if request.POST.get("confirm"):  # the profile's « Langue de communication » says it was saved
            messages.success(request, gettext("Votre langue de communication a été enregistrée."))
    else:
        request.session[CHOSEN_KEY] = language
    return response


def language_after_login(request: HttpRequest, response: HttpResponse, user) -> HttpResponse:
    """Called by the login view once the customer is logged in (the session survives login's
    cycle_key): a language chosen on the login page is stored on the account; otherwise the
    account's language becomes this browser's."""
    customer = customer_for_user(user)
    if customer is None:
        return response
    chosen = request.session.pop(CHOSEN_KEY, None)
    if chosen not in dict(settings.LANGUAGES) and not customer.language:
        # never chosen: the language this visit uses (its cookie or the browser's) becomes the account's
        chosen = translation.get_language_from_request(request)
    if chosen in dict(settings.LANGUAGES):
        customer_language_set(customer=customer, language=chosen)
        language = chosen
    else:
        language = customer_language_code(customer)
    translation.activate(language)
    _set_cookie(response, language)
    return response
