"""The scheduler: the one home of periodic work (no self-rescheduling task chains).

- **In code**, each addon registers its jobs in ``AppConfig.ready()`` with
  ``job_register(name, func, every=..., label=...)``; ``func(*, now)`` returns a short report (a
  count or a sentence) or raises.
- **In the database**, one row per job (``ScheduledJob``): next run, last start/end, duration,
  last success, outcome, last error (a traceback summary), enabled, lateness alert. The back office
  shows them (« Tâches planifiées »): « Exécuter maintenant » and enable/disable for superviseur.
- **Where it runs**: a thread of every ``manage.py rak_worker`` (``SchedulerThread``) ticks every
  few seconds. A tick claims a due job under ``SELECT … FOR UPDATE SKIP LOCKED``, moves its
  ``next_run_at`` on and sets a lease in that short transaction, then runs the job outside any
  transaction and records the result. Two workers never run the same job at once: the second finds
  the row locked (skipped) or already moved on / leased. A worker killed mid-job leaves the lease,
  which expires (``lease``), and the job is then claimed again.
- **Errors**: a job that raises is recorded (FAILED, traceback summary) and the scheduler goes on
  with the others; inside a job, ``each_item(items, handler)`` runs each item in its own
  transaction, logs a failing item, goes on with the others and reports the failures on the job's
  row (ITEM_ERRORS).
- **Lateness**: a job is « en retard » when its next run is older than its grace period (the
  workers are down, busy, or the job hangs). Each tick checks; the superviseur group gets one bell
  notification and one e-mail per lateness episode (``late_alerted_at``, cleared by the next run).

Why our own and not a library: django-crontask runs a separate scheduler process and needs Redis
for its lock; django-tasks-scheduler needs Redis/Valkey; django-scheduled-tasks targets Django 6's
``django.tasks``; APScheduler's job stores must not be shared by several schedulers (several
workers). None records last error/duration per job in our database for the back office. This is a
table, a row lock and a loop, over the django-tasks database backend we already run.
"""

from __future__ import annotations

import contextvars
import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from rak_base import clock
from rak_base.errors import RakError
from rak_base.models import ScheduledJob
from rak_base.redact import mask_text

logger = logging.getLogger(__name__)

SUPERVISOR_GROUP = "superviseur"
DEFAULT_GRACE = timedelta(minutes=10)
DEFAULT_LEASE = timedelta(minutes=30)
TICK_SECONDS = 5.0
MAX_ITEM_ERRORS = 20
T = TypeVar("T")


# --- registry (code) -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    name: str
    func: Callable[..., Any]
    every: timedelta
    label: Any  # str or lazy translation
    grace: timedelta = DEFAULT_GRACE
    lease: timedelta = DEFAULT_LEASE


_jobs: dict[str, Job] = {}


def job_register(
    name: str,
    func: Callable[..., Any],
    *,
    every: timedelta,
    label: Any,
    grace: timedelta = DEFAULT_GRACE,
    lease: timedelta = DEFAULT_LEASE,
) -> Job:
    """Register a periodic job (call it from ``AppConfig.ready()``). ``func(*, now)`` runs every
    ``every``; the first run is due as soon as a worker starts. Registering a name again replaces
    it (tests, reloads)."""
    if every <= timedelta(0):
        raise ValueError("every must be positive")
    job = Job(name=name, func=func, every=every, label=label, grace=grace, lease=lease)
    _jobs[name] = job
    return job


def job_unregister(name: str) -> None:
    _jobs.pop(name, None)


def jobs_registered() -> dict[str, Job]:
    return dict(_jobs)


# --- per-item isolation ----------------------------------------------------------------------------


@dataclass
class _RunReport:
    item_errors: list[str] = field(default_factory=list)
    items_failed: int = 0


_current_run: contextvars.ContextVar[_RunReport | None] = contextvars.ContextVar("rak_scheduler_run", default=None)


