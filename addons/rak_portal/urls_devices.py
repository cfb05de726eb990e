"""Portal routes: devices (issue 13; included by rak_portal.urls)."""

from django.urls import path

from rak_portal.views import devices

urlpatterns: list = [
    path("espace/profil/appareils/<int:pk>/deconnecter/", devices.device_revoke_view, name="device_revoke"),
]
