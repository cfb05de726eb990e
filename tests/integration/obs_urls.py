"""The site's URLs plus a view that fails (tests/integration/test_sentry.py): the error carries the
phone and the password that were posted, as a careless exception message or a local variable would."""

from django.urls import path

from config.urls import *  # noqa: F403 - the site's routes and its error handlers
from config.urls import urlpatterns as site_urlpatterns


def boom(request):
    phone = request.POST.get("phone", "")
    password = request.POST.get("password", "")  # noqa: F841 - a local variable Sentry would capture
    raise RuntimeError(f"payment failed for {phone}")


urlpatterns = [path("boom/", boom), *site_urlpatterns]
