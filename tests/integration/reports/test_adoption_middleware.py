"""The portal usage counters (rak_reports.middleware.PortalUsageMiddleware): successful GETs of the
portal and of the API counted per day by route name, one active day per account and day (one
INSERT the first time, none after), nothing for staff, the back office, errors, redirects, POSTs,
the web app's files; a failing counter never breaks the page; what it costs in queries."""

from __future__ import annotations

import datetime
import logging
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse

from rak_base import clock
from rak_reports import middleware
from rak_reports.middleware import PortalUsageMiddleware
from rak_reports.models import ActiveDay, PageHit
from tests.api_helpers import api_client
from tests.factories import customer_with_account, staff_in

pytestmark = pytest.mark.django_db

CASABLANCA = ZoneInfo("Africa/Casablanca")
NOW = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=CASABLANCA)
TODAY = NOW.date()
LATE = NOW.replace(hour=23, minute=55)


@pytest.fixture(autouse=True)
def _counters_run_after_each_request(monkeypatch, django_capture_on_commit_callbacks):
    """The counters run once the request's work is committed: at once in production (autocommit),
    never inside a test's transaction — here, after each request, as production does."""
    request = Client.request

    def counted(self, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return request(self, **kwargs)

    monkeypatch.setattr(Client, "request", counted)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    current = {"now": NOW}
    monkeypatch.setattr(clock, "now", lambda: current["now"])
    cache.clear()
    yield current
    cache.clear()


def hits() -> dict[str, int]:
    return dict(PageHit.objects.filter(day=TODAY).values_list("route", "hits"))


def usage_queries(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "rak_reports_" in q["sql"]]


def test_visitor_pages_are_counted_by_route_name(client):
    for _ in range(3):
        assert client.get(reverse("portal:home")).status_code == 200
    assert client.get(reverse("portal:agencies")).status_code == 200
    assert hits() == {"portal:home": 3, "portal:agencies": 1}
    assert not ActiveDay.objects.exists()  # a visitor is nobody


def test_a_customer_is_active_once_a_day_with_one_insert(client, fixed_clock):
    fixed_clock["now"] = LATE
    customer, user = customer_with_account()
    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("portal:dashboard")).status_code == 200
    first = usage_queries(captured)  # read now: the next request clears the connection's log
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("portal:dashboard")).status_code == 200
    second = usage_queries(captured)
    assert client.get(reverse("portal:notifications")).status_code == 200
    assert list(ActiveDay.objects.values_list("day", "user_id")) == [(TODAY, user.pk)]
    assert hits() == {"portal:dashboard": 2, "portal:notifications": 1}
    # the cost: the page's counter and the day of the account the first time, the counter only after
    assert len(first) == 2 and all("ON CONFLICT" in sql for sql in first)
    assert len(second) == 1 and "rak_reports_pagehit" in second[0]
    fixed_clock["now"] = LATE + datetime.timedelta(minutes=10)  # past midnight: another day
    assert client.get(reverse("portal:dashboard")).status_code == 200
    assert ActiveDay.objects.filter(user=user).count() == 2


def test_a_forgotten_cache_costs_one_insert_that_changes_nothing(client):
    customer, user = customer_with_account()
    client.force_login(user)
    client.get(reverse("portal:dashboard"))
    cache.clear()  # another worker process, a restarted one
    client.get(reverse("portal:dashboard"))
    assert ActiveDay.objects.filter(user=user).count() == 1


def test_the_mobile_app_is_counted_and_its_user_active():
    customer, user = customer_with_account()
    app = api_client(user)
    assert app.get("/api/v1/devices/").status_code == 200
    assert app.get("/api/v1/devices/").status_code == 200
    routes = hits()
    assert len(routes) == 1
    ((route, count),) = routes.items()
    assert route.startswith("api:") and "/" not in route and count == 2
    assert ActiveDay.objects.filter(user=user, day=TODAY).count() == 1


def test_staff_back_office_errors_redirects_posts_and_files_are_not_counted(client):
    staff = staff_in("accueil", client=client)
    assert client.get(reverse("portal:home")).status_code == 200  # staff on the portal
    assert client.get("/backoffice/").status_code == 200  # the back office
    client.logout()
    assert client.get(reverse("portal:dashboard")).status_code == 302  # to the login page
    assert client.get("/une-page-qui-n-existe-pas/").status_code == 404
    client.post(reverse("portal:login"), {"username": "x", "password": "y"})
    client.get(reverse("portal:manifest"))
    client.get(reverse("portal:service_worker"))
    client.get(reverse("portal:offline"))
    api_client().get("/api/v1/devices/")  # 401
    assert hits() == {}
    assert not ActiveDay.objects.filter(user=staff).exists()


def test_a_failing_counter_never_breaks_the_page(client, monkeypatch, caplog):
    customer, user = customer_with_account()
    client.force_login(user)
    monkeypatch.setattr(middleware, "_HIT_SQL", "INSERT INTO no_such_table VALUES (%s, %s)")
    with caplog.at_level(logging.WARNING, logger="rak_reports.middleware"):
        response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 200
    assert "portal usage not counted" in caplog.text
    assert not ActiveDay.objects.exists()  # the savepoint rolled the whole count back
    assert client.get(reverse("portal:agencies")).status_code == 200  # the connection is still usable


def test_an_image_a_page_loads_is_not_a_page(django_capture_on_commit_callbacks):
    request = RequestFactory().get(reverse("portal:agencies"))
    request.resolver_match = resolve(reverse("portal:agencies"))
    request.user = AnonymousUser()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        PortalUsageMiddleware(lambda r: HttpResponse(b"GIF89a", content_type="image/gif"))(request)
        PortalUsageMiddleware(lambda r: HttpResponse("<p>page</p>"))(request)
    assert len(callbacks) == 1 and hits() == {"portal:agencies": 1}


def test_route_names_never_carry_ids(client):
    # a portal page whose address holds an id is counted under its name
    customer, user = customer_with_account()
    client.force_login(user)
    client.get(reverse("portal:verify"))
    assert all(":" in route and "/" not in route for route in hits())


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_counter_commits_on_its_own(client, monkeypatch):
    """As in production (autocommit): one short transaction committed without waiting for the disk;
    a failure there is rolled back and the connection stays usable."""
    customer, user = customer_with_account()
    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("portal:dashboard")).status_code == 200
    sql = usage_queries(captured)
    assert len(sql) == 2
    assert any("synchronous_commit" in q["sql"] for q in captured.captured_queries)
    assert not connection.in_atomic_block
    assert hits() == {"portal:dashboard": 1} and ActiveDay.objects.filter(user=user).count() == 1
    monkeypatch.setattr(middleware, "_HIT_SQL", "INSERT INTO no_such_table VALUES (%s, %s)")
    assert client.get(reverse("portal:notifications")).status_code == 200
    assert client.get(reverse("portal:agencies")).status_code == 200
    assert hits() == {"portal:dashboard": 1}


def test_other_tests_query_counts_never_include_the_counters():
    """Inside a test's transaction (without the fixture above) the counters wait for a commit that
    never comes: no page's query count, asserted by other tests, includes them."""
    request = RequestFactory().get(reverse("portal:agencies"))
    request.resolver_match = resolve(reverse("portal:agencies"))
    request.user = AnonymousUser()
    with CaptureQueriesContext(connection) as captured:
        response = PortalUsageMiddleware(lambda r: HttpResponse("ok"))(request)
    assert response.status_code == 200
    assert captured.captured_queries == [] and hits() == {}
