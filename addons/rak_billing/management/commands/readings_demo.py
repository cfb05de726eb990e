"""``manage.py readings_demo``: reading rounds and a deterministic reading history for the demo
population (``rak_billing.readings.readings_generate_history``)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from rak_base import clock
from rak_billing.readings import readings_generate_history


class Command(BaseCommand):
    help = (
        "Crée les tournées de relève des quartiers de démonstration et un historique de relevés mensuels "
        "pour chaque dossier à compteur qui n'en a pas encore."
    )

    def add_arguments(self, parser):
        parser.add_argument("--months", type=int, default=12, help="Mois d'historique (défaut 12).")
        parser.add_argument("--seed", type=int, default=2026, help="Graine (défaut 2026).")

    def handle(self, *args, months: int, seed: int, **options):
        if getattr(settings, "RAK_MODE", "") == "production":
            raise CommandError("Refusé : le serveur est en mode production.")
        now = clock.now()
        started = time.perf_counter()
        written = readings_generate_history(months=months, as_of=timezone.localdate(now), seed=seed, now=now)
        elapsed = time.perf_counter() - started
        rate = written / elapsed if elapsed else 0
        self.stdout.write(f"readings_demo: {written} relevés en {elapsed:.1f} s ({rate:.0f} relevés/s)")
