#!/usr/bin/env python3
"""Benchmark a billing run (``rak_billing.billing``) on PostgreSQL, beside a raw COPY of the same rows.

1. Creates a database (dropping a previous one of the same name), migrates, loads the demo
   population (``demo_data --customers 200000``: about 200,000 customers and 500,000 dossiers) and
   twelve months of readings (``readings_demo --months 12``); ``--reuse`` skips this when the
   database is already there.
2. Bills ``--history`` earlier month(s) first (untimed set-up: the timed run then finds previous
   bills, as in production), then times the run of the last whole month: every billable dossier,
   chunks of 5,000 in one transaction each, bills + lines + ledger entries written with COPY,
   numbers from the gap-free sequence. Peak memory: ``ru_maxrss`` of this process (and the Python
   heap peak with ``--tracemalloc``, which slows Python down).
3. Raw COPY reference: the same bill, line and ledger rows (read back from the run, renumbered as
   another month so the unique constraints hold) formatted as text in Python and written with
   ``COPY`` to the same tables, foreign keys checked immediately, then rolled back.

Prints the figures and one Markdown row for docs/BENCHMARKS.md (``--record`` inserts it). The
database is dropped at the end unless ``--keep``.

    .venv/bin/python bench/bench_billing.py --keep            # first time: ~3 min of set-up
    .venv/bin/python bench/bench_billing.py --reuse --record   # again on the kept database

Timings are measured here, never asserted by tests.
"""

from __future__ import annotations

import argparse
import datetime
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from datetime import UTC
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_demo_data import machine  # noqa: E402
from common import process_cpu_seconds  # noqa: E402

BENCHMARKS = ROOT / "docs" / "BENCHMARKS.md"
CHUNK = 5000
MARKER = "<!-- bench_billing: new rows above this line -->"


def run(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"échec : {' '.join(args)}")
    return time.perf_counter() - started


def setup_database(options, server: str, url: str, env: dict[str, str], last: datetime.date) -> None:
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (options.db,)).fetchone()
        if exists and options.reuse:
            if options.rebill:  # before migrating: a migration sees the database as it was before that run
                forget_month(url, last)
            seconds = run([sys.executable, str(ROOT / "manage.py"), "migrate", "--verbosity", "0"], env)
            print(f"base {options.db} réutilisée (migrate {seconds:.1f} s)")
            return
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(options.db)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(options.db)))
    manage = [sys.executable, str(ROOT / "manage.py")]
    print(f"migrate: {run([*manage, 'migrate', '--verbosity', '0'], env):.1f} s", flush=True)
    seconds = run([*manage, "demo_data", "--customers", str(options.customers), "--no-logins"], env)
    print(f"demo_data --customers {options.customers}: {seconds:.1f} s", flush=True)
    seconds = run([*manage, "readings_demo", "--months", "12"], env)
    print(f"readings_demo --months 12: {seconds:.1f} s", flush=True)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def django_setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    if not (ROOT / "rak.conf").exists() and "RAK_CONF" not in os.environ:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path[:0] = [str(ROOT), str(ROOT / "addons")]
    import django

    django.setup()


