"""« Mes provisions » (seed 000): for a customer paying by « carte congé » (dossiers billed by
advance) the three panes « Relevé de compte », « Abonnement concernés » and « Avance sur
consommation » — the bills are deducted automatically from the provision
(``rak_billing.provisions``) —; for the others, the deposit paid at subscription per dossier. Only
the logged-in customer's own dossiers and bills (``rak_billing.selectors.customer_provisions``).

Also the two templates to download of « Demande de bénéficier du système tarification des compteurs
collectifs » (the request itself is the generic flow at /espace/services/compteurs-collectifs/)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from rak_billing import selectors
from rak_customer.models import PortalAccount
from rak_portal.views.account import CustomerRequest, customer_required


@customer_required
@require_GET
def provisions(request: CustomerRequest) -> HttpResponse:
    return render(
        request, "rak_portal/bills/provisions.html", {"provisions": selectors.customer_provisions(request.customer.pk)}
    )


# --- « Demande de bénéficier du système tarification des compteurs collectifs »: the templates ----


@require_GET
def collective_meter_template(request: HttpRequest, which: str) -> HttpResponse:
    """« modèle de la demande » / « attestation administrative » as PDFs made by the app,
    pre-filled with the customer's name, code client and dossiers when a customer is logged in
    (blank otherwise); an unknown template is a 404."""
    from rak_requests.kinds import collective_meter

    if which not in collective_meter.TEMPLATES:
        raise Http404
    customer = None
    user = request.user
    if user.is_authenticated and getattr(user, "is_customer", False):
        account = PortalAccount.objects.select_related("customer").filter(user=user).first()
        customer = account.customer if account else None
    pdf, filename = collective_meter.template_pdf(which, customer=customer)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
