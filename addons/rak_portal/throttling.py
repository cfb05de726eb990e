"""Throttling of the checks that tell whether a code client / CIN / ICE is known: « Mot de passe
oublié », « Créer mon compte » (both steps) and step 1 of the public requests share one budget per
client address and one per target (each code client and each CIN/ICE), counted in the database
by rak_base.throttle. Issue 9: 40 wrong CINs in a row used to be answered one by one.

« Contactez-nous »: one budget of messages per client address an hour for the portal's form and the
mobile API's (a probe stored 15 messages in a row through the portal while the API stopped at 10)."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest
from django.utils.translation import gettext, ngettext

from rak_base import clock
from rak_base.http import client_ip
from rak_base.throttle import throttle_hit

IDENTITY_CHECKS_PER_IP = 20
IDENTITY_CHECKS_PER_TARGET = 5
IDENTITY_CHECKS_WINDOW = timedelta(hours=1)
CONTACT_PER_IP_HOURLY = 10  # « Contactez-nous » messages per client address an hour (portal and API)
CONTACT_WINDOW = timedelta(hours=1)


def identity_check_allowed(request: HttpRequest, *targets: str) -> bool:
    """Count one check from this client of each target (code client, CIN/ICE: empty ones are
    skipped); False when the address or any target has used up its budget for the window."""
    now = clock.now()
    if not throttle_hit(
        key=f"identity:ip:{client_ip(request)}", limit=IDENTITY_CHECKS_PER_IP, window=IDENTITY_CHECKS_WINDOW, now=now
    ):
        return False
    allowed = True
    for target in targets:
        target = (target or "").strip().upper().replace(" ", "")
        if target and not throttle_hit(
            key=f"identity:target:{target}", limit=IDENTITY_CHECKS_PER_TARGET, window=IDENTITY_CHECKS_WINDOW, now=now
        ):
            allowed = False
    return allowed


def identity_check_refused_message() -> str:
    minutes = int(IDENTITY_CHECKS_WINDOW.total_seconds() // 60)
    return ngettext(
        "Trop de vérifications de code client ou de CIN/ICE. Par sécurité, veuillez réessayer dans "
        "%(minutes)s minute, ou contactez la RAK (CRC, agence ou relationclient@rak.ma).",
        "Trop de vérifications de code client ou de CIN/ICE. Par sécurité, veuillez réessayer dans "
        "%(minutes)s minutes, ou contactez la RAK (CRC, agence ou relationclient@rak.ma).",
        minutes,
    ) % {"minutes": minutes}


def contact_message_allowed(request: HttpRequest) -> bool:
    """Count one « Contactez-nous » message from this client address (a valid one, about to be
    stored); False when the address has used up its budget for the hour."""
    return throttle_hit(
        key=f"contact:ip:{client_ip(request)}", limit=CONTACT_PER_IP_HOURLY, window=CONTACT_WINDOW, now=clock.now()
    )


def contact_refused_message() -> str:
    return gettext("Trop de messages envoyés depuis votre connexion. Veuillez réessayer plus tard.")
