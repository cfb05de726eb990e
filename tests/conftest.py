"""Fixtures shared by the whole suite.

- every test writes the SMS dev file and private media under its own tmp_path, so tests (and
  pytest-xdist workers) never read each other's files;
- ``sms_outbox`` reads the outbox (rak_base.models.Message), ``run_worker`` delivers what is queued
  with the real worker (``manage.py rak_worker --batch``, django-tasks database backend);
- ``now`` is a fixed, aware instant for the services that take ``now``;
- the seeded tariffs and request types come back after a transactional test flushed the tables
  (``_seeded_tariffs``, ``_seeded_request_types``);
- ``browser`` / ``page`` drive Debian's Chromium through Playwright against ``live_server``;
  tests under tests/functional are marked ``functional`` and skipped, with the reason, only when
  /usr/bin/chromium is missing;
- under pytest-xdist the test database is migrated once per run, into a template database, and each
  worker's database is a copy of it (``django_db_setup`` below).
"""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from datetime import datetime
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import translation
from hypothesis import HealthCheck, settings

# Hypothesis properties are about values, not speed: the suite runs on shared 2-vCPU machines where
# generating an input can take a second under load (« too_slow » failed a CI run at load 15), so
# neither the per-example deadline nor the generation-speed health check applies.
settings.register_profile("rak", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("rak")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
CASABLANCA = ZoneInfo("Africa/Casablanca")
FUNCTIONAL_DIR = Path(__file__).parent / "functional"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip = pytest.mark.skip(reason=f"{CHROMIUM} absent: apt-get install chromium (bin/test does it as root)")
    for item in items:
        if FUNCTIONAL_DIR in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.functional)
        if item.get_closest_marker("functional") and not CHROMIUM.exists():
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _site_language() -> Iterator[None]:
    """Each test starts and ends in the site's language: a request through the test client leaves
    the language it activated (LocaleMiddleware) on the thread, which would leak into the next test."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _isolated_files(settings, tmp_path: Path) -> None:
    """Files the code writes (dev SMS log, private uploads) go to this test's own directory."""
    settings.SMS_DEV_FILE = tmp_path / "sms.log"
    settings.MEDIA_ROOT = tmp_path / "private"


@pytest.fixture(autouse=True)
def _redis_keys_cleared() -> None:
    """With ``[redis] url`` configured (RAK_REDIS_URL, Redis db 6-7 for the suite): this worker's
    keys (its own prefix per pytest-xdist worker, config.settings_scaleout) are deleted before each
    test, as the database starts clean: no throttle or session of one test reaches the next."""
    from django.conf import settings as django_settings

    url = getattr(django_settings, "REDIS_URL", "")
    if not url:
        return
    import redis

    client = redis.Redis.from_url(url, socket_timeout=2)
    keys = list(client.scan_iter(match=f"{django_settings.REDIS_KEY_PREFIX}:*", count=1000))
    if keys:
        client.delete(*keys)


# --- test databases: migrated once, copied for each xdist worker ---------------------------------


def _template_database(*, reuse: bool, run_id: str) -> None:
    """Give this xdist worker its test database as a copy of a template migrated once per run.

    Every worker used to run all the migrations (and their post_migrate: report views, staff groups,
    message templates) itself: ~20 s of CPU each. Now the first worker to get here builds
    ``<test db>_tmpl`` exactly as Django builds a test database (``create_test_db``: migrate, then
    createcachetable); every worker then gets ``CREATE DATABASE <its db> TEMPLATE <tmpl>``, a copy
    of the files. pytest-django's setup runs afterwards with keepdb on that copy (« no migrations to
    apply », post_migrate handlers re-run: same state as a database migrated by the worker itself).

    A PostgreSQL advisory lock (on the template's name) serialises building and copying (PostgreSQL
    refuses to copy a database someone is connected to). The template's comment is the pytest-xdist
    run id: a new run rebuilds it, so a run never starts from another run's schema — except with
    --reuse-db, where an existing worker database is kept as pytest-django keeps it, and a missing
    one is copied from whatever template is there, then migrated forward by pytest-django as usual.
    --create-db rebuilds the template once per run."""
    from django.conf import settings as django_settings
    from django.db import connections

    connection = connections["default"]
    worker_db = connection.creation._get_test_db_name()
    template = _template_name(worker_db)
    quote = connection.ops.quote_name
    with connection._nodb_cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(hashtext(%s))", [template])
        try:
            cursor.execute(
                "SELECT datname, coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database "
                "WHERE datname IN (%s, %s)",
                [template, worker_db],
            )
            found = dict(cursor.fetchall())
            if reuse and worker_db in found:
                return
            if template not in found or (not reuse and found[template] != run_id):
                test_settings = connection.settings_dict["TEST"]
                name = connection.settings_dict["NAME"]
                test_settings["NAME"] = template
                try:
                    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
                finally:
                    connection.close()
                    test_settings["NAME"] = worker_db
                    connection.settings_dict["NAME"] = name
                    django_settings.DATABASES["default"]["NAME"] = name
                # a literal, not a parameter: a utility statement takes none with server-side binding
                cursor.execute(f"COMMENT ON DATABASE {quote(template)} IS {_sql_literal(run_id)}")
            cursor.execute(f"DROP DATABASE IF EXISTS {quote(worker_db)}")
            cursor.execute(f"CREATE DATABASE {quote(worker_db)} TEMPLATE {quote(template)}")
        finally:
            cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [template])


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _template_name(worker_db: str) -> str:
    return re.sub(r"_gw\d+$", "", worker_db) + "_tmpl"


