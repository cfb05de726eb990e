#!/usr/bin/env python3
"""Benchmark the customer's bill pages under concurrent load on a large PostgreSQL database.

1. Build: (re)create the database, migrate, load ``demo_data --customers N`` (200,000 by
   default: about 550,000 dossiers), then write ``--months`` (12) monthly consumption bills per
   dossier with two lines each, the ledger debits, a payment + allocation + ledger credit for
   every bill but the last month's (and ~4 % left unpaid), and a « frais de coupure » for ~3 % of
   customers — set-based SQL (``INSERT … SELECT generate_series``), not the billing run
   (benchmarked on its own). ``--reuse`` keeps the population and adds only the missing steps.
2. Create portal accounts and logged-in sessions for a sample of customers (``--sample``).
3. Start gunicorn as bin/run does (``--worker-class gthread --workers 2 --threads 4`` by default;
   ``--worker-class sync --workers 3`` for the older rows) on a free local port with an access log
   recording each request's server time (``%(D)s``, microseconds spent in the worker), then hit
   each page from ``--concurrency`` client threads for ``--seconds`` seconds, every request as a
   random customer of the sample on their own dossier/bill; then all the pages mixed (each request
   a random page: the « all pages (mix) » row, the server's throughput on the portal).
4. Print p50/p95/p99 of the server time per page (and the client-side p95, which adds the
   socket and the client's own share of the 2 CPUs), throughput, and one Markdown row per page
   for docs/BENCHMARKS.md (``--record``).

    .venv/bin/python bench/bench_pages.py                     # build rak_bench_pages, measure, keep it
    .venv/bin/python bench/bench_pages.py --reuse --record    # measure again on the built database
    .venv/bin/python bench/bench_pages.py --customers 20000 --seconds 5    # a quick look
    .venv/bin/python bench/bench_pages.py --reuse --no-migrate --pages mix  # only the throughput row

Timings are measured here, never asserted by tests (tests assert query counts).
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "docs" / "BENCHMARKS.md"
MARKER = "<!-- bench_pages: new rows above this line -->"
TABLES = ("rak_customer_customer", "rak_customer_dossier", "rak_billing_bill", "rak_billing_ledgerentry")
sys.path[:0] = [str(ROOT), str(ROOT / "addons"), str(ROOT / "bench")]

from common import cpu_snapshot, cpu_used, process_cpu_seconds  # noqa: E402


def machine() -> str:
    cpu, ram = "unknown CPU", ""
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
        kib = next(
            int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if "MemTotal" in line
        )
        ram = f"{kib / 1024 / 1024:.1f} GiB RAM"
    except (OSError, StopIteration):
        pass
    load = f"load {os.getloadavg()[0]:.1f}"
    return ", ".join(part for part in (f"{os.cpu_count()} vCPU", ram, cpu, platform.system(), load) if part)


def run(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"échec : {' '.join(args)}")
    return time.perf_counter() - started


# --- 1. the database ------------------------------------------------------------------------------

BILLS_SQL = """
INSERT INTO rak_billing_bill ({id_column}
    number, kind, customer_id, dossier_id, period_start, period_end, previous_index, current_index,
    consumption, estimated, issue_date, due_date, total_ht, total_tva, total_ttc, tranche_notice, created_at)
SELECT {id_value}'BP' || lpad(d.id::text, 10, '0') || to_char(m, 'YYMM'), 'CONSUMPTION', d.customer_id, d.id,
       m::date, (m + interval '1 month')::date,
       1000 + c.used * (EXTRACT(year FROM m) * 12 + EXTRACT(month FROM m) - %(first)s),
       1000 + c.used * (EXTRACT(year FROM m) * 12 + EXTRACT(month FROM m) - %(first)s + 1),
       c.used, c.used %% 17 = 0,
       (m + interval '1 month' + interval '4 days')::date, (m + interval '1 month' + interval '19 days')::date,
       round(c.used * 1.05 + 20, 2), round((c.used * 1.05 + 20) * 0.18, 2),
       round(c.used * 1.05 + 20, 2) + round((c.used * 1.05 + 20) * 0.18, 2), '', now()
FROM rak_customer_dossier d
CROSS JOIN generate_series(%(start)s::timestamp, %(end)s::timestamp, interval '1 month') AS m
CROSS JOIN LATERAL (SELECT (abs(hashtext(d.id::text || m::text)) %% 220 + 8)::numeric AS used) c
"""

LINES_SQL = """
INSERT INTO rak_billing_billline
    (bill_id, position, kind, label, quantity, unit_price, amount_ht, vat_rate, amount_tva, amount_ttc)
