"""The gateway's endpoints (callback, okUrl, failUrl) and the minimal return page.

- ``callback``: CMI's server-to-server POST; answers plain text ``ACTION=POSTAUTH``, ``APPROVED``
  or ``FAILURE``. No CSRF token (CMI cannot have one); the HASH is the authentication.
- ``ok_return`` / ``fail_return``: the browser's signed POST from CMI (a cross-site POST, so no
  session cookie comes with it): stored, verified, then a 303 to the return page, which the
  browser opens with its session.
- ``order_return``: « paiement en cours de confirmation » until the callback has marked the
  order PAID (polls ``order_status``; a meta refresh without JavaScript), then the receipt link.
- ``order_left``: the order's ``shopurl``, where CMI's « Annuler » sends the browser (a plain GET:
  CMI signs nothing and calls no callback). An order still untouched by the gateway reads
  « Paiement non effectué », with « Reprendre le paiement » / « Abandonner ce paiement » for the
  visitor who made it; any other order goes to its return page, which tells its status.
"""

from __future__ import annotations

import logging

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from rak_base import clock
from rak_base.hooks import hook_collect
from rak_base.http import client_ip
from rak_base.middleware import accepts_nul_bytes
from rak_payment_cmi import selectors, services
from rak_payment_cmi.models import CmiCallback, PaymentOrder

logger = logging.getLogger(__name__)


#: A CMI message is a few kilobytes (about forty fields, none longer than a few hundred characters).
#: Anything bigger is not CMI's: refused before it is stored, so that anonymous posts to these
#: endpoints cannot fill the message journal (up to Django's 2.5 MB a request otherwise).
MESSAGE_MAX_CHARACTERS = 64 * 1024


def _oversized(request: HttpRequest) -> bool:
    size = 0
    for name, values in request.POST.lists():
        size += len(name) + sum(len(value) for value in values)
        if size > MESSAGE_MAX_CHARACTERS:
            logger.warning("CMI endpoint %s: message of more than %s characters refused", request.path, size)
            return True
    return False


@accepts_nul_bytes  # the raw message is stored first (NUL escaped), then refused
@csrf_exempt
@require_POST
def callback(request: HttpRequest) -> HttpResponse:
    if _oversized(request):
        return HttpResponse(services.ANSWER_FAILURE, status=413, content_type="text/plain; charset=utf-8")
    message = services.payment_apply_callback(data=request.POST, remote_ip=client_ip(request), now=clock.now())
    return HttpResponse(message.response, content_type="text/plain; charset=utf-8")


def _browser_return(request: HttpRequest, kind: str) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if _oversized(request):
        return render(request, "rak_payment_cmi/return_invalid.html", {"message": None}, status=413)
    message, order = services.payment_order_return(
        kind=kind, data=request.POST, remote_ip=client_ip(request), now=clock.now()
    )
    if order is None:
        return render(request, "rak_payment_cmi/return_invalid.html", {"message": message}, status=400)
    return redirect("cmi:order_return", oid=order.oid, permanent=False)


@accepts_nul_bytes
@csrf_exempt
@never_cache
def ok_return(request: HttpRequest) -> HttpResponse:
    return _browser_return(request, CmiCallback.Kind.OK_RETURN)


@accepts_nul_bytes
@csrf_exempt
@never_cache
def fail_return(request: HttpRequest) -> HttpResponse:
    return _browser_return(request, CmiCallback.Kind.FAIL_RETURN)


def _order_or_404(oid: str) -> PaymentOrder:
    order = selectors.order_by_oid(oid)
    if order is None:
        raise Http404
    return order


@require_GET
@never_cache
def order_return(request: HttpRequest, oid: str) -> HttpResponse:
    order = _order_or_404(oid)
    return _order_page(request, order)


def _order_page(request: HttpRequest, order: PaymentOrder, *, left: bool = False) -> HttpResponse:
    """The return page; ``left``: the customer left CMI's page with « Annuler »."""
    context = {
        "order": order,
        "status": selectors.order_public_status(order),
        "left": left,
        "bills": selectors.order_bills(order),
        "reason": "" if left else selectors.order_failure_reason(order),
        "layout": "rak_payment_cmi/layout.html",
    }
    for answer in hook_collect(selectors.HOOK_ORDER_RETURN_PAGE, request=request, order=order):
        context.update(answer)
    return render(request, "rak_payment_cmi/order_return.html", context)


@require_GET
@never_cache
def order_left(request: HttpRequest, oid: str) -> HttpResponse:
    order = _order_or_404(oid)
    if not selectors.order_is_pending(order):  # the gateway answered since: its status says what happened
        return redirect("cmi:order_return", oid=order.oid)
    return _order_page(request, order, left=True)


@require_GET
@never_cache
def order_status(request: HttpRequest, oid: str) -> JsonResponse:
    order = _order_or_404(oid)
    return JsonResponse(selectors.order_public_status(order))
