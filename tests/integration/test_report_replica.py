"""The reports read on the replica (issue 15, ``[database] replica_url`` / DATABASE_REPLICA_URL):
with the ``replica`` alias a TEST MIRROR of the test database and ``REPORTS_DATABASE = "replica"``,
the report pages, their XLSX and the Direction dashboard read the aggregates (raw SQL over the
materialised views) and the live tables (ORM) through the ``replica`` connection, and write nothing
there; the login, the session, the portal, the usage counters and the views' REFRESH stay on the
primary. Without a replica, nothing goes through the alias."""

from __future__ import annotations

import re

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rak_base import clock
from rak_base.db_router import replica_reads, reports_database
from rak_reports.matviews import PREFIX, matviews_refresh_all
from rak_reports.reports import reports_registered
from tests.factories import customer_with_account, staff_in

pytestmark = pytest.mark.django_db(databases=["default", "replica"])

WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REFRESH|CREATE|DROP|ALTER|TRUNCATE|LOCK)\b", re.IGNORECASE)
QUERY = {"du": "2026-01", "au": "2026-03"}


def captured(alias: str) -> CaptureQueriesContext:
    return CaptureQueriesContext(connections[alias])


def sql_of(context: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in context.captured_queries]


def test_report_reads_go_to_the_replica_and_nothing_else(client, settings):
    settings.REPORTS_DATABASE = "replica"
    staff_in("direction", client=client)
    for report in reports_registered():
        with captured("replica") as replica, captured("default") as primary:
            page = client.get(reverse("reports:report", args=[report.slug]), QUERY)
        assert page.status_code == 200, report.slug
        on_replica = sql_of(replica)
        assert on_replica, f"{report.slug}: nothing read on the replica"
        assert not [sql for sql in on_replica if WRITES.match(sql)]
        if report.matviews:  # the aggregates: raw SQL over the materialised views, on the replica only
            assert any(PREFIX in sql for sql in on_replica), report.slug
            assert not any(PREFIX in sql for sql in sql_of(primary)), report.slug

    with captured("replica") as replica:
        assert client.get(reverse("reports:report_xlsx", args=["encaissements"]), QUERY).status_code == 200
        assert client.get(reverse("reports:dashboard"), QUERY).status_code == 200
    assert any(PREFIX in sql for sql in sql_of(replica))

    # the back office outside the reports, the portal (its usage counters: writes) and the refresh
    # of the views: the primary only
    _customer, user = customer_with_account(phone="+212612000031")
    with captured("replica") as replica:
        assert client.get(reverse("admin:index")).status_code == 200
        client.force_login(user)
        assert client.get(reverse("portal:dashboard")).status_code == 200
        matviews_refresh_all(now=clock.now())
    assert sql_of(replica) == []


def test_without_a_replica_the_reports_read_the_primary(client, settings):
    assert settings.REPORTS_DATABASE == "default"  # the suite's default: no replica configured
    with replica_reads():
        assert reports_database() == "default"
    staff_in("direction", client=client)
    with captured("replica") as replica, captured("default") as primary:
        assert client.get(reverse("reports:report", args=["encaissements"]), QUERY).status_code == 200
    assert sql_of(replica) == []
    assert any(PREFIX in sql for sql in sql_of(primary))


def test_in_the_reports_scope_reads_on_the_replica_writes_on_the_primary(settings):
    from django.contrib.contenttypes.models import ContentType

    settings.REPORTS_DATABASE = "replica"
    with replica_reads():
        assert reports_database() == "replica"
        row = ContentType.objects.filter(app_label="rak_reports").order_by("pk").first()
        assert row is not None and row._state.db == "replica"
        with captured("replica") as replica, captured("default") as primary:
            row.save(update_fields=["model"])
        assert sql_of(replica) == [] and any(sql.startswith("UPDATE") for sql in sql_of(primary))
    assert reports_database() == "default"  # the scope ends with the block


def test_a_replica_that_does_not_answer_leaves_the_report_to_the_primary(client, settings):
    settings.REPORTS_DATABASE = "replica"
    staff_in("direction", client=client)
    replica = connections["replica"]
    replica.close()
    port = replica.settings_dict["PORT"]
    replica.settings_dict["PORT"] = "8198"  # nothing listens there (scale-out's port range)
    try:
        with captured("default") as primary:
            page = client.get(reverse("reports:report", args=["encaissements"]), QUERY)
            dashboard = client.get(reverse("reports:dashboard"), QUERY)
    finally:
        replica.close()
        replica.settings_dict["PORT"] = port
    assert page.status_code == 200 and dashboard.status_code == 200  # not an error page
    assert any(PREFIX in sql for sql in sql_of(primary))
