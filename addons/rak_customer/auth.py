"""Portal login: code client, e-mail or phone + password (customers only)."""

from __future__ import annotations

from datetime import timedelta

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.hashers import check_password, make_password
from django.db.models import Sum
from django.utils.translation import gettext_lazy, ngettext

from rak_base import clock
from rak_customer.selectors import accounts_for_identifier, identifier_key
from rak_customer.services import account_pending_password_use

_DUMMY_HASH = None

LOGIN_FAILED = gettext_lazy(
    "Code client ou mot de passe incorrect : votre code client est indiqué sur vos factures RAK."
)


def locked_out_message(minutes: int) -> str:
    return ngettext(
        "Trop de tentatives de connexion échouées. Par sécurité, votre compte est bloqué pendant "
        "%(minutes)d minute. Vous pouvez aussi utiliser « Mot de passe oublié ».",
        "Trop de tentatives de connexion échouées. Par sécurité, votre compte est bloqué pendant "
        "%(minutes)d minutes. Vous pouvez aussi utiliser « Mot de passe oublié ».",
        minutes,
    ) % {"minutes": minutes}


def ip_locked_out_message(minutes: int) -> str:
    return ngettext(
        "Trop de tentatives de connexion échouées depuis votre connexion internet. Veuillez réessayer "
        "dans %(minutes)d minute.",
        "Trop de tentatives de connexion échouées depuis votre connexion internet. Veuillez réessayer "
        "dans %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


def login_ip_failures(ip: str) -> int:
    """Failed logins from ``ip`` within the cool-off (every account together)."""
    since = clock.now() - timedelta(minutes=settings.LOGIN_COOLOFF_MINUTES)
    total = AccessAttempt.objects.filter(ip_address=ip, attempt_time__gte=since).aggregate(
        n=Sum("failures_since_start")
    )["n"]
    return total or 0


def login_ip_blocked(ip: str) -> bool:
    """Too many failed logins from this address (the portal's and the API's login refuse it)."""
    return login_ip_failures(ip) >= settings.LOGIN_IP_FAILURE_LIMIT


class PortalBackend(ModelBackend):
    """Authenticates customers by any of their identifiers (one account per identifier). Staff
    log in to the back office with Django's ModelBackend; this backend never lets a staff account in.

    A password sent by « Mot de passe oublié » waits on the account (``pending_password``): the
    current password keeps working until the sent one is used; the first login with the sent one
    makes it the password (to be changed at once) and the old one stops working."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or not password:
            return None
        accounts = accounts_for_identifier(username)
        if not accounts:
            # Same work as a real check, so response time does not tell whether the account exists.
            global _DUMMY_HASH
            if _DUMMY_HASH is None:
                _DUMMY_HASH = make_password("dummy-password-for-timing")
            check_password(password, _DUMMY_HASH)
            return None
        account = accounts[0]
        user = account.user
        if not user.is_customer or not self.user_can_authenticate(user):
            return None
        if user.check_password(password):
            return user
        if account.pending_password and check_password(password, account.pending_password):
            return account_pending_password_use(account=account, password_hash=account.pending_password)
        return None


def axes_username(request, credentials) -> str:
    """The key django-axes counts failures under: the account's code client when the identifier
    designates an account (so 06..., +212..., 06 55 ... and the e-mail share one counter), else
    the identifier in one spelling (E.164 phone, lower-case e-mail)."""
    identifier = (credentials or {}).get("username") or ""
    accounts = accounts_for_identifier(identifier)
    if accounts:
        return accounts[0].customer.code
    return identifier_key(identifier)
