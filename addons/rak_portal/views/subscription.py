"""« Demande d'abonnement » and « Demande de branchement » (public, 4 steps as in the seed),
the receipt, and « Mes devis ».

The steps keep what was entered in the session (``rak_request_<kind>``): « précédent » goes back
without losing anything. What each step does to that draft is ``rak_requests.drafts`` (the API's
app keeps the same draft in a signed token). Step 1 (skipped by a logged-in customer) sends the OTP (« vérifier »,
« renvoyer ») and only lets the person continue once the phone is verified; a CIN/ICE already
known is asked to log in. Step 3 validates each file by content and size against the document
list of the request type (data) and keeps it in a private staging folder until « valider »
(rak_requests.filing). Step 4 files everything with one service call and shows the receipt.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rak_base import clock
from rak_base.errors import RakError
from rak_base.phones import phone_last_digits
from rak_base.private_files import private_file_response
from rak_base.sms_limits import sms_request_allow
from rak_customer.models import PortalAccount
from rak_customer.selectors import customer_email, customer_sms_phone
from rak_payment_cmi.api import fee_for
from rak_portal.payment_forms import ConditionsForm
from rak_portal.request_forms import ConfirmForm, ConnectionInfoForm, PersonForm, SubscriptionInfoForm, info_initial
from rak_portal.throttling import identity_check_allowed, identity_check_refused_message
from rak_portal.views.account import CustomerRequest, customer_required
from rak_portal.views.bills import lines_for_display
from rak_portal.views.payments import _checkout
from rak_requests.drafts import (
    IdentityChecksExceeded,
    IdentityKnown,
    ServiceUnavailable,
    draft_documents,
    draft_files_stage,
    draft_info_set,
    draft_otp_send,
    draft_otp_verify,
    draft_person_set,
    draft_step,
    draft_submit,
    wizard_request_type,
)
from rak_requests.filing import request_summary
from rak_requests.models import Quote, RequestType, ServiceRequest
from rak_requests.quotes import quote_accept, works_bill_payable, works_pay_start

KINDS = {
    "abonnement": {
        "code": RequestType.Code.SUBSCRIPTION,
        "title": gettext_lazy("Demande d'abonnement"),
        "form": SubscriptionInfoForm,
    },
    "branchement": {
        "code": RequestType.Code.CONNECTION,
        "title": gettext_lazy("Demande de branchement"),
        "form": ConnectionInfoForm,
    },
}
STEPS = [
    gettext_lazy("Informations personnelles"),
    gettext_lazy("Informations de la demande"),
    gettext_lazy("Pièces jointes"),
    gettext_lazy("Validation"),
]
FILED_KEY = "rak_requests_filed"


def _kind(kind: str) -> dict:
    spec = KINDS.get(kind)
    if spec is None:
        raise Http404("Demande inconnue")
    return spec


def _state(request: HttpRequest, kind: str) -> dict:
    return request.session.get(f"rak_request_{kind}") or {}


def _save(request: HttpRequest, kind: str, state: dict) -> None:
    request.session[f"rak_request_{kind}"] = state


def _customer(request: HttpRequest):
    user = request.user
    if user.is_authenticated and getattr(user, "is_customer", False):
        account = PortalAccount.objects.select_related("customer").filter(user=user).first()
        return account.customer if account else None
    return None


def _request_type(kind: str) -> RequestType:
    _kind(kind)
    try:
        return wizard_request_type(kind)
    except ServiceUnavailable as exc:
        raise Http404("Ce service n'est pas disponible") from exc


def _go(kind: str, step: int) -> HttpResponse:
    return redirect("portal:request_step", kind=kind, step=step)


def _render(request, kind, step, context, status=200):
    context.update({"kind": kind, "title": _kind(kind)["title"], "step": step, "steps": STEPS})
    return render(request, f"rak_portal/subscription/step{step}.html", context, status=status)


def subscription(request: HttpRequest) -> HttpResponse:
    return _go("abonnement", 1)


def connection(request: HttpRequest) -> HttpResponse:
    return _go("branchement", 1)


def _draft_customer(request: HttpRequest, kind: str, state: dict, customer) -> dict:
    """The session's draft, for whoever is visiting now (a visitor who logs in keeps it)."""
    state.setdefault("kind", kind)
    state["customer"] = customer.pk if customer is not None else None
    return state


