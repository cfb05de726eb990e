"""Per-device tokens of the mobile API (model: rak_customer.device_models.Device).

- ``device_sign_in`` issues an access token (``API_ACCESS_TTL``, minutes) and a refresh token
  (``API_REFRESH_TTL``, weeks) for a user who has just proved their password.
- ``device_refresh`` swaps a refresh token for a new pair; replaying the previous refresh token (a
  stolen copy used after the phone already refreshed) revokes the device.
- ``device_authenticate`` finds the device of an access token (one indexed query) and notes the
  activity at most once a minute.
- ``device_revoke`` signs a device out (customer or staff), at once.

Tokens are ``rak_a_…`` / ``rak_r_…`` followed by 43 random URL-safe characters (256 bits); the
database holds only their SHA-256, so a copy of it gives no working token.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from rak_base.errors import RakError
from rak_customer.device_models import Device

ACCESS_PREFIX = "rak_a_"
REFRESH_PREFIX = "rak_r_"
SEEN_EVERY = timedelta(minutes=1)
MAX_ACTIVE_DEVICES = 20
TOO_MANY = "trop d'appareils connectés"  # i18n: not for customers (back office)
REPLAYED = "jeton de renouvellement réutilisé"  # i18n: not for customers (back office)
PASSWORD_CHANGED = "mot de passe modifié"  # noqa: S105  i18n: not for customers (back office)
PASSWORD_RESET_USED = "nouveau mot de passe (oublié) utilisé"  # noqa: S105  i18n: not for customers (back office)


class DeviceTokenInvalid(RakError):
    code = "token_invalid"
    http_status = 401
    default_message = _("Votre session n'est plus valable : veuillez vous reconnecter.")


class DeviceTokenExpired(RakError):
    code = "token_expired"
    http_status = 401
    default_message = _("Votre session a expiré : renouvelez-la ou reconnectez-vous.")


class DeviceNotFound(RakError):
    code = "not_found"
    http_status = 404
    default_message = _("Cet appareil n'existe pas ou n'est plus connecté.")


@dataclass(frozen=True)
class DeviceTokens:
    device: Device
    access_token: str
    refresh_token: str
    access_expires_at: datetime
    refresh_expires_at: datetime


def access_ttl() -> timedelta:
    return timedelta(seconds=getattr(settings, "API_ACCESS_TTL_SECONDS", 15 * 60))


def refresh_ttl() -> timedelta:
    return timedelta(seconds=getattr(settings, "API_REFRESH_TTL_SECONDS", 60 * 24 * 3600))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _new_pair(device: Device, now: datetime) -> tuple[str, str]:
    access = ACCESS_PREFIX + secrets.token_urlsafe(32)
    refresh = REFRESH_PREFIX + secrets.token_urlsafe(32)
    device.access_hash = token_hash(access)
    device.access_expires_at = now + access_ttl()
    device.refresh_hash = token_hash(refresh)
    device.refresh_expires_at = now + refresh_ttl()
    return access, refresh


def _tokens(device: Device, access: str, refresh: str) -> DeviceTokens:
    return DeviceTokens(device, access, refresh, device.access_expires_at, device.refresh_expires_at)


@transaction.atomic
def device_sign_in(*, user, name: str, platform: str, ip: str | None, now: datetime) -> DeviceTokens:
    """A new device for ``user`` (password already checked by the caller). Beyond
    ``MAX_ACTIVE_DEVICES`` the least recently used one is signed out."""
    name = " ".join((name or "").split())[:80] or str(_("Appareil mobile"))
    if platform not in Device.Platform.values:
        platform = Device.Platform.OTHER
    device = Device(user=user, name=name, platform=platform, created_at=now, last_seen_at=now, last_ip=ip or None)
    access, refresh = _new_pair(device, now)
    device.save()
    active = Device.objects.filter(user=user, revoked_at__isnull=True).order_by("-last_seen_at", "-id")
    stale = list(active.values_list("pk", flat=True)[MAX_ACTIVE_DEVICES:])
    if stale:
        Device.objects.filter(pk__in=stale).update(revoked_at=now, revoked_reason=TOO_MANY)
    return _tokens(device, access, refresh)


def device_refresh(*, refresh_token: str, ip: str | None, now: datetime) -> DeviceTokens:
    """A new pair for the device of ``refresh_token``. Replaying the previous refresh token (the
    phone already swapped it: someone else holds a copy) signs the device out — committed even
    though the call fails — and is DeviceTokenInvalid like any unknown token."""
    digest = token_hash(refresh_token or "")
    with transaction.atomic():
        device = Device.objects.select_for_update().filter(refresh_hash=digest).first()
        if device is None:
            Device.objects.filter(previous_refresh_hash=digest, revoked_at__isnull=True).update(
                revoked_at=now, revoked_reason=REPLAYED
            )
        elif device.revoked_at is None and device.refresh_expires_at > now and device.user.is_active:
            device.previous_refresh_hash = device.refresh_hash
            access, refresh = _new_pair(device, now)
            device.last_seen_at = now
            device.last_ip = ip or device.last_ip
            device.save()
            return _tokens(device, access, refresh)
    raise DeviceTokenInvalid()


def device_authenticate(*, access_token: str, ip: str | None, now: datetime) -> Device:
    """The active device of ``access_token`` with its user; DeviceTokenInvalid / DeviceTokenExpired."""
    if not access_token.startswith(ACCESS_PREFIX):
        raise DeviceTokenInvalid()
    device = Device.objects.select_related("user").filter(access_hash=token_hash(access_token)).first()
    if device is None or device.revoked_at is not None or not device.user.is_active:
        raise DeviceTokenInvalid()
    if device.access_expires_at <= now:
        raise DeviceTokenExpired()
    if now - device.last_seen_at >= SEEN_EVERY or (ip and ip != device.last_ip):
        Device.objects.filter(pk=device.pk).update(last_seen_at=now, last_ip=ip or device.last_ip)
    return device


@transaction.atomic
def device_revoke(*, device_id: int, user, by, reason: str, now: datetime) -> Device:
    """Sign ``user``'s device ``device_id`` out (``by``: the customer or a staff member). Another
    user's device, or an unknown one, is DeviceNotFound."""
    device = Device.objects.select_for_update().filter(pk=device_id, user=user).first()
    if device is None:
        raise DeviceNotFound()
    if device.revoked_at is None:
        device.revoked_at = now
        device.revoked_by = by
        device.revoked_reason = reason[:120]
        device.save(update_fields=["revoked_at", "revoked_by", "revoked_reason"])
    return device


def device_revoke_all(*, user, by, reason: str, now: datetime, except_device_id: int | None = None) -> int:
    """Every device of ``user`` signed out (password changed, account closed), but
    ``except_device_id`` (the device that changed the password through the API keeps working)."""
    devices = Device.objects.filter(user=user, revoked_at__isnull=True)
    if except_device_id is not None:
        devices = devices.exclude(pk=except_device_id)
    return devices.update(revoked_at=now, revoked_by=by, revoked_reason=reason[:120])


def devices_active(user) -> list[Device]:
    """The « appareils connectés » of ``user``, the most recently used first."""
    return list(Device.objects.filter(user=user, revoked_at__isnull=True).order_by("-last_seen_at", "-id"))


def devices_of_user(user_id: int, *, limit: int = 50) -> list[Device]:
    """The back office's view of an account's devices: the active ones first (most recently used
    first), then the latest signed out, with who signed them out."""
    return list(
        Device.objects.filter(user_id=user_id)
        .select_related("revoked_by")
        .order_by(F("revoked_at").desc(nulls_first=True), "-last_seen_at", "-id")[:limit]
    )
