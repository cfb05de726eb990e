#!/usr/bin/env python3
"""Benchmark the tariff engine (``rak_billing.engine.compute``), no database.

The schedules are the seeded ones (read from the data migration ``0004_seed_tariffs``), turned
into the engine's immutable schedules exactly as ``rak_billing.tariffs.engine_schedule`` does for
rows. Measured:

- **engine**: one ``compute`` call, electricity domestic (6 tranches, switch at 150 kWh, 2 fixed
  charges, 3 TPPAN bands), water domestic and sanitation domestic, consumptions spread over
  0-600 kWh / 0-60 m³, 30 or 31 days;
- **simulation**: what the public simulator computes for one water request (water + sanitation,
  two ``compute`` calls and the totals), from an already loaded ``TariffBook``;
- **memoised run**: ``TariffBook.compute`` over a billing run's worth of dossiers (integer
  consumptions, 28-33 days), where equal inputs share one computation.

Prints a Markdown row for docs/BENCHMARKS.md (``--record`` inserts it there). Timings are
measured here, never asserted by tests.

    .venv/bin/python bench/bench_engine.py
    .venv/bin/python bench/bench_engine.py --record
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import os
import platform
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "addons")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")

import django  # noqa: E402

django.setup()

from rak_billing import engine  # noqa: E402
from rak_billing.tariffs import ENERGY_LABELS, UNITS, Tariff, TariffBook, schedule_fingerprint, simulate  # noqa: E402

BENCHMARKS = ROOT / "docs" / "BENCHMARKS.md"
MARKER = "<!-- bench_engine: new rows above this line -->"
SEED = importlib.import_module("rak_billing.migrations.0004_seed_tariffs")


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


def seeded_schedule(service: str, category: str) -> engine.Schedule:
    spec = next(s for s in SEED.SCHEDULES if s["service"] == service and s["category"] == category)
    return engine.Schedule(
        combination=spec["combination"],
        tranches=tuple(
            engine.Tranche(lower=lower, upper=upper, price=price, mode=mode)
            for mode, lower, upper, price in spec["tranches"]
        ),
        charges=tuple(
            engine.Charge(label=label, kind=kind, amount=amount, taxable=taxable, lower=lower, upper=upper)
            for label, kind, amount, taxable, lower, upper in spec["charges"]
        ),
        prices_include_tax=spec["prices_include_tax"],
        switch_threshold=spec["switch_threshold"],
        unit=UNITS[service],
        energy_label=ENERGY_LABELS[service],
    )


def book() -> TariffBook:
    rates = {"ELECTRICITE": Decimal("0.20"), "EAU": Decimal("0"), "ASSAINISSEMENT": Decimal("0")}
    tariffs = {}
    for pk, service in enumerate(rates, start=1):
        schedule = seeded_schedule(service, "DOMESTIQUE")
        tariffs[(service, "DOMESTIQUE")] = Tariff(
            schedule_id=pk, schedule=schedule, vat_rate=rates[service], fingerprint=schedule_fingerprint(schedule)
        )
    return TariffBook(on_date=datetime.date(2026, 3, 1), tariffs=tariffs, vat_rates={})


def best_of(runs: int, func) -> float:
    """Seconds of the fastest of ``runs`` runs (the least disturbed by the machine's other work)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20_000, help="engine calls per run (default 20,000)")
    parser.add_argument("--dossiers", type=int, default=400_000, help="dossiers of the memoised run")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--record", action="store_true", help="insert the row into docs/BENCHMARKS.md")
    args = parser.parse_args()

    rng = random.Random(2026)  # noqa: S311 - benchmark inputs, not secrets
    cases = []
    for _ in range(args.calls):
        service = rng.choice(["ELECTRICITE", "ELECTRICITE", "EAU", "ASSAINISSEMENT"])
        top = 600 if service == "ELECTRICITE" else 60
        cases.append((service, Decimal(rng.randint(0, top * 1000)) / 1000, rng.choice([30, 31])))
    schedules = {s: seeded_schedule(s, "DOMESTIQUE") for s in ("ELECTRICITE", "EAU", "ASSAINISSEMENT")}
    rates = {"ELECTRICITE": Decimal("0.20"), "EAU": Decimal("0"), "ASSAINISSEMENT": Decimal("0")}

    def run_engine():
        for service, consumption, days in cases:
            engine.compute(schedules[service], vat_rate=rates[service], consumption=consumption, days=days)

    engine_s = best_of(args.runs, run_engine) / args.calls

    water = [Decimal(rng.randint(0, 60_000)) / 1000 for _ in range(args.calls // 2)]

    def run_simulation():
        loaded = book()  # fresh memo: every request computed
        for consumption in water:
            simulate(
                service="EAU",
                category="DOMESTIQUE",
                consumption=consumption,
                days=30,
                on_date=loaded.on_date,
                book=loaded,
            )

    simulation_s = best_of(args.runs, run_simulation) / len(water)

    dossiers = [
        (rng.choice(["ELECTRICITE", "EAU"]), Decimal(max(0, int(rng.gauss(140, 70)))), rng.randint(28, 33))
        for _ in range(args.dossiers)
    ]
    memo_runs = []
    hits = 0
    for _ in range(max(1, args.runs // 2)):
        loaded = book()
        start = time.perf_counter()
        for service, consumption, days in dossiers:
            loaded.compute(service, "DOMESTIQUE", consumption=consumption, days=days)
        memo_runs.append(time.perf_counter() - start)
        hits = loaded.hits
    memo_s = min(memo_runs)

    print(f"engine compute: {engine_s * 1e6:.1f} µs/call, {1 / engine_s:,.0f} computations/s")
    print(f"simulation (water + sanitation, from a loaded book): {simulation_s * 1e6:.1f} µs")
    print(
        f"memoised run: {args.dossiers:,} dossiers in {memo_s:.2f} s ({args.dossiers / memo_s:,.0f}/s), "
        f"{hits / args.dossiers:.1%} served from the memo"
    )
    row = (
        f"| {datetime.date.today():%Y-%m-%d} | {engine_s * 1e6:.1f} µs | {1 / engine_s:,.0f} | "  # noqa: DTZ011
        f"{simulation_s * 1e6:.1f} µs | {args.dossiers:,} in {memo_s:.2f} s ({hits / args.dossiers:.1%} memo hits) | "
        f"Python {platform.python_version()} | {machine()}, load {os.getloadavg()[0]:.1f} |"
    )
    print(row)
    if args.record:
        text = BENCHMARKS.read_text()
        if MARKER not in text:
            sys.exit(f"{MARKER} absent from {BENCHMARKS}: add the section first")
        BENCHMARKS.write_text(text.replace(MARKER, f"{row}\n{MARKER}"))
        print(f"recorded in {BENCHMARKS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