def _machine_cpu() -> list[float]:
    """The machine's CPU seconds so far, all cores, by state (/proc/stat's « cpu » line: user, nice,
    system, idle, iowait, irq, softirq, steal)."""
    with open("/proc/stat", encoding="ascii") as stat:
        return [int(value) / os.sysconf("SC_CLK_TCK") for value in stat.readline().split()[1:9]]


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (every core; not idle nor iowait)."""
    fields = _machine_cpu()
    return sum(fields) - fields[3] - fields[4]


def machine_steal_seconds() -> float:
    """CPU seconds the hypervisor gave to other guests while this VM wanted them (« steal »): a run
    with steal measures the neighbours as much as the code."""
    return _machine_cpu()[7]


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def bill_month(period: datetime.date, *, tracemalloc_on: bool = False) -> dict:
    from django.db import connection

    from rak_billing.billing import billing_run_create, billing_run_process, month_after
    from rak_billing.models import Bill, BillLine

    issue = month_after(period) + datetime.timedelta(days=2)
    run = billing_run_create(
        period_start=period, issue_date=issue, due_date=issue + datetime.timedelta(days=15), enqueue=False
    )
    from rak_billing import billing

    priced_before = len(billing._PRICED)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        wal_before = cursor.fetchone()[0]
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if tracemalloc_on:
        tracemalloc.start()
    busy_before, python_before = machine_busy_seconds(), own_cpu_seconds()
    started = time.perf_counter()
    run = billing_run_process(run_id=run.pk)
    seconds = time.perf_counter() - started
    busy, python = machine_busy_seconds() - busy_before, own_cpu_seconds() - python_before
    heap_peak = tracemalloc.get_traced_memory()[1] if tracemalloc_on else None
    if tracemalloc_on:
        tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    computed = len(billing._PRICED) - priced_before
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", [wal_before])
        wal_bytes = int(cursor.fetchone()[0])
    connection.close()
    lines = BillLine.objects.filter(bill__run=run).count()
    return {
        "run": run,
        "seconds": seconds,
        "bills": run.bills_created,
        "lines": lines,
        "estimated": Bill.objects.filter(run=run, estimated=True).count(),
        "rss_before_mib": rss_before / 1024,
        "rss_peak_mib": rss_after / 1024,
        "heap_peak_mib": heap_peak / 1024 / 1024 if heap_peak is not None else None,
        "computed": computed,
        "wal_gib": wal_bytes / 1024**3,
        "cpu_python": python,  # this process: preparation + the writer thread's formatting
        "cpu_rest": busy - python,  # the rest of the machine: PostgreSQL (and anything else running)
    }


def forget_month(url: str, period: datetime.date) -> None:
    """Benchmark database only: remove the runs, bills, lines and ledger entries of ``period``,
    so that the month can be billed and timed again."""
    bills = "SELECT id FROM rak_billing_bill WHERE kind = 'CONSUMPTION' AND period_start = %s"
    with psycopg.connect(url) as conn:
        conn.execute(f"DELETE FROM rak_billing_ledgerentry WHERE bill_id IN ({bills})", [period])  # noqa: S608
        conn.execute(f"DELETE FROM rak_billing_billline WHERE bill_id IN ({bills})", [period])  # noqa: S608
        conn.execute("DELETE FROM rak_billing_bill WHERE kind = 'CONSUMPTION' AND period_start = %s", [period])
        conn.execute("DELETE FROM rak_billing_billingrun WHERE period_start = %s", [period])
    with psycopg.connect(url, autocommit=True) as conn:
        for table in ("rak_billing_bill", "rak_billing_billline", "rak_billing_ledgerentry"):
            conn.execute(f"VACUUM ANALYZE {table}")


def _new_bill_ids(cursor, period: datetime.date, count: int) -> list[int]:
    """Ids for the raw COPY's bills of ``period``: the month-carrying ids of a partitioned bill
    table (``rak_billing_bill_id``, migration 0022), the identity sequence before it."""
    cursor.execute("SELECT to_regproc('rak_billing_bill_id') IS NOT NULL")
    if cursor.fetchone()[0]:
        cursor.execute(
            "SELECT rak_billing_bill_id(%s) FROM rak_billing_partitions_ensure(%s, %s) AS made, generate_series(1, %s)",
            [period, period, period, count],
        )
    else:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('rak_billing_bill', 'id')) FROM generate_series(1, %s)", [count]
        )
    return [row[0] for row in cursor.fetchall()]


def raw_copy(run, *, plain: bool = False) -> dict:
    """COPY the run's bill, line and ledger rows again (as another month three months later — on
    partitioned tables, an empty month partition like the run's —, new numbers and ids),
    formatted in Python, 5,000 bills per transaction, the deferred foreign keys checked at the
    end of each (``SET CONSTRAINTS ALL IMMEDIATE``, timed apart), each transaction rolled back
    (nothing stays). ``plain``: into bare copies of the tables instead (same columns, no index,
    no constraint) — what a « plain COPY » costs."""
    from django.db import connection, transaction

    from rak_billing.billing import BILL_COLUMNS, LEDGER_COLUMNS, LINE_COLUMNS, _copy_text
    from rak_billing.models import Bill, BillLine, LedgerEntry

    bill_fields = [c for c in BILL_COLUMNS if c != "id"]
    bills = list(Bill.objects.filter(run=run).order_by("id").values_list("id", *bill_fields))
    lines = list(BillLine.objects.filter(bill__run=run).order_by("bill_id", "position").values_list(*LINE_COLUMNS))
    ledger = list(LedgerEntry.objects.filter(bill__run=run).order_by("bill_id").values_list(*LEDGER_COLUMNS))
    other = (run.period_start.replace(day=28) + datetime.timedelta(days=35)).replace(day=1)
    other = (other.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)  # three months after
    other_end = (other.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    position = {name: i for i, name in enumerate(BILL_COLUMNS)}
    quote = connection.ops.quote_name

    def copy(table: str, columns, text_rows: list[str]) -> None:
        statement = f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.copy(statement) as stream:
            for start in range(0, len(text_rows), 2000):
                stream.write("".join(text_rows[start : start + 2000]))

    lines_of: dict[int, list] = {}
    for row in lines:
        lines_of.setdefault(row[0], []).append(row)
    ledger_of = {row[LEDGER_COLUMNS.index("bill_id")]: row for row in ledger}
    bill_at = LEDGER_COLUMNS.index("bill_id")
    seconds = formatted = checks = 0.0
    per_table = dict.fromkeys(("rak_billing_bill", "rak_billing_billline", "rak_billing_ledgerentry"), 0.0)
    tables = {name: name for name in ("rak_billing_bill", "rak_billing_billline", "rak_billing_ledgerentry")}
    if plain:
        with connection.cursor() as cursor:
            for name in tables:
                tables[name] = f"bench_plain_{name}"
                cursor.execute(f"DROP TABLE IF EXISTS {tables[name]}")
                cursor.execute(f"CREATE TABLE {tables[name]} (LIKE {name} INCLUDING DEFAULTS INCLUDING IDENTITY)")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    backend_before = process_cpu_seconds(backend)
    for start in range(0, len(bills), CHUNK):  # like the run: 5,000 bills per transaction
        part = bills[start : start + CHUNK]
        with transaction.atomic():
            with connection.cursor() as cursor:
                new_ids = _new_bill_ids(cursor, other, len(part))
            started = time.perf_counter()
            bill_rows, line_rows, ledger_rows = [], [], []
            for row, new_id in zip(part, new_ids, strict=True):
                values = [new_id, *row[1:]]
                values[position["number"]] = f"X{new_id:011d}"
                values[position["period_start"]] = other
                values[position["period_end"]] = other_end
                values[position["run_id"]] = None
                bill_rows.append("\t".join(_copy_text(v) for v in values) + "\n")
                line_rows.extend(
                    "\t".join(_copy_text(v) for v in (new_id, *line[1:])) + "\n" for line in lines_of.get(row[0], ())
                )
                entry = list(ledger_of[row[0]])
                entry[bill_at] = new_id
                ledger_rows.append("\t".join(_copy_text(v) for v in entry) + "\n")
            formatted += time.perf_counter() - started
            for table, columns, text_rows in (
                ("rak_billing_bill", BILL_COLUMNS, bill_rows),
                ("rak_billing_billline", LINE_COLUMNS, line_rows),
                ("rak_billing_ledgerentry", LEDGER_COLUMNS, ledger_rows),
            ):
                begun = time.perf_counter()
                copy(tables[table], columns, text_rows)
                per_table[table] += time.perf_counter() - begun
            begun = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the deferred foreign-key checks, as at commit
            checks += time.perf_counter() - begun
            seconds += time.perf_counter() - started
            transaction.set_rollback(True)
    backend_cpu = process_cpu_seconds(backend) - backend_before
    if plain:
        with connection.cursor() as cursor:
            for name in tables.values():
                cursor.execute(f"DROP TABLE IF EXISTS {name}")
    return {
        "seconds": seconds,
        "format_seconds": formatted,
        "check_seconds": checks,
        "backend_cpu": backend_cpu,  # the PostgreSQL backend's CPU: the writes and checks, no Python
        "table_seconds": per_table,
        "bills": len(bills),
        "lines": len(lines),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--server",
        default=os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432"),
        help="PostgreSQL server URL without the database name",
    )
    parser.add_argument("--db", default="rak_bench_billing", help="database (default rak_bench_billing)")
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--history", type=int, default=1, help="earlier months billed before the timed run")
    parser.add_argument("--reuse", action="store_true", help="keep an existing database and its data")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--rebill", action="store_true", help="with --reuse: forget the timed month's bills first")
    parser.add_argument("--notify", action="store_true", help="also time the finalisation (credits, notifications)")
    parser.add_argument("--tracemalloc", action="store_true", help="also trace the Python heap (slower)")
    parser.add_argument("--record", action="store_true", help=f"insert the Markdown row in {BENCHMARKS.name}")
    parser.add_argument(
        "--run-only", action="store_true", help="time the run and its CPU only, without the COPY references (A/B runs)"
    )
    options = parser.parse_args()

    server = options.server.rstrip("/")
    url = f"{server}/{options.db}"
    env = dict(os.environ, DATABASE_URL=url, PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'addons'}")
    if not (ROOT / "rak.conf").exists() and "RAK_CONF" not in env:
        env["DJANGO_SETTINGS_MODULE"] = "config.test_settings"
    today = datetime.datetime.now(UTC).date()
    last = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)  # the last whole month
    setup_database(options, server, url, env, last)
    try:
        django_setup(url)
        from django.db import connection
        from django.utils import timezone

        from rak_base import clock
        from rak_billing.billing import month_start
        from rak_billing.models import Bill, BillingRun
        from rak_customer.models import Customer, Dossier

        if month_start(month_start(timezone.localdate(clock.now())) - datetime.timedelta(days=1)) != last:
            raise SystemExit("le mois a changé pendant la mise en place : relancez")
        periods = [last]
        for _ in range(options.history):
            periods.insert(0, month_start(periods[0] - datetime.timedelta(days=1)))
        done = set(BillingRun.objects.filter(status="DONE").values_list("period_start", flat=True))
        if BillingRun.objects.filter(period_start=last).exists():
            raise SystemExit(f"{last:%m/%Y} est déjà facturé dans {options.db} : --rebill, ou recréez la base")
        for period in periods[:-1]:
            if period not in done:
                result = bill_month(period)
                print(f"historique {period:%m/%Y}: {result['bills']} factures en {result['seconds']:.1f} s", flush=True)
        customers, dossiers = Customer.objects.count(), Dossier.objects.count()
        previous_bills = Bill.objects.count()
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM rak_billing_meterreading")
            readings = cursor.fetchone()[0]
        load_before = os.getloadavg()[0]  # other work on the machine skews the figures: shown with them
        steal_before = machine_steal_seconds()
        result = bill_month(last, tracemalloc_on=options.tracemalloc)
        load_after = os.getloadavg()[0]
        steal = machine_steal_seconds() - steal_before
        run = result["run"]
        notified = None
        if options.notify:
            from rak_billing.notifications import billing_run_finalize

            started = time.perf_counter()
            messages = billing_run_finalize(run_id=run.pk)
            notified = (messages, time.perf_counter() - started)
        if options.run_only:
            print(
                f"run {last:%m/%Y}: {result['bills']} factures en {result['seconds']:.1f} s = "
                f"{result['bills'] / result['seconds']:,.0f} factures/s ; CPU Python {result['cpu_python']:.1f} s, "
                f"reste de la machine {result['cpu_rest']:.1f} s ; load {load_before:.1f} → {load_after:.1f}, "
                f"steal {steal:.1f} s"
            )
            return
        raw = raw_copy(run)
        plain = raw_copy(run, plain=True)
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            pg_version = cursor.fetchone()[0].split()[0]
    finally:
        if not options.keep:
            from django.db import connections

            connections.close_all()
            with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(options.db)))

    rate = result["bills"] / result["seconds"]
    raw_rate = raw["bills"] / raw["seconds"]
    print(
        f"population: {customers} clients, {dossiers} dossiers, {readings} relevés, "
        f"{previous_bills} factures antérieures"
    )
    print(
        f"run {last:%m/%Y}: {run.dossiers_total} dossiers, {result['bills']} factures "
        f"({result['estimated']} estimées), {result['lines']} lignes, {run.dossiers_skipped} ignorés "
        f"en {result['seconds']:.1f} s = {rate:,.0f} factures/s ({result['lines'] / result['seconds']:,.0f} lignes/s)"
    )
    print(
        f"calculs du moteur : {result['computed']} pour {result['bills']} factures "
        f"({result['computed'] / max(result['bills'], 1):.1%} ; le reste vient du cache), "
        f"WAL {result['wal_gib']:.2f} GiB"
    )
    cores = os.cpu_count() or 1
    busy_share = (result["cpu_python"] + result["cpu_rest"]) / (cores * result["seconds"])
    print(
        f"CPU pendant le run : Python {result['cpu_python']:.1f} s, reste de la machine (PostgreSQL) "
        f"{result['cpu_rest']:.1f} s, soit {busy_share:.0%} "
        f"de {cores} vCPU ({result['cpu_python'] / result['seconds']:.0%} d'un cœur pour Python)"
    )
    if notified:
        print(f"finalisation (crédits, SMS/e-mails/cloches en file) : {notified[0]} messages en {notified[1]:.1f} s")
    heap = f", tas Python {result['heap_peak_mib']:.0f} MiB" if result["heap_peak_mib"] is not None else ""
    print(f"mémoire: RSS {result['rss_before_mib']:.0f} MiB avant, pic {result['rss_peak_mib']:.0f} MiB{heap}")
    print(
        f"COPY brut des mêmes lignes: {raw['bills']} factures + {raw['lines']} lignes + écritures en "
        f"{raw['seconds']:.1f} s (dont formatage {raw['format_seconds']:.1f} s) = {raw_rate:,.0f} factures/s; "
        f"rapport {raw_rate / rate:.2f}×"
    )
    plain_rate = plain["bills"] / plain["seconds"]
    print(
        f"COPY brut dans des tables nues (sans index ni contrainte) : {plain['seconds']:.1f} s = "
        f"{plain_rate:,.0f} factures/s"
    )
    print(
        "où va le temps du COPY brut : "
        + ", ".join(
            f"{name.removeprefix('rak_billing_')} {value:.1f} s" for name, value in raw["table_seconds"].items()
        )
        + f", clés étrangères différées {raw['check_seconds']:.1f} s, formatage {raw['format_seconds']:.1f} s"
        + f" (tables nues : {', '.join(f'{v:.1f} s' for v in plain['table_seconds'].values())})"
    )
    floor = raw["backend_cpu"] / raw["bills"]  # CPU seconds PostgreSQL needs for one bill, its lines and entry
    python_per_bill = result["cpu_python"] / result["bills"]
    rest_per_bill = result["cpu_rest"] / result["bills"]
    print(
        f"CPU de PostgreSQL pour écrire les mêmes lignes (COPY brut, sans Python) : {raw['backend_cpu']:.1f} s, "
        f"{floor * 1e6:.0f} µs par facture (tables nues : {plain['backend_cpu'] / plain['bills'] * 1e6:.0f} µs) — "
        f"plafond de l'écriture seule sur {cores} vCPU, tout en parallèle et sans rien d'autre : "
        f"{cores / floor:,.0f} factures/s ; le run : Python {python_per_bill * 1e6:.0f} µs par facture, "
        f"PostgreSQL (lire, écrire, numéroter) {rest_per_bill * 1e6:.0f} µs"
    )
    with psycopg.connect(url) as conn:
        sizes = conn.execute(
            "SELECT c.relname, pg_size_pretty(pg_total_relation_size(c.oid)) FROM pg_class c "
            "WHERE c.relkind = 'r' AND (c.relname = 'rak_billing_bill' OR c.relname LIKE 'rak_billing_bill\\_%') "
            "AND pg_total_relation_size(c.oid) > 1000000 ORDER BY c.relname"
        ).fetchall()
    print("tables des factures : " + ", ".join(f"{name} {size}" for name, size in sizes))
    heap_note = f" (heap {result['heap_peak_mib']:.0f} MiB)" if result["heap_peak_mib"] is not None else ""
    row = (
        f"| {datetime.datetime.now(UTC).date().isoformat()} | {customers:,} / {dossiers:,} | {result['bills']:,} "
        f"| {result['lines']:,} | {result['seconds']:.1f} s | {rate:,.0f} | {raw['seconds']:.1f} s | {raw_rate:,.0f} "
        f"| {raw_rate / rate:.2f}× | {plain_rate:,.0f} | {result['rss_peak_mib']:.0f} MiB{heap_note} "
        f"| PostgreSQL {pg_version} | {machine()}, load {load_before:.1f} → {load_after:.1f} |"
    )
    print(row)
    if options.record:
        text = BENCHMARKS.read_text(encoding="utf-8")
        if MARKER not in text:
            raise SystemExit(f"{MARKER} absent de {BENCHMARKS}")
        BENCHMARKS.write_text(text.replace(MARKER, f"{row}\n{MARKER}"), encoding="utf-8")
        print(f"ligne ajoutée à {BENCHMARKS}")


if __name__ == "__main__":
    main()
