"""« Services et demandes »: the page listing the seed's services, and the generic flow of the simple
request types at ``/espace/services/<slug>/`` (every registered kind with a ``customer_form``).

One page per kind: its heading (``kind.title``), its explanation (``kind.intro_template``), the
kind's form and one file field per required document of its type, « Les champs avec * sont
obligatoires », then « toutes vos demandes de … » of this customer below.

- Contact first: when the kind ``requires_contact`` and the profile lacks the SMS phone or the
  e-mail, the page says so (the seed's sentence) and offers to fill in the missing one here
  (the profile's services: code by SMS to the new number, confirmation link by e-mail); filing
  is refused until both exist.
- OTP: when the kind ``requires_otp``, a valid post stages the files and the typed data in the
  session, sends a code by SMS (``sms_request_allow`` first) and shows « Saisissez le code OTP puis
  cliquez sur le bouton « Valider » » with « Valider » and « Renvoyer le code ».
- Filing is one call (``rak_requests.flow.kind_request_file``, channel WEB); the acknowledgement
  e-mail is queued by the filing; the green message names the request and links its receipt.

Nothing entered is lost on an error: the form comes back bound, or from the post kept in the
session after a detour; accepted files stay staged and are shown as « Déjà joint ».
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from rak_base import clock
from rak_base.errors import RakError
from rak_base.models import OneTimeCode
from rak_base.otp import OtpResendTooEarly, otp_send
from rak_base.phones import phone_last_digits
from rak_base.sms_limits import sms_request_allow
from rak_customer import services as customer_services
from rak_customer.selectors import customer_email, customer_sms_phone
from rak_portal.forms import EmailForm, OtpForm, PhoneChangeForm
from rak_portal.views.account import PHONE_CHANGE_SESSION_KEY, customer_required
from rak_requests.flow import (
    KindSubmission,
    KindUnavailable,
    form_initial,
    kind_has_customer_form,
    kind_otp_send,
    kind_otp_verify,
    kind_request_file,
    kind_request_type,
    kind_requests,
)
from rak_requests.kinds import kind_by_slug, kind_for
from rak_requests.models import RequestType
from rak_requests.selectors import request_status_label

CONTACT_MISSING = _(
    "Dans l'absence de votre N° de téléphone ou d'adresse mail, Veuillez les renseigner avant de soumettre "
    "votre demande"
)
OTP_PROMPT = _("Saisissez le code OTP puis cliquez sur le bouton « Valider »")
OTP_PURPOSE = OneTimeCode.Purpose.REQUEST
CONTACT_PREFIX = "contact"  # the contact forms' fields never clash with a kind's form
OTP_PREFIX = "otp"
CONTACT_ACTIONS = ("contact_phone", "contact_phone_otp", "contact_phone_resend", "contact_email")


# --- « Services et demandes » -----------------------------------------------------------------------

# The seed's list, in its order: (title, URL name and its arguments, request type served by a kind).
# A kind registered for the type gives the link (its own page, or the generic flow); else the URL
# name; else the entry is shown « bientôt disponible ». Complaints (issue 11): « Envoyer une
# réclamation », « Signaler une fuite ou une coupure » and « Mes réclamations » (rak_portal.views.complaints).
CUSTOMER_SERVICES = (
    (_("Demande d'abonnement"), "portal:subscription", (), None),
    (_("Demande de branchement"), "portal:connection", (), None),
    (_("Simuler ma consommation"), "portal:simulator", (), None),
    (_("Envoyer une réclamation"), "portal:complaint_new", (), None),
    (_("Signaler une fuite ou une coupure"), "portal:incident_new", (), None),
    (_("Mes réclamations"), "portal:complaints", (), None),
    (_("Demande de résiliation"), "", (), RequestType.Code.TERMINATION),
    (_("Demande de remboursement"), "", (), RequestType.Code.REFUND),
    (_("Relève de mon index de consommation"), "portal:self_reading", (), None),
    (_("Demande d'attestation"), "", (), RequestType.Code.ATTESTATION),
    (_("Historique des relevés de consommation"), "portal:reading_history", (), None),
    (_("Alimentation des avances sur consommation"), "portal:advance", (), None),
    (
        _("Demande de bénéficier du système tarification des compteurs collectifs"),
        "",
        (),
        RequestType.Code.COLLECTIVE_METER,
    ),
    (_("Demande de domiciliation bancaire"), "", (), RequestType.Code.DIRECT_DEBIT),
)


def kind_url(kind) -> str:
    """Where a kind's customer page is: its own (``portal_url_name``) or the generic flow."""
    if kind.portal_url_name:
        try:
            return reverse(kind.portal_url_name)
        except NoReverseMatch:
            return ""
    if kind.slug and kind_has_customer_form(kind):
        return reverse("portal:kind_service", args=[kind.slug])
    return ""


