"""Home, login/logout, « Créer mon compte », « Mot de passe oublié », first-login password change."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from rak_base import clock
from rak_base.errors import RakError
from rak_base.http import client_ip
from rak_base.phones import phone_last_digits
from rak_base.sms_limits import sms_request_allow
from rak_customer import services
from rak_customer.auth import LOGIN_FAILED, ip_locked_out_message, locked_out_message, login_ip_blocked
from rak_portal.forms import (
    ContactForm,
    FirstPasswordChangeAcceptanceForm,
    FirstPasswordChangeForm,
    ForgotPasswordForm,
    LoginForm,
    RegisterNewPhoneForm,
    RegisterProspectForm,
    RegisterStartForm,
)
from rak_portal.throttling import identity_check_allowed, identity_check_refused_message
from rak_portal.views.language import language_after_login

REGISTRATION_EXPIRED = gettext_lazy("Votre demande a expiré : veuillez recommencer la création de votre compte.")


REGISTRATION_SESSION_KEY = "rak_registration"


def _home_context(**extra) -> dict:
    context = {"login_form": LoginForm(), "contact_form": ContactForm()}
    context.update(extra)
    return context


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and getattr(request.user, "is_customer", False):
        return redirect("portal:dashboard")
    return render(request, "rak_portal/home.html", _home_context())


def lockout_response(request, original_response=None, credentials=None):
    """django-axes calls this when an account is locked out (portal and back office)."""
    message = locked_out_message(settings.LOGIN_COOLOFF_MINUTES)
    if request.path.startswith("/api/"):  # the mobile API (rak_api): its JSON error format
        return JsonResponse({"code": "locked_out", "message": message, "fields": {}}, status=429)
    if request.path.startswith("/backoffice/"):
        return render(request, "rak_portal/locked_out.html", {"error": message}, status=429)
    form = LoginForm(initial={"username": (credentials or {}).get("username", "")})
    return render(request, "rak_portal/home.html", _home_context(login_form=form, login_error=message), status=429)


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return redirect("portal:home")
    form = LoginForm(request.POST)
    if not form.is_valid():
        return render(request, "rak_portal/home.html", _home_context(login_form=form), status=400)
    if login_ip_blocked(client_ip(request)):
        error = ip_locked_out_message(settings.LOGIN_COOLOFF_MINUTES)
        return render(request, "rak_portal/home.html", _home_context(login_form=form, login_error=error), status=429)
    user = authenticate(request, username=form.cleaned_data["username"], password=form.cleaned_data["password"])
    if user is None or not getattr(user, "is_customer", False):
        return render(
            request, "rak_portal/home.html", _home_context(login_form=form, login_error=LOGIN_FAILED), status=401
        )
    login(request, user, backend="rak_customer.auth.PortalBackend")  # new session key (cycle_key)
    next_url = request.POST.get("next") or ""
    if next_url.startswith("/") and not next_url.startswith("//"):
        return language_after_login(request, redirect(next_url), user)
    return language_after_login(request, redirect("portal:dashboard"), user)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.success(request, gettext("Vous êtes déconnecté. À bientôt sur l'agence en ligne de la RAK."))
    return redirect("portal:home")


# --- « Créer mon compte » ---------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def register_start(request: HttpRequest) -> HttpResponse:
    form = RegisterStartForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not identity_check_allowed(request, form.cleaned_data["identity"]):
            form.add_error(None, identity_check_refused_message())
            return render(request, "rak_portal/register_start.html", {"form": form}, status=429)
        try:
            sms_request_allow(request, now=clock.now())  # OTP or password by SMS
            result = services.account_register_start(
                identity=form.cleaned_data["identity"],
                phone=form.cleaned_data["phone"],
                accept_terms=form.cleaned_data["accept_terms"],
                accept_data_processing=form.cleaned_data["accept_data_processing"],
                now=clock.now(),
            )
        except RakError as exc:
            form.add_error(None, exc.message)
        else:
            if result.outcome == "CREATED":
                return _password_sent(request, result.delivery)
            request.session[REGISTRATION_SESSION_KEY] = {
                "identity": result.identity,
                "phone": result.phone,
                "outcome": result.outcome,
            }
            if result.outcome == "NEEDS_OTP":
                return redirect("portal:register_new_phone")
            return redirect("portal:register_prospect")
    return render(request, "rak_portal/register_start.html", {"form": form})


def _registration(request: HttpRequest, outcome: str) -> dict | None:
    data = request.session.get(REGISTRATION_SESSION_KEY)
    if not data or data.get("outcome") != outcome:
        return None
    return data


def _password_sent(request: HttpRequest, delivery) -> HttpResponse:
    request.session.pop(REGISTRATION_SESSION_KEY, None)
    request.session["rak_password_sent"] = {"channel": delivery.channel, "hint": delivery.hint}
    return redirect("portal:password_sent")


def password_sent(request: HttpRequest) -> HttpResponse:
    data = request.session.get("rak_password_sent")
    if not data:
        return redirect("portal:home")
    delivery = services.PasswordDelivery(data["channel"], data["hint"])
    return render(request, "rak_portal/password_sent.html", {"delivery": delivery})


@require_http_methods(["GET", "POST"])
def register_new_phone(request: HttpRequest) -> HttpResponse:
    data = _registration(request, "NEEDS_OTP")
    if data is None:
        messages.error(request, REGISTRATION_EXPIRED)
        return redirect("portal:register_start")
    form = RegisterNewPhoneForm(request.POST or None)
    if request.method == "POST" and "resend" in request.POST:
        form = RegisterNewPhoneForm()
        try:
            sms_request_allow(request, now=clock.now())
            services.account_register_resend_otp(phone=data["phone"], now=clock.now())
            messages.success(request, gettext("Un nouveau code de confirmation vous a été envoyé par SMS."))
        except RakError as exc:
            messages.error(request, exc.message)
    elif request.method == "POST" and form.is_valid():
        if not identity_check_allowed(request, data["identity"], form.cleaned_data["customer_code"]):
            form.add_error(None, identity_check_refused_message())
            context = {"form": form, "phone_hint": phone_last_digits(data["phone"])}
            return render(request, "rak_portal/register_new_phone.html", context, status=429)
        try:
            sms_request_allow(request, now=clock.now(), essential=True)  # to the number just proved by OTP
            delivery = services.account_register_new_phone(
                identity=data["identity"],
                phone=data["phone"],
                customer_code=form.cleaned_data["customer_code"],
                otp_code=form.cleaned_data["otp"],
                accept_terms=form.cleaned_data["accept_terms"],
                accept_data_processing=form.cleaned_data["accept_data_processing"],
                now=clock.now(),
            )
        except RakError as exc:
            form.add_error(None, exc.message)
        else:
            return _password_sent(request, delivery)
    return render(
        request,
        "rak_portal/register_new_phone.html",
        {
            "form": form,
            "phone_hint": phone_last_digits(data["phone"]),
        },
    )


@require_http_methods(["GET", "POST"])
def register_prospect(request: HttpRequest) -> HttpResponse:
    data = _registration(request, "UNKNOWN")
    if data is None:
        messages.error(request, REGISTRATION_EXPIRED)
        return redirect("portal:register_start")
    form = RegisterProspectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        cd = form.cleaned_data
        try:
            sms_request_allow(request, now=clock.now())  # password to a number nobody proved yet
            _, delivery = services.account_register_prospect(
                identity=data["identity"],
                phone=data["phone"],
                civility=cd["civility"],
                first_name=cd["first_name"],
                last_name=cd["last_name"],
                company_name=cd["company_name"],
                email=cd["email"],
                kind=cd["kind"],
                accept_terms=cd["accept_terms"],
                accept_data_processing=cd["accept_data_processing"],
                now=clock.now(),
            )
        except RakError as exc:
            form.add_error(None, exc.message)
        else:
            return _password_sent(request, delivery)
    return render(request, "rak_portal/register_prospect.html", {"form": form, "identity": data["identity"]})


# --- « Mot de passe oublié » and password change ---------------------------------------------


@require_http_methods(["GET", "POST"])
def forgot_password(request: HttpRequest) -> HttpResponse:
    form = ForgotPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not identity_check_allowed(request, form.cleaned_data["customer_code"], form.cleaned_data["identity"]):
            form.add_error(None, identity_check_refused_message())
            return render(request, "rak_portal/forgot_password.html", {"form": form}, status=429)
        try:
            sms_request_allow(request, now=clock.now(), essential=True)  # to the number on record
            delivery = services.password_reset(
                customer_code=form.cleaned_data["customer_code"],
                identity=form.cleaned_data["identity"],
                now=clock.now(),
            )
        except RakError as exc:
            form.add_error(None, exc.message)
        else:
            return _password_sent(request, delivery)
    return render(request, "rak_portal/forgot_password.html", {"form": form})


@require_http_methods(["GET", "POST"])
def password_first_change(request: HttpRequest) -> HttpResponse:
    """After logging in with a generated password: the received password, the new one and its
    confirmation (seed 002), before anything else; the received one cannot be kept."""
    if not request.user.is_authenticated:
        return redirect(reverse("portal:home"))
    if not request.user.must_change_password:
        return redirect("portal:dashboard")
    ask_acceptance = services.account_needs_acceptance(request.user)
    form_class = FirstPasswordChangeAcceptanceForm if ask_acceptance else FirstPasswordChangeForm
    form = form_class(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.account_first_password_set(  # every API device signed out too
            user=request.user,
            new_password=form.cleaned_data["new_password1"],
            accept_terms=form.cleaned_data.get("accept_terms", False),
            accept_data_processing=form.cleaned_data.get("accept_data_processing", False),
            now=clock.now(),
        )
        update_session_auth_hash(request, request.user)
        messages.success(request, gettext("Votre mot de passe a été modifié. Bienvenue sur votre agence en ligne."))
        return redirect("portal:dashboard")
    return render(request, "rak_portal/password_first_change.html", {"form": form})
