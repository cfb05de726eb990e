"""Remove the attachments left in the staging area by request forms abandoned before « Valider »
(older than ``--hours``, 24 by default), by hand: the workers' scheduler runs the same every day
(``rak_requests.jobs``)."""

from datetime import timedelta

from django.core.management.base import BaseCommand

from rak_requests.filing import staging_purge


class Command(BaseCommand):
    help = "Supprime les pièces jointes des demandes abandonnées avant validation."

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=int, default=24)

    def handle(self, *args, hours: int, **options):
        removed = staging_purge(max_age=timedelta(hours=hours))
        self.stdout.write(f"{removed} dossier(s) de pièces jointes abandonnées supprimé(s).")