def _service_href(url_name: str, args: tuple, code: str | None) -> str:
    if code:
        kind = kind_for(code)
        return kind_url(kind) if kind.code else ""
    try:
        return reverse(url_name, args=args)
    except NoReverseMatch:
        return ""


def customer_services_menu() -> list[dict]:
    return [
        {"title": title, "href": _service_href(url_name, args, code)}
        for title, url_name, args, code in CUSTOMER_SERVICES
    ]


@customer_required
@require_GET
def services_index(request: HttpRequest) -> HttpResponse:
    return render(request, "rak_portal/services/index.html", {"entries": customer_services_menu()})


# --- the generic flow of a kind ----------------------------------------------------------------------


def _kind_or_404(slug: str):
    kind = kind_by_slug(slug)
    if kind is None or not kind_has_customer_form(kind):
        raise Http404("Service inconnu")
    try:
        return kind, kind_request_type(kind)
    except KindUnavailable as exc:
        raise Http404("Service indisponible") from exc


def _state_key(slug: str) -> str:
    return f"rak_kind_{slug}"


def _state(request: HttpRequest, slug: str) -> dict:
    return request.session.get(_state_key(slug)) or {}


def _save(request: HttpRequest, slug: str, state: dict) -> None:
    request.session[_state_key(slug)] = state


def _contact(customer) -> dict:
    phone = customer_sms_phone(customer)
    email = customer_email(customer)
    return {"phone": phone, "email": email, "missing": not (phone and email)}


