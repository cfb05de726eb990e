"""« Demande de remboursement » and « Mes remboursements » (seed 000).

- ``refund_request``: the refunds the customer is owed (origin, amount, status), each with
  « demander le remboursement » -> a confirmation inviting to « valider » -> the request filed
  (``rak_requests.kinds.refund.refund_request_file``) -> success message, status « Demande en
  attente ». Refusals (unpaid bills, no phone, nothing owed, already asked) are shown at once, in red,
  with their French message; nothing is filed.
- ``my_refunds``: two panes, « Mes remboursements » (the requests and the refunds paid, with their
  status and receipt) and « Mes résiliations » (per terminated dossier: request, date, final bill,
  deposit deducted, balance débiteur / créditeur; a dossier terminated without an account closing
  here — before the online agency, or in the former system — is listed with its end date).
- ``refund_receipt``: a refund's receipt PDF, looked up through the logged-in customer (another
  customer's refund: 404).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from rak_base import clock
from rak_base.errors import RakError
from rak_base.private_files import private_file_response
from rak_base.sms_limits import sms_request_allow
from rak_billing.api import (
    customer_refund,
    customer_refunds,
    customer_terminations,
    refund_credit_available,
    refund_receipt_number,
    refundable_items,
)
from rak_customer.api import Dossier, customer_dossiers
from rak_portal.views.account import CustomerRequest, customer_required
from rak_requests.kinds.refund import (
    customer_refund_requests,
    refund_request_check,
    refund_request_file,
    refund_request_status,
)
from rak_requests.models import ServiceRequest


def _page(request: CustomerRequest, *, confirm=None, error: str = "", status: int = 200) -> HttpResponse:
    customer = request.customer
    items = refundable_items(customer)
    requests = customer_refund_requests(customer.pk)
    open_by_item: dict = {}
    for r in requests:
        if r.status in (ServiceRequest.Status.EN_COURS, ServiceRequest.Status.COMPLEMENT_DEMANDE):
            open_by_item.setdefault((r.data or {}).get("item"), r)
    rows = [{"item": item, "pending": open_by_item.get(item.key)} for item in items]
    context = {
        "rows": rows,
        "total": sum((item.amount for item in items), 0),
        "confirm": confirm,
        "error": error,
        "requests": [{"request": r, "status": refund_request_status(r)} for r in requests[:10]],
    }
    return render(request, "rak_portal/refunds/request.html", context, status=status)


@customer_required
@require_http_methods(["GET", "POST"])
def refund_request(request: CustomerRequest) -> HttpResponse:
    if request.method == "GET":
        return _page(request)
    item = (request.POST.get("item") or "").strip()[:24]
    step = request.POST.get("step")
    try:
        if step == "valider":
            now = clock.now()
            sms_request_allow(request, now=now)  # filing sends the acknowledgement SMS
            filed = refund_request_file(customer=request.customer, item=item, now=now, actor=request.user)
        else:  # « demander le remboursement »: checked at once, then the confirmation
            data = refund_request_check(customer=request.customer, item=item)
            return _page(request, confirm=data)
    except RakError as exc:
        return _page(request, error=exc.message, status=422 if step == "valider" else 200)
    messages.success(
        request,
        _(
            "Votre demande de remboursement n° %(number)s a bien été envoyée. Un conseiller client prend contact "
            "avec vous pour confirmer votre demande et vous expliquer les démarches."
        )
        % {"number": filed.number},
    )
    return redirect("portal:refund_request")


@customer_required
@require_GET
def my_refunds(request: CustomerRequest) -> HttpResponse:
    customer = request.customer
    requests = customer_refund_requests(customer.pk)
    refunds = list(customer_refunds(customer.pk)[:100])
    by_request = {r.request_ref: r for r in refunds if r.request_ref}
    request_rows = [
        {"request": r, "status": refund_request_status(r), "refund": by_request.get(r.number)} for r in requests
    ]
    numbers = {r.number for r in requests}
    terminations = customer_terminations(customer.pk)
    closed = {t.dossier_number for t in terminations}
    context = {
        "request_rows": request_rows,
        "other_refunds": [r for r in refunds if r.request_ref not in numbers],
        "credit": refund_credit_available(customer),
        "terminations": terminations,
        "terminated_without_closing": [
            d
            for d in customer_dossiers(customer.pk)
            if d.status == Dossier.Status.TERMINATED and d.number not in closed
        ],
    }
    return render(request, "rak_portal/refunds/mine.html", context)


@customer_required
@require_GET
def refund_receipt(request: CustomerRequest, pk: int) -> HttpResponseBase:
    refund = customer_refund(request.customer.pk, pk)
    if refund is None or refund.receipt is None or refund.receipt.revoked_at is not None:
        raise Http404(_("Reçu introuvable"))
    return private_file_response(
        refund.receipt.file, download_name=f"recu-remboursement-{refund_receipt_number(refund)}.pdf"
    )
