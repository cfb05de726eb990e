"""Reads of the reports on a read replica (issue 15), when ``[database] replica_url`` (or
``DATABASE_REPLICA_URL``) is configured: ``settings.REPORTS_DATABASE`` is then ``"replica"``.

Only what runs inside ``replica_reads()`` goes there: the report pages and their XLSX/PDF wrap
``Report.build`` / ``headline`` in it, so the ORM reads of any model (bills, payments, customers)
and the raw SQL over the materialised views (``rak_reports.query.rows`` on
``connections[reports_database()]``) read the replica. Everything else — every write, the portal,
the back office, the views' ``REFRESH MATERIALIZED VIEW`` (a replica is read-only), the portal
usage counters, the monthly report (it refreshes then reads at once: a lagging replica would send
last month's figures) — stays on the primary.

Replica down: ``read_on_replica`` builds the report again on the primary (logged).

Lag: the replica replays the primary's WAL, usually within a second. A report states its
aggregates' freshness (« Données au … », ``ReportView.refreshed_at``): that row and the views'
contents reach the replica in the same WAL order, so what the page says stays true of what it
shows; the live figures a report reads directly (today's payments) may be a few seconds behind.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import TypeVar

from django.conf import settings
from django.db import OperationalError, connections

logger = logging.getLogger(__name__)
T = TypeVar("T")

_replica_reads: ContextVar[bool] = ContextVar("rak_replica_reads", default=False)


def reports_database() -> str:
    """The alias a report reads from right now: the replica inside ``replica_reads()`` when one is
    configured, the primary (``default``) otherwise."""
    if _replica_reads.get():
        return getattr(settings, "REPORTS_DATABASE", "default") or "default"
    return "default"


@contextlib.contextmanager
def replica_reads() -> Iterator[None]:
    """Reads inside go to the replica (when configured); writes never do."""
    token = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(token)


def read_on_replica(build: Callable[[], T]) -> T:
    """``build()`` inside ``replica_reads()``; if the replica cannot answer (down, unreachable, the
    query cancelled by replay), logged and built again on the primary: a report is never an error
    page because of its replica."""
    alias = getattr(settings, "REPORTS_DATABASE", "default") or "default"
    if alias == "default":
        return build()
    try:
        with replica_reads():
            return build()
    except OperationalError:
        logger.warning("read replica %r unavailable: report read on the primary", alias, exc_info=True)
        connections[alias].close()
        return build()


class ReplicaRouter:
    """``DATABASE_ROUTERS`` entry: reads inside ``replica_reads()`` to the replica, all else the
    primary; migrations only on the primary (the replica follows it)."""

    def db_for_read(self, model, **hints) -> str | None:
        alias = reports_database()
        return alias if alias != "default" else None

    def db_for_write(self, model, **hints) -> str:
        return "default"

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # one database: the replica is a copy of the primary

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db == "default"
