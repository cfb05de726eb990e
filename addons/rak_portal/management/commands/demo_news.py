"""``manage.py demo_news``: « Les actualités de la RAK » for the demo's dashboard slider.
``--if-empty`` (bin/run): nothing when news exist, or in production."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from rak_base import clock
from rak_portal.demo import demo_news_create
from rak_portal.models import NewsItem


class Command(BaseCommand):
    help = "Crée les actualités de démonstration du tableau de bord."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="Rien si des actualités existent déjà.")

    def handle(self, *args, if_empty: bool, **options):
        production = getattr(settings, "RAK_MODE", "") == "production"
        if if_empty and (production or NewsItem.objects.exists()):
            if options["verbosity"] >= 1:
                self.stdout.write("demo_news : rien à faire (actualités déjà présentes ou production).")
            return
        created = demo_news_create(now=clock.now())
        if options["verbosity"] >= 1:
            self.stdout.write(self.style.SUCCESS(f"demo_news : {created} actualités créées."))
