"""The customer's private area: dashboard, profile, notifications."""

from __future__ import annotations

from functools import wraps
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from rak_base import clock
from rak_base.errors import RakError
from rak_base.models import Message, User
from rak_base.phones import phone_last_digits
from rak_base.sms_limits import sms_request_allow
from rak_customer import services
from rak_customer.devices import devices_active
from rak_customer.language import customer_language_code
from rak_customer.models import ChangeRequest, Customer
from rak_customer.selectors import customer_acting_for, customer_profile
from rak_portal.forms import (
    ChangeRequestForm,
    EmailForm,
    LanguageForm,
    NoticePreferencesForm,
    OtpForm,
    PasswordChangeForm,
    PhoneChangeForm,
)

PHONE_CHANGE_SESSION_KEY = "rak_phone_change"
# the code client the customer chose to act for among their own and the ones they linked (issue 13)
ACTIVE_CUSTOMER_SESSION_KEY = "rak_active_customer"


class CustomerRequest(HttpRequest):
    """The request a customer_required view receives (for type checkers: the decorator sets
    ``customer``, the account's own customer or the code client it acts for)."""

    customer: Customer
    user: User  # logged in: customer_required let no anonymous visitor through


def _customer_view(view, *, own: bool):
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        user = request.user
        if not user.is_authenticated or not getattr(user, "is_customer", False):
            return redirect_to_login(request.get_full_path(), "portal:home")
        code = None if own else request.session.get(ACTIVE_CUSTOMER_SESSION_KEY)
        customer = customer_acting_for(user, code=code)
        if customer is None and code and request.session.pop(ACTIVE_CUSTOMER_SESSION_KEY, None):
            customer = customer_acting_for(user)  # a link since removed: back to the account's own
        if customer is None:
            return redirect_to_login(request.get_full_path(), "portal:home")
        cast(CustomerRequest, request).customer = customer
        return view(request, *args, **kwargs)

    return wrapper


def customer_required(view):
    """Logged-in customers only; attaches ``request.customer``: their own record, or the code client
    they chose among the ones they linked (rak_customer.selectors.customer_acting_for, the same rule
    as the API's) — never another's."""
    return _customer_view(view, own=False)


def own_customer_required(view):
    """customer_required, but ``request.customer`` is the account's OWN customer whatever code client
    is chosen in the header: the profile, contacts, password and change requests belong to the
    holder of the code (an account acting for a linked code could otherwise change its SMS phone,
    then take the holder's account over through « Mot de passe oublié »)."""
    return _customer_view(view, own=True)


@customer_required
def dashboard(request: CustomerRequest) -> HttpResponse:
    recent = list(
        Message.objects.for_user(request.user).only("subject", "body", "kind", "channel", "created_at", "read_at")[:5]
    )
    from rak_portal.views.bills import dashboard_context  # bills imports customer_required from here

    context = {"customer": request.customer, "recent_messages": recent}
    context.update(dashboard_context(request))
    return render(request, "rak_portal/dashboard.html", context)


def _profile_context(request: CustomerRequest, **forms) -> dict:
    customer = customer_profile(request.customer.pk)
    contacts = list(customer.contacts.all())
    context: dict[str, Any] = {
        "customer": customer,
        "sms_contact": next((c for c in contacts if c.is_sms), None),
        "email_contact": next((c for c in contacts if c.kind == "EMAIL" and c.is_primary_email), None),
        "password_form": PasswordChangeForm(request.user),
        "phone_form": PhoneChangeForm(),
        "otp_form": OtpForm(),
        "email_form": EmailForm(),
        "change_form": ChangeRequestForm(),
        "notices_form": NoticePreferencesForm(initial={"sms_service_notices": customer.sms_service_notices}),
        "language_form": LanguageForm(initial={"language": customer_language_code(customer)}),
        "pending_phone": request.session.get(PHONE_CHANGE_SESSION_KEY),
        "change_requests": list(ChangeRequest.objects.filter(customer=customer)[:10]),
        "devices": devices_active(request.user),  # « Appareils connectés » (issue 13)
    }
    context.update(forms)
    if context["pending_phone"]:
        context["pending_phone_hint"] = phone_last_digits(context["pending_phone"])
    return context


@own_customer_required
def profile(request: CustomerRequest) -> HttpResponse:
    return render(request, "rak_portal/profile.html", _profile_context(request))


