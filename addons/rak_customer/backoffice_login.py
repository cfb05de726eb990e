"""The back office's login (/backoffice/login/, django-unfold's admin page) under the same per-address
limit as the portal's and the API's logins: django-axes locks one username after
``[server] login_failure_limit`` failures, and an address with ``[server] login_ip_failure_limit``
failed logins on any of the three doors (one counter: axes' attempts) is refused for the cool-off,
its form not evaluated (no password checked), answered 429 with the reason in French."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpRequest, HttpResponse

from rak_base.http import client_ip
from rak_customer.auth import ip_locked_out_message, login_ip_blocked

IP_LOCKED_OUT = "ip_locked_out"


class BackOfficeLoginForm(AdminAuthenticationForm):
    """The admin's login form, refused before any password is checked when the address is blocked
    (its failures are counted by django-axes like the portal's: ``AXES_ENABLE_ADMIN``)."""

    def clean(self):
        if self.request is not None and login_ip_blocked(client_ip(self.request)):
            raise ValidationError(ip_locked_out_message(settings.LOGIN_COOLOFF_MINUTES), code=IP_LOCKED_OUT)
        return super().clean()


def backoffice_login(request: HttpRequest) -> HttpResponse:
    """``admin.site.login`` (its template, CSRF, never-cache) with ``BackOfficeLoginForm``; 429 when
    the address was refused (routed in config/urls.py before the admin's own URLs)."""
    response = admin.site.login(request)
    form = (getattr(response, "context_data", None) or {}).get("form")
    if form is not None and form.is_bound and form.has_error(NON_FIELD_ERRORS, code=IP_LOCKED_OUT):
        response.status_code = 429
    return response
