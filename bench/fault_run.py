"""Fault run (issue 15): kill and restart things under work and prove that nothing is lost.

Everything runs against the project's own PostgreSQL, started for the run: the embedded server of
``config/embedded_db.py`` (PyPI wheel, fsync on) in a temporary directory, reached through its unix
socket (it opens no TCP port, so it can never be the machine's shared server on 5432). The script:

1. starts that server, creates ``rak_fault``, migrates it, loads ``demo_data --customers N``
   (default 6,000: about 16,000 dossiers) and three months of readings, and bills the month before
   last in-process (so that the run under test finds previous bills, as in production);
2. starts the SMS operator simulator (``bench/sms_operator.py``) on 127.0.0.1:``--sim-port``,
   gunicorn and ``manage.py rak_worker`` as ``bin/run`` starts them (``setsid``, 2 gthread workers ×
   4 threads, one worker), with ``[sms] backend = http`` pointing at the simulator
   (``http_timeout_seconds`` 2, ``{reference}`` in the body) and ``[outbox] retry_base_seconds`` 2;
3. runs the scenarios (``--scenarios a,b,d,c``):

   a. **kill -9 of the worker during a billing run**: the last month's run created as the back office
      does (``billing_run_create``: the first chunk queued for the worker), the worker killed once a
      chunk is committed and the next one is being written, then restarted; the run must complete
      by itself; checks: one bill per dossier and period, bills + skipped = dossiers to bill, one
      ledger debit per bill and Σ debits = Σ bills, the year's numbers gap-free and unique;
   a2. (not in the default set) the same run, the worker killed once the run is DONE, during its
      finalisation (credits, « facture disponible » notices); the notices must be queued by themselves;
   b. **kill -9 of the worker during outbox delivery**: ``--sms`` SMS queued (``message_queue_bulk``),
      the worker killed when about a third reached the operator, restarted; every message SENT,
      every reference delivered to the handset once; copies the operator got twice counted;
   d. **SMS gateway faults**: SMS queued while the operator answers 503, then times out (slow), then
      drops connections, then recovers: retried with backoff (attempts counted), nothing lost,
      delivered once per reference, the outbox showing attempts and the last error meanwhile;
   c. **PostgreSQL restarted during traffic** (``pg_ctl stop -m fast``, then ``-m immediate``): client
      threads request portal pages (logged-in sessions) and post CMI callbacks (sandbox-signed,
      retried until answered ``ACTION=POSTAUTH``, as CMI retries); errors counted during the
      outage and after it (none expected once the server is back: the web reconnects), time to
      recover; afterwards every order paid exactly once (one payment, one APPLIED callback) and the
      worker, not restarted, still delivers.

Prints a Markdown table (one row per scenario, with the machine's load); ``--record`` adds the rows
to docs/BENCHMARKS.md « Fault run ». Exit status 1 when a check failed.

    .venv/bin/python bench/fault_run.py                    # all scenarios, about 5–8 minutes
    .venv/bin/python bench/fault_run.py --scenarios a      # one scenario
    .venv/bin/python bench/fault_run.py --record --keep    # record; keep the temporary cluster

Ports: gunicorn ``--port`` (8240), simulator ``--sim-port`` (8241).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "addons"), str(ROOT / "bench")]

from common import approved_callbacks, environment, machine  # noqa: E402
from sms_operator import OperatorServer  # noqa: E402

from config.embedded_db import EmbeddedPostgres, bin_dir  # noqa: E402

MARKER = "<!-- fault_run: new rows above this line -->"
DATABASE = "rak_fault"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S', time.gmtime())} UTC] {message}", file=sys.stderr, flush=True)


def wait_for(predicate, *, timeout: float, every: float = 0.25):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)


# --- processes, started as bin/run starts them ------------------------------------------------------


class Processes:
    """gunicorn and the worker, each in its own process group (setsid, as bin/run does), so that
    kill -9 reaches the whole group and nothing else."""

    def __init__(self, env: dict[str, str], port: int, logs: Path) -> None:
        self.env, self.port, self.logs = env, port, logs
        self.web: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.worker_starts = 0

    def _spawn(self, argv: list[str], name: str) -> subprocess.Popen:
        handle = (self.logs / f"{name}.log").open("a")
        return subprocess.Popen(  # noqa: S603 - our own programs, fixed argv
            argv, cwd=ROOT, env=self.env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )

    def start_web(self) -> None:
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        self.web = self._spawn(
            [
                gunicorn,
                "config.wsgi:application",
                *("--bind", f"127.0.0.1:{self.port}"),
                *("--workers", "2", "--worker-class", "gthread", "--threads", "4"),
                *("--timeout", "60", "--graceful-timeout", "10", "--no-control-socket"),
                *("--access-logfile", "-", "--error-logfile", "-"),
            ],
            "gunicorn",
        )

    def start_worker(self) -> None:
        self.worker_starts += 1
        self.worker = self._spawn([sys.executable, "manage.py", "rak_worker"], "worker")

    def kill_worker(self) -> None:
        """kill -9 of the worker's process group (ours: started with setsid above)."""
        assert self.worker is not None
        os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait()

    def worker_alive(self) -> bool:
        return self.worker is not None and self.worker.poll() is None

    def stop(self) -> None:
        for process in (self.web, self.worker):
            if process is None or process.poll() is not None:
                continue
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


