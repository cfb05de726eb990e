"""Portal login: code client, e-mail or phone + password (customers only)."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.hashers import make_password

from rak_customer.selectors import accounts_for_identifier

_DUMMY_HASH = None


class PortalBackend(ModelBackend):
    """Authenticates customers by any of their identifiers. Staff log in to the back office
    with Django's ModelBackend; this backend never lets a staff account in."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or not password:
            return None
        accounts = accounts_for_identifier(username)
        for account in accounts:
            user = account.user
            if user.is_customer and user.check_password(password) and self.user_can_authenticate(user):
                return user
        if not accounts:
            # Same work as a real check, so response time does not tell whether the account exists.
            global _DUMMY_HASH
            if _DUMMY_HASH is None:
                _DUMMY_HASH = make_password("dummy-password-for-timing")
            from django.contrib.auth.hashers import check_password

            check_password(password, _DUMMY_HASH)
        return None


def axes_username(request, credentials) -> str:
    """The key django-axes counts failures under: the account's code client when the identifier
    designates exactly one account (so 06..., +212... and the e-mail share one counter)."""
    identifier = (credentials or {}).get("username") or ""
    accounts = accounts_for_identifier(identifier)
    if len(accounts) == 1:
        return accounts[0].customer.code
    return identifier.strip().lower()
