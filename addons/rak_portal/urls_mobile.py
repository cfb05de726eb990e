"""Portal routes: mobile (issue 13; included by rak_portal.urls): the installable web app's
manifest, service worker (served from the site's root: its scope is the whole site) and offline page."""

from django.urls import path

from rak_portal.views import mobile

urlpatterns = [
    path("manifest.webmanifest", mobile.manifest, name="manifest"),
    path("sw.js", mobile.service_worker, name="service_worker"),
    path("hors-ligne/", mobile.offline, name="offline"),
]