SELECT b.id, 1, 'TRANCHE', 'Consommation', b.consumption, 1.05, b.total_ht - 20, 0.18,
       round((b.total_ht - 20) * 0.18, 2), b.total_ht - 20 + round((b.total_ht - 20) * 0.18, 2)
FROM rak_billing_bill b
UNION ALL
SELECT b.id, 2, 'FIXED', 'Redevance fixe', 1, 20, 20, 0.18, 3.60, 23.60 FROM rak_billing_bill b
"""

OTHER_SQL = """
INSERT INTO rak_billing_bill (
    number, kind, customer_id, dossier_id, consumption, estimated, issue_date, due_date,
    total_ht, total_tva, total_ttc, tranche_notice, created_at)
SELECT 'BX' || lpad(d.customer_id::text, 10, '0'), 'CUT_FEE', d.customer_id, d.id, 0, false, %(issue)s, %(due)s,
       150, 27, 177, '', now()
FROM (SELECT customer_id, min(id) AS id FROM rak_customer_dossier GROUP BY customer_id) d
WHERE d.customer_id %% 33 = 0
"""

LEDGER_BILLS_SQL = """
INSERT INTO rak_billing_ledgerentry (customer_id, dossier_id, kind, entry_date, amount, bill_id, label, created_at)
SELECT customer_id, dossier_id, 'BILL', issue_date, total_ttc, id, 'Facture ' || number, now() FROM rak_billing_bill
"""

# Bills paid: all but the last month's and ~4 % of the others (the same WHERE in the four
# statements below); payment id = bill id.
PAYMENTS_SQL = """
INSERT INTO rak_billing_payment (id, customer_id, amount, method, paid_at, reference, reason, created_at)
SELECT b.id, b.customer_id, b.total_ttc, 'CASH', b.issue_date + interval '10 days 10 hours', b.number, '', now()
FROM rak_billing_bill b WHERE
    b.kind = 'CONSUMPTION' AND b.period_start < %(last)s AND abs(hashtext(b.number)) %% 25 <> 0
"""
ALLOCATIONS_SQL = """
INSERT INTO rak_billing_paymentallocation (bill_id, payment_id, amount, created_at)
SELECT b.id, b.id, b.total_ttc, now() FROM rak_billing_bill b WHERE
    b.kind = 'CONSUMPTION' AND b.period_start < %(last)s AND abs(hashtext(b.number)) %% 25 <> 0
"""
LEDGER_PAYMENTS_SQL = """
INSERT INTO rak_billing_ledgerentry (customer_id, dossier_id, kind, entry_date, amount, payment_id, label, created_at)
SELECT b.customer_id, b.dossier_id, 'PAYMENT', (b.issue_date + 10), -b.total_ttc, b.id, 'Paiement', now()
FROM rak_billing_bill b WHERE
    b.kind = 'CONSUMPTION' AND b.period_start < %(last)s AND abs(hashtext(b.number)) %% 25 <> 0
"""
SETTLED_SQL = """
UPDATE rak_billing_bill b SET settled_at = b.issue_date + interval '10 days 10 hours' WHERE
    b.kind = 'CONSUMPTION' AND b.period_start < %(last)s AND abs(hashtext(b.number)) %% 25 <> 0
