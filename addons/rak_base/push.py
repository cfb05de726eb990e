"""Web Push (issue 13): browsers' subscriptions and the delivery of the outbox's PUSH copies.

- VAPID keys from rak.conf ``[push]`` (``settings.WEBPUSH_VAPID_PRIVATE_KEY`` / ``_PUBLIC_KEY`` /
  ``_SUBJECT``; ``manage.py webpush_keys`` prints a pair). No keys, or keys that do not match:
  push is not offered (the page shows no button, the outbox queues no PUSH copy).
- ``push_subscription_save`` records what the browser's ``PushManager.subscribe()`` gave: an https
  endpoint of a known push service (the server will POST there: no arbitrary address), the
  subscription's P-256 public key (65 bytes) and auth secret (16 bytes), base64url. An endpoint
  already known moves to the account that sends it (a shared computer); an account keeps at most
  ``MAX_PER_USER`` browsers (the oldest is dropped).
- ``push_deliver`` (called by ``rak_base.outbox.message_deliver``) encrypts the notice (RFC 8291,
  aes128gcm, pywebpush) for every subscription of the account and posts it with a VAPID
  Authorization header (RFC 8292, ES256 JWT, ``aud`` = the endpoint's origin). 404/410: the
  browser dropped the subscription, it is deleted. Timeouts, connection errors, 429 and 5xx: the
  message is retried like an SMS (when no subscription took it). The payload is the JSON
  ``{title, body, url, tag}`` the service worker shows (``tag`` = the notice's event: a browser
  shows one notice once).
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import logging
from datetime import datetime
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from rak_base.errors import RakError
from rak_base.models import Message, PushSubscription

logger = logging.getLogger(__name__)

MAX_PER_USER = 10
MAX_ENDPOINT = 1000
MAX_USER_AGENT = 300
TTL_SECONDS = 2 * 24 * 3600  # a phone off for a weekend still gets the notice
TITLE_MAX = 80
BODY_MAX = 240
DROP_AFTER_FAILURES = 10  # a subscription refused (4xx other than 404/410) that many times in a row
# the push services of the browsers (Chrome/Edge/Samsung/Opera: FCM; Firefox: Mozilla; Safari: Apple;
# Edge legacy: WNS); settings.WEBPUSH_ALLOWED_HOSTS may replace the list
PUSH_SERVICE_HOSTS = (
    "fcm.googleapis.com",
    "android.googleapis.com",
    "updates.push.services.mozilla.com",
    "push.services.mozilla.com",
    "web.push.apple.com",
    ".push.apple.com",
    ".notify.windows.com",
)


class PushNotAvailable(RakError):
    code = "push_unavailable"
    default_message = _("Les notifications sur l'appareil ne sont pas proposées pour le moment.")


class PushSubscriptionInvalid(RakError):
    code = "push_subscription_invalid"
    default_message = _("Cet abonnement aux notifications n'est pas valable.")


class PushNoSubscription(Exception):
    """No browser of the account is subscribed any more: nothing to deliver to."""


# --- keys ---------------------------------------------------------------------------------------------


def b64url_decode(value: str) -> bytes:
    """base64url with or without padding; ValueError on anything else."""
    if not isinstance(value, str) or not value or len(value) > 200:
        raise ValueError("not base64url")
    stripped = value.rstrip("=")
    if any(c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" for c in stripped):
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc


def b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def vapid_keys_generate() -> tuple[str, str]:
    """A new VAPID pair (private: 32 raw bytes; public: the uncompressed P-256 point the browser's
    ``applicationServerKey`` takes), base64url."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_numbers().private_value.to_bytes(32, "big")
    public = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return b64url_encode(private), b64url_encode(public)


@functools.lru_cache(maxsize=4)
def _vapid(private: str, public: str):
    """The py_vapid signer of the configured keys, or None when they are missing or do not match."""
    from py_vapid import Vapid

    if not (private and public):
        return None
    try:
        vapid = Vapid.from_string(private_key=private)
        actual = vapid.public_key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        if actual != b64url_decode(public):
            logger.error("push: [push] vapid_public_key is not the public half of vapid_private_key: push disabled")
            return None
        return vapid
    except Exception:  # a malformed key in rak.conf must not break the site: push is simply off
        logger.exception("push: the VAPID private key of rak.conf cannot be read: push disabled")
        return None


