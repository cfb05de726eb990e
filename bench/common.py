"""What the benchmark scripts that build their own database share: the environment of the Django
process (no rak.conf, the bench database), dropping and recreating that database, and the line
describing the machine written next to each figure in docs/BENCHMARKS.md, the approved CMI
callbacks of the callback benchmarks, and what the in-process profiles (profile_cmi_callback.py,
profile_pages.py) share: a request handed to the WSGI application as gunicorn hands it, and the CPU
time of the PostgreSQL backend serving them."""

from __future__ import annotations

import datetime
import io
import os
import platform
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def environment(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAK_")}
    env.update(
        {
            "RAK_CONF": "/nonexistent/rak.conf",
            "DATABASE_URL": database_url,
            "RAK_SERVER_MODE": "development",
            "RAK_SERVER_DEBUG": "false",
            "RAK_SERVER_SECRET_KEY": "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
            "RAK_SERVER_ALLOWED_HOSTS": "127.0.0.1,localhost",
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


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    load = os.getloadavg()[0]
    return f"{os.cpu_count()} vCPU, {kib / 1024 / 1024:.1f} GiB RAM, {cpu}, {platform.system()}, load {load:.1f}"


def approved_callbacks(
    customers: list, *, number_prefix: str, email: str, now, bills_per_order: int = 1
) -> list[tuple[str, dict[str, str]]]:
    """For each customer (Django set up): ``bills_per_order`` open bills with their ledger debits,
    one SENT payment order for them with the online fee, and the approved callback CMI would post
    for it (the sandbox's field set, HASH ver3). Returns ``(oid, callback fields)`` in the
    customers' order. Bill numbers: ``number_prefix`` + the customer's rank (6 digits) + the bill's."""
    from decimal import Decimal

    from rak_billing.models import Bill, LedgerEntry
    from rak_cmi_sandbox import cards
    from rak_cmi_sandbox.gateway import answer_fields, callback_fields
    from rak_payment_cmi import services

    bills = Bill.objects.bulk_create(
        Bill(
            number=f"{number_prefix}{i:06d}{k}",
            customer=customer,
            issue_date=datetime.date(2026, 1, 1),
            due_date=datetime.date(2026, 1, 16 + k),
            total_ht=Decimal("100.00"),
            total_tva=Decimal("18.00"),
            total_ttc=Decimal("118.00"),
        )
        for i, customer in enumerate(customers)
        for k in range(bills_per_order)
    )
    LedgerEntry.objects.bulk_create(
        LedgerEntry(
            customer_id=bill.customer_id,
            kind="BILL",
            entry_date=bill.issue_date,
            amount=bill.total_ttc,
            bill=bill,
            label=bill.number,
        )
        for bill in bills
    )
    payloads = []
    for i, customer in enumerate(customers):
        order = services.payment_order_create(
            customer=customer,
            bills=bills[i * bills_per_order : (i + 1) * bills_per_order],
            email=email,
            fee_amount="1.18",
            fee_vat="0.12",
            now=now,
        )
        _url, request = services.order_checkout_form(order, now=now)
        answer = answer_fields(
            request=request, result=cards.APPROVED, number="4111111111111111", client_ip="127.0.0.1", now=now
        )
        payloads.append((order.oid, callback_fields(answer)))
    return payloads


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of a process (``/proc/<pid>/stat``, fields 14 and 15), in seconds; 0 for a
    process gone meanwhile."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()  # after « (comm) »: field 3 is fields[0]
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_snapshot(master: int, url: str, db: str) -> dict[str, dict[int, float]]:
    """CPU seconds used so far by the gunicorn workers (children of ``master``) and by the
    backends of database ``db`` (``url``: a connection string for the snapshot's own query)."""
    import psycopg

    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        children = []
    with psycopg.connect(url) as conn:
        backends = [
            row[0]
            for row in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [db]
            )
        ]
    return {
        "python": {int(pid): process_cpu_seconds(int(pid)) for pid in children},
        "postgres": {pid: process_cpu_seconds(pid) for pid in backends},
    }


def cpu_used(before: dict, after: dict, kind: str) -> float:
    """CPU seconds used between two ``cpu_snapshot`` of ``kind`` (« python » or « postgres »);
    a backend that started meanwhile counts from zero, one that ended is not counted."""
    return sum(seconds - before[kind].get(pid, 0.0) for pid, seconds in after[kind].items())


def wsgi_call(application, method: str, path: str, *, body: bytes = b"", **environ: str) -> tuple[str, bytes]:
    """One request through ``application`` as gunicorn makes it (``environ``: more CGI variables —
    ``CONTENT_TYPE``, ``HTTP_COOKIE``…), its body read and the response closed (``request_finished``,
    as gunicorn does): (status line, body)."""
    path_info, _, query = path.partition("?")
    request = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path_info,
        "QUERY_STRING": query,
        "CONTENT_LENGTH": str(len(body)),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        **environ,
    }
    status: list[str] = []
    response = application(request, lambda line, headers, exc_info=None: status.append(line))
    try:
        content = b"".join(response)
    finally:
        response.close()
    return status[0], content