class ContactPhoneForm(PhoneChangeForm):
    """The profile's phone form, for a customer who has no phone yet (not a « nouveau » one)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phone"].label = _("N° de téléphone (mobile)")
        self.fields["phone"].widget.attrs["dir"] = "ltr"  # digits stay left-to-right on an Arabic page


def _render(request, kind, request_type, state, *, submission=None, status=200, **extra) -> HttpResponse:
    customer = request.customer
    if submission is None:
        submission = KindSubmission(kind=kind, request_type=request_type, customer=customer, staging=state)
        if state.get("post"):
            submission.form.initial.update(form_initial(submission.form, state["post"]))
    contact = _contact(customer) if kind.requires_contact else {"missing": False}
    pending_phone = request.session.get(PHONE_CHANGE_SESSION_KEY)
    filed = request.session.pop(f"rak_kind_filed_{kind.slug}", None)
    rows: list[dict[str, Any]] = [
        {"request": r, "status_label": request_status_label(r), "dossiers": [d.number for d in r.dossiers.all()]}
        for r in kind_requests(customer_id=customer.pk, request_type=request_type)
    ]
    context = {
        "kind": kind,
        "title": kind.title or gettext(request_type.name),
        "request_type": request_type,
        "submission": submission,
        "form": submission.form,
        "contact": contact,
        "contact_missing_message": CONTACT_MISSING,
        "phone_form": ContactPhoneForm(prefix=CONTACT_PREFIX),
        "phone_otp_form": OtpForm(prefix=CONTACT_PREFIX),
        "email_form": EmailForm(prefix=CONTACT_PREFIX),
        "pending_phone_hint": phone_last_digits(pending_phone) if pending_phone else "",
        "otp_pending": bool(state.get("otp")),
        "otp_prompt": OTP_PROMPT,
        "otp_form": OtpForm(prefix=OTP_PREFIX),
        "rows": rows,
        "list_title": getattr(kind, "list_title", "")
        or gettext("Toutes vos demandes « %(title)s »") % {"title": kind.title or gettext(request_type.name)},
        "filed": filed,
        "filed_receipt": any(row["request"].number == filed and row["request"].receipt_id for row in rows),
    }
    context.update(extra)
    return render(request, "rak_portal/services/kind.html", context, status=status)


@never_cache
@customer_required
@require_http_methods(["GET", "POST"])
def kind_service(request: HttpRequest, slug: str) -> HttpResponse:
    kind, request_type = _kind_or_404(slug)
    state = _state(request, slug)
    if request.method == "GET":
        return _render(request, kind, request_type, state)
    action = request.POST.get("action", "submit")
    if action in CONTACT_ACTIONS:
        return _contact_action(request, kind, request_type, state, action)
    if action == "otp_validate":
        return _otp_validate(request, kind, request_type, state)
    if action == "otp_resend":
        return _otp_resend(request, kind, state)
    if action == "otp_cancel":
        state.pop("otp", None)
        _save(request, slug, state)
        return redirect("portal:kind_service", slug=slug)
    return _submit(request, kind, request_type, state)


def _submit(request, kind, request_type, state) -> HttpResponse:
    now = clock.now()
    state.pop("otp", None)
    state["post"] = {k: request.POST.getlist(k) for k in request.POST if k not in ("csrfmiddlewaretoken", "action")}
    submission = KindSubmission(
        kind=kind,
        request_type=request_type,
        customer=request.customer,
        staging=state,
        data=request.POST,
        files=request.FILES,
    )
    valid = submission.is_valid(now=now)
    _save(request, kind.slug, state)
    if valid and kind.requires_contact and _contact(request.customer)["missing"]:
        submission.form.add_error(None, str(CONTACT_MISSING))
        valid = False
    if not valid:
        return _render(request, kind, request_type, state, submission=submission, status=400)
    if not kind.requires_otp:
        try:
            sms_request_allow(request, now=now)  # filing queues the acknowledgement SMS
        except RakError as exc:
            submission.form.add_error(None, exc.message)
            return _render(request, kind, request_type, state, submission=submission, status=400)
        return _file(request, kind, state, submission.valid_data)
    phone = customer_sms_phone(request.customer)
    try:
        kind_otp_send(
            customer=request.customer, user=request.user, now=now, sms_allow=lambda: sms_request_allow(request, now=now)
        )
    except OtpResendTooEarly as exc:
        messages.info(request, exc.message)  # the code sent a moment ago is still valid
    except RakError as exc:
        submission.form.add_error(None, exc.message)
        return _render(request, kind, request_type, state, submission=submission, status=400)
    else:
        messages.info(
            request,
            gettext("Un code de confirmation (OTP) vous a été envoyé par SMS au numéro se terminant par %(hint)s.")
            % {"hint": phone_last_digits(phone or "")},
        )
    state["otp"] = {"data": submission.valid_data.to_json()}
    _save(request, kind.slug, state)
    return redirect("portal:kind_service", slug=kind.slug)


def _otp_validate(request, kind, request_type, state) -> HttpResponse:
    pending = state.get("otp")
    if not pending:
        messages.error(request, gettext("Veuillez d'abord remplir le formulaire de la demande."))
        return redirect("portal:kind_service", slug=kind.slug)
    form = OtpForm(request.POST, prefix=OTP_PREFIX)
    if form.is_valid():
        try:
            kind_otp_verify(customer=request.customer, code=form.cleaned_data["otp"], now=clock.now())
        except RakError as exc:
            form.add_error("otp", exc.message)
        else:
            return _file(request, kind, state, kind.data_class.from_json(pending["data"]))
    return _render(request, kind, request_type, state, otp_form=form, status=400)


def _otp_resend(request, kind, state) -> HttpResponse:
    if not state.get("otp"):
        return redirect("portal:kind_service", slug=kind.slug)
    now = clock.now()
    phone = customer_sms_phone(request.customer) or ""
    try:
        sms_request_allow(request, now=now)
        otp_send(phone=phone, purpose=OTP_PURPOSE, now=now, user=request.user)
    except RakError as exc:
        messages.error(request, exc.message)
    else:
        messages.info(request, gettext("Un nouveau code de confirmation vous a été envoyé par SMS."))
    return redirect("portal:kind_service", slug=kind.slug)


def _file(request, kind, state, data) -> HttpResponse:
    try:
        filed = kind_request_file(
            kind=kind,
            customer=request.customer,
            data=data,
            staged=state.get("files", {}),
            staging_token=state.get("token", ""),
            now=clock.now(),
            actor=request.user,
        )
    except RakError as exc:
        state.pop("otp", None)
        _save(request, kind.slug, state)
        messages.error(request, exc.message)
        return redirect("portal:kind_service", slug=kind.slug)
    request.session.pop(_state_key(kind.slug), None)
    request.session[f"rak_kind_filed_{kind.slug}"] = filed.number
    messages.success(
        request,
        gettext(
            "Votre demande n° %(number)s a bien été envoyée. Un email sera envoyé contenant l'accusé de réception "
            "de votre demande."
        )
        % {"number": filed.number},
    )
    return redirect("portal:kind_service", slug=kind.slug)


def _contact_action(request, kind, request_type, state, action) -> HttpResponse:
    """Fill in the missing phone (code by SMS to the new number) or e-mail, through the profile's
    services, without leaving the request's page."""
    now = clock.now()
    customer = request.customer
    back = redirect("portal:kind_service", slug=kind.slug)
    if action == "contact_email":
        form: forms.Form = EmailForm(request.POST, prefix=CONTACT_PREFIX)
        if not form.is_valid():
            return _render(request, kind, request_type, state, email_form=form, status=400)
        customer_services.profile_email_confirm_send(
            customer=customer, user=request.user, email=form.cleaned_data["email"], now=now
        )
        messages.success(
            request,
            gettext(
                "Votre adresse e-mail est enregistrée. Un lien de confirmation vous a été envoyé : il est "
                "valable 48 heures."
            ),
        )
        return back
    if action == "contact_phone":
        form = ContactPhoneForm(request.POST, prefix=CONTACT_PREFIX)
        if not form.is_valid():
            return _render(request, kind, request_type, state, phone_form=form, status=400)
        try:
            sms_request_allow(request, now=now)
            phone = customer_services.profile_phone_change_start(
                customer=customer, user=request.user, phone=form.cleaned_data["phone"], now=now
            )
        except RakError as exc:
            form.add_error("phone", exc.message)
            return _render(request, kind, request_type, state, phone_form=form, status=400)
        request.session[PHONE_CHANGE_SESSION_KEY] = phone
        messages.info(
            request,
            gettext("Un code de confirmation a été envoyé par SMS au numéro se terminant par %(hint)s.")
            % {"hint": phone_last_digits(phone)},
        )
        return back
    phone = request.session.get(PHONE_CHANGE_SESSION_KEY)
    if not phone:
        messages.error(request, gettext("Veuillez d'abord saisir votre numéro de téléphone."))
        return back
    if action == "contact_phone_resend":
        try:
            sms_request_allow(request, now=now)
            customer_services.profile_phone_change_start(customer=customer, user=request.user, phone=phone, now=now)
        except RakError as exc:
            messages.error(request, exc.message)
        else:
            messages.info(request, gettext("Un nouveau code de confirmation vous a été envoyé par SMS."))
        return back
    form = OtpForm(request.POST, prefix=CONTACT_PREFIX)
    if form.is_valid():
        try:
            customer_services.profile_phone_change_confirm(
                customer=customer, user=request.user, phone=phone, otp_code=form.cleaned_data["otp"], now=now
            )
        except RakError as exc:
            form.add_error("otp", exc.message)
        else:
            request.session.pop(PHONE_CHANGE_SESSION_KEY, None)
            messages.success(request, gettext("Votre numéro de téléphone est enregistré et vérifié."))
            return back
    return _render(request, kind, request_type, state, phone_otp_form=form, status=400)
