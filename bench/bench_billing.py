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


def setup_database(options, server: str, url: str, env: dict[str, str]) -> None:
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (options.db,)).fetchone()
        if exists and options.reuse:
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
    started = time.perf_counter()
    run = billing_run_process(run_id=run.pk)
    seconds = time.perf_counter() - started
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
    }


def forget_month(period: datetime.date) -> None:
    """Benchmark database only: remove the runs, bills, lines and ledger entries of ``period``
    (and its estimated readings), so that the month can be billed and timed again."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        bills = "SELECT id FROM rak_billing_bill WHERE kind = 'CONSUMPTION' AND period_start = %s"
        cursor.execute(f"DELETE FROM rak_billing_ledgerentry WHERE bill_id IN ({bills})", [period])  # noqa: S608
        cursor.execute(f"DELETE FROM rak_billing_billline WHERE bill_id IN ({bills})", [period])  # noqa: S608
        cursor.execute("DELETE FROM rak_billing_bill WHERE kind = 'CONSUMPTION' AND period_start = %s", [period])
        cursor.execute("DELETE FROM rak_billing_billingrun WHERE period_start = %s", [period])
    with connection.cursor() as cursor:
        for table in ("rak_billing_bill", "rak_billing_billline", "rak_billing_ledgerentry"):
            cursor.execute(f"VACUUM ANALYZE {table}")


def raw_copy(run, *, plain: bool = False) -> dict:
    """COPY the run's bill, line and ledger rows again (as another month, new numbers and ids),
    formatted in Python, 5,000 bills per transaction, foreign keys checked immediately, each
    transaction rolled back (nothing stays). ``plain``: into bare copies of the tables instead
    (same columns, no index, no constraint) — what a « plain COPY » costs."""
    from django.db import connection, transaction

    from rak_billing.billing import BILL_COLUMNS, LEDGER_COLUMNS, LINE_COLUMNS, _copy_text
    from rak_billing.models import Bill, BillLine, LedgerEntry

    bill_fields = [c for c in BILL_COLUMNS if c != "id"]
    bills = list(Bill.objects.filter(run=run).order_by("id").values_list("id", *bill_fields))
    lines = list(BillLine.objects.filter(bill__run=run).order_by("bill_id", "position").values_list(*LINE_COLUMNS))
    ledger = list(LedgerEntry.objects.filter(bill__run=run).order_by("bill_id").values_list(*LEDGER_COLUMNS))
    other = datetime.date(1999, 1, 1)
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
    seconds = formatted = 0.0
    tables = {name: name for name in ("rak_billing_bill", "rak_billing_billline", "rak_billing_ledgerentry")}
    if plain:
        with connection.cursor() as cursor:
            for name in tables:
                tables[name] = f"bench_plain_{name}"
                cursor.execute(f"DROP TABLE IF EXISTS {tables[name]}")
                cursor.execute(f"CREATE TABLE {tables[name]} (LIKE {name} INCLUDING DEFAULTS INCLUDING IDENTITY)")
    for start in range(0, len(bills), CHUNK):  # like the run: 5,000 bills per transaction
        part = bills[start : start + CHUNK]
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # foreign keys checked now: rolled back below
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence('rak_billing_bill', 'id')) FROM generate_series(1, %s)",
                    [len(part)],
                )
                new_ids = [row[0] for row in cursor.fetchall()]
            started = time.perf_counter()
            bill_rows, line_rows, ledger_rows = [], [], []
            for row, new_id in zip(part, new_ids, strict=True):
                values = [new_id, *row[1:]]
                values[position["number"]] = f"X{new_id:011d}"
                values[position["period_start"]] = other
                values[position["run_id"]] = None
                bill_rows.append("\t".join(_copy_text(v) for v in values) + "\n")
                line_rows.extend(
                    "\t".join(_copy_text(v) for v in (new_id, *line[1:])) + "\n" for line in lines_of.get(row[0], ())
                )
                entry = list(ledger_of[row[0]])
                entry[bill_at] = new_id
                ledger_rows.append("\t".join(_copy_text(v) for v in entry) + "\n")
            formatted += time.perf_counter() - started
            copy(tables["rak_billing_bill"], BILL_COLUMNS, bill_rows)
            copy(tables["rak_billing_billline"], LINE_COLUMNS, line_rows)
            copy(tables["rak_billing_ledgerentry"], LEDGER_COLUMNS, ledger_rows)
            seconds += time.perf_counter() - started
            transaction.set_rollback(True)
    if plain:
        with connection.cursor() as cursor:
            for name in tables.values():
                cursor.execute(f"DROP TABLE IF EXISTS {name}")
    return {"seconds": seconds, "format_seconds": formatted, "bills": len(bills), "lines": len(lines)}


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
    options = parser.parse_args()

    server = options.server.rstrip("/")
    url = f"{server}/{options.db}"
    env = dict(os.environ, DATABASE_URL=url, PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'addons'}")
    if not (ROOT / "rak.conf").exists() and "RAK_CONF" not in env:
        env["DJANGO_SETTINGS_MODULE"] = "config.test_settings"
    setup_database(options, server, url, env)
    try:
        django_setup(url)
        from django.db import connection
        from django.utils import timezone

        from rak_base import clock
        from rak_billing.billing import month_start
        from rak_billing.models import Bill, BillingRun
        from rak_customer.models import Customer, Dossier

        today = timezone.localdate(clock.now())
        last = month_start(month_start(today) - datetime.timedelta(days=1))
        periods = [last]
        for _ in range(options.history):
            periods.insert(0, month_start(periods[0] - datetime.timedelta(days=1)))
        if options.rebill:
            forget_month(last)
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
        result = bill_month(last, tracemalloc_on=options.tracemalloc)
        load_after = os.getloadavg()[0]
        run = result["run"]
        notified = None
        if options.notify:
            from rak_billing.notifications import billing_run_finalize

            started = time.perf_counter()
            messages = billing_run_finalize(run_id=run.pk)
            notified = (messages, time.perf_counter() - started)
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