@require_http_methods(["GET", "POST"])
def request_step(request: HttpRequest, kind: str, step: int) -> HttpResponse:
    _kind(kind)
    handler = {1: _step_person, 2: _step_info, 3: _step_files, 4: _step_review}.get(step)
    if handler is None:
        raise Http404("Étape inconnue")
    customer = _customer(request)
    state = _draft_customer(request, kind, _state(request, kind), customer)
    allowed = draft_step(state, customer=customer, step=step)
    if allowed < step:
        return _go(kind, allowed)
    return handler(request, kind, state, customer)


# --- étape 1 ---------------------------------------------------------------------------------


def _step_person(request, kind, state, customer):
    if customer is not None:
        return _go(kind, 2)
    action = request.POST.get("action", "next")
    form = PersonForm(request.POST or None, initial=state.get("person"))
    context = {"form": form, "otp_sent": bool(state.get("otp_phone")), "verified": bool(state.get("phone_verified"))}
    if request.method != "POST":
        return _render(request, kind, 1, context)
    if not form.is_valid():
        return _render(request, kind, 1, context, status=400)
    data = {k: v for k, v in form.cleaned_data.items() if k != "otp"}
    try:
        draft_person_set(
            state=state,
            person=data,
            identity_allowed=lambda identity: identity_check_allowed(request, identity),
            refused_message=identity_check_refused_message(),
        )
    except IdentityChecksExceeded as exc:
        _save(request, kind, state)
        form.add_error("identity", exc.message)
        return _render(request, kind, 1, context, status=429)
    except IdentityKnown:
        _save(request, kind, state)
        context["identity_known"] = True
        return _render(request, kind, 1, context, status=400)
    now = clock.now()
    if action in ("verify", "resend"):
        try:
            draft_otp_send(state=state, now=now, sms_allow=lambda: sms_request_allow(request, now=now))
        except RakError as exc:
            form.add_error("phone", exc.message)
            _save(request, kind, state)
            return _render(request, kind, 1, context, status=400)
        _save(request, kind, state)
        messages.success(
            request,
            _("Un code de confirmation (OTP) vous a été envoyé par SMS au numéro se terminant par %(digits)s.")
            % {"digits": phone_last_digits(data["phone"])},
        )
        return _go(kind, 1)
    try:
        draft_otp_verify(state=state, code=form.cleaned_data.get("otp") or "", now=now)
    except RakError as exc:
        form.add_error("otp", exc.message)
        _save(request, kind, state)
        return _render(request, kind, 1, context, status=400)
    _save(request, kind, state)
    return _go(kind, 2)


# --- étape 2 ---------------------------------------------------------------------------------


def _step_info(request, kind, state, customer):
    form_class = _kind(kind)["form"]
    form = form_class(request.POST or None, initial=state.get("info_initial"))
    if request.method == "POST":
        if request.POST.get("action") == "previous":
            return _go(kind, 1)
        if form.is_valid():
            draft_info_set(state=state, customer=customer, info=form.to_data(), initial=info_initial(form))
            _save(request, kind, state)
            return _go(kind, 3)
        return _render(request, kind, 2, {"form": form, "customer": customer}, status=400)
    return _render(request, kind, 2, {"form": form, "customer": customer})


# --- étape 3 ---------------------------------------------------------------------------------


def _document_rows(request_type, state, errors=None):
    return draft_documents(state, request_type, errors)


