"""« Facture électronique » (issue 13): the customer chooses to stop paper bills — they stay in
« Mes factures », announced by SMS / e-mail — or goes back to paper. One service call
(rak_customer.efacture.efacture_set), the same as the API's PUT /api/v1/e-invoice/."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from rak_base import clock
from rak_customer.efacture import EXPLANATION, efacture_history, efacture_set, efacture_state
from rak_portal.complaint_forms import EInvoiceForm
from rak_portal.views.account import CustomerRequest, customer_required


@customer_required
@require_http_methods(["GET", "POST"])
def efacture_page(request: CustomerRequest) -> HttpResponse:
    customer = request.customer
    state = efacture_state(customer)
    status = 200
    if request.method == "POST":
        form = EInvoiceForm(request.POST)
        if form.is_valid():
            enabled = form.cleaned_data["choice"] == "electronique"
            efacture_set(customer_id=customer.pk, enabled=enabled, by=request.user, now=clock.now())
            if enabled:
                messages.success(
                    request,
                    _(
                        "C'est noté : vous recevez désormais vos factures sous forme électronique, sans facture "
                        "papier. Elles restent dans « Mes factures »."
                    ),
                )
            else:
                messages.success(request, _("C'est noté : vous recevrez de nouveau vos factures papier par courrier."))
            return redirect("portal:e_invoice")
        status = 400
    else:
        form = EInvoiceForm(initial={"choice": "electronique" if state.enabled else "papier"})
    context = {
        "form": form,
        "state": state,
        "explanation": EXPLANATION,
        "history": efacture_history(customer, limit=5),
    }
    return render(request, "rak_portal/efacture.html", context, status=status)
