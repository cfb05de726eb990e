"""CPU per CMI callback, measured in-process: what one approved callback costs in Python and in its
PostgreSQL backend, independently of the machine's load (issue 15).

    .venv/bin/python bench/profile_cmi_callback.py --database-url postgres://postgres@127.0.0.1:5433/rak_cmi
    .venv/bin/python bench/profile_cmi_callback.py --profile 40       # and cProfile's top 40 functions
    .venv/bin/python bench/profile_cmi_callback.py --sql              # and the statements of one callback

The callbacks go through the WSGI application exactly as gunicorn calls it (``config.wsgi``: the
whole middleware stack, the ``request_started``/``request_finished`` signals with their connection
health check, real transactions and commits) — one after the other, from this process, with no HTTP
client or server in the way. The data is the throughput benchmark's (bench/bench_cmi_callbacks.py):
per order one customer, ``--bills`` bills and the online fee, signed by the sandbox as CMI signs
(HASH ver3). Settings: config.settings in development mode, as the benchmark's gunicorn runs.

Reported, per approved first delivery (then per duplicate delivery of the same callbacks):

- Python CPU: ``time.process_time()`` around the loop, divided by the callbacks;
- PostgreSQL CPU: the backend serving this process (``SELECT pg_backend_pid()``), its utime + stime
  from ``/proc/<pid>/stat`` before and after the loop (the server must run on this machine; the
  connection is kept for the whole run: ``CONN_MAX_AGE`` is raised so that it is never recycled);
- statements: one more callback counted with Django's ``CaptureQueriesContext`` (BEGIN, COMMIT and
  savepoints included, as tests/integration/test_cmi_callback_cost.py counts them); not counted
  during the timed loop, which runs without the debug cursor;
- wall time per callback (one at a time: no queueing, so about Python + PostgreSQL + round trips).

These are CPU figures: they add up to what a callback costs the 2 vCPUs under load, without the
HTTP client's and gunicorn's own share. Background PostgreSQL processes (WAL writer, checkpointer)
are not counted. Run it with ``nice -n 19`` on a busy machine: CPU time barely depends on the load.

The database is migrated (``--recreate`` drops and recreates it first); each run adds its own
customers, bills and orders. Every answer is checked (``ACTION=POSTAUTH``), and so is the database
afterwards (one payment per order). A sampling profile of the loop: run the script under py-spy,
``py-spy record -o cmi.svg -- .venv/bin/python bench/profile_cmi_callback.py --callbacks 3000``
(the set-up is then a small share of the samples).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import io
import os
import pstats
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "addons"), str(ROOT / "bench")]

from common import approved_callbacks, environment, process_cpu_seconds, recreate_database, wsgi_call  # noqa: E402

CALLBACK_PATH = "/paiement/cmi/callback/"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/rak_bench_cmi_cpu")
    parser.add_argument("--recreate", action="store_true", help="drop and recreate the database first")
    parser.add_argument("--callbacks", type=int, default=500, help="approved callbacks measured")
    parser.add_argument("--warmup", type=int, default=30, help="callbacks before the measure (not counted)")
    parser.add_argument("--bills", type=int, default=1, help="bills per order (the benchmark: 1)")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="cProfile the loop, print the top N")
    parser.add_argument("--sql", action="store_true", help="print the statements of one callback")
    return parser.parse_args()


def main() -> None:  # noqa: PLR0915 - one straight script
    args = parse_args()
    env = environment(args.database_url)
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    if args.recreate:
        print(f"==> recreating {args.database_url}", file=sys.stderr)
        recreate_database(args.database_url)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call_command("migrate", "--noinput", verbosity=0)
    connection.settings_dict["CONN_MAX_AGE"] = None  # one backend for the whole run, never recycled
    connection.close()

    from config.wsgi import application
    from rak_billing.models import Payment
    from rak_customer.models import Customer
    from rak_payment_cmi.models import PaymentOrder

    now = datetime.datetime.now(tz=datetime.UTC)
    total = args.warmup + args.callbacks + 1  # + the one whose statements are counted
    print(f"==> {total} customers, orders of {args.bills} bill(s) + the online fee", file=sys.stderr)
    stamp = f"{time.time_ns() % 10**10:010d}"
    customers = Customer.objects.bulk_create(
        Customer(code=f"P{stamp[-5:]}{i:05d}", cin=f"PF{stamp[-4:]}{i:05d}", last_name=f"Cpu{i}", first_name="Client")
        for i in range(total)
    )
    payloads = approved_callbacks(
        customers, number_prefix=f"CPU{stamp}", email="bench@example.ma", now=now, bills_per_order=args.bills
    )
    bodies = [urlencode(fields).encode() for _oid, fields in payloads]
    oids = [order.oid for order in PaymentOrder.objects.filter(customer__in=customers).only("oid")]

    def post(body: bytes) -> str:
        """CMI's POST: form-encoded, from the gateway's address."""
        status, content = wsgi_call(
            application,
            "POST",
            CALLBACK_PATH,
            body=body,
            CONTENT_TYPE="application/x-www-form-urlencoded",
            HTTP_USER_AGENT="CMI callback",
            HTTP_ACCEPT="*/*",
        )
        text = content.decode()
        if not status.startswith("200") or text != "ACTION=POSTAUTH":
            raise AssertionError(f"{status}: {text!r}")
        return text

    warmup, measured, counted = bodies[: args.warmup], bodies[args.warmup : -1], bodies[-1]
    for body in warmup:
        post(body)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]

    def run(label: str, batch: list[bytes]) -> dict[str, float]:
        pg_before, py_before, wall_before = process_cpu_seconds(pid), time.process_time(), time.perf_counter()
        for body in batch:
            post(body)
        wall, py = time.perf_counter() - wall_before, time.process_time() - py_before
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            assert cursor.fetchone()[0] == pid, "the connection was replaced during the loop"
        pg = process_cpu_seconds(pid) - pg_before
        n = len(batch)
        figures = {"python_ms": py / n * 1000, "postgres_ms": pg / n * 1000, "wall_ms": wall / n * 1000}
        print(
            f"{label}: {n} callbacks — Python {figures['python_ms']:.2f} ms, PostgreSQL backend "
            f"{figures['postgres_ms']:.2f} ms, wall {figures['wall_ms']:.2f} ms per callback "
            f"(≈ {1000 / (figures['python_ms'] + figures['postgres_ms']):.0f} callbacks per CPU-second)"
        )
        return figures

    print(f"==> {len(measured)} first deliveries (backend pid {pid})", file=sys.stderr)
    if args.profile:
        profiler = cProfile.Profile(time.process_time)  # CPU, not wall time
        profiler.enable()
        run("first delivery (under cProfile: inflated)", measured)
        profiler.disable()
        run("duplicate (under cProfile: inflated)", measured[: len(measured) // 2])
    else:
        run("first delivery", measured)
        run("duplicate", measured[: len(measured) // 2])

    with CaptureQueriesContext(connection) as queries:
        post(counted)
    first = [query["sql"] for query in queries.captured_queries]
    with CaptureQueriesContext(connection) as queries:
        post(counted)
    duplicate = [query["sql"] for query in queries.captured_queries]
    print(f"statements: first delivery {len(first)}, duplicate {len(duplicate)}")
    if args.sql:
        print("\n".join(f"{n:3d} {sql[:300]}" for n, sql in enumerate(first, 1)))

    paid = PaymentOrder.objects.filter(oid__in=oids, status="PAID").count()
    payments = Payment.objects.filter(cmi_order__oid__in=oids).count()
    assert paid == payments == len(oids), (paid, payments, len(oids))
    if args.profile:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(args.profile)
        stats.sort_stats("cumulative").print_stats(args.profile)
        stats.sort_stats("cumulative").print_stats("addons/", args.profile)  # our functions only
        print(out.getvalue())


if __name__ == "__main__":
    main()
