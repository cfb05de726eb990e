"""« Mes notifications » (issue 13): the customer's preferences (category × channel) and the
Web Push subscription endpoints the web app's script calls (JSON, CSRF header X-CSRFToken)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from rak_base import clock
from rak_base.errors import RakError
from rak_base.http import json_too_deep
from rak_base.notification_kinds import Channel, can_turn_off, customer_categories
from rak_base.push import push_configured, push_subscription_delete, push_subscription_save, vapid_public_key
from rak_customer.notification_preferences import customer_notification_matrix, customer_notification_preferences_set
from rak_portal.views.account import CustomerRequest, customer_required

MAX_BODY = 4096  # a subscription is about 500 bytes


def cell_name(category: str, channel: str) -> str:
    return f"{category}__{channel}"


def choices_from_post(data) -> dict[tuple[str, str], bool]:
    """Every cell the customer can change: checked (posted) or not (an unchecked box posts nothing);
    the « toujours envoyé » ones, disabled on the page, are never read."""
    return {
        (spec.code, channel): cell_name(spec.code, channel) in data
        for spec in customer_categories()
        for channel in Channel.values
        if can_turn_off(spec.code, channel)
    }


@customer_required
@require_http_methods(["GET", "POST"])
def notification_preferences(request: CustomerRequest) -> HttpResponse:
    if request.method == "POST":
        customer_notification_preferences_set(
            user=request.user, customer=request.customer, choices=choices_from_post(request.POST), now=clock.now()
        )
        messages.success(request, gettext("Vos préférences de notification ont été enregistrées."))
        return redirect("portal:notification_preferences")
    context = {
        "rows": customer_notification_matrix(user=request.user, customer=request.customer),
        "channels": Channel.choices,
        "push_key": vapid_public_key(),
        "push_subscribed": request.user.push_subscriptions.exists() if push_configured() else False,
    }
    return render(request, "rak_portal/notification_preferences.html", context)


def _json_error(message, status: int, code: str, field: str = "") -> JsonResponse:
    return JsonResponse({"code": code, "message": str(message), "field": field}, status=status)


def _json_body(request: HttpRequest):
    if len(request.body) > MAX_BODY:
        return None
    try:
        data = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # nested ~1,000 deep: RecursionError
        return None
    return data if isinstance(data, dict) and not json_too_deep(data) else None


def _push_view(handler):
    """Signed-in customers only (a JSON 403 otherwise: the caller is a script), a JSON object body."""

    def view(request: HttpRequest) -> JsonResponse:
        user = request.user
        if not user.is_authenticated or not getattr(user, "is_customer", False):
            return _json_error(gettext("Veuillez vous connecter."), 403, "not_authenticated")
        data = _json_body(request)
        if data is None:
            return _json_error(gettext("Requête invalide."), 400, "bad_request")
        try:
            return handler(request, data)
        except RakError as exc:
            return _json_error(exc.message, 400, getattr(exc, "code", "invalid"), str(exc.params.get("field", "")))

    view.__name__ = handler.__name__
    view.__doc__ = handler.__doc__
    return require_POST(view)


@_push_view
def push_subscribe(request: HttpRequest, data: dict) -> JsonResponse:
    """``{endpoint, keys: {p256dh, auth}}`` from ``PushManager.subscribe()`` → 201."""
    keys = data.get("keys")
    if not isinstance(keys, dict):
        keys = {}
    push_subscription_save(
        user=request.user,
        endpoint=data.get("endpoint"),
        p256dh=keys.get("p256dh"),
        auth=keys.get("auth"),
        user_agent=request.headers.get("User-Agent", ""),
        now=clock.now(),
    )
    return JsonResponse({"subscribed": True}, status=201)


@_push_view
def push_unsubscribe(request: HttpRequest, data: dict) -> JsonResponse:
    """``{endpoint}`` → 200 (whether or not it was known)."""
    removed = push_subscription_delete(user=request.user, endpoint=data.get("endpoint"))
    return JsonResponse({"subscribed": False, "removed": removed})
