"""« Appareils connectés » (issue 13): the customer signs one of the account's mobile devices out
from « Mon profil » (the list itself is part of the profile page, rak_portal.views.account)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from rak_base import clock
from rak_customer.devices import DeviceNotFound, device_revoke
from rak_portal.views.account import customer_required

SIGNED_OUT_FROM_PORTAL = "déconnecté depuis « Mon profil »"  # i18n: not for customers (back office)


@customer_required
@require_POST
def device_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Sign the device out at once (its tokens are refused on its next call); another account's
    device is 404 (one already signed out — a second click — is simply confirmed again)."""
    try:
        device = device_revoke(
            device_id=pk, user=request.user, by=request.user, reason=SIGNED_OUT_FROM_PORTAL, now=clock.now()
        )
    except DeviceNotFound as exc:
        raise Http404(exc.message) from exc
    messages.success(
        request,
        gettext("L'appareil « %(name)s » a été déconnecté : il devra se reconnecter avec votre mot de passe.")
        % {"name": device.name},
    )
    return redirect(reverse("portal:profile") + "#appareils")