def _template_drop(template: str) -> None:
    """At the end of a run without --reuse-db, as pytest-django drops the workers' databases. A
    worker that had not set up its database yet (none of its tests needed one so far) would find the
    template gone and build it again: slower, still right."""
    from django.db import connections

    connection = connections["default"]
    with connection._nodb_cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(hashtext(%s))", [template])
        try:
            cursor.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(template)}")
        finally:
            cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [template])


@pytest.fixture(scope="session")
def django_db_setup(  # noqa: PLR0917 - pytest-django's own signature
    request,
    django_test_environment,
    django_db_blocker,
    django_db_use_migrations,
    django_db_keepdb,
    django_db_createdb,
    django_db_modify_db_settings,
) -> Iterator[None]:
    """pytest-django's ``django_db_setup`` (same options, same teardown), with the worker's database
    copied from a template migrated once per run when pytest-xdist runs more than one worker."""
    from django.test.utils import setup_databases, teardown_databases
    from pytest_django.fixtures import _disable_migrations, _get_databases_for_setup

    workerinput = getattr(request.config, "workerinput", None)
    reuse = django_db_keepdb and not django_db_createdb
    aliases, serialized_aliases = _get_databases_for_setup(request.session.items)
    template = (
        workerinput is not None
        and int(workerinput.get("workercount", 1)) > 1
        and django_db_use_migrations
        and "default" in aliases
    )
    if not django_db_use_migrations:
        _disable_migrations()
    from django.db import connections

    template_db = _template_name(connections["default"].creation._get_test_db_name())
    with django_db_blocker.unblock():
        if template:
            _template_database(reuse=reuse, run_id=workerinput["testrunuid"])
        db_cfg = setup_databases(
            verbosity=request.config.option.verbose,
            interactive=False,
            aliases=aliases,
            serialized_aliases=serialized_aliases,
            keepdb=reuse or template,
        )
    yield
    if not django_db_keepdb:
        with django_db_blocker.unblock():
            try:
                teardown_databases(db_cfg, verbosity=request.config.option.verbose)
                if template:
                    _template_drop(template_db)
            except Exception as exc:  # noqa: BLE001 - as pytest-django: a warning, not an error
                request.node.warn(pytest.PytestWarning(f"Error when trying to teardown test databases: {exc!r}"))


