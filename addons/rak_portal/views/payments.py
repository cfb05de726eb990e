"""Paying bills online (seed 001): quick-pay without login, the logged-in « Payer en ligne »,
« Alimentation des avances », the recap with the conditions, « Payer » (the browser posts to the
gateway), and the receipt (page + PDF).

What the browser sends is only *which* bills (ids among the customer's own open bills) and, for
an advance, the amount to put on the account; every total is recomputed on the server
(``rak_payment_cmi.paying``), exigible bills are always part of the payment. The state between
pages lives in the session (bill ids, e-mail, card type), never an amount.

Receipt access: the logged-in owner of the order, the browser session that created it
(quick-pay), or the signed token of the confirmation e-mail — never an id alone.

One order at a time for the same bills: while an order for them awaits the gateway, « Payer »
sends its owner (logged in, or the quick-pay session that made it) to that order's page
(``payment_pending``: « Reprendre le paiement » or « Abandonner ce paiement »); anyone else gets
a neutral message without the order.
"""

from __future__ import annotations

import datetime
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from rak_base import clock
from rak_base.documents import mask_name
from rak_base.errors import RakError
from rak_base.http import client_ip
from rak_base.private_files import private_file_response
from rak_base.throttle import throttle_hit, throttle_remaining
from rak_billing.api import payment_receipt_context, payment_receipt_pdf, receipt_number
from rak_customer.models import Customer
from rak_customer.selectors import user_may_act_for
from rak_payment_cmi.after_payment import receipt_token, receipt_token_oid
from rak_payment_cmi.api import (
    GatewayNotConfigured,
    OrderNotPayable,
    OrderPending,
    PaymentOrder,
    order_bills,
    order_by_oid,
    order_checkout_form,
    order_is_awaiting_gateway,
    order_payment_reversal,
    order_pending_for_bills,
    payment_order_abandon,
)
from rak_payment_cmi.paying import (
    NothingToPay,
    advance_amount_parse,
    advance_dossiers,
    advance_order_create,
    bills_order_create,
    customer_address,
    fee_for,
    fee_vat_rate_on,
    payable_bills,
    payment_email_default,
    payment_settings_get,
    selection_compute,
)
from rak_portal.payment_forms import AdvanceForm, ConditionsForm, PortalPayForm, QuickPayForm
from rak_portal.views.account import CustomerRequest, customer_required

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

NOTHING_TO_PAY = gettext_lazy("Aucune Facture à payer ou identifiants client inexistant")
TOO_MANY = gettext_lazy("Trop de tentatives depuis votre connexion. Réessayez dans quelques minutes.")
QUICKPAY_KEY = "rak_quickpay"
PORTAL_KEY = "rak_portal_pay"
ADVANCE_KEY = "rak_advance_pay"
ORDERS_KEY = "rak_payment_orders"
QUICKPAY_MINUTES = 20
THROTTLE_LIMIT = 10
THROTTLE_WINDOW = timedelta(minutes=15)
# successful identifications per address: [payments] quickpay_found_per_ip_hourly (settings)
FOUND_WINDOW = timedelta(hours=1)
TOO_MANY_FOUND = gettext_lazy(
    "Trop de factures consultées depuis votre connexion internet. Par sécurité, veuillez réessayer dans "
    "une heure, ou connectez-vous à votre espace client pour payer vos factures."
)


def _today() -> datetime.date:
    return timezone.localdate(clock.now())


def _fee_config(current, vat_rate) -> dict:
    """What the page's script needs to show the fee as boxes change (the server recomputes)."""
    return {
        "mode": current.fee_mode,
        "fixed": f"{current.fee_fixed:.2f}",
        "percent": f"{current.fee_percent}",
        "vat": f"{vat_rate}",
    }


def _remember_order(request: HttpRequest, order: PaymentOrder) -> None:
    oids = [oid for oid in request.session.get(ORDERS_KEY, []) if oid != order.oid][-9:]
    request.session[ORDERS_KEY] = [*oids, order.oid]