def _exception_line(exc: BaseException) -> str:
    """The exception as the job's row (the back office, the lateness alert's e-mail) shows it,
    masked like a log line: PostgreSQL's errors quote the row — a customer's name, CIN, address."""
    text = exc.message if isinstance(exc, RakError) else str(exc)
    return mask_text(f"{type(exc).__name__}: {text}".strip())


def error_summary(exc: BaseException, *, frames: int = 4) -> str:
    """The exception and the last few frames of its traceback (what the back office shows)."""
    stack = traceback.extract_tb(exc.__traceback__)[-frames:]
    where = "".join(traceback.format_list(stack))
    return f"{_exception_line(exc)}\n{where}".strip()[:4000]


def item_label(item: object) -> str:
    """``each_item``'s default description of an item: a model instance by its model and id (its
    ``__str__`` is often a customer's name, which the log must not carry), anything else as text
    (the callers pass ids)."""
    meta = getattr(item, "_meta", None)
    pk = getattr(item, "pk", None)
    if meta is not None and pk is not None:
        return f"{meta.model_name} #{pk}"
    return str(item)


def each_item(
    items: Iterable[T],
    handler: Callable[[T], object],
    *,
    describe: Callable[[T], str] = item_label,
) -> list[T]:
    """Run ``handler(item)`` for each item in its own transaction (a savepoint inside an outer
    one). A failing item is logged, rolled back alone, and reported on the running job's row;
    the others go on. Returns the items handled without error. ``describe`` names an item in the
    log and on the row: an id, never a name, a phone or an address."""
    done: list[T] = []
    for item in items:
        try:
            with transaction.atomic():
                handler(item)
        except Exception as exc:
            logger.exception("Tâche planifiée : élément %s en échec", describe(item))
            report = _current_run.get()
            if report is not None:
                report.items_failed += 1
                if len(report.item_errors) < MAX_ITEM_ERRORS:
                    report.item_errors.append(f"{describe(item)} — {_exception_line(exc)}")
        else:
            done.append(item)
    return done


# --- the schedule table ----------------------------------------------------------------------------


def jobs_sync(*, now: datetime) -> int:
    """Create the row of each registered job (first run due now) and carry label/interval changes
    from the code. Returns how many rows were created."""
    created = 0
    for job in _jobs.values():
        label = str(job.label)[:200]
        with transaction.atomic():
            row, was_created = ScheduledJob.objects.select_for_update().get_or_create(
                name=job.name, defaults={"label": label, "interval": job.every, "next_run_at": now}
            )
            created += was_created
            if not was_created and (row.label != label or row.interval != job.every):
                row.label, row.interval = label, job.every
                row.next_run_at = min(row.next_run_at, now + job.every)
                row.save(update_fields=["label", "interval", "next_run_at"])
    return created


def job_claim(*, now: datetime, worker: str) -> tuple[ScheduledJob, Job] | None:
    """Claim the most overdue job that is due, enabled, registered and not leased by a live run.
    In one short transaction: lock the row (skipping rows another worker holds), move its next run
    on, take a lease. Returns (row, job) or None."""
    names = list(_jobs)
    if not names:
        return None
    with transaction.atomic():
        row = (
            ScheduledJob.objects.select_for_update(skip_locked=True)
            .filter(enabled=True, name__in=names, next_run_at__lte=now)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lte=now))
            .order_by("next_run_at", "pk")
            .first()
        )
        if row is None:
            return None
        job = _jobs[row.name]
        row.next_run_at = now + job.every
        row.lease_until = now + job.lease
        row.running_since = now
        row.running_on = worker[:120]
        row.last_started_at = now
        row.save(update_fields=["next_run_at", "lease_until", "running_since", "running_on", "last_started_at"])
    return row, job


