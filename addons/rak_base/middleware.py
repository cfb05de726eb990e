"""Session lifetime: idle timeout comes from SESSION_COOKIE_AGE + SESSION_SAVE_EVERY_REQUEST;
this middleware adds the absolute limit (12 hours after login by default)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect

from rak_base import clock

SESSION_STARTED_KEY = "rak_login_at"


class SessionLifetimeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            started = request.session.get(SESSION_STARTED_KEY)
            now_ts = clock.now().timestamp()
            if started is None:
                request.session[SESSION_STARTED_KEY] = now_ts
            elif now_ts - float(started) > settings.SESSION_ABSOLUTE_SECONDS:
                is_staff_area = request.path.startswith("/backoffice/")
                logout(request)
                messages.info(request, "Votre session a expiré, veuillez vous reconnecter.")
                return redirect("admin:login" if is_staff_area else settings.LOGIN_URL)
        return self.get_response(request)