# --- set-up ------------------------------------------------------------------------------------------


def manage(env: dict[str, str], *args: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)  # noqa: S603
    return time.perf_counter() - started


def month_back(day: datetime.date, months: int) -> datetime.date:
    day = day.replace(day=1)
    for _ in range(months):
        day = (day - datetime.timedelta(days=1)).replace(day=1)
    return day


def django_now() -> datetime.datetime:
    from rak_base import clock

    return clock.now()


def db_close() -> None:
    from django.db import connections

    connections.close_all()


def sms_wanted(count: int, *, prefix: str, kind: str = "info") -> list:
    from rak_base.models import Message

    return [
        Message(
            channel=Message.Channel.SMS, recipient=f"+2126{prefix}{i:06d}", body=f"Fault run {prefix} {i}", kind=kind
        )
        for i in range(count)
    ]


def outbox_counts(ids) -> Counter:
    from rak_base.models import Message

    return Counter(Message.objects.filter(pk__in=ids).values_list("status", flat=True))


# --- scenario a: kill -9 during a billing run ---------------------------------------------------------


def scenario_billing(ctx, *, during: str = "chunk") -> dict:
    """``during`` = "chunk": killed half a second into the second chunk; "finalize": killed once the
    run is DONE, while its finalisation (credits, « facture disponible » notices) runs."""
    from django.db.models import Count, Sum

    from rak_base.models import Message
    from rak_billing.billing import billable_dossiers, billing_run_create, billing_run_resume
    from rak_billing.ledger import bill_sequence_name
    from rak_billing.models import Bill, BillingRun, LedgerEntry
    from rak_billing.notifications import notification_kind

    period = ctx.period
    issue = (period.replace(day=28) + datetime.timedelta(days=6)).replace(day=2)
    run = billing_run_create(period_start=period, issue_date=issue, due_date=issue + datetime.timedelta(days=15))
    log(f"a: run {run.pk} for {period:%m/%Y} queued for the worker")
    if during == "finalize":
        done_first = wait_for(
            lambda: BillingRun.objects.get(pk=run.pk).status == BillingRun.Status.DONE, timeout=600, every=0.02
        )
        assert done_first, "the run never finished"
        time.sleep(0.3)  # inside the finalisation task
    else:
        first = wait_for(lambda: BillingRun.objects.get(pk=run.pk).bills_created > 0, timeout=300, every=0.05)
        assert first, "the worker never committed a chunk"
        time.sleep(random.uniform(0.3, 0.8))  # noqa: S311 - inside the next chunk
    ctx.procs.kill_worker()
    notices_at_kill = Message.objects.filter(kind=notification_kind(run.pk)).count()
    killed_at = time.monotonic()
    at_kill = BillingRun.objects.get(pk=run.pk)
    phase = "finalisation" if at_kill.status == BillingRun.Status.DONE else "chunk"
    log(
        f"a: worker killed during a {phase}: {at_kill.bills_created} bills committed, status {at_kill.status}, "
        f"{notices_at_kill} notices queued"
    )
    time.sleep(1)
    ctx.procs.start_worker()
    restarted_at = time.monotonic()

    def progressed():
        if phase == "finalisation":
            return Message.objects.filter(kind=notification_kind(run.pk)).exists()
        current = BillingRun.objects.get(pk=run.pk)
        return current.status == BillingRun.Status.DONE or current.bills_created > at_kill.bills_created

    resumed_by_itself = bool(wait_for(progressed, timeout=ctx.args.resume_timeout, every=0.5))
    resumed_after = time.monotonic() - restarted_at
    if not resumed_by_itself and phase == "chunk":
        log(f"a: NOT resumed {ctx.args.resume_timeout:.0f} s after the restart: « Reprendre » (billing_run_resume)")
        billing_run_resume(run=BillingRun.objects.get(pk=run.pk))
    done = wait_for(lambda: BillingRun.objects.get(pk=run.pk).status == BillingRun.Status.DONE, timeout=600)
    completed_after = time.monotonic() - restarted_at
    notified = wait_for(
        lambda: Message.objects.filter(kind=notification_kind(run.pk)).exists(),
        timeout=120 if phase == "chunk" else 1,
    )
    run.refresh_from_db()

    bills = Bill.objects.filter(kind=Bill.Kind.CONSUMPTION, period_start=period)
    per_dossier = bills.values("dossier_id").annotate(n=Count("id")).filter(n__gt=1).count()
    bill_count = bills.count()
    total = bills.aggregate(total=Sum("total_ttc"))["total"]
    debits = LedgerEntry.objects.filter(bill__in=bills, kind="BILL")
    debit_total = debits.aggregate(total=Sum("amount"))["total"]
    debit_count = debits.count()
    to_bill = billable_dossiers(period, run.period_end, "").count()
    year = issue.year
    numbers = sorted(
        int(n.split("-")[1])
        for n in Bill.objects.filter(number__startswith=f"F{year}-").values_list("number", flat=True)
    )
    gap_free = numbers == list(range(1, len(numbers) + 1))
    from rak_base.models import Sequence

    next_value = Sequence.objects.filter(name=bill_sequence_name(year)).values_list("next_value", flat=True).first()
    checks = {
        "resumed by itself": resumed_by_itself,
        "run DONE": bool(done) and run.status == BillingRun.Status.DONE,
        "one bill per dossier and period": per_dossier == 0,
        "bills = run's count": bill_count == run.bills_created,
        "bills + skipped = dossiers to bill": run.bills_created + run.dossiers_skipped == run.dossiers_total == to_bill,
        "one ledger debit per bill": debit_count == bill_count,
        "Σ debits = Σ bills": debit_total == total,
        "numbers gap-free": gap_free and next_value == len(numbers) + 1,
        "bills notified": bool(notified),
    }
    return {
        "scenario": "a. kill -9 of the worker during a billing run"
        + (" (its finalisation)" if during == "finalize" else ""),
        "done": (
            f"run of {period:%m/%Y}, {run.dossiers_total:,} dossiers in chunks of 5,000; killed during a {phase} "
            f"({at_kill.bills_created:,} bills committed, {notices_at_kill:,} notices queued); "
            "worker restarted 1 s later"
        ),
        "recovery": (
            f"resumed {resumed_after:.0f} s after the restart, done after {completed_after:.0f} s"
            if resumed_by_itself
            else f"no notice queued {ctx.args.resume_timeout:.0f} s after the restart: customers never told"
            if phase == "finalisation"
            else f"not resumed by itself within {ctx.args.resume_timeout:.0f} s; done {completed_after:.0f} s "
            "after the restart once « Reprendre » was pressed"
        ),
        "figures": (
            f"{bill_count:,} bills ({run.dossiers_skipped:,} dossiers skipped), 0 dossiers billed twice"
            if per_dossier == 0
            else f"{bill_count:,} bills, {per_dossier} dossiers billed twice"
        )
        + f"; Σ bills {total} DH = Σ debits {debit_total} DH; numbers 1–{len(numbers):,} gap-free: {gap_free}",
        "duplicates": "—",
        "checks": checks,
        "killed_to_done": completed_after + (restarted_at - killed_at),
    }


