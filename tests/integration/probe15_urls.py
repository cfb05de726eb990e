"""The site's URLs plus a view that fails holding a customer's name and address, as a local variable
and in the form it was posted (tests/integration/test_issue15_probes.py, Sentry)."""

from django.urls import path

from config.urls import *  # noqa: F403 - the site's routes and its error handlers
from config.urls import urlpatterns as site_urlpatterns


def boom(request):
    holder = f"{request.POST.get('prenom', '')} {request.POST.get('nom', '')}"  # noqa: F841 - a local Sentry captured
    address = request.POST.get("adresse", "")  # noqa: F841
    raise RuntimeError("subscription failed")


urlpatterns = [path("probe-boom/", boom), *site_urlpatterns]