"""


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def build(options, server: str, url: str, env: dict[str, str], *, fresh: bool) -> dict:
    """The database: population (unless ``fresh`` is false), then each bill step not done yet
    (each one is a transaction: an interrupted build resumes with ``--reuse``)."""
    manage = [sys.executable, str(ROOT / "manage.py")]
    if fresh:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(options.db)))
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(options.db)))
        print("migrate…", flush=True)
        run([*manage, "migrate", "--verbosity", "0"], env)
        print(f"demo_data --customers {options.customers}…", flush=True)
        seconds = run([*manage, "demo_data", "--customers", str(options.customers), "--no-logins"], env)
        print(f"  {seconds:.0f} s", flush=True)
    elif not options.no_migrate:
        run([*manage, "migrate", "--verbosity", "0"], env)
    today = date.today()  # noqa: DTZ011 - the bench's own calendar, not domain time
    last = add_months(today, -1)
    first = add_months(last, -(options.months - 1))
    params = {
        "start": first,
        "end": last,
        "first": first.year * 12 + first.month,
        "last": last,
        "issue": add_months(today, -1).replace(day=20),
        "due": add_months(today, 0).replace(day=5),
    }
    steps = [
        ("bills", "SELECT 1 FROM rak_billing_bill WHERE kind = 'CONSUMPTION'", BILLS_SQL),
        ("other bills", "SELECT 1 FROM rak_billing_bill WHERE kind = 'CUT_FEE'", OTHER_SQL),
        ("bill lines", "SELECT 1 FROM rak_billing_billline", LINES_SQL),
        ("ledger (bills)", "SELECT 1 FROM rak_billing_ledgerentry WHERE kind = 'BILL'", LEDGER_BILLS_SQL),
        ("payments", "SELECT 1 FROM rak_billing_payment", PAYMENTS_SQL),
        ("allocations", "SELECT 1 FROM rak_billing_paymentallocation", ALLOCATIONS_SQL),
        ("ledger (payments)", "SELECT 1 FROM rak_billing_ledgerentry WHERE kind = 'PAYMENT'", LEDGER_PAYMENTS_SQL),
        ("settled bills", "SELECT 1 FROM rak_billing_bill WHERE settled_at IS NOT NULL", SETTLED_SQL),
    ]
    timings = {}
    with psycopg.connect(url, autocommit=True) as conn:
        # bills partitioned by month on their id (rak_billing 0022): a consumption bill's id carries
        # its period's month (the column's default gives the current one: right for the other bills)
        partitioned = conn.execute("SELECT to_regprocedure('rak_billing_bill_id(date)') IS NOT NULL").fetchone()[0]
        if partitioned:
            conn.execute("SELECT rak_billing_partitions_ensure(%s, %s)", [params["start"], params["end"]])
        steps[0] = (
            steps[0][0],
            steps[0][1],
            BILLS_SQL.format(
                id_column="id, " if partitioned else "",
                id_value="rak_billing_bill_id(m::date), " if partitioned else "",
            ),
        )
        conn.execute("ANALYZE")  # fresh statistics, or the planner takes the big tables for empty ones
        for label, done, statement in steps:
            if conn.execute(f"SELECT EXISTS ({done})").fetchone()[0]:
                continue
            started = time.perf_counter()
            rows = conn.execute(statement, params).rowcount
            timings[label] = (rows, time.perf_counter() - started)
            print(f"  {label}: {rows:,} rows in {timings[label][1]:.0f} s", flush=True)
            conn.execute("ANALYZE")
        conn.execute(
            "SELECT setval(pg_get_serial_sequence('rak_billing_payment', 'id'), max(id)) FROM rak_billing_payment"
        )
        if timings:
            conn.execute("VACUUM ANALYZE")
    return timings


#: --no-prepared-statements: the site's setting ``[database] prepared_statements`` off (Django's client-side
#: binding, nothing prepared: every query planned at each execution), the A/B of the default
NOT_PREPARED = {"RAK_DATABASE_PREPARED_STATEMENTS": "false"}


# --- 2. accounts and sessions ----------------------------------------------------------------------


def django_setup(env: dict[str, str]) -> None:
    os.environ.update({k: v for k, v in env.items() if k in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def sample_sessions(options) -> list[dict]:
    """Portal accounts + a logged-in session for ``options.sample`` random customers with bills:
    [{"cookie": ..., "dossiers": [...], "bill": id, "code": ...}]."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection

    from rak_base import middleware
    from rak_base.middleware import SESSION_STARTED_KEY
    from rak_billing.models import Bill
    from rak_customer.models import Customer, Dossier, PortalAccount

    User = get_user_model()
    rng = random.Random(options.seed)  # noqa: S311 - bench sampling
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM rak_customer_customer")
        top = cursor.fetchone()[0]
    wanted = set()
    while len(wanted) < options.sample * 3:
        wanted.add(rng.randint(1, top))
    with_bills = set(Bill.objects.filter(customer_id__in=wanted).values_list("customer_id", flat=True).distinct())
    chosen = sorted(with_bills)[: options.sample]
    customers = {c.pk: c for c in Customer.objects.filter(pk__in=chosen)}
    existing = dict(PortalAccount.objects.filter(customer_id__in=chosen).values_list("customer_id", "user_id"))
    password = make_password("Bench-pages-2026")
    new_users = [
        User(username=f"bench{customers[pk].code}", role=User.Role.CUSTOMER, password=password)
        for pk in chosen
        if pk not in existing
    ]
    User.objects.bulk_create(new_users, ignore_conflicts=True)
    users = {u.username: u for u in User.objects.filter(username__in=[u.username for u in new_users])}
    PortalAccount.objects.bulk_create(
        [
            PortalAccount(user=users[f"bench{customers[pk].code}"], customer_id=pk, origin=PortalAccount.Origin.STAFF)
            for pk in chosen
            if pk not in existing
        ],
        ignore_conflicts=True,
    )
    accounts = dict(PortalAccount.objects.filter(customer_id__in=chosen).values_list("customer_id", "user_id"))
    user_objects = User.objects.in_bulk(accounts.values())
    dossiers: dict[int, list[str]] = {}
    for customer_id, number in Dossier.objects.filter(customer_id__in=chosen).values_list("customer_id", "number"):
        dossiers.setdefault(customer_id, []).append(number)
    bills = dict(
        Bill.objects.filter(customer_id__in=chosen)
        .order_by("customer_id", "-issue_date")
        .values_list("customer_id", "id")
    )
    last_month = add_months(date.today(), -1)  # noqa: DTZ011 - the bench's own calendar
    sessions = []
    now = time.time()
    backend = "rak_customer.auth.PortalBackend"
    for pk in chosen:
        user = user_objects[accounts[pk]]
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = backend
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store[SESSION_STARTED_KEY] = now
        if hasattr(middleware, "SESSION_REFRESHED_KEY"):  # as a login leaves it (idle expiry slid once a minute)
            store[middleware.SESSION_REFRESHED_KEY] = now
        store.set_expiry(6 * 3600)
        store.create()
        sessions.append(
            {
                "cookie": {settings.SESSION_COOKIE_NAME: store.session_key},
                "dossiers": sorted(dossiers.get(pk, [])),
                "bill": bills.get(pk),
                "code": customers[pk].code,
                "month": f"{last_month:%m/%Y}",
            }
        )
    return sessions