# --- scenario b: kill -9 during outbox delivery ---------------------------------------------------------


def drain(ctx, *, timeout: float = 300) -> bool:
    """Wait until no SMS is QUEUED (what an earlier scenario left)."""
    from rak_base.models import Message

    return bool(
        wait_for(
            lambda: not Message.objects.filter(channel="SMS", status="QUEUED").exists(), timeout=timeout, every=0.5
        )
    )


def scenario_outbox(ctx) -> dict:
    from rak_base.models import Message
    from rak_base.outbox import message_queue_bulk

    drain(ctx)
    operator = ctx.sim.operator
    before = operator.stats()
    count = ctx.args.sms
    message_queue_bulk(sms_wanted(count, prefix="1"))
    ids = list(Message.objects.filter(body__startswith="Fault run 1 ").values_list("pk", flat=True))
    assert len(ids) == count, len(ids)
    queued_at = time.monotonic()
    target = before["accepted_copies"] + count // 3
    wait_for(lambda: operator.stats()["accepted_copies"] >= target, timeout=300, every=0.02)
    ctx.procs.kill_worker()
    killed_at = time.monotonic()
    sent_at_kill = outbox_counts(ids)["SENT"]
    log(f"b: worker killed with {sent_at_kill} of {count} SENT")
    time.sleep(1)
    ctx.procs.start_worker()
    restarted_at = time.monotonic()
    all_sent = wait_for(lambda: outbox_counts(ids)["SENT"] == count, timeout=600, every=0.25)
    finished = time.monotonic()
    after = operator.stats()
    references = [f"RAK-{pk}" for pk in ids]
    copies = Counter(operator.copies(ref) for ref in references)
    twice = sum(n for c, n in copies.items() if c > 1)
    missing = copies.get(0, 0)
    rate_before = sent_at_kill / max(killed_at - queued_at, 1e-6)
    checks = {
        "every message SENT": bool(all_sent),
        "every reference reached the operator": missing == 0,
        "delivered to the handset once per reference": after["delivered"] - before["delivered"] == count,
    }
    return {
        "scenario": "b. kill -9 of the worker during outbox delivery",
        "done": f"{count:,} SMS queued (message_queue_bulk); killed with {sent_at_kill:,} SENT; restarted 1 s later",
        "recovery": (
            f"all SENT {finished - restarted_at:.0f} s after the restart ({rate_before:.0f} SMS/s before the kill)"
        ),
        "figures": f"{count:,} of {count:,} SENT, {count - missing:,} references at the operator",
        "duplicates": (
            f"{twice} reference(s) received twice — answered with the first copy's id, "
            "handset got each once (dedup on RAK-<id>)"
            if twice
            else "0 (no copy sent twice)"
        ),
        "checks": checks,
    }


