"""The background worker: recovers what a killed worker left behind, starts the scheduler thread
(periodic jobs, ``rak_base.scheduler``), then runs django-tasks' database worker (``db_worker``).
Run as many as needed, on as many machines as needed: a job is run by one of them at a time."""

from django.core.management import call_command
from django.core.management.base import BaseCommand

from rak_base import clock
from rak_base.outbox import outbox_recover
from rak_base.scheduler import TICK_SECONDS, SchedulerThread


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
            "--scheduler-tick",
            type=float,
            default=TICK_SECONDS,
            help="Secondes entre deux passages du planificateur.",
        )

    def handle(
        self,
        *args,
        batch: bool = False,
        interval: float = 1.0,
        no_scheduler: bool = False,
        scheduler_tick: float = TICK_SECONDS,
        **options,
    ):
        recovered = outbox_recover(now=clock.now(), stale_after=None)
        if recovered:
            self.stdout.write(f"{recovered} message(s) en attente remis dans la file.")
        scheduler = None
        if not batch and not no_scheduler:
            scheduler = SchedulerThread(tick=scheduler_tick)
            scheduler.start()
        try:
            call_command(
                "db_worker",
                batch=batch,
                interval=interval,
                startup_delay=False,
                reload=False,
                verbosity=options["verbosity"],
            )
        finally:
            if scheduler is not None:
                scheduler.stop()