@own_customer_required
@require_POST
def profile_password(request: CustomerRequest) -> HttpResponse:
    try:
        services.account_password_check_allow(user=request.user, now=clock.now())
    except RakError as error:
        messages.error(request, error.message)
        return redirect("portal:profile")
    form = PasswordChangeForm(request.user, request.POST)
    if not form.is_valid():
        return render(request, "rak_portal/profile.html", _profile_context(request, password_form=form), status=400)
    services.account_password_change(  # every device signed in to the mobile app is signed out
        user=request.user, new_password=form.cleaned_data["new_password1"], now=clock.now()
    )
    update_session_auth_hash(request, request.user)
    messages.success(request, gettext("Votre mot de passe a été modifié."))
    return redirect("portal:profile")


@own_customer_required
@require_POST
def profile_phone(request: CustomerRequest) -> HttpResponse:
    """Step 1: the new number receives an OTP. Step 2 (``otp`` posted): the change is applied."""
    now = clock.now()
    if "otp" in request.POST or "resend" in request.POST:
        phone = request.session.get(PHONE_CHANGE_SESSION_KEY)
        if not phone:
            messages.error(request, gettext("Veuillez d'abord saisir votre nouveau numéro de téléphone."))
            return redirect("portal:profile")
        if "resend" in request.POST:
            try:
                sms_request_allow(request, now=now)
                services.profile_phone_change_start(customer=request.customer, user=request.user, phone=phone, now=now)
                messages.success(request, gettext("Un nouveau code de confirmation vous a été envoyé par SMS."))
            except RakError as exc:
                messages.error(request, exc.message)
            return redirect("portal:profile")
        form: forms.Form = OtpForm(request.POST)
        if not form.is_valid():
            return render(request, "rak_portal/profile.html", _profile_context(request, otp_form=form), status=400)
        try:
            services.profile_phone_change_confirm(
                customer=request.customer, user=request.user, phone=phone, otp_code=form.cleaned_data["otp"], now=now
            )
        except RakError as exc:
            form.add_error("otp", exc.message)
            return render(request, "rak_portal/profile.html", _profile_context(request, otp_form=form), status=400)
        request.session.pop(PHONE_CHANGE_SESSION_KEY, None)
        messages.success(request, gettext("Votre numéro de téléphone a été modifié et vérifié."))
        return redirect("portal:profile")
    form = PhoneChangeForm(request.POST)
    if not form.is_valid():
        return render(request, "rak_portal/profile.html", _profile_context(request, phone_form=form), status=400)
    try:
        sms_request_allow(request, now=now)
        phone = services.profile_phone_change_start(
            customer=request.customer, user=request.user, phone=form.cleaned_data["phone"], now=now
        )
    except RakError as exc:
        form.add_error("phone", exc.message)
        return render(request, "rak_portal/profile.html", _profile_context(request, phone_form=form), status=400)
    request.session[PHONE_CHANGE_SESSION_KEY] = phone
    messages.info(
        request,
        gettext("Un code de confirmation a été envoyé par SMS au numéro se terminant par %(digits)s.")
        % {"digits": phone_last_digits(phone)},
    )
    return redirect("portal:profile")


@own_customer_required
@require_POST
def profile_notices(request: CustomerRequest) -> HttpResponse:
    """« Recevoir par SMS les avis de coupure et de travaux » (an unchecked box posts nothing: off)."""
    form = NoticePreferencesForm(request.POST)
    form.is_valid()  # a checkbox alone: always valid
    services.customer_notice_preferences_set(
        customer_id=request.customer.pk,
        sms_service_notices=form.cleaned_data.get("sms_service_notices", False),
        user=request.user,
        now=clock.now(),
    )
    messages.success(request, gettext("Vos préférences ont été enregistrées."))
    return redirect("portal:profile")  # the confirmation shows at the top, like the other profile forms


@own_customer_required
@require_POST
def profile_phone_cancel(request: HttpRequest) -> HttpResponse:
    request.session.pop(PHONE_CHANGE_SESSION_KEY, None)
    return redirect("portal:profile")