# --- scenario d: SMS gateway timeouts, 5xx, dropped connections --------------------------------------


def scenario_gateway(ctx) -> dict:
    from rak_base.models import Message
    from rak_base.outbox import message_queue_bulk

    drain(ctx)
    operator = ctx.sim.operator
    count = ctx.args.gateway_sms
    before = operator.stats()
    operator.set_mode("5xx")
    message_queue_bulk(sms_wanted(count, prefix="2"))
    ids = list(Message.objects.filter(body__startswith="Fault run 2 ").values_list("pk", flat=True))
    phases = []
    for mode, seconds in (("5xx", ctx.args.fault_seconds), ("slow", 8.0), ("drop", 6.0)):
        operator.set_mode(mode)
        started = operator.stats()
        time.sleep(seconds)
        phases.append((mode, seconds, operator.stats()["requests"] - started["requests"]))
    rows = list(Message.objects.filter(pk__in=ids).values("status", "attempts", "last_error", "next_attempt_at"))
    during = Counter(r["status"] for r in rows)
    errors = Counter(
        "503" if "503" in r["last_error"] else ("timeout/unreachable" if "injoignable" in r["last_error"] else "none")
        for r in rows
    )
    max_attempts_during = max(r["attempts"] for r in rows)
    shown = all(r["last_error"] for r in rows if r["attempts"] and r["status"] == "QUEUED")
    operator.set_mode("normal")
    recovered_at = time.monotonic()
    all_sent = wait_for(lambda: outbox_counts(ids)["SENT"] == count, timeout=600, every=0.25)
    delivered_after = time.monotonic() - recovered_at
    after = operator.stats()
    attempts = Counter(Message.objects.filter(pk__in=ids).values_list("attempts", flat=True))
    references = [f"RAK-{pk}" for pk in ids]
    copies = Counter(operator.copies(ref) for ref in references)
    twice = sum(n for c, n in copies.items() if c > 1)
    gateway_calls = after["requests"] - before["requests"]
    checks = {
        "every message SENT after recovery": bool(all_sent),
        "none FAILED": not Message.objects.filter(pk__in=ids, status="FAILED").exists(),
        "queued messages show attempts and last error": shown and during["QUEUED"] > 0,
        "backoff (≤ 6 attempts while the gateway failed)": max_attempts_during <= 6,
        "delivered to the handset once per reference": after["delivered"] - before["delivered"] == count,
    }
    phase_text = ", ".join(f"{mode} {seconds:.0f} s ({calls} calls)" for mode, seconds, calls in phases)
    return {
        "scenario": "d. SMS gateway 503, timeouts, dropped connections",
        "done": f"{count} SMS queued while the operator failed: {phase_text}; then normal",
        "recovery": f"all SENT {delivered_after:.0f} s after the gateway recovered",
        "figures": (
            f"during the faults: {dict(during)}, last errors {dict(errors)}, max {max_attempts_during} attempts; "
            f"{gateway_calls} gateway calls for {count} messages; attempts when sent {dict(sorted(attempts.items()))}"
        ),
        "duplicates": (
            f"{twice} reference(s) accepted twice (timeouts / dropped answers), handset got each once" if twice else "0"
        ),
        "checks": checks,
    }