def vapid_signer():
    private = getattr(settings, "WEBPUSH_VAPID_PRIVATE_KEY", "") or ""
    return _vapid(private, getattr(settings, "WEBPUSH_VAPID_PUBLIC_KEY", "") or "")


def push_configured() -> bool:
    """Push is offered: VAPID keys configured and matching."""
    return vapid_signer() is not None


def vapid_public_key() -> str:
    """The key the browser subscribes with (``applicationServerKey``); empty when push is off."""
    return settings.WEBPUSH_VAPID_PUBLIC_KEY if push_configured() else ""


# --- subscriptions --------------------------------------------------------------------------------------


def _allowed_hosts() -> tuple[str, ...]:
    return tuple(getattr(settings, "WEBPUSH_ALLOWED_HOSTS", PUSH_SERVICE_HOSTS))


def endpoint_check(endpoint) -> str:
    """The endpoint as given, or PushSubscriptionInvalid: https, a push service's host name, no
    credentials or unusual port."""
    invalid = PushSubscriptionInvalid(
        _("L'adresse d'abonnement doit être une adresse https d'un service de notification."), field="endpoint"
    )
    if not isinstance(endpoint, str) or not endpoint or len(endpoint) > MAX_ENDPOINT:
        raise invalid
    if any(ord(c) < 33 or ord(c) > 126 for c in endpoint):
        raise invalid
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError:
        raise invalid from None
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or not host or parts.username or parts.password or port not in (None, 443):
        raise invalid
    if not any(host == allowed or (allowed.startswith(".") and host.endswith(allowed)) for allowed in _allowed_hosts()):
        raise invalid
    return endpoint


def keys_check(p256dh, auth) -> tuple[str, str]:
    """The subscription's keys as given, or PushSubscriptionInvalid (field ``p256dh`` or ``auth``)."""
    try:
        point = b64url_decode(p256dh)
        if len(point) != 65 or point[0] != 4:
            raise ValueError("length")
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except (ValueError, TypeError):
        raise PushSubscriptionInvalid(_("La clé publique de l'abonnement n'est pas valable."), field="p256dh") from None
    try:
        if len(b64url_decode(auth)) != 16:
            raise ValueError("length")
    except (ValueError, TypeError):
        raise PushSubscriptionInvalid(
            _("Le secret d'authentification de l'abonnement n'est pas valable."), field="auth"
        ) from None
    return p256dh.rstrip("="), auth.rstrip("=")


@transaction.atomic
def push_subscription_save(
    *, user, endpoint: object, p256dh: object, auth: object, user_agent: str = "", now: datetime
) -> PushSubscription:
    """Record (or refresh) a browser's subscription for ``user``; see the module's docstring."""
    if not push_configured():
        raise PushNotAvailable()
    endpoint = endpoint_check(endpoint)
    p256dh, auth = keys_check(p256dh, auth)
    user_agent = "".join(c for c in str(user_agent or "") if c.isprintable())[:MAX_USER_AGENT]
    subscription, _created = PushSubscription.objects.update_or_create(
        endpoint=endpoint,
        defaults={
            "user": user,
            "p256dh": p256dh,
            "auth": auth,
            "user_agent": user_agent,
            "failures": 0,
        },
        create_defaults={
            "user": user,
            "p256dh": p256dh,
            "auth": auth,
            "user_agent": user_agent,
            "created_at": now,
        },
    )
    keep = PushSubscription.objects.filter(user=user).order_by("-created_at", "-pk").values("pk")[:MAX_PER_USER]
    PushSubscription.objects.filter(user=user).exclude(pk__in=keep).delete()
    return subscription


@transaction.atomic
def push_subscription_delete(*, user, endpoint: object) -> bool:
    """The browser unsubscribed (or the customer pressed « Désactiver »): True when it was known."""
    if not isinstance(endpoint, str) or not endpoint or len(endpoint) > MAX_ENDPOINT:
        raise PushSubscriptionInvalid(field="endpoint")
    deleted, _rows = PushSubscription.objects.filter(user=user, endpoint=endpoint).delete()
    return bool(deleted)


def user_ids_with_subscriptions(user_ids) -> set[int]:
    ids = [pk for pk in set(user_ids) if pk]
    if not ids:
        return set()
    return set(PushSubscription.objects.filter(user_id__in=ids).values_list("user_id", flat=True).distinct())