# --- 3. load ----------------------------------------------------------------------------------------

PAGES = {
    "dashboard": lambda s: "/espace/",
    "dashboard, other dossier": lambda s: f"/espace/?dossier={s['dossiers'][-1]}",
    "Mes consommations": lambda s: f"/espace/consommations/?dossier={s['dossiers'][0]}",
    "bill detail": lambda s: f"/espace/factures/{s['bill']}/",
    "Mes impayés": lambda s: "/espace/impayes/",
    "Autres factures": lambda s: "/espace/autres-factures/",
    "e-facture": lambda s: "/espace/e-facture/",
    "e-facture, filtered": lambda s: f"/espace/e-facture/?dossier={s['dossiers'][0]}&echeance={s['month']}",
}


_MIX = list(PAGES.values())
#: every request a random page of PAGES: the portal's throughput row
MIX = {"all pages (mix)": lambda s: random.choice(_MIX)(s)}  # noqa: S311 - bench sampling


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(options, env: dict[str, str], log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "config.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(options.workers),
        "--worker-class",
        options.worker_class,
        *(["--threads", str(options.threads)] if options.worker_class == "gthread" else []),
        "--access-logfile",
        str(log),
        "--access-logformat",
        "%(U)s %(s)s %(D)s",
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", "/")
            connection.getresponse().read()
            connection.close()
            return process, base
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise SystemExit("gunicorn ne répond pas")


def hammer(base: str, sessions: list[dict], page, *, seconds: float, threads: int, seed: int) -> list[float]:
    """Client-side latencies (ms) of ``threads`` threads requesting ``page`` for ``seconds``
    (plain ``http.client``: the client takes as little of the shared CPUs as it can)."""
    host, port = base.removeprefix("http://").split(":")
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.perf_counter() + seconds
    lock = threading.Lock()

    def worker(index: int) -> None:
        rng = random.Random(seed + index)  # noqa: S311 - bench sampling
        mine = []
        while time.perf_counter() < deadline:
            session = rng.choice(sessions)
            cookie = "; ".join(f"{k}={v}" for k, v in session["cookie"].items())
            path = page(session)
            started = time.perf_counter()
            connection = http.client.HTTPConnection(host, int(port), timeout=30)
            connection.request("GET", path, headers={"Cookie": cookie})
            response = connection.getresponse()
            response.read()
            connection.close()
            mine.append((time.perf_counter() - started) * 1000)
            if response.status != 200:
                errors.append(f"{response.status} {path}")
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    if errors:
        raise SystemExit(f"{len(errors)} réponses non 200, par ex. {errors[:3]}")
    return latencies


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def server_times(log: Path, offset: int) -> tuple[list[float], int]:
    """Server times (ms) of the access-log lines written since ``offset``."""
    with log.open("rb") as handle:
        handle.seek(offset)
        data = handle.read()
    times = []
    for line in data.decode().splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] == "200":
            times.append(int(parts[2]) / 1000)
    return times, offset + len(data)