def _step_files(request, kind, state, customer):
    request_type = _request_type(kind)
    if request.method == "POST":
        previous = request.POST.get("action") == "previous"
        errors = draft_files_stage(state=state, request_type=request_type, files=request.FILES, finish=not previous)
        _save(request, kind, state)
        if previous and not errors:
            return _go(kind, 2)
        if not errors:
            return _go(kind, 4)
        return _render(
            request, kind, 3, {"rows": _document_rows(request_type, state, errors), "has_errors": True}, status=400
        )
    return _render(request, kind, 3, {"rows": _document_rows(request_type, state)})


# --- étape 4 ---------------------------------------------------------------------------------


def _contact(customer) -> dict:
    return {
        "display_name": customer.display_name,
        "identity": customer.identity,
        "phone": customer_sms_phone(customer) or "",
        "email": customer_email(customer) or "",
        "code": customer.code,
    }


def _step_review(request, kind, state, customer):
    request_type = _request_type(kind)
    form = ConfirmForm(request.POST or None)
    person = _contact(customer) if customer is not None else state.get("person") or {}
    context = {
        "form": form,
        "person": person,
        "customer": customer,
        "summary": request_summary(state["info"], request_type=request_type),
        "documents": [
            (doc.label, state.get("files", {}).get(doc.code)) for doc in request_type.documents.order_by("position")
        ],
    }
    if request.method != "POST":
        return _render(request, kind, 4, context)
    if request.POST.get("action") == "previous":
        return _go(kind, 3)
    if not form.is_valid():
        return _render(request, kind, 4, context, status=400)
    try:
        filing = draft_submit(
            state=state,
            request_type=request_type,
            customer=customer,
            contact=person if customer is not None else None,
            accept_terms=form.cleaned_data["accept_terms"],
            accept_data_processing=form.cleaned_data["accept_data_processing"],
            now=clock.now(),
            actor=request.user if customer is not None else None,
        )
    except RakError as exc:
        form.add_error(None, exc.message)
        return _render(request, kind, 4, context, status=400)
    request.session.pop(f"rak_request_{kind}", None)
    filed = request.session.get(FILED_KEY, [])
    request.session[FILED_KEY] = [*filed[-9:], filing.request.number]
    if filing.delivery is not None:
        request.session[f"rak_request_delivery_{filing.request.number}"] = filing.delivery.message
    return redirect("portal:request_receipt", number=filing.request.number)


# --- reçu --------------------------------------------------------------------------------------


def _filed_request(request: HttpRequest, number: str) -> ServiceRequest:
    """The request this visitor may see: filed from this session, or their own when logged in."""
    found = ServiceRequest.objects.select_related("request_type", "customer", "phase", "receipt").filter(number=number)
    customer = _customer(request)
    if number in request.session.get(FILED_KEY, []):
        result = found.first()
    elif customer is not None:
        result = found.filter(customer=customer).first()
    else:
        result = None
    if result is None:
        raise Http404("Demande introuvable")
    return result


@require_GET
def request_receipt(request: HttpRequest, number: str) -> HttpResponse:
    service_request = _filed_request(request, number)
    return render(
        request,
        "rak_portal/subscription/receipt.html",
        {
            "req": service_request,
            "summary": request_summary(service_request),
            "delivery": request.session.get(f"rak_request_delivery_{number}"),
            "attachments": list(service_request.attachments.order_by("id")),
        },
    )


@require_GET
def request_receipt_pdf(request: HttpRequest, number: str) -> HttpResponseBase:
    service_request = _filed_request(request, number)
    if service_request.receipt is None:
        raise Http404("Reçu introuvable")
    return private_file_response(
        service_request.receipt.file, as_attachment=True, download_name=f"recu-{service_request.number}.pdf"
    )


# --- Mes devis ---------------------------------------------------------------------------------


