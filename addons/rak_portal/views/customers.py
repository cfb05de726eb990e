"""« Mes codes clients » (issue 13): the account's own code client and the ones it linked, adding one
(code client + CIN/ICE of its holder → code by SMS to that customer's phone → confirmation),
renaming or removing a link, and the header's switch that chooses which code client every private
page shows (the session's ACTIVE_CUSTOMER_SESSION_KEY, read by customer_required through
rak_customer.selectors.customer_acting_for). Services: rak_customer.links."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from rak_base import clock
from rak_base.errors import RakError
from rak_base.sms_limits import sms_request_allow
from rak_customer import links
from rak_customer.selectors import customer_acting_for, customer_for_user, customer_link_choices
from rak_portal.customer_link_forms import CustomerLinkLabelForm, CustomerLinkStartForm, CustomerSwitchForm
from rak_portal.forms import OtpForm
from rak_portal.throttling import identity_check_allowed, identity_check_refused_message
from rak_portal.views.account import ACTIVE_CUSTOMER_SESSION_KEY, CustomerRequest, customer_required

PENDING_SESSION_KEY = "rak_customer_link_pending"


def request_acting_customer(request: HttpRequest):
    """For pages outside customer_required (open to visitors too: « Déposer une réclamation »,
    « Signaler une fuite », « Contacter la RAK »): the customer a logged-in account acts for — the
    code client chosen in the header if it is still linked, else its own — or None for a visitor.
    What customer_required attaches as ``request.customer``, without the redirect."""
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_customer", False):
        return None
    customer = getattr(request, "customer", None)
    if customer is not None:
        return customer
    chosen = request.session.get(ACTIVE_CUSTOMER_SESSION_KEY)
    return (customer_acting_for(user, code=chosen) if chosen else None) or customer_acting_for(user)


def _pending(request: HttpRequest) -> dict | None:
    pending = request.session.get(PENDING_SESSION_KEY)
    if not isinstance(pending, dict) or not pending.get("token"):
        return None
    if links.token_customer_code(user=request.user, token=pending["token"]) is None:
        request.session.pop(PENDING_SESSION_KEY, None)  # expired, or another account's
        return None
    return pending


def _remember_pending(request: HttpRequest, pending: links.LinkPending) -> None:
    request.session[PENDING_SESSION_KEY] = {
        "token": pending.token,
        "code": pending.customer_code,
        "hint": pending.phone_hint,
        "label": pending.label,
    }


def _page(request: CustomerRequest, *, start_form=None, otp_form=None, status: int = 200) -> HttpResponse:
    pending = _pending(request)
    own = customer_for_user(request.user)
    choices = customer_link_choices(request.user)
    context = {
        "own": own,
        "choices": [c for c in choices if not c.own],
        "active_code": request.customer.code,
        "start_form": start_form or CustomerLinkStartForm(),
        "otp_form": otp_form or OtpForm(),
        "pending": pending,
        "max_links": links.MAX_LINKS,
    }
    template = "rak_portal/customer_links_otp.html" if pending else "rak_portal/customer_links.html"
    return render(request, template, context, status=status)


@never_cache
@customer_required
@require_GET
def customer_links(request: CustomerRequest) -> HttpResponse:
    return _page(request)


@customer_required
@require_POST
def customer_link_start(request: CustomerRequest) -> HttpResponse:
    """Step 1: code client + CIN/ICE of its holder → a code by SMS to that customer's phone."""
    form = CustomerLinkStartForm(request.POST)
    if not form.is_valid():
        return _page(request, start_form=form, status=400)
    now = clock.now()
    data = form.cleaned_data
    try:
        links.customer_link_precheck(user=request.user, customer_code=data["customer_code"])
    except RakError as exc:
        form.add_error(None, exc.message)
        return _page(request, start_form=form, status=400)
    if not identity_check_allowed(request, data["customer_code"], data["identity"]):
        form.add_error(None, identity_check_refused_message())
        return _page(request, start_form=form, status=429)
    try:
        sms_request_allow(request, now=now)
        pending = links.customer_link_start(
            user=request.user,
            customer_code=data["customer_code"],
            identity=data["identity"],
            label=data["label"],
            now=now,
        )
    except RakError as exc:
        form.add_error(None, exc.message)
        return _page(request, start_form=form, status=getattr(exc, "http_status", 400))
    _remember_pending(request, pending)
    messages.info(
        request,
        gettext(
            "Un code de confirmation a été envoyé par SMS au numéro du client %(code)s, se terminant par %(digits)s."
        )
        % {"code": pending.customer_code, "digits": pending.phone_hint},
    )
    return redirect("portal:customer_links")