def _checkout(request: HttpRequest, order: PaymentOrder) -> HttpResponse:
    """« Payer »: the page that posts the browser to the gateway (CMI, or the sandbox)."""
    try:
        gateway_url, fields = order_checkout_form(order, now=clock.now())
    except GatewayNotConfigured as exc:
        messages.error(request, exc.message)
        return redirect("portal:home")
    except OrderNotPayable as exc:
        messages.error(request, exc.message)
        return redirect("cmi:order_return", oid=order.oid)
    _remember_order(request, order)
    return render(
        request, "rak_portal/pay/checkout.html", {"gateway_url": gateway_url, "fields": fields, "order": order}
    )


def _may_see_order(request: HttpRequest, order: PaymentOrder) -> bool:
    """The browser session that made the order (quick-pay or portal), or its logged-in owner."""
    if order.oid in request.session.get(ORDERS_KEY, []):
        return True
    # its owner: the account's own customer or a code client it linked (issue 13)
    return user_may_act_for(request.user, order.customer_id)


def order_pending_refused(request: HttpRequest, exc: OrderPending, back: str) -> HttpResponse:
    """« Payer » while another order for the same bills awaits the gateway: its owner goes to it
    (resume or abandon); anyone else reads a neutral message, without the order."""
    if _may_see_order(request, exc.order):
        messages.warning(request, exc.message)
        return redirect("portal:payment_pending", oid=exc.order.oid)
    messages.error(
        request,
        _(
            "Un paiement en ligne de ces factures est déjà en cours. Réessayez dans quelques minutes, "
            "ou réglez-les en agence."
        ),
    )
    return redirect(back)


def _pending_shown(request: HttpRequest, context: dict) -> dict:
    """The order this browser session made that still awaits the gateway for one of the listed
    bills (a banner with « Reprendre / Abandonner »); looked up only when the session made orders
    (no query otherwise: an order made elsewhere is met at « Payer », which leads to it)."""
    context["pending_order"] = None
    if request.session.get(ORDERS_KEY):
        pending = order_pending_for_bills([item.bill.pk for item, _checked in context["payable"]], now=clock.now())
        if pending is not None and _may_see_order(request, pending):
            context["pending_order"] = pending
    return context


# --- the bill list and the recap, shared by quick-pay and the portal ------------------------------------


def _selected_ids(request: HttpRequest) -> list[str]:
    return request.POST.getlist("facture")


def _bill_list_context(customer: Customer, selected: list | None, *, masked: bool, email: str) -> dict:
    payable = payable_bills(customer.pk, as_of=_today())
    ids = selected if selected is not None else [item.bill.pk for item in payable]  # all boxes checked at first
    current = payment_settings_get()  # read once for the totals and the page's live preview
    vat_rate = fee_vat_rate_on(_today(), current)
    selection = selection_compute(payable, ids, current=current, vat_rate=vat_rate)
    chosen = set(selection.ids)
    address = customer_address(customer.pk)
    return {
        "customer": customer,
        "customer_name": mask_name(customer.display_name) if masked else customer.display_name,
        "customer_address": mask_name(address) if masked else address,
        "email": email,
        "payable": [(item, item.bill.pk in chosen) for item in payable],
        "selection": selection,
        "fee_config": _fee_config(current, vat_rate),
    }


def _recap_context(customer: Customer, ids: list, *, masked: bool, email: str) -> dict:
    payable = payable_bills(customer.pk, as_of=_today())
    selection = selection_compute(payable, ids)
    address = customer_address(customer.pk)
    return {
        "customer": customer,
        "customer_name": mask_name(customer.display_name) if masked else customer.display_name,
        "customer_address": mask_name(address) if masked else address,
        "email": email,
        "selection": selection,
    }


# --- quick-pay (no login) ------------------------------------------------------------------------------------


def _quickpay_state(request: HttpRequest) -> tuple[dict, Customer] | None:
    state = request.session.get(QUICKPAY_KEY)
    if not state:
        return None
    started = datetime.datetime.fromisoformat(state["at"])
    if clock.now() - started > timedelta(minutes=QUICKPAY_MINUTES):
        request.session.pop(QUICKPAY_KEY, None)
        return None
    customer = Customer.objects.filter(pk=state["customer_id"]).first()
    return (state, customer) if customer else None


