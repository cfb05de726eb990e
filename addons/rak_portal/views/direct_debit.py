"""« Télécharger le formulaire de demande » of « Demande de domiciliation bancaire »: the PDF
pre-filled for one of the logged-in customer's addresses (``?local=<référence du local>``). The
premises is looked up through the customer: another customer's premises (or an unknown one) is a
404. The rest of the request is the generic flow (rak_portal.views.kind_services)."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET

from rak_base import clock
from rak_portal.views.account import CustomerRequest, customer_required
from rak_requests.kinds import direct_debit


@customer_required
@require_GET
def form_pdf(request: CustomerRequest) -> HttpResponse:
    premises = direct_debit.premises_of_customer(request.customer.pk, (request.GET.get("local") or "").strip())
    if premises is None:
        raise Http404("Local introuvable")
    pdf, filename = direct_debit.form_pdf(customer=request.customer, premises=premises, now=clock.now())
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