@customer_required
@require_POST
def customer_link_confirm(request: CustomerRequest) -> HttpResponse:
    """Step 2: the code received by SMS (or « Renvoyer le code »)."""
    pending = _pending(request)
    if pending is None:
        messages.error(request, str(links.LinkRequestExpired.default_message))
        return redirect("portal:customer_links")
    now = clock.now()
    if "resend" in request.POST:
        try:
            sms_request_allow(request, now=now)
            renewed = links.customer_link_resend(user=request.user, token=pending["token"], now=now)
        except RakError as exc:
            messages.error(request, exc.message)
        else:
            _remember_pending(request, renewed)
            messages.success(request, gettext("Un nouveau code de confirmation a été envoyé par SMS."))
        return redirect("portal:customer_links")
    form = OtpForm(request.POST)
    if not form.is_valid():
        return _page(request, otp_form=form, status=400)
    try:
        link = links.customer_link_confirm(
            user=request.user, token=pending["token"], otp_code=form.cleaned_data["otp"], now=now
        )
    except links.LinkRequestExpired as exc:
        request.session.pop(PENDING_SESSION_KEY, None)
        messages.error(request, exc.message)
        return redirect("portal:customer_links")
    except RakError as exc:
        form.add_error("otp", exc.message)
        return _page(request, otp_form=form, status=400)
    request.session.pop(PENDING_SESSION_KEY, None)
    messages.success(
        request,
        gettext(
            "Le code client %(code)s est rattaché à votre compte. Choisissez-le dans « Code client affiché » "
            "pour voir ses factures et faire ses démarches."
        )
        % {"code": link.customer.code},
    )
    return redirect("portal:customer_links")


@customer_required
@require_POST
def customer_link_cancel(request: HttpRequest) -> HttpResponse:
    request.session.pop(PENDING_SESSION_KEY, None)
    return redirect("portal:customer_links")


@customer_required
@require_POST
def customer_link_remove(request: HttpRequest, link_id: int) -> HttpResponse:
    try:
        link = links.customer_link_unlink(link_id=link_id, user=request.user, by=request.user, now=clock.now())
    except RakError as exc:
        messages.error(request, exc.message)
        return redirect("portal:customer_links")
    if request.session.get(ACTIVE_CUSTOMER_SESSION_KEY) == link.customer.code:
        request.session.pop(ACTIVE_CUSTOMER_SESSION_KEY, None)  # back to the account's own code client
    messages.success(
        request, gettext("Le code client %(code)s n'est plus rattaché à votre compte.") % {"code": link.customer.code}
    )
    return redirect("portal:customer_links")


@customer_required
@require_POST
def customer_link_label(request: HttpRequest, link_id: int) -> HttpResponse:
    form = CustomerLinkLabelForm(request.POST)
    if form.is_valid():
        try:
            links.customer_link_label_set(link_id=link_id, user=request.user, label=form.cleaned_data["label"])
        except RakError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, gettext("Le libellé a été enregistré."))
    else:
        messages.error(request, gettext("Le libellé ne peut pas dépasser 60 caractères."))
    return redirect("portal:customer_links")


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        if target.startswith("/") and not target.startswith(("//", "/\\")):
            return target
    return reverse("portal:dashboard")


@customer_required
@require_POST
def customer_switch(request: HttpRequest) -> HttpResponse:
    """The header's switch: which code client every private page shows from now on (this session)."""
    form = CustomerSwitchForm(request.POST)
    code = form.cleaned_data["code"] if form.is_valid() else ""
    chosen = customer_acting_for(request.user, code=code) if code else None
    if chosen is None:
        messages.error(request, gettext("Ce code client n'est pas rattaché à votre compte."))
        return redirect(_next_url(request))
    own = customer_for_user(request.user)
    if own is not None and chosen.pk == own.pk:
        request.session.pop(ACTIVE_CUSTOMER_SESSION_KEY, None)
    else:
        request.session[ACTIVE_CUSTOMER_SESSION_KEY] = chosen.code
    messages.info(
        request,
        gettext("Vous consultez maintenant le code client %(code)s — %(name)s.")
        % {"code": chosen.code, "name": chosen.display_name},
    )
    return redirect(_next_url(request))