def job_execute(row: ScheduledJob, job: Job, *, worker: str) -> ScheduledJob.Outcome:
    """Run a claimed job and record how it went. Never raises for the job's own errors."""
    started = row.last_started_at or clock.now()
    report = _RunReport()
    token = _current_run.set(report)
    began = time.monotonic()
    error = ""
    result = ""
    try:
        value = job.func(now=started)
        result = "" if value is None else str(value)
        if report.items_failed:
            outcome = ScheduledJob.Outcome.ITEM_ERRORS
            lines = report.item_errors
            more = report.items_failed - len(lines)
            error = _t("%(count)d élément(s) en échec :") % {"count": report.items_failed} + "\n" + "\n".join(lines)
            if more > 0:
                error += "\n" + _t("… et %(count)d autre(s)") % {"count": more}
        else:
            outcome = ScheduledJob.Outcome.OK
    except Exception as exc:
        logger.exception("Tâche planifiée %s en échec", job.name)
        outcome = ScheduledJob.Outcome.FAILED
        error = error_summary(exc)
    finally:
        _current_run.reset(token)
    duration = timedelta(seconds=time.monotonic() - began)
    finished = clock.now()
    fields = {
        "last_finished_at": finished,
        "last_duration": duration,
        "last_outcome": outcome,
        "last_result": result[:255],
        "last_error": error,
        "running_since": None,
        "running_on": "",
        "lease_until": None,
        "late_alerted_at": None,  # it ran: a lateness episode, if any, is over
    }
    if outcome != ScheduledJob.Outcome.FAILED:
        fields["last_success_at"] = finished
    try:
        ScheduledJob.objects.filter(pk=row.pk).update(**fields)
    except Exception:
        logger.exception("Tâche planifiée %s : résultat non enregistré", job.name)
    return outcome


def jobs_run_due(*, now: datetime | None = None, worker: str, limit: int = 50) -> list[str]:
    """Run every job that is due now (one after the other, each claimed under its row lock).
    Returns the names run."""
    ran: list[str] = []
    for _attempt in range(limit):
        # without a given ``now``, each claim reads the clock again: the jobs before took time
        claimed = job_claim(now=now or clock.now(), worker=worker)
        if claimed is None:
            break
        row, job = claimed
        job_execute(row, job, worker=worker)
        ran.append(job.name)
    return ran


def job_is_late(row: ScheduledJob, *, now: datetime) -> bool:
    job = _jobs.get(row.name)
    return bool(row.enabled and job is not None and row.next_run_at < now - job.grace)


def jobs_late_count(*, now: datetime) -> int:
    """How many enabled, registered jobs are late now (the back office's home page shows it live,
    so lateness is visible even when no worker is left to send the alert)."""
    rows = ScheduledJob.objects.filter(enabled=True, name__in=list(_jobs), next_run_at__lt=now)
    return sum(job_is_late(row, now=now) for row in rows.only("name", "enabled", "next_run_at"))


def jobs_late_alert(*, now: datetime) -> int:
    """Tell the superviseur group (bell + e-mail) about each job that became late; once per
    lateness episode. Returns how many jobs were reported."""
    from django.contrib.auth import get_user_model

    from rak_base.outbox import message_queue_bell, message_queue_email

    smallest_grace = min((job.grace for job in _jobs.values()), default=DEFAULT_GRACE)
    candidates = ScheduledJob.objects.filter(
        enabled=True, name__in=list(_jobs), late_alerted_at__isnull=True, next_run_at__lt=now - smallest_grace
    ).values_list("pk", flat=True)
    reported = 0
    for job_id in list(candidates):
        with transaction.atomic():
            row = ScheduledJob.objects.select_for_update(skip_locked=True).filter(pk=job_id).first()
            if row is None or row.late_alerted_at is not None or not job_is_late(row, now=now):
                continue
            row.late_alerted_at = now
            row.save(update_fields=["late_alerted_at"])
            subject = _t("Tâche planifiée en retard : %(label)s") % {"label": row.label}
            local = timezone.localtime(row.next_run_at)
            lines = [
                _t("La tâche « %(label)s » devait s'exécuter le %(date)s à %(time)s et ne l'a pas été.")
                % {"label": row.label, "date": local.strftime("%d/%m/%Y"), "time": local.strftime("%H:%M")},
            ]
            if row.running_since:
                lines.append(
                    _t("Elle est en cours depuis le %(when)s sur %(worker)s.")
                    % {
                        "when": timezone.localtime(row.running_since).strftime("%d/%m/%Y %H:%M"),
                        "worker": row.running_on,
                    }
                )
            else:
                lines.append(_t("Vérifiez que le worker (manage.py rak_worker) tourne."))
            if row.last_error:
                lines.append(_t("Dernière erreur :") + "\n" + row.last_error[:1000])
            lines.append(settings.SITE_URL + reverse("admin:rak_base_scheduledjob_change", args=[row.pk]))
            body = "\n\n".join(lines) + "\n"
            supervisors = get_user_model().objects.filter(groups__name=SUPERVISOR_GROUP, is_active=True, is_staff=True)
            for supervisor in supervisors.distinct():
                message_queue_bell(user=supervisor, subject=subject, body=body, kind="scheduler")
                if supervisor.email:
                    message_queue_email(
                        to=supervisor.email, subject=subject, body=body, user=supervisor, kind="scheduler"
                    )
            reported += 1
    return reported


