from django.conf import settings
from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "RAK — Back office"
admin.site.site_title = "RAK Back office"

urlpatterns = [
    path("backoffice/", admin.site.urls),
    path("paiement/", include("rak_payment_cmi.urls")),
    path("captcha/", include("captcha.urls")),
    path("", include("rak_portal.urls")),
]
if settings.CMI_SANDBOX_ENABLED:  # the local CMI simulator: never routed in production
    urlpatterns.insert(0, path("cmi-sandbox/", include("rak_cmi_sandbox.urls")))