@pytest.fixture(scope="session", autouse=True)
def _flush_truncates_only_filled_tables() -> Iterator[None]:
    """A transactional test (live server, browser, worker seeing real commits) ends with Django's
    ``flush``: one TRUNCATE of all ~210 tables, each given new files, ~10 s at load 14 on this
    machine, for a test that wrote to a dozen tables. Here the flush first asks which tables hold a
    row (one query, EXISTS per table) and truncates only those, CASCADE adding the empty tables that
    reference them (TRUNCATE refuses a referenced table alone): the database ends exactly as empty.
    With reset_sequences (``django_db_reset_sequences``) every table is truncated, as Django does,
    so that every sequence restarts."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    sql_flush = DatabaseOperations.sql_flush

    def sql_flush_filled_tables(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or not tables:
            return sql_flush(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        tables = list(tables)
        quote = self.quote_name
        with self.connection.cursor() as cursor:
            cursor.execute(
                " UNION ALL ".join(f"SELECT %s WHERE EXISTS (SELECT FROM {quote(table)})" for table in tables),  # noqa: S608 - Django's own table names, quoted
                tables,
            )
            filled = [row[0] for row in cursor.fetchall()]
        return sql_flush(self, style, filled, allow_cascade=True)

    DatabaseOperations.sql_flush = sql_flush_filled_tables
    yield
    DatabaseOperations.sql_flush = sql_flush


DB_FIXTURES = {"db", "transactional_db", "live_server", "django_db_reset_sequences", "django_db_serialized_rollback"}


@pytest.fixture(autouse=True)
def _seeded_tariffs(request) -> None:
    """A transactional test (live server, worker seeing real commits) flushes every table when it
    ends, the tariffs of the data migration ``rak_billing 0004_seed_tariffs`` with them: any later
    test that uses the database gets them back (inserted only when missing; otherwise one EXISTS
    query, before the test body)."""
    if not (DB_FIXTURES & set(request.fixturenames) or request.node.get_closest_marker("django_db")):
        return
    request.getfixturevalue("_django_db_helper")
    from django.apps import apps

    if not apps.get_model("rak_billing", "TariffSchedule").objects.exists():
        import importlib

        importlib.import_module("rak_billing.migrations.0004_seed_tariffs").seed(apps, None)
        importlib.import_module("rak_billing.migrations.0006_tariff_charge_exemption_cap").tppan_exemption_and_cap(
            apps, None
        )
        importlib.import_module("rak_billing.migrations.0013_vat_rate_other_invoices").seed_other_rate(apps, None)
        importlib.import_module("rak_billing.migrations.0014_vat_rate_online_fee").seed_online_fee_rate(apps, None)
        importlib.import_module("rak_billing.migrations.0018_provisions").seed(apps, None)  # « Compteur collectif »


@pytest.fixture(autouse=True)
def _seeded_request_types(request, _seeded_tariffs) -> None:
    """Likewise for the request types, their phases and required documents of rak_requests' data
    migrations (``rak_requests.seeding.request_types_seed``: 0002 and each type's own seed, all
    idempotent): no test re-seeds them by hand. One query when they are there."""
    if not (DB_FIXTURES & set(request.fixturenames) or request.node.get_closest_marker("django_db")):
        return
    from rak_requests.models import RequestType

    codes = RequestType.Code.values
    if RequestType.objects.filter(code__in=codes).count() < len(codes):
        from rak_requests.seeding import request_types_seed

        request_types_seed()
    # and the complaint categories of migration rak_requests 0014 (issue 11)
    from rak_requests.complaint_models import ComplaintCategory

    if not ComplaintCategory.objects.exists():
        from rak_requests.complaints.seeding import complaint_categories_seed

        complaint_categories_seed()


@pytest.fixture
def now() -> datetime:
    """A fixed instant (Casablanca time) to hand to services that take ``now``."""
    return datetime(2026, 3, 2, 10, 0, tzinfo=CASABLANCA)


# --- outbox -----------------------------------------------------------------------------------

CODE_RE = re.compile(r"\b(\d{6})\b")


class SmsOutbox:
    """Read-only view of the SMS rows of the outbox, oldest first."""

    def all(self, to: str | None = None) -> list:
        from rak_base.models import Message

        rows = Message.objects.filter(channel=Message.Channel.SMS).order_by("id")
        if to is not None:
            rows = rows.filter(recipient=to)
        return list(rows)

    def __len__(self) -> int:
        return len(self.all())

    def bodies(self, to: str | None = None) -> list[str]:
        return [message.body for message in self.all(to)]

    def last(self, to: str | None = None):
        messages = self.all(to)
        assert messages, f"aucun SMS en file pour {to or 'personne'}"
        return messages[-1]

    def last_code(self, to: str | None = None) -> str:
        """The 6-digit code of the latest SMS (read before the worker redacts it)."""
        body = self.last(to).body
        match = CODE_RE.search(body)
        assert match, f"pas de code à 6 chiffres dans le SMS: {body!r}"
        return match.group(1)


@pytest.fixture
def sms_outbox(db) -> SmsOutbox:
    return SmsOutbox()


def _run_worker() -> str:
    """Deliver everything that is due with the real worker, then return its output."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    out = StringIO()
    try:
        call_command("rak_worker", batch=True, interval=0, verbosity=0, stdout=out)
    finally:
        # db_worker installs its own signal handlers; give Ctrl+C back to pytest.
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    return out.getvalue()


@pytest.fixture
def run_worker(db, monkeypatch):
    """``run_worker()`` delivers all queued messages (``rak_worker --batch``) and returns its output.

    db_worker calls close_old_connections() between tasks, which closes a connection it finds
    inside a transaction: under the ``db`` fixture that is the test-wide transaction, so it is
    skipped there (and only there). Tests that want the worker to see real commits request
    ``transactional_db`` as well; then nothing is skipped."""
    from django.db import close_old_connections, connection
    from django_tasks_db.management.commands import db_worker

    def close_old_connections_outside_test_transaction(**kwargs):
        if not connection.in_atomic_block:
            close_old_connections(**kwargs)

    monkeypatch.setattr(db_worker, "close_old_connections", close_old_connections_outside_test_transaction)
    return _run_worker


@pytest.fixture
def sms_lines(settings):
    """``sms_lines()`` -> the lines the dev SMS backend wrote for this test."""

    def read() -> list[str]:
        path = Path(settings.SMS_DEV_FILE)
        return path.read_text(encoding="utf-8").splitlines() if path.exists() else []

    return read


# --- real browser -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright's sync API (one per test session)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} absent: apt-get install chromium")
    # Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a
    # thread with a running loop unless told the caller knows it is synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server, transactional_db) -> Iterator:
    """A fresh browser context (no cookies) on the live server, in French."""
    context = browser.new_context(base_url=live_server.url, locale="fr-FR", timezone_id="Africa/Casablanca")
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()