# --- scenario c: PostgreSQL restarted during traffic ---------------------------------------------------


def cmi_orders(count: int) -> list[tuple[str, dict]]:
    """``count`` customers with one open bill and one SENT payment order each, and the approved
    callback CMI would send for it (sandbox field set, HASH ver3), as bench_cmi_callbacks does."""

    from rak_customer.models import Customer

    now = datetime.datetime.now(tz=datetime.UTC)
    stamp = int(time.time()) % 10_000
    customers = Customer.objects.bulk_create(
        Customer(code=f"8{stamp:04d}{i:04d}", cin=f"FR{stamp:04d}{i:04d}", last_name=f"Fault{i}", first_name="Client")
        for i in range(count)
    )
    return approved_callbacks(customers, number_prefix=f"FAULT{stamp:04d}", email="fault@example.ma", now=now)


def pg_restart(ctx, mode: str) -> tuple[float, float]:
    """Stop the embedded server (pg_ctl -m fast|immediate), wait ``--outage`` seconds, start it.
    Returns (monotonic stop time, monotonic time the server accepts connections again)."""
    emb = ctx.emb
    db_close()
    stopped = time.monotonic()
    emb._run(  # noqa: SLF001 - the embedded server's own runner (service user as root)
        [str(bin_dir() / "pg_ctl"), "-D", str(emb.data_dir), "-m", mode, "-w", "-t", "60", "stop"],
        emb._service_user(),  # noqa: SLF001
        70,
        f"pg_ctl stop -m {mode}",
    )
    time.sleep(ctx.args.outage)
    emb.start()
    return stopped, time.monotonic()


