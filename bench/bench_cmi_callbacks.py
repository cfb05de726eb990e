"""CMI callbacks against a live gunicorn (as bin/run starts it) on PostgreSQL: callbacks per second
and latency percentiles for approved callbacks of distinct orders, then exactly-once under bursts
of 50 identical callbacks sent at the same instant.

    .venv/bin/python bench/bench_cmi_callbacks.py            # prints the Markdown rows
    .venv/bin/python bench/bench_cmi_callbacks.py --record   # and adds them to docs/BENCHMARKS.md

The script drops and recreates the database ``rak_bench_cmi`` (``--database-url`` to change it),
migrates it, writes one customer, one bill and one SENT payment order per callback, signs each
callback as CMI does (the sandbox's field set, HASH ver3), starts gunicorn on a free port and
fires the callbacks from a pool of client threads (``--concurrency``). Every answer is checked
(``ACTION=POSTAUTH``), and so is the database afterwards (one payment per order).

What one callback costs in CPU (Python, its PostgreSQL backend, statements), without the HTTP
client, gunicorn and the machine's load in the way: bench/profile_cmi_callback.py (in-process,
with a cProfile of the path).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "addons"), str(ROOT / "bench")]

from common import approved_callbacks, cpu_snapshot, cpu_used  # noqa: E402

MARKER = "<!-- bench_cmi_callbacks: new rows above this line -->"
BURST_MARKER = "<!-- bench_cmi_callbacks bursts: new rows above this line -->"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/rak_bench_cmi")
    parser.add_argument("--callbacks", type=int, default=2000, help="distinct approved callbacks (throughput)")
    parser.add_argument("--concurrency", type=int, default=16, help="client threads for the throughput run")
    parser.add_argument("--bursts", type=int, default=20, help="orders receiving 50 identical callbacks at once")
    parser.add_argument("--burst-size", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (bin/run: 2)")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker (bin/run: 4)")
    parser.add_argument("--record", action="store_true", help="add the rows to docs/BENCHMARKS.md")
    parser.add_argument(
        "--no-prepared-statements",
        action="store_true",
        help="gunicorn with [database] prepared_statements = false (every statement planned: the A/B)",
    )
    return parser.parse_args()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(database_url: str, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAK_")}
    env.update(
        {
            "RAK_CONF": "/nonexistent/rak.conf",
            "DATABASE_URL": database_url,
            "RAK_SERVER_MODE": "development",  # the CMI sandbox credentials; DEBUG off as in production
            "RAK_SERVER_DEBUG": "false",
            "RAK_SERVER_SECRET_KEY": "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
            "RAK_SERVER_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "RAK_SERVER_SITE_URL": f"http://127.0.0.1:{port}",
            "RAK_SMS_DEV_FILE": "/tmp/rak-bench-sms.log",  # noqa: S108 - bench scratch file
            "RAK_MAIL_BACKEND": "locmem",
            "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'addons'}",
        }
    )
    return env


def recreate_database(database_url: str) -> None:
    import psycopg
    from psycopg import sql

    name = database_url.rsplit("/", 1)[1]
    admin = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    load = os.getloadavg()[0]
    return f"{os.cpu_count()} vCPU, {kib / 1024 / 1024:.1f} GiB RAM, {cpu}, {platform.system()}, load {load:.1f}"


def main() -> None:
    args = parse_args()
    port = free_port()
    env = environment(args.database_url, port)
    if args.no_prepared_statements:
        env["RAK_DATABASE_PREPARED_STATEMENTS"] = "false"
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"

    print(f"==> recreating {args.database_url}", file=sys.stderr)
    recreate_database(args.database_url)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)

    import django

    django.setup()
    import requests
    from django.db import connection

    from rak_billing.models import Payment
    from rak_customer.models import Customer
    from rak_payment_cmi.models import CmiCallback, PaymentOrder

    now = datetime.datetime.now(tz=datetime.UTC)
    total_orders = args.callbacks + args.bursts
    print(f"==> {total_orders} customers, bills and payment orders", file=sys.stderr)
    customers = Customer.objects.bulk_create(
        Customer(code=f"9{i:08d}", cin=f"BE{i:06d}", last_name=f"Bench{i}", first_name="Client")
        for i in range(total_orders)
    )
    payloads = approved_callbacks(customers, number_prefix="BENCH", email="bench@example.ma", now=now)
    connection.close()

    print(f"==> gunicorn {args.workers}x{args.threads} on port {port}", file=sys.stderr)
    server = subprocess.Popen(  # noqa: S603 - our own server, fixed argv
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(args.threads),
            "--timeout",
            "60",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}/paiement/cmi/callback/"
    try:
        for _ in range(100):
            try:
                requests.get(f"http://127.0.0.1:{port}/paiement/commande/none/statut/", timeout=10)
                break
            except requests.RequestException:
                time.sleep(0.2)
        local = threading.local()

        def send(fields: dict[str, str]) -> tuple[float, str]:
            session = getattr(local, "session", None)
            if session is None:
                session = local.session = requests.Session()
            started = time.perf_counter()
            response = session.post(url, data=fields, timeout=60)
            return time.perf_counter() - started, response.text

        # warm-up: every worker thread opens its connection (excluded from the figures)
        warm = payloads[: args.workers * args.threads]
        with ThreadPoolExecutor(max_workers=len(warm)) as pool:
            list(pool.map(lambda item: send(item[1]), warm))
        measured = payloads[len(warm) : args.callbacks]

        print(f"==> {len(measured)} approved callbacks, {args.concurrency} client threads", file=sys.stderr)
        server_url, database_name = args.database_url.rsplit("/", 1)
        snapshot_url = f"{server_url}/postgres"
        cpu_before, client_before = cpu_snapshot(server.pid, snapshot_url, database_name), time.process_time()
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            results = list(pool.map(lambda item: send(item[1]), measured))
        elapsed = time.perf_counter() - started
        client_cpu = time.process_time() - client_before
        cpu_after = cpu_snapshot(server.pid, snapshot_url, database_name)
        cpu = {
            "gunicorn": cpu_used(cpu_before, cpu_after, "python"),
            "postgres": cpu_used(cpu_before, cpu_after, "postgres"),
            "client": client_cpu,
        }
        latencies = [seconds * 1000 for seconds, _ in results]
        bad = [body for _, body in results if body != "ACTION=POSTAUTH"]
        assert not bad, f"{len(bad)} unexpected answers, e.g. {bad[:3]}"

        print(f"==> {args.bursts} bursts of {args.burst_size} identical callbacks", file=sys.stderr)
        burst_latencies: list[float] = []
        burst_walls: list[float] = []
        for oid, fields in payloads[args.callbacks :]:
            barrier = threading.Barrier(args.burst_size)

            def one(_, fields=fields, barrier=barrier):
                barrier.wait(timeout=30)
                return send(fields)

            burst_started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=args.burst_size) as pool:
                answers = list(pool.map(one, range(args.burst_size)))
            burst_walls.append((time.perf_counter() - burst_started) * 1000)
            burst_latencies += [seconds * 1000 for seconds, _ in answers]
            assert [body for _, body in answers] == ["ACTION=POSTAUTH"] * args.burst_size, (oid, answers[:3])
    finally:
        server.terminate()
        server.wait(timeout=30)

    # the database afterwards: exactly one payment per order, every message kept
    orders = PaymentOrder.objects.count()
    paid = PaymentOrder.objects.filter(status="PAID").count()
    payments = Payment.objects.count()
    applied = CmiCallback.objects.filter(outcome="APPLIED").count()
    duplicates = CmiCallback.objects.filter(outcome="DUPLICATE").count()
    assert orders == paid == payments == applied == total_orders, (orders, paid, payments, applied)
    assert duplicates == args.bursts * (args.burst_size - 1), duplicates
    burst_oids = [oid for oid, _fields in payloads[args.callbacks :]]
    paid_once = sum(Payment.objects.filter(cmi_order__oid=oid).count() == 1 for oid in burst_oids)
    assert paid_once == args.bursts, paid_once

    today = datetime.datetime.now(tz=datetime.UTC).date().isoformat()
    if args.no_prepared_statements:
        today += " (nothing prepared)"
    pg = connection.cursor().connection.info.server_version
    database = f"PostgreSQL {pg // 10000}.{pg % 100}"
    p50, p95, p99 = statistics.median(latencies), percentile(latencies, 0.95), percentile(latencies, 0.99)
    row = (
        f"| {today} | {len(measured)} | {args.concurrency} | {args.workers}×{args.threads} | "
        f"{len(measured) / elapsed:.0f} | {p50:.1f} ms | {p95:.1f} ms | {p99:.1f} ms | {database} | {machine()} |"
    )
    burst_row = (
        f"| {today} | {args.bursts} × {args.burst_size} | {paid_once} of {args.bursts} "
        f"orders paid once ({duplicates} duplicates answered ACTION=POSTAUTH, nothing applied twice) | "
        f"{statistics.median(burst_walls):.0f} ms | {percentile(burst_latencies, 0.99):.1f} ms | "
        f"{database} | {machine()} |"
    )
    print(row)
    print(burst_row)
    per = {name: seconds * 1000 / len(measured) for name, seconds in cpu.items()}
    server_ms, cores = per["gunicorn"] + per["postgres"], os.cpu_count() or 1
    print(
        f"CPU per callback (throughput run): gunicorn workers {per['gunicorn']:.1f} ms, PostgreSQL backends "
        f"{per['postgres']:.1f} ms, this client {per['client']:.1f} ms; elapsed × {cores} vCPU = "
        f"{elapsed * cores * 1000 / len(measured):.1f} ms a callback. Ceiling of the server alone on {cores} vCPU: "
        f"{cores * 1000 / server_ms:.0f} callbacks/s; with this client beside it: "
        f"{cores * 1000 / (server_ms + per['client']):.0f}/s"
    )
    if args.record:
        path = ROOT / "docs" / "BENCHMARKS.md"
        text = path.read_text(encoding="utf-8")
        text = text.replace(MARKER, f"{row}\n{MARKER}").replace(BURST_MARKER, f"{burst_row}\n{BURST_MARKER}")
        path.write_text(text, encoding="utf-8")
        print(f"==> recorded in {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