@never_cache
@require_http_methods(["GET", "POST"])
def quickpay(request: HttpRequest) -> HttpResponse:
    """Step 2 « Identifiants du client »: code client, e-mail twice, captcha, card type."""
    # « Je ne peux pas lire l'image »: a question written in words instead (rak_portal.captcha_questions)
    question = (request.POST or request.GET).get("verification") == "question"
    form = QuickPayForm(request.POST or None, question=question)
    notice: StrOrPromise = ""
    status = 200
    if request.method == "POST":
        # failed identifications: THROTTLE_LIMIT per THROTTLE_WINDOW; a failure over the limit gets
        # « trop de tentatives » instead of its answer, so no more than THROTTLE_LIMIT answers leak
        # per window. Successful ones (masked name, address and bills shown): their own, generous
        # budget (a family paying several homes, a cybercafé) that stops a script walking the
        # sequential codes; once it is used up every code is refused before it is looked up, so
        # the refusal tells a known code from an unknown one no more than the answer did.
        ip, now = client_ip(request), clock.now()
        key, found_key = f"quickpay:{ip}", f"quickpay:found:{ip}"
        found_limit = settings.QUICKPAY_FOUND_PER_IP_HOURLY
        customer = None
        if not throttle_remaining(key=key, limit=THROTTLE_LIMIT, window=THROTTLE_WINDOW, now=now):
            notice, status = TOO_MANY, 429
        elif not throttle_remaining(key=found_key, limit=found_limit, window=FOUND_WINDOW, now=now):
            notice, status = TOO_MANY_FOUND, 429
        else:
            valid = form.is_valid()
            customer = _quickpay_customer(form.cleaned_data["code"]) if valid else None
            if customer is None and not throttle_hit(key=key, limit=THROTTLE_LIMIT, window=THROTTLE_WINDOW, now=now):
                notice, status = TOO_MANY, 429
            elif customer is not None and not throttle_hit(
                key=found_key, limit=found_limit, window=FOUND_WINDOW, now=now
            ):
                customer, notice, status = None, TOO_MANY_FOUND, 429  # used up meanwhile (posts at once)
            elif valid and customer is None:
                notice = NOTHING_TO_PAY  # unknown code or nothing due: the same answer
            elif customer is not None:
                request.session.cycle_key()
                request.session[QUICKPAY_KEY] = {
                    "customer_id": customer.pk,
                    "email": form.cleaned_data["email"].strip(),
                    "card_type": form.cleaned_data["card_type"],
                    "at": clock.now().isoformat(),
                    "selected": None,
                }
                return redirect("portal:quickpay_bills")
    # the captcha widget draws a new challenge at every rendering (an answer is used once)
    context = {"form": form, "notice": notice, "question": question}
    return render(request, "rak_portal/pay/quickpay.html", context, status=status)


def _quickpay_customer(code: str) -> Customer | None:
    from rak_payment_cmi.paying import quickpay_customer

    return quickpay_customer(code, as_of=_today())


@never_cache
@require_http_methods(["GET", "POST"])
def quickpay_bills(request: HttpRequest) -> HttpResponse:
    """Step 3 « Liste des factures »: check the bills to pay; exigible ones are mandatory."""
    found = _quickpay_state(request)
    if found is None:
        return redirect("portal:quickpay")
    state, customer = found
    selected = state.get("selected")
    if request.method == "POST":
        selected = _selected_ids(request)
        state["selected"] = selected
        request.session[QUICKPAY_KEY] = state
        if "valider" in request.POST:
            if not selection_compute(payable_bills(customer.pk, as_of=_today()), selected).bills:
                messages.error(request, _("Cochez au moins une facture à payer."))
            else:
                return redirect("portal:quickpay_recap")
    context = _bill_list_context(customer, selected, masked=True, email=state["email"])
    if not context["payable"]:
        request.session.pop(QUICKPAY_KEY, None)
        return render(request, "rak_portal/pay/quickpay.html", {"form": QuickPayForm(), "notice": NOTHING_TO_PAY})
    context.update({"mode": "quick", "action": "portal:quickpay_bills", "base_template": "rak_portal/base.html"})
    return render(request, "rak_portal/pay/bills.html", _pending_shown(request, context))