def session_ab(sessions: list[dict], *, rounds: int, seed: int) -> list[str]:
    """In-process A/B of the session write (issue 15): the same logged-in page reads through the
    whole middleware stack (test client, no gunicorn, one thread), ``SESSION_SAVE_EVERY_REQUEST``
    on (a session UPDATE per request, as before) then off (the idle expiry slid at most once a
    minute), alternated ``rounds`` times in turn (ABBA, so drift in the machine's load cancels
    out); the CPU of this process and of its PostgreSQL backend, and the statements, per request."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    settings.ALLOWED_HOSTS = ["*"]
    clients = []
    for session in sessions[:200]:
        client = Client()
        client.cookies.load(session["cookie"])
        clients.append(client)
    pages = [PAGES[name] for name in ("dashboard", "Mes impayés", "Autres factures", "e-facture")]

    def backend_cpu() -> float:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return process_cpu_seconds(cursor.fetchone()[0])

    rng = random.Random(seed)  # noqa: S311 - bench sampling
    totals = {True: [0.0, 0.0, 0, 0], False: [0.0, 0.0, 0, 0]}
    for client in clients[:20]:
        client.get("/espace/")  # warm-up
    for index in range(rounds):
        for every in (True, False) if index % 2 == 0 else (False, True):
            settings.SESSION_SAVE_EVERY_REQUEST = every
            statements = [0]

            def count(execute, sql, params, many, context, statements=statements):
                statements[0] += 1
                return execute(sql, params, many, context)

            python, database = time.process_time(), backend_cpu()
            with connection.execute_wrapper(count):
                for _ in range(100):
                    pick = rng.randrange(len(clients))
                    response = clients[pick].get(rng.choice(pages)(sessions[pick]))
                    if response.status_code != 200:
                        raise SystemExit(f"{response.status_code} pendant l'A/B")
            totals[every][0] += time.process_time() - python
            totals[every][1] += backend_cpu() - database
            totals[every][2] += 100
            totals[every][3] += statements[0]
    lines = []
    for every, label in ((True, "session saved on every request"), (False, "idle expiry slid once a minute")):
        python, database, requests, statements = totals[every]
        lines.append(
            f"{label}: {requests} requests, CPU python {python / requests * 1000:.2f} ms/req, "
            f"PostgreSQL {database / requests * 1000:.2f} ms/req, {statements / requests:.1f} statements/req"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default=os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--db", default="rak_bench_pages")
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument(
        "--reuse", action="store_true", help="keep the existing population; add only missing bill steps"
    )
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    parser.add_argument("--build-only", action="store_true", help="build the database, measure nothing")
    parser.add_argument("--sample", type=int, default=2000, help="customers with a logged-in session")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (bin/run: 2)")
    parser.add_argument("--worker-class", choices=("gthread", "sync"), default="gthread", help="bin/run: gthread")
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker (bin/run: 4)")
    parser.add_argument("--no-migrate", action="store_true", help="with --reuse: leave the schema as built")
    parser.add_argument("--concurrency", type=int, default=4, help="client threads")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--pages", default="", help="only the pages whose name contains this text")
    parser.add_argument("--record", action="store_true", help=f"insert the Markdown rows in {BENCHMARKS.name}")
    parser.add_argument(
        "--session-ab", type=int, default=0, metavar="ROUNDS", help="in-process A/B of the session write, no gunicorn"
    )
    parser.add_argument(
        "--no-prepared-statements",
        action="store_true",
        help="gunicorn with [database] prepared_statements = false (client-side binding, every query planned)",
    )
    options = parser.parse_args()

    server = options.server.rstrip("/")
    url = f"{server}/{options.db}"
    env = dict(os.environ, DATABASE_URL=url, PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'addons'}")
    if not (ROOT / "rak.conf").exists() and "RAK_CONF" not in env:
        env["DJANGO_SETTINGS_MODULE"] = "config.test_settings"  # a clean clone: test-safe defaults

    populated = False
    if options.reuse:
        try:
            with psycopg.connect(url) as conn:
                populated = conn.execute("SELECT EXISTS (SELECT 1 FROM rak_customer_customer)").fetchone()[0]
        except psycopg.Error:
            populated = False
    build(options, server, url, env, fresh=not populated)
    with psycopg.connect(url) as conn:
        counts = {
            table: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]
            for table in (
                "rak_customer_customer",
                "rak_customer_dossier",
                "rak_billing_bill",
                "rak_billing_ledgerentry",
            )
        }
        pg_version = conn.execute("SHOW server_version").fetchone()[0].split()[0]
    print(", ".join(f"{t.split('_', 2)[-1]} {n:,}" for t, n in counts.items()), flush=True)
    if options.build_only:
        return

    django_setup(env)
    sessions = sample_sessions(options)
    print(f"{len(sessions)} logged-in customers", flush=True)
    if options.session_ab:
        lines = session_ab(sessions, rounds=options.session_ab, seed=options.seed)
        print(f"A/B (load {os.getloadavg()[0]:.1f}):", *lines, sep="\n")
        return

    log = Path(f"/tmp/bench_pages_{os.getpid()}.log")  # noqa: S108 - a scratch file of this run
    log.write_text("")
    host = machine()  # the load average before this run adds its own
    served = dict(env, **NOT_PREPARED) if options.no_prepared_statements else env
    process, base = start_gunicorn(options, served, log)
    rows = []
    try:
        offset = 0
        hammer(base, sessions, PAGES["dashboard"], seconds=2, threads=options.concurrency, seed=0)  # warm-up
        for page in PAGES.values():
            hammer(base, sessions, page, seconds=1, threads=options.concurrency, seed=1)
        _, offset = server_times(log, 0)
        time.sleep(0.5)
        _, offset = server_times(log, 0)
        print(
            f"\n{'page':<26} {'requests':>8} {'req/s':>7} {'p50':>7} {'p95':>7} {'p99':>7} {'client p95':>11}"
            f" {'CPU py':>7} {'CPU db':>7}"
        )
        for name, page in {**PAGES, **MIX}.items():
            if options.pages.lower() not in name.lower():
                continue
            before = cpu_snapshot(process.pid, url, options.db)
            client = hammer(base, sessions, page, seconds=options.seconds, threads=options.concurrency, seed=7)
            after = cpu_snapshot(process.pid, url, options.db)
            time.sleep(0.3)  # gunicorn writes the access log after the response
            times, offset = server_times(log, offset)
            result = {
                "cpu_python": cpu_used(before, after, "python") * 1000 / max(len(client), 1),
                "cpu_db": cpu_used(before, after, "postgres") * 1000 / max(len(client), 1),
                "page": name,
                "requests": len(times),
                "rate": len(client) / options.seconds,
                "p50": statistics.median(times),
                "p95": percentile(times, 95),
                "p99": percentile(times, 99),
                "client_p95": percentile(client, 95),
            }
            rows.append(result)
            print(
                f"{name:<26} {result['requests']:>8} {result['rate']:>7.0f} {result['p50']:>6.1f}  "
                f"{result['p95']:>6.1f}  {result['p99']:>6.1f}  {result['client_p95']:>10.1f}"
                f" {result['cpu_python']:>7.1f} {result['cpu_db']:>7.1f}",
                flush=True,
            )
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        log.unlink(missing_ok=True)
        if options.drop:
            with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(options.db)))

    today = datetime.now(UTC).date().isoformat()
    data = f"{counts['rak_customer_customer']:,} customers, {counts['rak_billing_bill']:,} bills"
    server_kind = (
        f"{options.workers}×{options.threads} gthread"
        if options.worker_class == "gthread"
        else f"{options.workers} sync workers"
    ) + (", nothing prepared" if options.no_prepared_statements else ", prepared statements")
    lines = [
        f"| {today} | {data} | {options.concurrency} | {r['page']} | {r['rate']:.0f} | {r['p50']:.1f} "
        f"| **{r['p95']:.1f}** | {r['p99']:.1f} | {r['client_p95']:.1f} | {r['cpu_python']:.1f} | {r['cpu_db']:.1f} "
        f"| PostgreSQL {pg_version}, gunicorn {server_kind} | {host} |"
        for r in rows
    ]
    print("\n" + "\n".join(lines))
    if options.record:
        text = BENCHMARKS.read_text(encoding="utf-8")
        if MARKER not in text:
            raise SystemExit(f"{MARKER!r} absent de {BENCHMARKS}")
        BENCHMARKS.write_text(text.replace(MARKER, "\n".join(lines) + f"\n{MARKER}"), encoding="utf-8")
        print(f"recorded in {BENCHMARKS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
