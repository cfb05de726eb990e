"""The background worker: recovers what a killed worker left behind, starts the scheduler thread
(periodic jobs, ``rak_base.scheduler``), then runs django-tasks' database worker (``db_worker``).
Run as many as needed, on as many machines as needed: a job is run by one of them at a time.

Three ways to run it (deploy/systemd: one unit for each of the last two):
- ``rak_worker``: tasks and the scheduler in one process (development, a small server);
- ``rak_worker --no-scheduler``: the tasks only (several of them if needed);
- ``rak_worker --scheduler-only``: the scheduler loop only, no task worker.

Each process writes its heartbeat (``rak_base.heartbeat``, read by /health/ready). SIGTERM or
SIGINT stops it gracefully: db_worker finishes the task it runs; the scheduler finishes the job it
runs (up to ``--stop-timeout`` seconds, after which the job's lease lets another worker take it)."""

from __future__ import annotations

import logging
import signal
import threading
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.db.utils import InterfaceError, OperationalError

from rak_base import clock
from rak_base.heartbeat import HeartbeatThread
from rak_base.models import WorkerHeartbeat
from rak_base.outbox import outbox_recover
from rak_base.scheduler import TICK_SECONDS, SchedulerThread, worker_name

logger = logging.getLogger("rak_base.worker")
RETRY_FIRST, RETRY_MAX = 1.0, 10.0


class Command(BaseCommand):
    help = "Démarre le worker (envoi des SMS/e-mails, tâches de fond, tâches planifiées)."

    def add_arguments(self, parser):
        parser.add_argument("--batch", action="store_true", help="Traite les tâches en attente puis s'arrête.")
        parser.add_argument("--interval", type=float, default=1.0)
        parser.add_argument(
            "--no-scheduler",
            action="store_true",
            help="Ne lance pas les tâches planifiées dans ce worker (d'autres workers s'en chargent).",
        )
        parser.add_argument(
            "--scheduler-only",
            action="store_true",
            help="Lance seulement le planificateur (tâches planifiées), sans traiter les tâches de fond.",
        )
        parser.add_argument(
            "--scheduler-tick",
            type=float,
            default=TICK_SECONDS,
            help="Secondes entre deux passages du planificateur.",
        )
        parser.add_argument(
            "--stop-timeout",
            type=float,
            default=30.0,
            help="À l'arrêt (SIGTERM), secondes laissées à la tâche planifiée en cours pour finir.",
        )

    def handle(
        self,
        *args,
        batch: bool = False,
        interval: float = 1.0,
        no_scheduler: bool = False,
        scheduler_only: bool = False,
        scheduler_tick: float = TICK_SECONDS,
        stop_timeout: float = 30.0,
        **options,
    ):
        if scheduler_only and (no_scheduler or batch):
            raise CommandError("--scheduler-only ne se combine ni avec --no-scheduler ni avec --batch.")
        if scheduler_only:
            self._scheduler_only(tick=scheduler_tick, stop_timeout=stop_timeout)
            return
        recovered = outbox_recover(now=clock.now(), stale_after=None)
        if recovered:
            self.stdout.write(f"{recovered} message(s) en attente remis dans la file.")
        scheduler = None
        heartbeat = None
        if not batch:
            role = WorkerHeartbeat.Role.WORKER if no_scheduler else WorkerHeartbeat.Role.BOTH
            heartbeat = HeartbeatThread(role=role)
            heartbeat.start()
        if not batch and not no_scheduler:
            scheduler = SchedulerThread(tick=scheduler_tick)
            scheduler.start()
        try:
            self._tasks(batch=batch, interval=interval, verbosity=options["verbosity"])
        finally:
            if scheduler is not None:
                scheduler.stop(timeout=stop_timeout)
            if heartbeat is not None:
                heartbeat.stop()

    def _tasks(self, *, batch: bool, interval: float, verbosity: int) -> None:
        """django-tasks' worker loop. The database gone (restart, failover): db_worker raises; the
        process waits (1 s, doubling up to 10 s) and starts the loop again instead of exiting. A
        task that was running keeps its RUNNING row; its message stays QUEUED for ``outbox_recover``."""
        pause = RETRY_FIRST
        while True:
            try:
                call_command(
                    "db_worker",
                    batch=batch,
                    interval=interval,
                    startup_delay=False,
                    reload=False,
                    worker_id=worker_name()[:64],  # host:pid, as the scheduler and the heartbeat name it
                    verbosity=verbosity,
                )
                return  # --batch done, or stopped by a signal (db_worker exits itself)
            except (OperationalError, InterfaceError) as exc:
                if batch:
                    raise
                logger.warning("worker: database unreachable (%s), next try in %.0f s", type(exc).__name__, pause)
                connections.close_all()
                time.sleep(pause)
                pause = min(pause * 2, RETRY_MAX)

    def _scheduler_only(self, *, tick: float, stop_timeout: float) -> None:
        """The scheduler loop alone, until SIGTERM/SIGINT (a second signal stops at once)."""
        stop = threading.Event()

        def on_signal(signum, frame):
            if stop.is_set():
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                raise SystemExit(1)
            stop.set()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        heartbeat = HeartbeatThread(role=WorkerHeartbeat.Role.SCHEDULER)
        scheduler = SchedulerThread(tick=tick)
        heartbeat.start()
        scheduler.start()
        self.stdout.write("Planificateur démarré (sans worker de tâches).")
        self.stdout.flush()
        try:
            while not stop.wait(0.5):
                if not scheduler.is_alive():  # never expected: its loop catches everything
                    raise CommandError("Le planificateur s'est arrêté de lui-même.")
        finally:
            scheduler.stop(timeout=stop_timeout)
            heartbeat.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write("Planificateur arrêté.")
