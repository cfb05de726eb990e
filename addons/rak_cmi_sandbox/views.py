"""The simulator's pages: the gateway entry point (``/cmi-sandbox/fim/est3Dgate``), the card
page, the return to the merchant, and a list of transactions with « rejouer » buttons."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from rak_base import clock
from rak_base.http import client_ip
from rak_cmi_sandbox import cards, gateway
from rak_cmi_sandbox.models import SandboxTransaction
from rak_payment_cmi.hashing import PHP_TRIM

CALLBACK_MODES = {
    "before": "Avant le retour du navigateur (comme le CMI)",
    "after": "Après le retour du navigateur (3 secondes plus tard)",
    "never": "Jamais (notification perdue)",
}
AFTER_DELAY_SECONDS = 3.0


def _fields(request: HttpRequest) -> dict[str, str]:
    """The merchant's request as the gateway hashes it and echoes it back: the last value of each
    name (PHP's ``$_POST``), PHP-``trim``-ed — so that verifiers that trim the answer's values
    (combindma/cmi-payment) and those that do not (CMI's kit) agree on its HASH."""
    return {name: (values[-1] if values else "").strip(PHP_TRIM) for name, values in request.POST.lists()}


@csrf_exempt
@require_POST
@never_cache
def gate(request: HttpRequest) -> HttpResponse:
    """The merchant's form arrives here (« Payer »): refused as CMI would, or the card page."""
    fields = _fields(request)
    try:
        gateway.request_check(fields)
    except gateway.RequestRefused as exc:
        return render(request, "rak_cmi_sandbox/error.html", {"error": str(exc), "fields": fields}, status=400)
    tx = SandboxTransaction.objects.create(
        token=secrets.token_urlsafe(16),
        created_at=clock.now(),
        oid=gateway._get(fields, "oid"),
        amount=gateway._get(fields, "amount"),
        request=fields,
    )
    return redirect("cmi_sandbox:card", token=tx.token)


def _card_context(tx: SandboxTransaction, **extra) -> dict:
    return {
        "tx": tx,
        "request_fields": tx.request,
        "merchant": settings.CMI_CLIENT_ID,
        "test_cards": [(f"{n[:4]} {n[4:8]} {n[8:12]} {n[12:]}", label) for n, (label, _r) in cards.TEST_CARDS.items()],
        "callback_modes": CALLBACK_MODES,
        "now": clock.now(),
        **extra,
    }


@never_cache
def card(request: HttpRequest, token: str) -> HttpResponse:
    """« DEMANDE DE PAIEMENT » (seed 001 step 5): holder, number, expiry, CVV."""
    tx = get_object_or_404(SandboxTransaction, token=token)
    if tx.outcome != SandboxTransaction.Outcome.PENDING:
        return render(request, "rak_cmi_sandbox/error.html", {"error": "Cette demande de paiement est déjà traitée."})
    if request.method != "POST":
        opening = {"callback_mode": "before", "conditions": "1"}
        return render(request, "rak_cmi_sandbox/card.html", _card_context(tx, form=opening))
    form = {name: request.POST.get(name, "") for name in ("holder", "number", "expiry", "cvv", "callback_mode")}
    now = clock.now()
    form["conditions"] = request.POST.get("conditions", "")
    if "cancel" in request.POST:
        return _cancelled(request, tx)
    if request.POST.get("conditions_shown") and not form["conditions"]:
        # the page's box (seed 001 step 5), ticked when the page opens; untick it and CMI refuses
        errors = {"conditions": "Confirmez l'acceptation des conditions générales d'utilisation du service."}
        return render(request, "rak_cmi_sandbox/card.html", _card_context(tx, form=form, errors=errors), status=422)
    else:
        try:
            result = cards.card_decide(
                holder=form["holder"],
                number=form["number"],
                expiry=form["expiry"],
                cvv=form["cvv"],
                today=now.date(),
            )
        except cards.CardError as exc:
            context = _card_context(tx, form=form, errors={exc.field: exc.message})
            return render(request, "rak_cmi_sandbox/card.html", context, status=422)
        number = cards.digits(form["number"])
    answer = gateway.answer_fields(
        request=tx.request, result=result, number=number, client_ip=client_ip(request), now=now
    )
    tx.outcome = result.outcome
    tx.callback = gateway.callback_fields(answer)
    tx.save(update_fields=["outcome", "callback"])
    mode = form["callback_mode"] if form["callback_mode"] in CALLBACK_MODES else "before"
    if mode == "before":
        gateway.callback_send(tx)
    elif mode == "after":
        gateway.callback_send_later(tx.pk, delay=AFTER_DELAY_SECONDS)
    approved = result.proc_return_code == "00"
    target = gateway._get(tx.request, "okUrl" if approved else "failUrl")
    return render(
        request,
        "rak_cmi_sandbox/redirect.html",
        {"tx": tx, "target": target, "fields": gateway.return_fields(answer), "approved": approved, "result": result},
    )


def _cancelled(request: HttpRequest, tx: SandboxTransaction) -> HttpResponse:
    """« Annuler » as CMI does it: the browser goes back to the merchant's ``shopurl`` (a plain
    GET, nothing signed), and the merchant hears nothing — no callback, no post to failUrl. Its
    order stays where it was (awaiting the gateway) until the customer resumes or abandons it, or
    it expires. Without a usable ``shopurl`` the page says the payment was cancelled."""
    tx.outcome = SandboxTransaction.Outcome.CANCELLED
    tx.save(update_fields=["outcome"])
    shop = gateway._get(tx.request, "shopurl")
    if shop.startswith(("https://", "http://")):
        return redirect(shop)
    return render(request, "rak_cmi_sandbox/error.html", {"error": "Paiement annulé par le client."})


def _recent():
    """The list's transactions: the 50 latest whose card page was answered."""
    return SandboxTransaction.objects.exclude(outcome=SandboxTransaction.Outcome.PENDING)[:50]


@require_GET
@never_cache
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "rak_cmi_sandbox/index.html", {"transactions": _recent()})


@require_POST
def replay(request: HttpRequest, pk: int) -> HttpResponse:
    """Send the transaction's callback again, ``duplicates`` times at once (1 to 50)."""
    tx = get_object_or_404(SandboxTransaction, pk=pk)
    if not tx.callback:  # cancelled on the card page: CMI sends no notification, there is none to replay
        context = {"transactions": _recent(), "error": "Transaction annulée : aucune notification à rejouer."}
        return render(request, "rak_cmi_sandbox/index.html", context, status=409)
    try:
        duplicates = min(max(int(request.POST.get("duplicates", "1")), 1), 50)
    except ValueError:
        duplicates = 1
    answers = gateway.callback_send(tx, duplicates=duplicates)
    summary: dict[str, int] = {}
    for answer in answers:
        summary[f"{answer['status']} {answer['body']}"] = summary.get(f"{answer['status']} {answer['body']}", 0) + 1
    return render(
        request, "rak_cmi_sandbox/index.html", {"transactions": _recent(), "replayed": tx, "summary": summary}
    )