def scenario_db_restart(ctx, mode: str) -> dict:
    import requests

    from rak_base.models import Message
    from rak_base.outbox import message_queue_sms
    from rak_billing.models import Payment
    from rak_payment_cmi.models import CmiCallback, PaymentOrder

    sessions = ctx.sessions
    payloads = cmi_orders(ctx.args.callbacks)
    db_close()
    base = f"http://127.0.0.1:{ctx.args.port}"
    pages = ["/espace/", "/espace/impayes/", "/espace/autres-factures/", "/espace/e-facture/"]
    stop_event = threading.Event()
    events: list[tuple[float, str, bool, str]] = []  # (monotonic time the request was sent, kind, ok, detail)
    lock = threading.Lock()
    todo = list(payloads)
    postauth: set[str] = set()

    def record(sent: float, kind: str, ok: bool, detail: str) -> None:
        with lock:
            events.append((sent, kind, ok, detail))

    def pages_loop(seed: int) -> None:
        rng = random.Random(seed)  # noqa: S311
        http = requests.Session()
        while not stop_event.is_set():
            session = rng.choice(sessions)
            sent = time.monotonic()
            try:
                response = http.get(
                    base + rng.choice(pages), cookies=session["cookie"], timeout=15, allow_redirects=False
                )
                ok = response.status_code == 200
                record(sent, "page", ok, str(response.status_code))
            except requests.RequestException as exc:
                record(sent, "page", False, type(exc).__name__)
                time.sleep(0.2)
            time.sleep(0.02)

    def callbacks_loop() -> None:
        http = requests.Session()
        while not stop_event.is_set():
            with lock:
                if not todo:
                    break
                oid, fields = todo.pop(0)
            sent = time.monotonic()
            try:
                response = http.post(base + "/paiement/cmi/callback/", data=fields, timeout=15)
                ok = response.status_code == 200 and response.text == "ACTION=POSTAUTH"
                record(sent, "callback", ok, f"{response.status_code} {response.text[:40]}")
            except requests.RequestException as exc:
                ok = False
                record(sent, "callback", False, type(exc).__name__)
            if ok:
                with lock:
                    postauth.add(oid)
            else:
                time.sleep(0.5)  # CMI retries later
                with lock:
                    todo.append((oid, fields))
            time.sleep(ctx.args.callback_pause)

    threads = [threading.Thread(target=pages_loop, args=(i,), daemon=True) for i in range(3)]
    threads += [threading.Thread(target=callbacks_loop, daemon=True) for _ in range(2)]
    for thread in threads:
        thread.start()
    time.sleep(ctx.args.warmup)
    stopped, up = pg_restart(ctx, mode)
    log(f"c ({mode}): server stopped for {up - stopped:.1f} s")
    # the traffic goes on until every callback was answered ACTION=POSTAUTH, then 5 s more
    wait_for(lambda: len(postauth) == len(payloads), timeout=300, every=0.5)
    time.sleep(5)
    stop_event.set()
    for thread in threads:
        thread.join(timeout=30)

    def errors(kind: str, start: float, end: float) -> int:
        return sum(1 for at, k, ok, _ in events if k == kind and not ok and start <= at < end)

    end = max(at for at, *_ in events) + 1
    during = {k: errors(k, stopped, up) for k in ("page", "callback")}
    after_up = {k: errors(k, up, end) for k in ("page", "callback")}
    details_after = Counter(d[:12] for at, k, ok, d in events if not ok and at >= up)
    last_error = max((at for at, _k, ok, _d in events if not ok), default=stopped)
    first_ok_after = min((at for at, _k, ok, _d in events if ok and at >= up), default=end)
    recovered = max(last_error, first_ok_after) - up
    total = {k: sum(1 for _a, kk, *_ in events if kk == k) for k in ("page", "callback")}
    # the worker was not restarted: it must still deliver
    worker_alive = ctx.procs.worker_alive()
    probe = message_queue_sms(to="+212600999999", body=f"Fault run c {mode}")
    delivered = wait_for(lambda: Message.objects.get(pk=probe.pk).status == "SENT", timeout=90, every=0.5)
    worker_alive = worker_alive and ctx.procs.worker_alive()
    oids = [oid for oid, _ in payloads]
    paid = PaymentOrder.objects.filter(oid__in=oids, status="PAID").count()
    payments = Payment.objects.filter(cmi_order__oid__in=oids).count()
    applied = Counter(CmiCallback.objects.filter(oid__in=oids, outcome="APPLIED").values_list("oid", flat=True))
    twice = sum(1 for n in applied.values() if n > 1)
    checks = {
        "every callback answered ACTION=POSTAUTH in the end": len(postauth) == len(payloads),
        "every order PAID, one payment each": paid == payments == len(payloads),
        "each order applied once": len(applied) == len(payloads) and twice == 0,
        "no error once the server is back (web reconnects)": sum(after_up.values()) == 0,
        "worker alive and delivering without restart": bool(delivered) and worker_alive,
    }
    return {
        "scenario": f"c. PostgreSQL restarted during traffic (pg_ctl stop -m {mode})",
        "done": (
            f"3 threads of portal pages + 2 of CMI callbacks ({len(payloads)} orders, retried until POSTAUTH); "
            f"server down {up - stopped:.1f} s"
        ),
        "recovery": (
            f"failed requests sent during the outage: pages {during['page']}, callbacks {during['callback']}; "
            "sent after it: "
            f"pages {after_up['page']}, callbacks {after_up['callback']}"
            + (f" ({dict(details_after)})" if details_after else "")
            + f"; recovered {recovered:.1f} s after the server was back"
        ),
        "figures": (
            f"{total['page']:,} page requests, {total['callback']:,} callback posts; {paid} orders PAID, "
            f"{payments} payments; worker "
            + ("alive, delivered a new SMS" if worker_alive and delivered else "DEAD or not delivering")
        ),
        "duplicates": f"{twice} order(s) applied twice, {len(payloads) - len(postauth)} never answered",
        "checks": checks,
    }


