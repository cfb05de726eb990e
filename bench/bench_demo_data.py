#!/usr/bin/env python3
"""Benchmark ``manage.py demo_data`` on a fresh PostgreSQL database.

Creates the database (dropping a previous one of the same name), migrates, loads N customers
(100,000 by default), counts the rows actually written and prints a Markdown table row for
docs/BENCHMARKS.md (``--record`` inserts it there). The database is dropped at the end unless
``--keep``.

    .venv/bin/python bench/bench_demo_data.py
    .venv/bin/python bench/bench_demo_data.py --no-copy --record   # the bulk_create path
    .venv/bin/python bench/bench_demo_data.py --server postgres://postgres@127.0.0.1:5432 --db rak_bench

Timings are measured here, never asserted by tests.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "docs" / "BENCHMARKS.md"
MARKER = "<!-- bench_demo_data: new rows above this line -->"
TABLES = [
    "rak_customer_customer",
    "rak_customer_contact",
    "rak_customer_premises",
    "rak_customer_meter",
    "rak_customer_dossier",
]
LOAD_LINE = re.compile(r"demo_data: (\d+) lignes en ([\d.]+) s \((\d+) lignes/s, ([\w_]+)\)")


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB RAM"
                break
    except OSError:
        pass
    return ", ".join(part for part in (f"{os.cpu_count()} vCPU", ram, cpu, platform.system()) if part)


def run(args: list[str], env: dict[str, str]) -> tuple[str, float]:
    started = time.perf_counter()
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    seconds = time.perf_counter() - started
    if done.returncode:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"échec : {' '.join(args)}")
    return done.stdout, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--server",
        default=os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432"),
        help="PostgreSQL server URL without the database name",
    )
    parser.add_argument("--db", default="rak_bench", help="database to (re)create (default rak_bench)")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--no-copy", action="store_true", help="bulk_create instead of COPY")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--record", action="store_true", help=f"insert the Markdown row in {BENCHMARKS.name}")
    options = parser.parse_args()

    server = options.server.rstrip("/")
    url = f"{server}/{options.db}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(options.db)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(options.db)))
        pg_version = admin.execute("SHOW server_version").fetchone()[0].split()[0]

    env = dict(os.environ, DATABASE_URL=url, PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'addons'}")
    if not (ROOT / "rak.conf").exists() and "RAK_CONF" not in env:
        env["DJANGO_SETTINGS_MODULE"] = "config.test_settings"  # a clean clone: test-safe defaults
    manage = [sys.executable, str(ROOT / "manage.py")]
    try:
        _, migrate_seconds = run([*manage, "migrate", "--verbosity", "0"], env)
        command = [*manage, "demo_data", "--customers", str(options.customers), "--seed", str(options.seed)]
        if options.no_copy:
            command.append("--no-copy")
        output, wall = run(command, env)
        match = LOAD_LINE.search(output)
        if not match:
            raise SystemExit(f"ligne « demo_data: ... » introuvable dans la sortie :\n{output}")
        load_seconds, method = float(match.group(2)), match.group(4)
        with psycopg.connect(url) as conn:
            count = sql.SQL("SELECT count(*) FROM {}")
            counted = {table: conn.execute(count.format(sql.Identifier(table))).fetchone()[0] for table in TABLES}
    finally:
        if not options.keep:
            with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(options.db)))

    rows = sum(counted.values())
    if rows != int(match.group(1)):
        raise SystemExit(f"la commande annonce {match.group(1)} lignes, la base en contient {rows}")
    print(f"migrate: {migrate_seconds:.1f} s")
    print("rows: " + ", ".join(f"{table.removeprefix('rak_customer_')} {n}" for table, n in counted.items()))
    print(
        f"load: {load_seconds:.2f} s, {rows / load_seconds:,.0f} rows/s ({method}); "
        f"whole command (Django start-up, demo logins): {wall:.2f} s"
    )
    today = datetime.now(UTC).date().isoformat()
    line = (
        f"| {today} | {options.customers:,} | {rows:,} | {method} | {load_seconds:.1f} s "
        f"| {rows / load_seconds:,.0f} | {wall:.1f} s | PostgreSQL {pg_version} | {machine()} |"
    )
    print(line)
    if options.record:
        text = BENCHMARKS.read_text(encoding="utf-8")
        if MARKER not in text:
            raise SystemExit(f"{MARKER!r} absent de {BENCHMARKS}")
        BENCHMARKS.write_text(text.replace(MARKER, f"{line}\n{MARKER}"), encoding="utf-8")
        print(f"recorded in {BENCHMARKS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
