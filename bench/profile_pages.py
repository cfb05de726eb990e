"""CPU per portal page, measured in-process: what one logged-in page costs in Python and in its
PostgreSQL backend, and how much of the backend's share is planning (issue 15, the pages' regression
on a partitioned bill table).

    .venv/bin/python bench/profile_pages.py                           # rak_bench_pages (bench_pages.py builds it)
    .venv/bin/python bench/profile_pages.py --database-url postgres://postgres@127.0.0.1:5432/rak_pages_small
    .venv/bin/python bench/profile_pages.py --explain                 # and each statement's planning / execution
    .venv/bin/python bench/profile_pages.py --no-prepared-statements  # nothing prepared (A/B)
    .venv/bin/python bench/profile_pages.py --pages dashboard --profile 40  # cProfile's top 40 functions
    .venv/bin/python bench/profile_pages.py --plans       # prepared statements still planned each time

The pages are bench_pages.py's (``PAGES``), requested through the WSGI application exactly as
gunicorn calls it (``config.wsgi``: the whole middleware stack, the request signals), one after the
other from this process, each time as a random customer of a sample (``--sample``) with a session of
its own, as the load benchmark does. Settings: config.settings in development mode (DEBUG off).

Reported per page, over ``--requests`` requests after a warm-up of each page:

- Python CPU: ``time.process_time()`` around the loop, divided by the requests;
- PostgreSQL CPU: the backend serving this process, utime + stime from ``/proc/<pid>/stat`` (the
  server must run on this machine; ``CONN_MAX_AGE`` is raised so the connection is never recycled);
- statements per request (Django's ``CaptureQueriesContext`` on one more request);
- with ``--explain``: each SELECT of that request run again under ``EXPLAIN (ANALYZE, SUMMARY)``
  (best of 3), its planning and execution times, and their sums per page: the statement planned
  afresh, as every request planned it before the site prepared its statements (a kept plan is not
  shown by EXPLAIN).

CPU time barely depends on the machine's load: this tells what a change costs or saves while the
load benchmark (bench_pages.py) tells what the server carries.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "addons"), str(ROOT / "bench")]

from bench_pages import PAGES, sample_sessions  # noqa: E402
from common import environment, process_cpu_seconds, wsgi_call  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/rak_bench_pages")
    parser.add_argument("--requests", type=int, default=300, help="requests measured per page")
    parser.add_argument("--sample", type=int, default=200, help="customers with a session")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--pages", default="", help="only the pages whose name contains this text")
    parser.add_argument("--explain", action="store_true", help="planning and execution of each statement")
    parser.add_argument(
        "--plans", action="store_true", help="the prepared statements PostgreSQL still plans at each execution"
    )
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="cProfile the loops, print the top N")
    parser.add_argument(
        "--no-prepared-statements",
        action="store_true",
        help="[database] prepared_statements = false: client-side binding, every query planned (A/B)",
    )
    return parser.parse_args()


def main() -> None:  # noqa: PLR0915 - one straight script
    args = parse_args()
    os.environ.update(environment(args.database_url))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    if args.no_prepared_statements:
        os.environ["RAK_DATABASE_PREPARED_STATEMENTS"] = "false"
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from config.wsgi import application

    connection.settings_dict["CONN_MAX_AGE"] = None  # one backend for the whole run, never recycled
    connection.close()

    sessions = sample_sessions(SimpleNamespace(sample=args.sample, seed=args.seed))
    cookies = ["; ".join(f"{name}={value}" for name, value in session["cookie"].items()) for session in sessions]
    rng = random.Random(args.seed)  # noqa: S311 - bench sampling

    def get(path: str, cookie: str) -> None:
        status, _content = wsgi_call(
            application, "GET", path, HTTP_COOKIE=cookie, HTTP_ACCEPT_LANGUAGE="fr", HTTP_USER_AGENT="profile_pages"
        )
        if not status.startswith("200"):
            raise AssertionError(f"{path}: {status}")

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    options = connection.settings_dict["OPTIONS"]
    mode = f"prepare_threshold {options['prepare_threshold']}" if "prepare_threshold" in options else "nothing prepared"
    print(f"{args.database_url.rsplit('/', 1)[1]}, {mode}, {args.requests} requests per page, backend {pid}")
    print(f"{'page':<28} {'Python ms':>9} {'PG ms':>7} {'statements':>10}  {'planning ms':>11} {'execution ms':>12}")
    if args.pages and not any(args.pages in name for name in PAGES):
        raise SystemExit(f"--pages {args.pages!r}: no page of {', '.join(PAGES)}")
    profiler = cProfile.Profile(time.process_time) if args.profile else None  # CPU, not wall time
    for name, page in PAGES.items():
        if args.pages and args.pages not in name:
            continue
        picks = [(page(sessions[i]), cookies[i]) for i in (rng.randrange(len(sessions)) for _ in range(args.requests))]
        for path, cookie in picks[:20]:  # warm-up: caches, and the statements prepared
            get(path, cookie)
        pg_before, py_before = process_cpu_seconds(pid), time.process_time()
        if profiler:
            profiler.enable()
        for path, cookie in picks:
            get(path, cookie)
        if profiler:
            profiler.disable()
        py, pg = time.process_time() - py_before, process_cpu_seconds(pid) - pg_before
        with CaptureQueriesContext(connection) as queries:
            get(*picks[0])
        planning = execution = 0.0
        details = []
        if args.explain:
            for query in queries.captured_queries:
                text = query["sql"]
                if not text.lstrip().upper().startswith("SELECT"):
                    continue
                with connection.cursor() as cursor:
                    best = None
                    for _ in range(3):
                        cursor.execute("EXPLAIN (ANALYZE, SUMMARY, FORMAT JSON) " + text)
                        plan = cursor.fetchone()[0][0]
                        pair = (plan["Planning Time"], plan["Execution Time"])
                        best = pair if best is None or pair[0] < best[0] else best
                planning, execution = planning + best[0], execution + best[1]
                details.append(f"      {best[0]:6.2f} {best[1]:6.2f}  {text[:160]}")
        n = len(picks)
        explained = f"  {planning:11.2f} {execution:12.2f}" if args.explain else ""
        print(f"{name:<28} {py / n * 1000:9.2f} {pg / n * 1000:7.2f} {len(queries.captured_queries):10d}{explained}")
        for line in details:
            print(line)
    if args.plans:
        # custom plans only: PostgreSQL found the generic plan dearer (a partial index whose predicate is
        # a parameter, say) and plans the statement at every execution, over every partition
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT custom_plans, generic_plans, statement FROM pg_prepared_statements "
                "WHERE custom_plans > 5 ORDER BY custom_plans DESC"
            )
            for custom, generic, statement in cursor.fetchall():
                text = " ".join(statement.split())
                where = text.rfind(" WHERE ")  # the outer query's
                print(f"custom plans {custom}, generic {generic}: {text[:80]} … {text[where : where + 400]}")
    if profiler:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(args.profile)
        stats.sort_stats("cumulative").print_stats(args.profile)
        print("(the figures above are inflated by cProfile)", out.getvalue(), sep="\n")


if __name__ == "__main__":
    main()