@customer_required
@require_GET
def quotes(request: CustomerRequest) -> HttpResponse:
    rows = list(
        Quote.objects.filter(request__customer=request.customer)
        .exclude(status=Quote.Status.EN_PREPARATION)
        .select_related("request", "request__phase", "request__fee_bill")
        .prefetch_related("request__events")
        .order_by("-issued_at", "-id")
    )
    today = timezone.localdate(clock.now())
    for quote in rows:
        # per-row values for the template, set on the instances it lists
        quote.history = [e for e in quote.request.events.all() if not e.internal]  # type: ignore[attr-defined]
        quote.expired = (  # type: ignore[attr-defined]
            quote.status == Quote.Status.VALIDE and quote.valid_until is not None and quote.valid_until < today
        )
        bill = quote.request.fee_bill
        # the works invoice the acceptance issued, and « Payer » while it is due
        works_bill = bill if quote.status == Quote.Status.ACCEPTE and bill and bill.kind == "WORKS" else None
        quote.works_bill = works_bill  # type: ignore[attr-defined]
        quote.works_payable = works_bill is not None and works_bill_payable(quote.request)  # type: ignore[attr-defined]
    return render(request, "rak_portal/subscription/quotes.html", {"quotes": rows})


def _own_quote(request: CustomerRequest, pk: int) -> Quote:
    quote = (
        Quote.objects.select_related("document", "request").filter(pk=pk, request__customer=request.customer).first()
    )
    if quote is None:
        raise Http404("Devis introuvable")
    return quote


@customer_required
@require_GET
def quote_pdf(request: CustomerRequest, pk: int) -> HttpResponseBase:
    quote = _own_quote(request, pk)
    if quote.status not in (Quote.Status.VALIDE, Quote.Status.ACCEPTE) or quote.document is None:
        raise Http404("Devis non disponible")
    return private_file_response(quote.document.file, as_attachment=True, download_name=f"devis-{quote.number}.pdf")


@customer_required
@require_POST
def quote_accept_view(request: CustomerRequest, pk: int) -> HttpResponse:
    quote = _own_quote(request, pk)
    try:
        quote_accept(quote_id=quote.pk, customer=request.customer, now=clock.now(), actor=request.user)
    except RakError as exc:
        messages.error(request, exc.message)
    else:
        quote.request.refresh_from_db(fields=["fee_bill"])
        bill = quote.request.fee_bill
        if bill is None:  # accepting issues the works bill: not reached
            raise Http404("Facture introuvable")
        messages.success(
            request,
            _(
                "Vous avez accepté le devis %(quote)s. Payez la facture des travaux n° %(bill)s (%(amount)s DH) "
                "en ligne ou en agence : les travaux seront programmés dès son paiement."
            )
            % {
                "quote": quote.number,
                "bill": bill.number,
                "amount": number_format(bill.total_ttc, 2, force_grouping=True),
            },
        )
    return redirect(reverse("portal:quotes"))


@customer_required
@never_cache
@require_http_methods(["GET", "POST"])
def works_pay(request: CustomerRequest, number: str) -> HttpResponse:
    """« Payer les travaux »: the works invoice of an accepted quote, the online-service fee, the
    conditions, then CMI (as for the subscription fees)."""
    service_request = (
        ServiceRequest.objects.select_related("phase", "fee_bill")
        .filter(customer=request.customer, number=number)
        .first()
    )
    if service_request is None:
        raise Http404("Demande introuvable")
    back = reverse("portal:request_detail", kwargs={"number": service_request.number})
    if not works_bill_payable(service_request):
        messages.info(request, _("Aucune facture de travaux n'est à payer sur cette demande."))
        return redirect(back)
    form = ConditionsForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            order = works_pay_start(
                request_id=service_request.pk,
                customer=request.customer,
                email=customer_email(request.customer) or request.user.email or "",
                now=clock.now(),
            )
        except RakError as exc:
            messages.error(request, exc.message)
            return redirect(back)
        return _checkout(request, order)
    bill = service_request.fee_bill
    if bill is None:
        raise Http404("Facture introuvable")
    fee, fee_vat = fee_for(bill.total_ttc)
    return render(
        request,
        "rak_portal/subscription/works_pay.html",
        {
            "r": service_request,
            "bill": bill,
            "lines": lines_for_display(bill.lines.order_by("position")),
            "fee": fee + fee_vat,
            "total": bill.total_ttc + fee + fee_vat,
            "form": form,
            "back": back,
        },
    )
