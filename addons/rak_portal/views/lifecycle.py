"""The subscription lifecycle on the customer's side (seed « Signature du contrat et appel
vidéo », « Paiement des frais »): « Appeler », « Signer en ligne » (scroll the contract, draw the
signature on the canvas, « Signer le contrat »), « Payer les frais » through CMI, the signed
contract's PDF (after payment) and its signature image.

Every request and contract is looked up through the logged-in customer: another customer's
number or contract id is a 404. A view parses, calls one service (``rak_requests.lifecycle``),
renders. The request page includes ``rak_portal/lifecycle/_actions.html``
(``{% load rak_lifecycle %}{% lifecycle_actions r %}``) for the buttons.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rak_base import clock
from rak_base.errors import RakError
from rak_base.http import client_ip
from rak_base.private_files import private_file_response
from rak_customer.selectors import customer_email
from rak_payment_cmi.api import OrderPending, fee_for
from rak_portal.payment_forms import ConditionsForm
from rak_portal.views.account import CustomerRequest, customer_required
from rak_portal.views.bills import lines_for_display
from rak_portal.views.payments import _checkout, order_pending_refused
from rak_requests import lifecycle
from rak_requests.models import Contract, ServiceRequest

CALL_DONE = gettext_lazy(
    "Votre demande d'appel est enregistrée : un conseiller de la RAK va vous appeler pour vérifier votre identité."
)


def _own_request(request: CustomerRequest, number: str) -> ServiceRequest:
    found = (
        ServiceRequest.objects.select_related("phase", "request_type", "fee_bill", "customer")
        .filter(customer=request.customer, number=number)
        .first()
    )
    if found is None:
        raise Http404("Demande introuvable")
    return found


def _own_contract(request: CustomerRequest, pk: int) -> Contract:
    found = (
        Contract.objects.select_related("request__fee_bill", "document")
        .filter(pk=pk, request__customer=request.customer)
        .first()
    )
    if found is None:
        raise Http404("Contrat introuvable")
    return found


def request_page_url(service_request: ServiceRequest) -> str:
    """The request's page (« Suivi des demandes »), or the signing page while it is not routed."""
    try:
        return reverse("portal:request_detail", kwargs={"number": service_request.number})
    except NoReverseMatch:
        return reverse("portal:lifecycle_sign", kwargs={"number": service_request.number})


@customer_required
@require_POST
def call(request: CustomerRequest, number: str) -> HttpResponse:
    """« Appeler »: a call request the agents see; the customer is told they will be called."""
    service_request = _own_request(request, number)
    try:
        lifecycle.call_request_create(request_id=service_request.pk, customer=request.customer, now=clock.now())
    except lifecycle.RequestNotFound as exc:
        raise Http404 from exc
    except RakError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, CALL_DONE)
    return redirect(request_page_url(service_request))


@customer_required
@never_cache
@require_http_methods(["GET", "POST"])
def sign(request: CustomerRequest, number: str) -> HttpResponse:
    """« Signer en ligne »: the contract(s) to read and sign, one after the other."""
    service_request = _own_request(request, number)
    if service_request.phase is not None and service_request.phase.code == "SIGNATURE":
        lifecycle.contracts_ensure(request=service_request, now=clock.now())
    error = ""
    if request.method == "POST":
        try:
            contract_id = int(request.POST.get("contract", ""))
        except ValueError as exc:
            raise Http404 from exc
        try:
            signed = lifecycle.contract_sign(
                contract_id=contract_id,
                customer=request.customer,
                signature_data_url=request.POST.get("signature", ""),
                ip=client_ip(request),
                now=clock.now(),
            )
        except lifecycle.RequestNotFound as exc:
            raise Http404 from exc
        except RakError as exc:
            error = exc.message
        else:
            service_request.refresh_from_db()
            if service_request.expected_action == ServiceRequest.Action.PAY:
                messages.success(request, _("Votre contrat est signé. Il vous reste à payer vos frais d'abonnement."))
                return redirect("portal:lifecycle_pay", number=service_request.number)
            messages.success(
                request, _("Contrat %(service)s signé.") % {"service": signed.get_service_display().lower()}
            )
            return redirect("portal:lifecycle_sign", number=service_request.number)
    state = lifecycle.lifecycle_state(service_request)
    draft = next((c for c in state["contracts"] if c.status == Contract.Status.DRAFT), None)
    return render(
        request,
        "rak_portal/lifecycle/sign.html",
        {
            "r": service_request,
            "state": state,
            "contract": draft,
            "error": error,
            "back": request_page_url(service_request),
        },
        status=400 if error else 200,
    )


@customer_required
@never_cache
@require_http_methods(["GET", "POST"])
def pay(request: CustomerRequest, number: str) -> HttpResponse:
    """« Payer les frais »: the fees invoice, the online-service fee, the conditions, then CMI."""
    service_request = _own_request(request, number)
    if not lifecycle.can_pay(service_request):
        if service_request.fee_bill_id is None:
            messages.error(request, str(lifecycle.PaymentRefused.default_message))
        else:
            messages.info(request, _("Vos frais d'abonnement sont payés."))
        return redirect(request_page_url(service_request))
    form = ConditionsForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            order = lifecycle.fees_pay_start(
                request_id=service_request.pk,
                customer=request.customer,
                email=customer_email(request.customer) or request.user.email or "",
                now=clock.now(),
            )
        except lifecycle.RequestNotFound as exc:
            raise Http404 from exc
        except OrderPending as exc:  # another tab's order for these fees awaits the gateway
            return order_pending_refused(request, exc, request_page_url(service_request))
        except RakError as exc:
            messages.error(request, exc.message)
            return redirect(request_page_url(service_request))
        return _checkout(request, order)
    bill = service_request.fee_bill
    if bill is None:
        raise Http404("Facture introuvable")
    fee, fee_vat = fee_for(bill.total_ttc)
    return render(
        request,
        "rak_portal/lifecycle/pay.html",
        {
            "r": service_request,
            "bill": bill,
            "lines": lines_for_display(bill.lines.order_by("position")),
            "fee": fee + fee_vat,
            "total": bill.total_ttc + fee + fee_vat,
            "form": form,
            "back": request_page_url(service_request),
        },
    )


@customer_required
@require_GET
def contract_pdf(request: CustomerRequest, pk: int) -> HttpResponseBase:
    """The signed contract (registered PDF): kept by the RAK until the fees are paid (seed)."""
    contract = _own_contract(request, pk)
    if contract.document is None or not lifecycle.contracts_downloadable(contract.request):
        raise Http404("Contrat non disponible")
    return private_file_response(
        contract.document.file,
        as_attachment=True,
        download_name=f"contrat-{contract.request.number}-{contract.service.lower()}.pdf",
    )


@customer_required
@require_GET
def signature_image(request: CustomerRequest, pk: int) -> HttpResponseBase:
    """The customer's own drawn signature (private storage)."""
    contract = _own_contract(request, pk)
    if not contract.signature:
        raise Http404("Signature absente")
    return private_file_response(contract.signature)
