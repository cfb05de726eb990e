"""``manage.py demo_complaints``: a helpdesk with work in it for the demo (issue 11).
``--if-empty`` (bin/run): nothing when complaints exist, when there is no customer, or in production."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from rak_base import clock
from rak_customer.models import Customer
from rak_requests.complaint_models import Complaint
from rak_requests.complaints.demo import DemoComplaintsRefused, demo_complaints_generate


class Command(BaseCommand):
    help = "Crée des réclamations de démonstration (nouvelles, en cours, en attente du client, clôturées et notées)."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=24)
        parser.add_argument("--if-empty", action="store_true", help="Rien si des réclamations existent déjà.")

    def handle(self, *args, count: int, if_empty: bool, **options):
        production = getattr(settings, "RAK_MODE", "") == "production"
        if if_empty and (production or Complaint.objects.exists() or not Customer.objects.exists()):
            if options["verbosity"] >= 1:
                self.stdout.write(
                    "demo_complaints : rien à faire (réclamations déjà présentes, base vide ou production)."
                )
            return
        try:
            created = demo_complaints_generate(now=clock.now(), count=count)
        except DemoComplaintsRefused as exc:
            raise CommandError(str(exc)) from exc
        if options["verbosity"] >= 1:
            self.stdout.write(self.style.SUCCESS(f"demo_complaints : {created} réclamations créées."))