@never_cache
@require_http_methods(["GET", "POST"])
def quickpay_recap(request: HttpRequest) -> HttpResponse:
    """Step 4 « Récapitulatif » then « Payer »."""
    found = _quickpay_state(request)
    if found is None:
        return redirect("portal:quickpay")
    state, customer = found
    ids = state.get("selected") or []
    return _recap(
        request,
        customer=customer,
        ids=ids,
        email=state["email"],
        card_type=state["card_type"],
        masked=True,
        back="portal:quickpay_bills",
        on_paid=lambda: request.session.pop(QUICKPAY_KEY, None),
    )


def _recap(request, *, customer, ids, email, card_type, masked, back, on_paid) -> HttpResponse:
    context = _recap_context(customer, ids, masked=masked, email=email)
    if not context["selection"].bills:
        return redirect(back)
    form = ConditionsForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            order = bills_order_create(
                customer=customer, bill_ids=ids, email=email, card_type=card_type, now=clock.now()
            )
        except NothingToPay:
            messages.error(request, NOTHING_TO_PAY)
            return redirect(back)
        except OrderPending as exc:
            return order_pending_refused(request, exc, back)
        except RakError as exc:
            messages.error(request, exc.message)
            return redirect(back)
        _remember_order(request, order)
        on_paid()
        return _checkout(request, order)
    context.update(
        {
            "form": form,
            "back": back,
            "card_type": dict(PaymentOrder.CardType.choices).get(card_type, ""),
            "base_template": "rak_portal/base.html" if masked else "rak_portal/private_base.html",
        }
    )
    return render(request, "rak_portal/pay/recap.html", context, status=400 if form.errors else 200)


# --- logged in: Payer en ligne --------------------------------------------------------------------------------


def _account_email(request: CustomerRequest) -> str:
    return payment_email_default(user=request.user, customer=request.customer)


@customer_required
@never_cache
@require_http_methods(["GET", "POST"])
def pay_online(request: CustomerRequest) -> HttpResponse:
    """« Payer en ligne » (Mes impayés -> Payer en ligne): the same bill list, not masked."""
    state = request.session.get(PORTAL_KEY) or {}
    selected = state.get("selected")
    form = PortalPayForm(
        request.POST or None,
        initial={
            "email": state.get("email") or _account_email(request),
            "card_type": state.get("card_type") or "MOROCCAN",
        },
    )
    if request.method == "POST":
        selected = _selected_ids(request)
        if form.is_valid():
            request.session[PORTAL_KEY] = {
                "selected": selected,
                "email": form.cleaned_data["email"],
                "card_type": form.cleaned_data["card_type"],
            }
            if "valider" in request.POST:
                if not selection_compute(payable_bills(request.customer.pk, as_of=_today()), selected).bills:
                    messages.error(request, _("Cochez au moins une facture à payer."))
                else:
                    return redirect("portal:pay_recap")
    context = _bill_list_context(request.customer, selected, masked=False, email="")
    context.update(
        {"mode": "portal", "action": "portal:pay_online", "form": form, "base_template": "rak_portal/private_base.html"}
    )
    return render(request, "rak_portal/pay/bills.html", _pending_shown(request, context))


@customer_required
@never_cache
@require_http_methods(["GET", "POST"])
def pay_recap(request: CustomerRequest) -> HttpResponse:
    state = request.session.get(PORTAL_KEY)
    if not state:
        return redirect("portal:pay_online")
    return _recap(
        request,
        customer=request.customer,
        ids=state.get("selected") or [],
        email=state["email"],
        card_type=state["card_type"],
        masked=False,
        back="portal:pay_online",
        on_paid=lambda: request.session.pop(PORTAL_KEY, None),
    )


# --- logged in: Alimentation des avances -------------------------------------------------------------------


