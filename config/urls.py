from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views import defaults

from rak_api.errors import api_bad_request, api_not_found, api_server_error
from rak_customer.backoffice_login import BackOfficeLoginForm, backoffice_login

admin.site.site_header = "RAK — Back office"
admin.site.site_title = "RAK Back office"
# the per-address limit of failed logins shared with the portal and the API (rak_customer.backoffice_login)
admin.site.login_form = BackOfficeLoginForm

urlpatterns = [
    path("backoffice/rapports/", include("rak_reports.urls")),
    path("backoffice/login/", backoffice_login),  # admin.site.login, 429 when the address is refused
    path("backoffice/", admin.site.urls),
    path("paiement/", include("rak_payment_cmi.urls")),
    path("captcha/", include("captcha.urls")),
    path("api/v1/", include("rak_api.urls")),
    path("", include("rak_portal.urls")),
]
if settings.CMI_SANDBOX_ENABLED:  # the local CMI simulator: never routed in production
    urlpatterns.insert(0, path("cmi-sandbox/", include("rak_cmi_sandbox.urls")))


def _form_readable(request) -> None:
    """Django's error pages check the CSRF token (``requires_csrf_token``), which reads the form:
    a form that cannot be read (a charset other than UTF-8, a body already consumed) raised again
    inside the error page — a bare 500 without the French page. It is read as empty instead."""
    if request.method != "POST":
        return
    try:
        request.POST  # noqa: B018 - parsed (and cached) here, or marked unreadable
    except Exception:  # noqa: BLE001 - any failure to parse means the same: no form
        request._mark_post_parse_error()  # noqa: SLF001 - Django's own way to say « unreadable form »


def handler404(request, exception):
    """JSON under /api/ (rak_api.errors), the site's French page elsewhere."""
    _form_readable(request)
    if request.path.startswith("/api/"):
        return api_not_found(request, exception)
    return defaults.page_not_found(request, exception)


def handler400(request, exception):
    _form_readable(request)
    if request.path.startswith("/api/"):
        return api_bad_request(request, exception)
    return defaults.bad_request(request, exception)


def handler500(request):
    _form_readable(request)
    if request.path.startswith("/api/"):
        return api_server_error(request)
    return defaults.server_error(request)
