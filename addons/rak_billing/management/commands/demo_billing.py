"""``manage.py demo_billing``: twelve months of readings, bills and payments for the demo population
(``rak_billing.demo.demo_billing_generate``). ``--if-empty`` (bin/run): nothing when the database
already has bills, or in production."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from rak_base import clock
from rak_billing.demo import DemoBillingRefused, demo_billing_generate
from rak_billing.models import Bill
from rak_customer.models import Customer


class Command(BaseCommand):
    help = (
        "Génère pour la population de démonstration un historique de relevés, une campagne de facturation "
        "par mois et des paiements (clients à jour, impayés). Déterministe pour une graine et une date."
    )

    def add_arguments(self, parser):
        parser.add_argument("--months", type=int, default=12, help="Mois facturés (défaut 12).")
        parser.add_argument("--seed", type=int, default=2026, help="Graine (défaut 2026).")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Ne rien faire si la base contient déjà des factures, n'a pas de clients, ou en production.",
        )

    def handle(self, *args, months: int, seed: int, if_empty: bool, **options):
        verbose = options["verbosity"] >= 1
        production = getattr(settings, "RAK_MODE", "") == "production"
        if if_empty and (production or Bill.objects.exists() or not Customer.objects.exists()):
            if verbose:
                self.stdout.write("demo_billing : rien à faire (factures déjà présentes, base vide ou production).")
            return

        def progress(period, run):
            if options["verbosity"] >= 2:
                self.stdout.write(f"  {period:%m/%Y} : {run.bills_created} factures ({run.dossiers_skipped} ignorés)")

        now = clock.now()
        started = time.perf_counter()
        try:
            result = demo_billing_generate(
                months=months, as_of=timezone.localdate(now), now=now, seed=seed, progress=progress
            )
        except DemoBillingRefused as exc:
            raise CommandError(str(exc)) from exc
        if verbose:
            self.stdout.write(
                self.style.SUCCESS(
                    f"demo_billing : {result.readings} relevés, {result.runs} campagnes, {result.bills} factures "
                    f"({result.unread} relevés manquants → factures estimées), {result.payments} paiements "
                    f"en {time.perf_counter() - started:.1f} s."
                )
            )
