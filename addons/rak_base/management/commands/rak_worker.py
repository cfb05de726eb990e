"""The background worker: recovers what a killed worker left behind, then runs django-tasks'
database worker (``db_worker``). Run as many as needed, on as many machines as needed."""

from django.core.management import call_command
from django.core.management.base import BaseCommand

from rak_base import clock
from rak_base.hooks import hook_fire
from rak_base.outbox import outbox_recover
from rak_base.tasks import outbox_recover_schedule

WORKER_STARTING = "worker_starting"


class Command(BaseCommand):
    help = "Démarre le worker (envoi des SMS/e-mails, tâches de fond)."

    def add_arguments(self, parser):
        parser.add_argument("--batch", action="store_true", help="Traite les tâches en attente puis s'arrête.")
        parser.add_argument("--interval", type=float, default=1.0)

    def handle(self, *args, batch: bool = False, interval: float = 1.0, **options):
        recovered = outbox_recover(now=clock.now(), stale_after=None)
        if recovered:
            self.stdout.write(f"{recovered} message(s) en attente remis dans la file.")
        if not batch:
            outbox_recover_schedule()
            hook_fire(WORKER_STARTING)  # higher addons schedule their periodic tasks
        call_command(
            "db_worker",
            batch=batch,
            interval=interval,
            startup_delay=False,
            reload=False,
            verbosity=options["verbosity"],
        )
