"""The session's idle expiry slides without a write per request (issue 15): a logged-in page read
within a minute of the last refresh does not UPDATE the session row; after the refresh interval it
does (``expire_date`` and the cookie then run 30 minutes from now). The 12-hour absolute limit is
in test_accounts.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rak_base.middleware import SESSION_REFRESHED_KEY
from tests.factories import TEST_PASSWORD, customer_with_account

pytestmark = pytest.mark.django_db


def session_writes(queries: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if '"django_session"' in q["sql"] and not q["sql"].lstrip().upper().startswith("SELECT")
    ]


@pytest.fixture
def logged_in(client):
    customer, _ = customer_with_account()
    response = client.post(reverse("portal:login"), {"username": customer.code, "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("portal:dashboard")).status_code == 200  # shows (and drops) the login's messages
    return client


def age_refresh(client, seconds: float) -> None:
    """Pretend the session's expiry was last moved ``seconds`` ago."""
    session = client.session
    session[SESSION_REFRESHED_KEY] = timezone.now().timestamp() - seconds
    session.save()


def test_settings_idle_30_minutes_refreshed_at_most_once_a_minute():
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_REFRESH_SECONDS == 60
    assert not settings.SESSION_SAVE_EVERY_REQUEST


def test_login_stores_the_refresh_time(logged_in):
    assert abs(logged_in.session[SESSION_REFRESHED_KEY] - timezone.now().timestamp()) < 30


def test_page_read_after_a_recent_refresh_does_not_write_the_session(logged_in):
    age_refresh(logged_in, 10)
    with CaptureQueriesContext(connection) as queries:
        response = logged_in.get(reverse("portal:dashboard"))
    assert response.status_code == 200
    assert session_writes(queries) == []
    assert settings.SESSION_COOKIE_NAME not in response.cookies  # the cookie is not sent again


def test_page_read_after_the_refresh_interval_moves_the_expiry(logged_in):
    age_refresh(logged_in, settings.SESSION_REFRESH_SECONDS + 1)
    key = logged_in.session.session_key
    Session.objects.filter(pk=key).update(expire_date=timezone.now() + timedelta(minutes=5))
    with CaptureQueriesContext(connection) as queries:
        response = logged_in.get(reverse("portal:dashboard"))
    assert response.status_code == 200
    writes = session_writes(queries)
    assert len(writes) == 1 and writes[0].lstrip().upper().startswith("UPDATE")
    expires = Session.objects.get(pk=key).expire_date
    assert abs((expires - timezone.now()) - timedelta(seconds=settings.SESSION_COOKIE_AGE)) < timedelta(seconds=30)
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == settings.SESSION_COOKIE_AGE
    assert abs(logged_in.session[SESSION_REFRESHED_KEY] - timezone.now().timestamp()) < 30
    with CaptureQueriesContext(connection) as queries:  # and the next page reads only
        assert logged_in.get(reverse("portal:dashboard")).status_code == 200
    assert session_writes(queries) == []


def test_idle_session_is_over(logged_in):
    Session.objects.filter(pk=logged_in.session.session_key).update(expire_date=timezone.now() - timedelta(seconds=1))
    response = logged_in.get(reverse("portal:dashboard"))
    assert response.status_code == 302


def test_requests_without_a_live_session_create_none(client):
    assert client.get("/").status_code == 200
    client.cookies[settings.SESSION_COOKIE_NAME] = "x" * 32  # a stale or forged cookie
    assert client.get("/").status_code == 200
    assert Session.objects.count() == 0