def scheduler_tick(*, worker: str, now: datetime | None = None) -> list[str]:
    """One pass: run what is due, then alert about what is late."""
    ran = jobs_run_due(now=now, worker=worker)
    jobs_late_alert(now=now or clock.now())
    return ran


# --- back-office actions ---------------------------------------------------------------------------


class JobDisabled(RakError):
    default_message = _("Cette tâche est désactivée : activez-la avant de l'exécuter.")


class JobUnknown(RakError):
    default_message = _("Cette tâche n'existe plus dans le code : elle ne peut pas être exécutée.")


@transaction.atomic
def scheduled_job_run_now(*, job_id: int, now: datetime) -> ScheduledJob:
    """« Exécuter maintenant »: the job becomes due; a worker runs it within a few seconds."""
    row = ScheduledJob.objects.select_for_update().get(pk=job_id)
    if row.name not in _jobs:
        raise JobUnknown()
    if not row.enabled:
        raise JobDisabled()
    row.next_run_at = now
    row.save(update_fields=["next_run_at"])
    return row


@transaction.atomic
def scheduled_job_set_enabled(*, job_id: int, enabled: bool, actor, now: datetime) -> ScheduledJob:
    """Enable or disable a job (who and when are recorded). Enabling a job whose next run is long
    past makes it due now, without a lateness alert for the time it was disabled."""
    row = ScheduledJob.objects.select_for_update().get(pk=job_id)
    if row.enabled == enabled:
        return row
    row.enabled = enabled
    row.enabled_changed_at = now
    row.enabled_changed_by = actor
    row.late_alerted_at = None
    if enabled and row.next_run_at < now:
        row.next_run_at = now
    row.save(update_fields=["enabled", "enabled_changed_at", "enabled_changed_by", "late_alerted_at", "next_run_at"])
    return row


# --- the thread in the worker ----------------------------------------------------------------------


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class SchedulerThread(threading.Thread):
    """Ticks the scheduler every ``tick`` seconds inside ``rak_worker`` (its own database
    connection). An error in a tick (database unreachable...) is logged and the next tick tries
    again: nothing stops the scheduler but the worker's end."""

    def __init__(self, *, tick: float = TICK_SECONDS, worker: str | None = None) -> None:
        super().__init__(name="rak-scheduler", daemon=True)
        self.tick = tick
        self.worker = worker or worker_name()
        self._stop_event = threading.Event()
        self.ticks = 0

    def run(self) -> None:
        synced = False
        try:
            while not self._stop_event.is_set():
                close_old_connections()
                try:
                    if not synced:
                        jobs_sync(now=clock.now())
                        synced = True
                    scheduler_tick(worker=self.worker)
                except Exception:
                    logger.exception("Planificateur : passage en échec, nouvel essai dans %s s", self.tick)
                self.ticks += 1
                self._stop_event.wait(self.tick)
        finally:
            connection.close()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop_event.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout)