@customer_required
@never_cache
@require_http_methods(["GET", "POST"])
def advance(request: CustomerRequest) -> HttpResponse:
    """« Alimentation des avances sur consommation »: a dossier billed by advance, an amount,
    then the recap; « Payer » issues the advance invoice and posts to the gateway."""
    dossiers = advance_dossiers(request.customer.pk)
    current = payment_settings_get()
    if request.method == "POST" and "payer" in request.POST:
        return _advance_pay(request, dossiers)
    form = AdvanceForm(
        request.POST or None,
        dossiers=dossiers,
        initial={"email": _account_email(request), "card_type": "MOROCCAN"},
    )
    recap = None
    if request.method == "POST" and form.is_valid():
        try:
            amount = advance_amount_parse(form.cleaned_data["amount"], current)
        except RakError as exc:
            form.add_error("amount", exc.message)
        else:
            fee, fee_vat = fee_for(amount, current)
            dossier = form.dossiers[form.cleaned_data["dossier"]]
            request.session[ADVANCE_KEY] = {
                "dossier": dossier.number,
                "amount": f"{amount:.2f}",
                "email": form.cleaned_data["email"],
                "card_type": form.cleaned_data["card_type"],
            }
            recap = {"dossier": dossier, "amount": amount, "fee": fee + fee_vat, "total": amount + fee + fee_vat}
    return render(
        request,
        "rak_portal/pay/advance.html",
        {"form": form, "dossiers": dossiers, "recap": recap, "conditions": ConditionsForm(), "settings": current},
    )


def _advance_pay(request: CustomerRequest, dossiers) -> HttpResponse:
    state = request.session.get(ADVANCE_KEY)
    by_number = {d.number: d for d in dossiers}
    if not state or state.get("dossier") not in by_number:
        return redirect("portal:advance")
    conditions = ConditionsForm(request.POST)
    if not conditions.is_valid():
        messages.error(request, str(conditions.errors["conditions"][0]))
        return redirect("portal:advance")
    try:
        order = advance_order_create(
            customer=request.customer,
            dossier=by_number[state["dossier"]],
            amount=state["amount"],
            email=state["email"],
            card_type=state["card_type"],
            now=clock.now(),
        )
    except OrderPending as exc:  # an advance of this dossier already awaits the gateway
        return order_pending_refused(request, exc, "portal:advance")
    except RakError as exc:
        messages.error(request, exc.message)
        return redirect("portal:advance")
    request.session.pop(ADVANCE_KEY, None)
    return _checkout(request, order)


# --- an order awaiting the gateway: resume or abandon -----------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def payment_pending(request: HttpRequest, oid: str) -> HttpResponse:
    """The visitor's own order awaiting the gateway: « Reprendre le paiement » (the same order
    to CMI again) or « Abandonner ce paiement » (then another order can be made). 404 for anyone
    but its owner or the session that made it."""
    order = order_by_oid(oid)
    if order is None or not _may_see_order(request, order):
        raise Http404("Commande introuvable")
    if not order_is_awaiting_gateway(order, now=clock.now()):
        return redirect("cmi:order_return", oid=order.oid)
    if request.user.is_authenticated:
        back = "portal:pay_online"
    else:
        back = "portal:quickpay_bills" if request.session.get(QUICKPAY_KEY) else "portal:quickpay"
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "reprendre":
            return _checkout(request, order)
        if action == "abandonner":
            try:
                payment_order_abandon(order=order.oid, customer=order.customer, now=clock.now())
            except RakError as exc:
                messages.error(request, exc.message)
                return redirect("cmi:order_return", oid=order.oid)
            messages.success(
                request, _("Paiement abandonné : vous pouvez sélectionner vos factures et payer à nouveau.")
            )
            if order.purpose == PaymentOrder.Purpose.REQUEST_FEE and request.user.is_authenticated:
                return redirect("portal:requests")
            return redirect(back)
    return render(
        request,
        "rak_portal/pay/pending.html",
        {
            "order": order,
            "bills": order_bills(order),
            "base_template": "rak_portal/private_base.html"
            if request.user.is_authenticated
            else "rak_portal/base.html",
        },
    )


# --- conditions, receipt ---------------------------------------------------------------------------------------


@require_GET
def payment_terms(request: HttpRequest) -> HttpResponse:
    return render(request, "rak_portal/pay/conditions.html", {"fee": payment_settings_get()})


