"""One-time codes sent by SMS.

Rules: 6 digits from ``secrets``; stored as an HMAC-SHA256 keyed with SECRET_KEY; valid 5
minutes; single use; bound to its purpose and phone; at most 5 wrong tries per code, and a resend
carries the failures over (a new code does not buy new tries); a resend only 60 s after the last
code; at most 5 codes per phone per hour. Each refusal is its own exception with its message.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from contextlib import nullcontext
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext, gettext_lazy, ngettext

from rak_base.errors import RakError
from rak_base.models import OneTimeCode
from rak_base.outbox import message_queue_sms

CODE_DIGITS = 6
VALIDITY = timedelta(minutes=5)
RESEND_AFTER = timedelta(seconds=60)
MAX_FAILURES = 5
MAX_CODES_PER_HOUR = 5
WINDOW = timedelta(hours=1)


class OtpError(RakError):
    default_message = gettext_lazy("Code de confirmation invalide.")


class OtpResendTooEarly(OtpError):
    def __init__(self, wait_seconds: int) -> None:
        super().__init__(
            ngettext(
                "Un code vient de vous être envoyé. Vous pourrez en demander un nouveau dans %(seconds)d seconde.",
                "Un code vient de vous être envoyé. Vous pourrez en demander un nouveau dans %(seconds)d secondes.",
                wait_seconds,
            )
            % {"seconds": wait_seconds},
            wait_seconds=wait_seconds,
        )
        self.wait_seconds = wait_seconds


class OtpTooManyCodes(OtpError):
    default_message = gettext_lazy(
        "Vous avez demandé trop de codes pour ce numéro. Veuillez réessayer dans une heure "
        "ou contacter le service client."
    )


class OtpNotFound(OtpError):
    default_message = gettext_lazy(
        "Aucun code de confirmation n'a été envoyé à ce numéro. Cliquez sur « vérifier » pour en recevoir un."
    )


class OtpExpired(OtpError):
    default_message = gettext_lazy(
        "Ce code de confirmation a expiré. Cliquez sur « renvoyer » pour en recevoir un nouveau."
    )


class OtpInvalid(OtpError):
    def __init__(self, remaining: int) -> None:
        super().__init__(
            ngettext(
                "Code de confirmation incorrect. Il vous reste %(remaining)d essai.",
                "Code de confirmation incorrect. Il vous reste %(remaining)d essais.",
                remaining,
            )
            % {"remaining": remaining},
            remaining=remaining,
        )
        self.remaining = remaining


class OtpTooManyFailures(OtpError):
    default_message = gettext_lazy(
        "Trop d'essais erronés : ce code est bloqué. Demandez un nouveau code plus tard ou contactez le service client."
    )


class OtpAlreadyUsed(OtpError):
    default_message = gettext_lazy("Ce code de confirmation a déjà été utilisé. Demandez un nouveau code.")


def _hash(code: str, *, phone: str, purpose: str) -> str:
    message = f"{purpose}|{phone}|{code}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def generate_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


@transaction.atomic
def otp_send(
    *, phone: str, purpose: str, now: datetime, user=None, text: str | None = None, language: str | None = None
) -> OneTimeCode:
    """Create a code for (phone, purpose) and queue its SMS. ``phone`` is E.164. The SMS is written
    in ``language`` (the customer's, when known), else in the active language (the visitor's page)."""
    # Serialise concurrent requests for the same phone on the most recent row.
    recent = list(
        OneTimeCode.objects.select_for_update().filter(phone=phone, created_at__gt=now - WINDOW).order_by("-created_at")
    )
    if len(recent) >= MAX_CODES_PER_HOUR:
        raise OtpTooManyCodes()
    same_purpose = [otp for otp in recent if otp.purpose == purpose]
    previous = same_purpose[0] if same_purpose else None
    if previous is not None:
        elapsed = now - previous.created_at
        if elapsed < RESEND_AFTER:
            raise OtpResendTooEarly(math.ceil((RESEND_AFTER - elapsed).total_seconds()))
    carried_failures = 0
    if previous is not None and previous.used_at is None:
        carried_failures = previous.failed_attempts
        if carried_failures >= MAX_FAILURES:
            raise OtpTooManyFailures()
        OneTimeCode.objects.filter(phone=phone, purpose=purpose, used_at__isnull=True, superseded=False).update(
            superseded=True
        )
    code = generate_code()
    otp = OneTimeCode.objects.create(
        purpose=purpose,
        phone=phone,
        code_hash=_hash(code, phone=phone, purpose=purpose),
        created_at=now,
        expires_at=now + VALIDITY,
        failed_attempts=carried_failures,
    )
    with translation.override(language) if language else nullcontext():
        body = (
            text
            or gettext(
                "RAK : votre code de confirmation est {code}. Il est valable 5 minutes. Ne le communiquez à personne."
            )
        ).format(code=code)
    message_queue_sms(to=phone, body=body, user=user, kind="otp", sensitive=True)
    return otp


def otp_verify(*, phone: str, purpose: str, code: str, now: datetime) -> OneTimeCode:
    """Check ``code`` against the latest code for (phone, purpose); mark it used on success.

    A wrong code is counted in its own committed transaction before the error is raised, so the
    count survives the caller's error handling. Do not call this inside an outer atomic block
    that the error would roll back."""
    otp, error = _otp_check(phone=phone, purpose=purpose, code=code, now=now)
    if error is not None:
        raise error
    if otp is None:  # _otp_check pairs « no code » with OtpNotFound: not reached
        raise OtpNotFound()
    return otp


@transaction.atomic
def _otp_check(*, phone: str, purpose: str, code: str, now: datetime) -> tuple[OneTimeCode | None, OtpError | None]:
    otp = (
        OneTimeCode.objects.select_for_update()
        .filter(phone=phone, purpose=purpose, superseded=False)
        .order_by("-created_at")
        .first()
    )
    if otp is None or otp.created_at < now - WINDOW:
        return None, OtpNotFound()
    if otp.used_at is not None:
        return otp, OtpAlreadyUsed()
    if otp.failed_attempts >= MAX_FAILURES:
        return otp, OtpTooManyFailures()
    if now >= otp.expires_at:
        return otp, OtpExpired()
    candidate = "".join(ch for ch in (code or "") if ch.isdigit())
    if not hmac.compare_digest(otp.code_hash, _hash(candidate, phone=phone, purpose=purpose)):
        otp.failed_attempts += 1
        otp.save(update_fields=["failed_attempts"])
        remaining = MAX_FAILURES - otp.failed_attempts
        return otp, (OtpTooManyFailures() if remaining <= 0 else OtpInvalid(remaining))
    otp.used_at = now
    otp.save(update_fields=["used_at"])
    return otp, None