# --- the notice ----------------------------------------------------------------------------------------


def _shorten(text: str, limit: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def push_text(source: Message) -> tuple[str, str]:
    """(title, body) of the push copy of ``source``: a bell notification's subject and text; an
    e-mail's subject and its first paragraph after the greeting; an SMS's text without « RAK : »."""
    body = source.body or ""
    if source.channel == Message.Channel.EMAIL:
        paragraphs = [p.strip() for p in body.split("\n\n") if p.strip()]
        if len(paragraphs) > 1 and len(paragraphs[0]) < 40 and paragraphs[0].endswith(","):
            paragraphs = paragraphs[1:]  # « Bonjour, »
        body = paragraphs[0] if paragraphs else ""
    elif source.channel == Message.Channel.SMS:
        for prefix in ("RAK : ", "RAK: ", "RAK :", "RAK:"):
            if body.startswith(prefix):
                body = body[len(prefix) :]
                break
        body = body[:1].upper() + body[1:]
    return _shorten(source.subject or "RAK", TITLE_MAX), _shorten(body, BODY_MAX)


def push_payload(message: Message) -> dict:
    """The JSON the service worker shows."""
    from rak_base.notification_kinds import category_of

    spec = category_of(message.kind)
    try:
        url = reverse(spec.url_name if spec else "portal:notifications")
    except NoReverseMatch:
        url = "/"
    tag = message.event or f"m{message.pk}"
    return {"title": message.subject or "RAK", "body": message.body, "url": url, "tag": tag}


# --- delivery -----------------------------------------------------------------------------------------


class PushUnavailable(OSError):
    """No subscription took the notice and at least one may later (timeout, 429, 5xx): retry."""


def _status(exc) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def push_deliver(message: Message, *, now: datetime) -> str:
    """Post ``message`` to every browser of its account; see the module's docstring. Returns how
    many browsers took it (« 2/3 navigateurs »). Raises PushNoSubscription (nothing to deliver to),
    PushUnavailable (retry later)."""
    import requests
    from pywebpush import WebPushException, webpush

    vapid = vapid_signer()
    if vapid is None:
        raise PushNoSubscription("push non configuré (clés VAPID absentes)")  # i18n: not for customers
    if message.user_id is None:  # a push copy always has an account; none here: nothing to deliver to
        raise PushNoSubscription("aucun navigateur abonné")  # i18n: not for customers
    subscriptions = list(PushSubscription.objects.filter(user_id=message.user_id).order_by("pk"))
    if not subscriptions:
        raise PushNoSubscription("aucun navigateur abonné")  # i18n: not for customers
    data = json.dumps(push_payload(message), ensure_ascii=False)
    delivered, transient, errors = 0, 0, []
    for subscription in subscriptions:
        info = {"endpoint": subscription.endpoint, "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth}}
        try:
            webpush(
                subscription_info=info,
                data=data,
                vapid_private_key=vapid,
                vapid_claims={"sub": settings.WEBPUSH_VAPID_SUBJECT},  # aud and exp set by pywebpush
                timeout=settings.WEBPUSH_TIMEOUT_SECONDS,
                ttl=TTL_SECONDS,
            )
        except WebPushException as exc:
            status = _status(exc)
            errors.append(f"{urlsplit(subscription.endpoint).hostname}: HTTP {status or '?'}")
            if status in (404, 410):
                subscription.delete()  # the browser dropped it
                continue
            if status is None or status == 429 or status >= 500:
                transient += 1
                continue
            subscription.failures += 1
            if subscription.failures >= DROP_AFTER_FAILURES:
                subscription.delete()
            else:
                subscription.save(update_fields=["failures"])
            continue
        except (requests.RequestException, OSError) as exc:  # timeout, connection refused, DNS
            errors.append(f"{urlsplit(subscription.endpoint).hostname}: {type(exc).__name__}")
            transient += 1
            continue
        delivered += 1
        subscription.failures, subscription.last_success_at = 0, now
        subscription.save(update_fields=["failures", "last_success_at"])
    if delivered:
        return f"{delivered}/{len(subscriptions)}"
    if transient:
        raise PushUnavailable("; ".join(errors)[:2000])
    raise PushNoSubscription(("; ".join(errors) or "aucun navigateur abonné")[:2000])  # i18n: not for customers
