"""Materialised views of the reports: the aggregates a report page reads instead of summing the
ledger on each request (issue 14: ≤ 1 s at 200,000 customers and 6.6 M bills).

A report module declares its views with ``matview_register(MatView(...))``; the SQL lives in code,
reviewed with the report that reads it. ``matviews_sync`` (after every ``migrate``) creates the
missing views and rebuilds those whose SQL changed (hash kept in ``ReportView``); before a migrate
that has migrations to apply, every report view is dropped, so that no migration ever trips on a
view depending on a column it alters (they are derived data: rebuilt right after, WITH DATA). The
scheduler's job ``reports_refresh`` refreshes them every 15 minutes, ``CONCURRENTLY`` (readers are
never blocked), one view per item: a failing view is reported, the others go on.

Every view that reports filter on uses the same column names: ``month`` (first day, date),
``district``, ``agency_id``, ``service``, ``customer_kind`` (see ``rak_reports.query``)."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime

from django.db import DEFAULT_DB_ALIAS, connections, transaction

logger = logging.getLogger(__name__)

PREFIX = "rak_rpt_"


@dataclass(frozen=True)
class MatView:
    name: str  # without the prefix: « billed_monthly » → table rak_rpt_billed_monthly
    sql: str  # the SELECT
    unique: tuple[str, ...]  # columns of the unique index REFRESH … CONCURRENTLY needs
    indexes: tuple[tuple[str, ...], ...] = field(default_factory=tuple)
    label: str = ""  # what it holds, for the back office

    @property
    def table(self) -> str:
        return PREFIX + self.name

    @property
    def definition_hash(self) -> str:
        text = "\n".join([self.sql.strip(), repr(self.unique), repr(self.indexes)])
        return hashlib.sha256(text.encode()).hexdigest()


_views: dict[str, MatView] = {}


def matview_register(view: MatView) -> MatView:
    if not view.name.replace("_", "").isalnum() or len(view.table) > 63:
        raise ValueError(f"bad materialised view name: {view.name}")
    _views[view.name] = view
    return view


def matviews_registered() -> dict[str, MatView]:
    return dict(_views)


def _existing(cursor) -> dict[str, str]:
    """{view: the definition hash it was built from (kept as the view's comment)}."""
    cursor.execute(
        "SELECT c.relname, coalesce(obj_description(c.oid, 'pg_class'), '') FROM pg_class c "
        "WHERE c.relkind = 'm' AND c.relnamespace = current_schema()::regnamespace AND c.relname LIKE %s",
        [PREFIX.replace("_", "\\_") + "%"],
    )
    return dict(cursor.fetchall())


def _create(cursor, view: MatView) -> None:
    cursor.execute(f'CREATE MATERIALIZED VIEW "{view.table}" AS {view.sql} WITH DATA')  # noqa: S608 - SQL from code
    cols = ", ".join(f'"{c}"' for c in view.unique)
    cursor.execute(f'CREATE UNIQUE INDEX "{view.table}_uniq" ON "{view.table}" ({cols})')
    for i, index in enumerate(view.indexes):
        cols = ", ".join(f'"{c}"' for c in index)
        cursor.execute(f'CREATE INDEX "{view.table}_i{i}" ON "{view.table}" ({cols})')
    cursor.execute(f"COMMENT ON MATERIALIZED VIEW \"{view.table}\" IS '{view.definition_hash}'")
    cursor.execute(f'ANALYZE "{view.table}"')


def matviews_drop_all(*, using: str = DEFAULT_DB_ALIAS) -> int:
    with connections[using].cursor() as cursor:
        names = _existing(cursor)
        for name in names:
            cursor.execute(f'DROP MATERIALIZED VIEW IF EXISTS "{name}" CASCADE')
    return len(names)


def matviews_sync(*, now: datetime, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Create the missing views, rebuild those whose SQL changed (the hash is the view's comment,
    so it survives a test's flush of the tables), drop the ones no longer in code. Returns the
    names built."""
    from rak_reports.models import ReportView

    built = []
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        existing = _existing(cursor)
        known = set(ReportView.objects.using(using).values_list("name", flat=True))
        for view in _views.values():
            if existing.get(view.table) == view.definition_hash:
                if view.name not in known:
                    ReportView.objects.using(using).create(
                        name=view.name, definition_hash=view.definition_hash, created_at=now
                    )
                continue
            if view.table in existing:
                cursor.execute(f'DROP MATERIALIZED VIEW "{view.table}" CASCADE')
            started = time.monotonic()
            _create(cursor, view)
            cursor.execute(f'SELECT count(*) FROM "{view.table}"')  # noqa: S608
            rows = cursor.fetchone()[0]
            ReportView.objects.using(using).update_or_create(
                name=view.name,
                defaults={
                    "definition_hash": view.definition_hash,
                    "created_at": now,
                    "refreshed_at": now,
                    "refresh_seconds": round(time.monotonic() - started, 3),
                    "row_count": rows,
                },
            )
            built.append(view.name)
        for name in set(existing) - {v.table for v in _views.values()}:
            cursor.execute(f'DROP MATERIALIZED VIEW "{name}" CASCADE')
        ReportView.objects.using(using).exclude(name__in=list(_views)).delete()
    return built


def matview_refresh(name: str, *, now: datetime, using: str = DEFAULT_DB_ALIAS) -> int:
    """Refresh one view without blocking its readers; returns its row count."""
    from rak_reports.models import ReportView

    view = _views[name]
    started = time.monotonic()
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        # the big aggregates sort and hash millions of rows: memory for this refresh only (measured:
        # finance_collected spilled to disk with the default 4 MB)
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(f'REFRESH MATERIALIZED VIEW CONCURRENTLY "{view.table}"')
        cursor.execute(f'SELECT count(*) FROM "{view.table}"')  # noqa: S608
        rows = cursor.fetchone()[0]
    ReportView.objects.using(using).filter(name=name).update(
        refreshed_at=now, refresh_seconds=round(time.monotonic() - started, 3), row_count=rows
    )
    return rows


def matviews_refresh_all(*, now: datetime, using: str = DEFAULT_DB_ALIAS) -> None:
    """Refresh every view now (tests, « Rafraîchir maintenant », the monthly report)."""
    matviews_sync(now=now, using=using)
    for name in _views:
        matview_refresh(name, now=now, using=using)


def matviews_refresh_job(*, now: datetime) -> str:
    from rak_base.api import each_item

    matviews_sync(now=now)
    done = each_item(sorted(_views), lambda name: matview_refresh(name, now=now))
    return f"{len(done)}/{len(_views)} agrégat(s) rafraîchi(s)"  # i18n: not for customers


def matviews_freshness(names) -> datetime | None:
    """The oldest refresh of the named views: « données au … » on a report page."""
    from rak_reports.models import ReportView

    stamps = list(ReportView.objects.filter(name__in=list(names)).values_list("refreshed_at", flat=True))
    if not stamps or None in stamps:
        return None
    return min(stamp for stamp in stamps if stamp is not None)


# --- migrate -------------------------------------------------------------------------------------


def on_pre_migrate(sender, app_config, using=DEFAULT_DB_ALIAS, plan=None, **kwargs) -> None:
    if app_config.name != "rak_reports" or not plan:
        return
    try:
        dropped = matviews_drop_all(using=using)
    except Exception:  # noqa: BLE001 - first migrate: nothing to drop
        logger.debug("report views: nothing to drop", exc_info=True)
        return
    if dropped:
        logger.info("report views: %d dropped before migrating (rebuilt after)", dropped)


def on_post_migrate(sender, app_config, using=DEFAULT_DB_ALIAS, plan=None, **kwargs) -> None:
    if app_config.name != "rak_reports":
        return
    from rak_base import clock

    now = clock.now()
    built = matviews_sync(now=now, using=using)
    if built:
        logger.info("report views built: %s", ", ".join(built))
    if plan is None:
        # ``flush`` (tests that commit) empties the tables, not the views: empty them too, so that
        # no figure of a previous test survives; ``migrate`` always passes its plan
        from rak_reports.models import ReportView

        with connections[using].cursor() as cursor:
            for name, view in _views.items():
                if name not in built:
                    cursor.execute(f'REFRESH MATERIALIZED VIEW "{view.table}"')
        ReportView.objects.using(using).filter(refreshed_at__isnull=True).update(refreshed_at=now, row_count=0)
