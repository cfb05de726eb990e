"""Who may call what: customers with a device token; a generated password must be changed first."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.permissions import BasePermission


class PasswordChangeRequired(exceptions.PermissionDenied):
    default_code = "password_change_required"
    default_detail = _(
        "Veuillez d'abord changer le mot de passe reçu par SMS ou e-mail (POST /api/v1/account/password/first/)."
    )


class IsCustomer(BasePermission):
    """A customer's device token (never staff: the back office is not reachable through the API).
    Until the password sent by SMS or e-mail is changed, only the first-login change is allowed
    (views that serve it set ``allow_password_change_pending = True``)."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            raise exceptions.NotAuthenticated()
        if not getattr(user, "is_customer", False):
            return False
        if getattr(user, "must_change_password", False) and not getattr(view, "allow_password_change_pending", False):
            raise PasswordChangeRequired()
        return True
