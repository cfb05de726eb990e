"""« Demande d'attestations » and « Mes abonnements » (seed 000).

Attestations: choose the type and the dossier, « Générer » (one service call,
``rak_requests.kinds.attestation.attestation_generate``), then « Voir » opens the PDF. Mes
abonnements: the customer's dossiers with their status; the magnifier lists what the RAK did on each.

Every dossier and attestation is looked up through the logged-in customer (``request.customer``):
another customer's number is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods

from rak_base import clock
from rak_base.errors import RakError
from rak_base.private_files import private_file_response
from rak_billing.api import mandate_active
from rak_customer.api import customer_dossier, customer_dossiers
from rak_portal.views.account import CustomerRequest, customer_required
from rak_requests.kinds.attestation import (
    AttestationForm,
    attestation_generate,
    customer_attestation_document,
    customer_attestations,
)
from rak_requests.tracking import dossier_timeline


def _attestations_page(request: CustomerRequest, form: AttestationForm, *, status: int = 200) -> HttpResponse:
    return render(
        request,
        "rak_portal/attestations/page.html",
        {"form": form, "rows": customer_attestations(request.customer.pk)},
        status=status,
    )


@customer_required
@require_http_methods(["GET", "POST"])
def attestations(request: CustomerRequest) -> HttpResponse:
    if request.method != "POST":
        return _attestations_page(request, AttestationForm(customer=request.customer))
    form = AttestationForm(request.POST, customer=request.customer)
    if not form.is_valid():
        return _attestations_page(request, form, status=400)
    try:
        generated = attestation_generate(
            customer=request.customer,
            attestation_type=form.cleaned_data["attestation_type"],
            dossier_number=form.cleaned_data["dossier_number"],
            now=clock.now(),
            actor=request.user,
        )
    except RakError as exc:
        form.add_error(None, exc.message)
        return _attestations_page(request, form, status=400)
    messages.success(
        request,
        gettext("Votre attestation n° %(number)s a été générée : cliquez sur « Voir » pour la visualiser.")
        % {"number": generated.request.number},
    )
    return redirect("portal:attestations")


@customer_required
@require_GET
def attestation_pdf(request: CustomerRequest, number: str) -> HttpResponseBase:
    """« Voir »: the PDF of one of the customer's attestations, shown in the browser."""
    document = customer_attestation_document(request.customer.pk, number)
    if document is None:
        raise Http404("Attestation introuvable")
    return private_file_response(document.file, download_name=f"attestation-{number}.pdf")


@customer_required
@require_GET
def my_dossiers(request: CustomerRequest) -> HttpResponse:
    """« Mes abonnements »."""
    return render(request, "rak_portal/dossiers/list.html", {"dossiers": customer_dossiers(request.customer.pk)})


@customer_required
@require_GET
def my_dossier(request: CustomerRequest, number: str) -> HttpResponse:
    """The magnifier of « Mes abonnements »: the operations on one of the customer's dossiers."""
    dossier = customer_dossier(request.customer.pk, number)
    if dossier is None:
        raise Http404("Dossier introuvable")
    return render(
        request,
        "rak_portal/dossiers/detail.html",
        {"dossier": dossier, "operations": dossier_timeline(dossier), "mandate": mandate_active(dossier.pk)},
    )