# --- the table -------------------------------------------------------------------------------------------


def markdown_row(result: dict, today: str, where: str) -> str:
    failed = [name for name, ok in result["checks"].items() if not ok]
    verdict = "**pass**" if not failed else "**FAIL**: " + "; ".join(failed)
    cells = [
        today,
        result["scenario"],
        result["done"],
        result["recovery"],
        result["figures"],
        result["duplicates"],
        verdict,
        where,
    ]
    return "| " + " | ".join(cell.replace("|", "/") for cell in cells) + " |"


def record(rows: list[str]) -> None:
    path = ROOT / "docs" / "BENCHMARKS.md"
    text = path.read_text(encoding="utf-8")
    if MARKER not in text:
        raise SystemExit(f"{path}: marker {MARKER!r} missing (section « Fault run »)")
    path.write_text(text.replace(MARKER, "\n".join(rows) + "\n" + MARKER), encoding="utf-8")
    log(f"recorded {len(rows)} row(s) in {path}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenarios", default="a,b,d,c", help="among a, a2, b, c, d (default a,b,d,c)")
    parser.add_argument("--customers", type=int, default=6000)
    parser.add_argument("--sms", type=int, default=2000, help="b: SMS queued before the kill")
    parser.add_argument("--gateway-sms", type=int, default=300, help="d: SMS queued while the gateway fails")
    parser.add_argument("--fault-seconds", type=float, default=15.0, help="d: seconds of 503 answers")
    parser.add_argument("--callbacks", type=int, default=300, help="c: CMI orders paid during each restart")
    parser.add_argument("--callback-pause", type=float, default=0.02)
    parser.add_argument("--warmup", type=float, default=4.0, help="c: seconds of traffic before the stop")
    parser.add_argument("--outage", type=float, default=5.0, help="c: seconds the server stays down")
    parser.add_argument("--pg-stop", default="fast,immediate", help="c: pg_ctl stop modes, one restart each")
    parser.add_argument("--resume-timeout", type=float, default=150.0, help="a: seconds to wait for the resume")
    parser.add_argument("--port", type=int, default=8240, help="gunicorn (8240-8259)")
    parser.add_argument("--sim-port", type=int, default=8241, help="SMS operator simulator (8240-8259)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary cluster and logs")
    parser.add_argument("--record", action="store_true", help="add the rows to docs/BENCHMARKS.md")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))  # clean up (finally) on kill
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    workdir = Path(tempfile.mkdtemp(prefix="rak-fault-"))
    logs = workdir / "logs"
    logs.mkdir()
    emb = EmbeddedPostgres(data_dir=workdir / "pgdata", database=DATABASE)
    sim = OperatorServer(args.sim_port, slow_seconds=3.0).start()
    procs = None
    results: list[dict] = []
    try:
        log(f"embedded PostgreSQL in {emb.data_dir} (unix socket, no TCP port)")
        emb.start()
        url = emb.url(DATABASE)
        env = environment(url)
        env.update(
            {
                "RAK_SERVER_SITE_URL": f"http://127.0.0.1:{args.port}",
                "RAK_SMS_BACKEND": "http",
                "RAK_SMS_HTTP_URL": sim.url,
                "RAK_SMS_HTTP_TIMEOUT_SECONDS": "2",
                "RAK_SMS_HTTP_BODY_TEMPLATE": '{"to": "{to}", "text": "{text}", "reference": "{reference}"}',
                "RAK_SMS_HOURLY_BUDGET": "1000000",
                "RAK_OUTBOX_RETRY_BASE_SECONDS": "2",
                "DJANGO_SETTINGS_MODULE": "config.settings",
            }
        )
        os.environ.update(env)
        seconds = manage(env, "migrate", "--noinput", "-v", "0")
        log(f"migrate: {seconds:.0f} s")
        manage(env, "collectstatic", "--noinput", "-v", "0")  # as bin/run does (pages use the manifest)
        seconds = manage(env, "demo_data", "--customers", str(args.customers), "--no-logins")
        log(f"demo_data: {seconds:.0f} s")
        seconds = manage(env, "readings_demo", "--months", "3")
        log(f"readings_demo: {seconds:.0f} s")

        import django

        django.setup()
        from rak_billing.billing import billing_run_create, billing_run_process

        today = datetime.date.today()  # noqa: DTZ011 - the bench's calendar
        history, period = month_back(today, 2), month_back(today, 1)
        issue = period + datetime.timedelta(days=1)
        run = billing_run_create(period_start=history, issue_date=issue, due_date=issue, enqueue=False)
        run = billing_run_process(run_id=run.pk)
        log(f"history {history:%m/%Y}: {run.bills_created} bills (in-process, no notification)")
        # periodic jobs: only the two recoveries under test (the dunning reminders would queue SMS to
        # every customer of the history month, which is overdue, and delay every scenario behind them)
        from rak_base import scheduler
        from rak_base.models import ScheduledJob

        scheduler.jobs_sync(now=django_now())
        kept = ("base.outbox_recover", "billing.runs_recover")
        ScheduledJob.objects.exclude(name__in=kept).update(enabled=False)
        log(f"scheduled jobs enabled: {list(ScheduledJob.objects.filter(enabled=True).values_list('name', flat=True))}")
        sessions = []
        if "c" in scenarios:
            from bench_pages import sample_sessions

            sessions = sample_sessions(SimpleNamespace(sample=200, seed=15))
        db_close()

        procs = Processes(env, args.port, logs)
        procs.start_web()
        procs.start_worker()
        import requests

        up = wait_for(lambda: _answers(f"http://127.0.0.1:{args.port}/"), timeout=60)
        assert up, f"gunicorn did not answer ({logs})"
        ctx = SimpleNamespace(args=args, emb=emb, sim=sim, procs=procs, period=period, sessions=sessions)
        del requests
        for name in scenarios:
            if name == "a":
                results.append(scenario_billing(ctx))
            elif name == "a2":
                results.append(scenario_billing(ctx, during="finalize"))
            elif name == "b":
                results.append(scenario_outbox(ctx))
            elif name == "d":
                results.append(scenario_gateway(ctx))
            elif name == "c":
                for mode in [m.strip() for m in args.pg_stop.split(",") if m.strip()]:
                    results.append(scenario_db_restart(ctx, mode))
            else:
                raise SystemExit(f"unknown scenario {name!r}")
            log(f"{results[-1]['scenario']}: {json.dumps(results[-1]['checks'], ensure_ascii=False)}")
        today_text = datetime.datetime.now(tz=datetime.UTC).date().isoformat()
        from django.db import connection

        pg = connection.cursor().connection.info.server_version
        where = f"PostgreSQL {pg // 10000}.{pg % 100} (embedded, fsync on); {machine()}"
        rows = [markdown_row(result, today_text, where) for result in results]
        print("| Date | Scenario | What was done | Recovery | Figures | Duplicates | Checks | Database, machine |")
        print("|---|---|---|---|---|---|---|---|")
        for row in rows:
            print(row)
        if args.record:
            record(rows)
        failed = [r["scenario"] for r in results if not all(r["checks"].values())]
        if failed:
            log(f"FAILED: {failed} (logs in {logs})")
        return 1 if failed else 0
    finally:
        if procs is not None:
            procs.stop()
        db_close()
        sim.stop()
        try:
            emb.stop()
        except Exception as exc:  # noqa: BLE001 - report and go on cleaning
            log(f"embedded PostgreSQL stop: {exc}")
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _answers(url: str) -> bool:
    import requests

    try:
        return requests.get(url, timeout=5).status_code < 500
    except requests.RequestException:
        return False


if __name__ == "__main__":
    sys.exit(main())
