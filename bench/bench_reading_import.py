#!/usr/bin/env python3
"""Benchmark the import of agents' readings (``manage.py readings_import``) on PostgreSQL.

Creates a database (dropping a previous one of the same name), migrates, loads the demo population
(``demo_data --customers N``) and its reading history (``readings_demo --months 12``, timed too),
then writes a file of one new reading per metered dossier — 50,000 rows by default, indexes a
plausible month after the last one, a few rows wrong on purpose (unknown dossier, index below the
previous one, bad date) — as CSV and as XLSX, and imports each: first import (rows created), then
the same file again (nothing created: idempotence). Prints one Markdown row per run for
docs/BENCHMARKS.md (``--record`` inserts them there). The database is dropped unless ``--keep``.

    .venv/bin/python bench/bench_reading_import.py
    .venv/bin/python bench/bench_reading_import.py --rows 50000 --record

Timings are measured here, never asserted by tests.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_demo_data import machine  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "docs" / "BENCHMARKS.md"
MARKER = "<!-- bench_reading_import: new rows above this line -->"
IMPORT_LINE = re.compile(
    r"readings_import: (\d+) lignes, (\d+) créées, (\d+) déjà présentes, (\d+) rejetées, (\d+) en attente"
    r".* en ([\d.]+) s"
)
DEMO_LINE = re.compile(r"readings_demo: (\d+) relevés en ([\d.]+) s")


def run(args: list[str], env: dict[str, str]) -> tuple[str, float]:
    started = time.perf_counter()
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    seconds = time.perf_counter() - started
    if done.returncode:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"échec : {' '.join(args)}")
    return done.stdout, seconds


def write_files(url: str, rows: int, directory: Path, today: date) -> tuple[Path, Path]:
    """One reading per metered dossier, dated today: latest index + its last monthly consumption
    prorated to the days since (±20 %), so that only real outliers are held; a few wrong rows."""
    with psycopg.connect(url) as conn:
        latest = conn.execute(
            """
            SELECT DISTINCT ON (r.dossier_id) d.number, r.index, coalesce(r.consumption, 10), r.reading_date
            FROM rak_billing_meterreading r JOIN rak_customer_dossier d ON d.id = r.dossier_id
            WHERE r.status = 'ACCEPTED'
            ORDER BY r.dossier_id, r.reading_date DESC
            LIMIT %s
            """,
            (rows,),
        ).fetchall()
    if len(latest) < rows:
        raise SystemExit(f"seulement {len(latest)} dossiers avec un relevé : augmentez --customers")
    rng = random.Random(7)  # noqa: S311 - benchmark data
    header = ["N° dossier", "Date de relève", "Index", "Compteur remplacé", "Observation"]
    data = []
    for position, (number, index, consumption, last_date) in enumerate(latest):
        days = (today - last_date).days
        new_index = index + max(0, round(float(consumption) / 30 * days * rng.uniform(0.8, 1.2)))
        if position % 1000 == 7:
            new_index = index + 10 * max(1, round(float(consumption)))  # an abnormal reading: held
        date_text = today.strftime("%d/%m/%Y")
        if position % 5000 == 1:
            number = f"X{number}"  # unknown dossier
        elif position % 5000 == 2:
            new_index = index - 5  # below the previous index
        elif position % 5000 == 3:
            date_text = "31/02/2026"  # no such date
        data.append([number, date_text, f"{new_index}".replace(".", ","), "", ""])
    csv_path = directory / "releves.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(header)
        writer.writerows(data)
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(header)
    for number, date_text, index_text, replaced, note in data:
        sheet.append([number, date_text, float(index_text.replace(",", ".")), replaced, note])
    xlsx_path = directory / "releves.xlsx"
    workbook.save(xlsx_path)
    return csv_path, xlsx_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default=os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--db", default="rak_bench_readings")
    parser.add_argument("--customers", type=int, default=30_000)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--record", action="store_true", help=f"insert the Markdown rows in {BENCHMARKS.name}")
    options = parser.parse_args()

    server = options.server.rstrip("/")
    url = f"{server}/{options.db}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(options.db)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(options.db)))
        pg_version = admin.execute("SHOW server_version").fetchone()[0].split()[0]

    env = dict(os.environ, DATABASE_URL=url, PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'addons'}")
    if not (ROOT / "rak.conf").exists() and "RAK_CONF" not in env:
        env["DJANGO_SETTINGS_MODULE"] = "config.test_settings"
    manage = [sys.executable, str(ROOT / "manage.py")]
    today = datetime.now(UTC).date()
    results = []
    try:
        run([*manage, "migrate", "--verbosity", "0"], env)
        run([*manage, "demo_data", "--customers", str(options.customers), "--no-logins"], env)
        output, _ = run([*manage, "readings_demo", "--months", "12"], env)
        demo = DEMO_LINE.search(output)
        print(output.strip())
        with tempfile.TemporaryDirectory() as tmp:
            csv_path, xlsx_path = write_files(url, options.rows, Path(tmp), today)
            for label, path in (("CSV", csv_path), ("CSV again", csv_path)):
                output, wall = run([*manage, "readings_import", str(path), "--report-lines", "0"], env)
                print(f"{label}: {output.strip()} (commande : {wall:.1f} s)")
                results.append((label, IMPORT_LINE.search(output), wall, path.stat().st_size))
            with psycopg.connect(url, autocommit=True) as conn:  # same rows again, from the XLSX file
                conn.execute("DELETE FROM rak_billing_meterreading WHERE import_batch_id IS NOT NULL")
            for label, path in (("XLSX", xlsx_path), ("XLSX again", xlsx_path)):
                output, wall = run([*manage, "readings_import", str(path), "--report-lines", "0"], env)
                print(f"{label}: {output.strip()} (commande : {wall:.1f} s)")
                results.append((label, IMPORT_LINE.search(output), wall, path.stat().st_size))
    finally:
        if not options.keep:
            with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(options.db)))

    lines = []
    for label, match, wall, size in results:
        total, created, unchanged, rejected, _held, seconds = match.groups()
        seconds = float(seconds)
        lines.append(
            f"| {today.isoformat()} | {label} ({size / 1024 / 1024:.1f} MB) | {int(total):,} | {int(created):,} "
            f"| {int(unchanged):,} | {int(rejected):,} | {seconds:.2f} s | {int(total) / seconds:,.0f} | {wall:.1f} s "
            f"| PostgreSQL {pg_version} | {machine()} |"
        )
    if demo:
        count, seconds = int(demo.group(1)), float(demo.group(2))
        print(f"readings_demo: {count:,} readings in {seconds:.1f} s ({count / seconds:,.0f}/s)")
    print("\n".join(lines))
    if options.record:
        text = BENCHMARKS.read_text(encoding="utf-8")
        if MARKER not in text:
            raise SystemExit(f"{MARKER!r} absent de {BENCHMARKS}")
        BENCHMARKS.write_text(text.replace(MARKER, "\n".join(lines) + f"\n{MARKER}"), encoding="utf-8")
        print(f"recorded in {BENCHMARKS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