@own_customer_required
@require_POST
def profile_phone_confirm(request: CustomerRequest) -> HttpResponse:
    """Confirm the current SMS number: send a code, then check it."""
    now = clock.now()
    if "otp" not in request.POST:
        try:
            sms_request_allow(request, now=now)
            services.profile_phone_confirm_start(customer=request.customer, user=request.user, now=now)
            request.session["rak_phone_confirm"] = True
            messages.info(request, gettext("Un code de confirmation vous a été envoyé par SMS."))
        except RakError as exc:
            messages.error(request, exc.message)
        return redirect("portal:profile")
    form = OtpForm(request.POST)
    if form.is_valid():
        try:
            services.profile_phone_confirm(customer=request.customer, otp_code=form.cleaned_data["otp"], now=now)
        except RakError as exc:
            messages.error(request, exc.message)
        else:
            request.session.pop("rak_phone_confirm", None)
            messages.success(request, gettext("Votre numéro de téléphone est confirmé."))
    else:
        messages.error(request, gettext("Le code de confirmation comporte 6 chiffres."))
    return redirect("portal:profile")


@own_customer_required
@require_POST
def profile_email(request: CustomerRequest) -> HttpResponse:
    form = EmailForm(request.POST)
    if not form.is_valid():
        return render(request, "rak_portal/profile.html", _profile_context(request, email_form=form), status=400)
    try:
        services.profile_email_confirm_send(
            customer=request.customer, user=request.user, email=form.cleaned_data["email"], now=clock.now()
        )
    except RakError as error:
        messages.error(request, error.message)
        return redirect("portal:profile")
    messages.info(request, gettext("Un lien de confirmation vous a été envoyé par e-mail. Il est valable 48 heures."))
    return redirect("portal:profile")


def email_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The signed link from the confirmation e-mail (works without being logged in)."""
    try:
        services.profile_email_confirm(token=token, now=clock.now())
    except RakError as exc:
        return render(
            request,
            "rak_portal/message.html",
            {"title": gettext("Confirmation de l'e-mail"), "error": exc.message},
            status=400,
        )
    return render(
        request,
        "rak_portal/message.html",
        {
            "title": gettext("Confirmation de l'e-mail"),
            "success": gettext("Votre adresse e-mail est confirmée. Merci !"),
        },
    )


@own_customer_required
@require_POST
def profile_change_request(request: CustomerRequest) -> HttpResponse:
    form = ChangeRequestForm(request.POST)
    if form.is_valid():
        try:
            services.change_request_create(
                customer=request.customer,
                user=request.user,
                field=form.cleaned_data["field"],
                requested_value=form.cleaned_data["requested_value"],
                reason=form.cleaned_data["reason"],
            )
        except RakError as exc:
            form.add_error("requested_value", exc.message)
        else:
            messages.success(
                request, gettext("Votre demande de modification a été envoyée. Nos services vont la traiter.")
            )
            return redirect("portal:profile")
    return render(request, "rak_portal/profile.html", _profile_context(request, change_form=form), status=400)


@customer_required
def notifications(request: HttpRequest) -> HttpResponse:
    """The bell: every notice sent to the customer, newest first, once whatever the number of
    channels it went out on (those are named); opening the list marks them read."""
    mine = Message.objects.for_user(request.user)
    queryset = mine.bell_lines().only(
        "channel", "event", "kind", "subject", "body", "created_at", "read_at", "status", "sensitive"
    )
    page = Paginator(queryset, 20).get_page(request.GET.get("page"))
    events = {m.event for m in page.object_list if m.event}
    channels: dict[str, set[str]] = {}
    unread_events: set[str] = set()
    if events:
        for event, channel, read_at in mine.filter(event__in=events).values_list("event", "channel", "read_at"):
            channels.setdefault(event, set()).add(channel)
            if read_at is None:
                unread_events.add(event)
    labels = dict(Message.Channel.choices)
    lines = []
    for message in page.object_list:
        used = sorted(channels.get(message.event) or {message.channel}, key=list(labels).index)
        unread = message.read_at is None or message.event in unread_events
        lines.append({"message": message, "channels": [labels[c] for c in used], "unread": unread})
    response = render(request, "rak_portal/notifications.html", {"page": page, "lines": lines})
    unread_ids = [line["message"].pk for line in lines if line["unread"]]
    if unread_ids:
        unread_events_here = [line["message"].event for line in lines if line["unread"] and line["message"].event]
        mine.unread().filter(Q(pk__in=unread_ids) | Q(event__in=unread_events_here)).update(read_at=clock.now())
    return response


@customer_required
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    Message.objects.for_user(request.user).unread().update(read_at=clock.now())
    return redirect("portal:notifications")


@require_http_methods(["GET"])
def session_expired(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "rak_portal/message.html",
        {
            "title": gettext("Session expirée"),
            "error": gettext("Votre session a expiré, veuillez vous reconnecter."),
        },
    )
