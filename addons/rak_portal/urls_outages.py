"""Outage and works notices on the portal (issue 11): « Coupures et travaux en cours » (public)
and one notice's page. Included before the « services/<slug>/ » catch-all of rak_portal.urls."""

from django.urls import path

from rak_portal.views import outages

urlpatterns: list = [
    path("coupures-et-travaux/", outages.outage_list, name="outages"),
    path("coupures-et-travaux/<str:number>/", outages.outage_detail, name="outage_detail"),
]
