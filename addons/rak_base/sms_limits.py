"""Limits on the SMS a visitor can make the agency send (issue 9: one anonymous session sent 25
codes to 25 numbers). One place for every SMS-sending endpoint of the portal: a view calls
``sms_request_allow(request, now=...)`` just before the service that queues the SMS (code de
confirmation, mot de passe), inside its ``except RakError`` so the French message is shown.

- per browser session: ``[sms] per_session_hourly`` requests an hour;
- per client address (``rak_base.http.client_ip``, so X-Forwarded-For only from trusted
  proxies): ``[sms] per_ip_hourly`` (higher: a mobile operator puts many people on one address);
- a global budget, ``[sms] hourly_budget`` SMS an hour, counted in ``message_queue_sms`` (every
  single SMS the agency queues; the bulk notices of a billing run are not counted). Once reached,
  non-essential requests — an anonymous visitor's, i.e. codes and passwords to numbers nobody has
  proved yet — are refused, while essential ones (a logged-in customer, « Mot de passe oublié » to
  the number on record, the password after a verified code) still go. The superviseur group gets
  one alert (bell + e-mail) per hour while the budget is reached.

Counters are rows of ``rak_base.throttle`` (shared by every process; check-and-count atomic).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from rak_base.errors import RakError
from rak_base.http import RequestLike, client_ip
from rak_base.throttle import throttle_count, throttle_hit, throttle_record

WINDOW = timedelta(hours=1)
BUDGET_KEY = "sms:budget"
ALERT_KEY = "sms:budget:alert"
SUPERVISOR_GROUP = "superviseur"


class SmsLimitReached(RakError):
    default_message = _(
        "Trop de SMS ont été demandés depuis votre connexion internet. Veuillez réessayer dans une heure "
        "ou contacter le service client."
    )


class SmsSessionLimitReached(SmsLimitReached):
    default_message = _(
        "Vous avez demandé trop de SMS (codes de confirmation, mots de passe, accusés de réception). "
        "Veuillez réessayer dans "
        "une heure ou contacter le service client."
    )


class SmsBudgetReached(SmsLimitReached):
    default_message = _(
        "L'envoi de SMS est momentanément limité. Veuillez réessayer plus tard ou contacter le service client."
    )


def _budget() -> int:
    return getattr(settings, "SMS_HOURLY_BUDGET", 0)


def sms_budget_reached(*, now: datetime) -> bool:
    budget = _budget()
    return budget > 0 and throttle_count(key=BUDGET_KEY, window=WINDOW, now=now) >= budget


def sms_budget_count(*, now: datetime) -> None:
    """Called by ``message_queue_sms`` for each SMS queued (in the caller's transaction, no lock:
    a few extra under concurrency do not matter); alerts superviseur when the budget is reached."""
    throttle_record(key=BUDGET_KEY, now=now)
    if sms_budget_reached(now=now):
        sms_budget_alert(now=now)


def _budget_alert_text(now: datetime) -> tuple[str, str]:
    subject = gettext("Budget horaire de SMS atteint")
    body = gettext(
        "Le budget de %(budget)s SMS par heure ([sms] hourly_budget) est atteint le %(when)s. Les codes de "
        "confirmation et mots de passe demandés par des visiteurs non connectés sont refusés jusqu'à ce que "
        "le compte redescende ; les SMS aux clients connectés et les notifications continuent. Vérifiez la "
        "boîte d'envoi (envois en série vers des numéros inconnus : possible abus) et, si le trafic est "
        "légitime, relevez le budget dans rak.conf."
    ) % {"budget": _budget(), "when": timezone.localtime(now).strftime("%d/%m/%Y %H:%M")}
    return subject, body


def sms_budget_alert(*, now: datetime) -> bool:
    """Tell the superviseur group (bell + e-mail), at most once per hour. True when sent."""
    if throttle_count(key=ALERT_KEY, window=WINDOW, now=now):
        return False  # already told this hour (checked without the lock first: the common case)
    from django.contrib.auth import get_user_model

    from rak_base.outbox import message_queue_bell, message_queue_email

    with transaction.atomic():
        if not throttle_hit(key=ALERT_KEY, limit=1, window=WINDOW, now=now):
            return False
        with translation.override(settings.LANGUAGE_CODE):  # staff read French, whoever hit the budget
            subject, body = _budget_alert_text(now)
        supervisors = get_user_model().objects.filter(groups__name=SUPERVISOR_GROUP, is_active=True, is_staff=True)
        for supervisor in supervisors.distinct():
            message_queue_bell(user=supervisor, subject=subject, body=body, kind="sms_budget")
            if supervisor.email:
                message_queue_email(to=supervisor.email, subject=subject, body=body, user=supervisor, kind="sms_budget")
    return True


class SmsCaller(RequestLike, Protocol):
    """What ``sms_request_allow`` reads of a request: its address, its user; its session when it
    has one (read with getattr: the API's stand-ins have none)."""

    @property
    def user(self) -> Any: ...


def _session_key(request: SmsCaller) -> str:
    session = getattr(request, "session", None)
    if session is None:
        return ""
    if not session.session_key:
        session["rak_sms"] = True  # a non-empty session: saved, its cookie sent
        session.save()
    return session.session_key or ""


def sms_request_allow(request: SmsCaller, *, now: datetime, essential: bool | None = None) -> None:
    """Count one SMS-sending request of this visitor; raises ``SmsLimitReached`` (a RakError with
    its French message) when the session, the address or — for a non-essential request — the
    hourly budget is used up. ``essential`` defaults to « the visitor is logged in »."""
    if essential is None:
        essential = bool(getattr(request, "user", None) and request.user.is_authenticated)
    if not essential and sms_budget_reached(now=now):
        sms_budget_alert(now=now)  # in its own transaction: committed whatever the view does next
        raise SmsBudgetReached()
    session_key = _session_key(request)
    if session_key and not throttle_hit(
        key=f"sms:session:{session_key}", limit=settings.SMS_PER_SESSION_HOURLY, window=WINDOW, now=now
    ):
        raise SmsSessionLimitReached()
    if not throttle_hit(key=f"sms:ip:{client_ip(request)}", limit=settings.SMS_PER_IP_HOURLY, window=WINDOW, now=now):
        raise SmsLimitReached()