def _order_for_receipt(request: HttpRequest, oid: str) -> PaymentOrder:
    """The order if this visitor may see its receipt, else 404 (whether it exists or not)."""
    order = order_by_oid(oid)
    if order is None:
        raise Http404("Reçu introuvable")
    allowed = oid in request.session.get(ORDERS_KEY, [])
    if not allowed:
        allowed = user_may_act_for(request.user, order.customer_id)
    if not allowed and request.GET.get("t"):
        allowed = receipt_token_oid(request.GET["t"]) == oid
        if allowed:
            _remember_order(request, order)
    if not allowed:
        raise Http404("Reçu introuvable")
    return order


@never_cache
@require_GET
def payment_receipt(request: HttpRequest, oid: str) -> HttpResponse:
    """Step 6 « Reçu de paiement »: « Imprimer » and the PDF."""
    order = _order_for_receipt(request, oid)
    if order.status != PaymentOrder.Status.PAID or order.payment is None or order_payment_reversal(order):
        return redirect("cmi:order_return", oid=order.oid)  # a reversed payment: « annulé le … »
    context = payment_receipt_context(order.payment)
    context.update({"order": order, "token": receipt_token(order.oid)})
    return render(request, "rak_portal/pay/receipt.html", context)


@never_cache
@require_GET
def payment_receipt_pdf_view(request: HttpRequest, oid: str) -> HttpResponseBase:
    order = _order_for_receipt(request, oid)
    if order.status != PaymentOrder.Status.PAID or order.payment is None:  # payment: select_related
        raise Http404("Reçu introuvable")
    try:
        document = payment_receipt_pdf(order.payment, language=get_language())
    except RakError as exc:  # the payment was reversed by staff: its receipt is revoked
        raise Http404(exc.message) from exc
    return private_file_response(
        document.file, as_attachment=True, download_name=f"recu-{receipt_number(order.payment)}.pdf"
    )


# --- the card-payment return page (rak_payment_cmi asks for its layout and links) ----------------------------------


def order_return_page(*, request: HttpRequest, order: PaymentOrder) -> dict[str, object]:
    """Answer to ``HOOK_ORDER_RETURN_PAGE``: the portal's look, and for the visitor who made the
    order (or its logged-in owner) « Réessayer » and the way back to the bills, the advance or the
    request the payment was for."""
    from django.urls import reverse

    from rak_requests.models import ServiceRequest

    customer_user = request.user.is_authenticated and getattr(request.user, "is_customer", False)
    answer: dict[str, object] = {"layout": "rak_portal/private_base.html" if customer_user else "rak_portal/base.html"}
    if not _may_see_order(request, order):
        return answer
    logged_in_owner = customer_user and user_may_act_for(request.user, order.customer_id)
    if order.purpose == PaymentOrder.Purpose.REQUEST_FEE:
        number = (
            ServiceRequest.objects.filter(customer_id=order.customer_id, fee_bill__in=order.bills.all())
            .values_list("number", flat=True)
            .first()
        )
        if logged_in_owner and number:
            back, label = reverse("portal:request_detail", args=[number]), _("Retour à ma demande")
        elif logged_in_owner:
            back, label = reverse("portal:requests"), _("Retour au suivi des demandes")
        else:
            back, label = reverse("portal:home"), _("Retour au site de la RAK")
    elif order.purpose == PaymentOrder.Purpose.ADVANCE and logged_in_owner:
        back, label = reverse("portal:advance"), _("Retour à l'alimentation des avances")
    elif logged_in_owner:
        back, label = reverse("portal:pay_online"), _("Retour à mes factures")
    elif request.session.get(QUICKPAY_KEY):
        back, label = reverse("portal:quickpay_bills"), _("Retour à mes factures")
    else:
        back, label = reverse("portal:quickpay"), _("Retour au paiement de mes factures")
    answer.update({"back_url": back, "back_label": label})
    if order_is_awaiting_gateway(order, now=clock.now()):
        answer["retry_url"] = reverse("portal:payment_pending", args=[order.oid])
    else:
        answer["restart_url"] = back
    return answer
