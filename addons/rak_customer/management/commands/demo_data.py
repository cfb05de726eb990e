"""``manage.py demo_data``: a deterministic, realistic Kénitra population plus the demo logins."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from rak_base import clock
from rak_customer.demo import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_CUSTOMERS,
    DEFAULT_SEED,
    LOAD_ORDER,
    DemoDataRefused,
    DemoLogin,
    demo_data_load,
    demo_logins_ensure,
    demo_logins_existing,
)
from rak_customer.models import Customer


class Command(BaseCommand):
    help = (
        "Charge des données de démonstration réalistes (clients de Kénitra, locaux, compteurs, dossiers, "
        "agences) et crée les comptes de démonstration. Déterministe pour une graine donnée."
    )

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=DEFAULT_CUSTOMERS, help="Nombre de clients (défaut 300).")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="Graine du générateur (défaut 2026).")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Ne rien faire si la base contient déjà des clients (les identifiants de démo sont affichés) "
            "ou si le serveur est en mode production.",
        )
        parser.add_argument("--no-logins", action="store_true", help="Ne pas créer ni afficher les comptes de démo.")
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="Clients par lot (défaut 5000).")
        parser.add_argument(
            "--no-copy",
            action="store_true",
            help="PostgreSQL : insérer avec bulk_create au lieu de COPY (pour comparer).",
        )

    def handle(
        self,
        *args,
        customers: int,
        seed: int,
        if_empty: bool,
        no_logins: bool,
        batch_size: int,
        no_copy: bool,
        **options,
    ):
        verbose = options["verbosity"] >= 1
        if if_empty and getattr(settings, "RAK_MODE", "") == "production":
            # setup scripts pass --if-empty: in production there is simply nothing to do
            if verbose:
                self.stdout.write("Mode production : pas de données ni de comptes de démonstration.")
            return
        if if_empty and Customer.objects.exists():
            if verbose:
                self.stdout.write("La base contient déjà des clients : aucune donnée de démonstration chargée.")
            if not no_logins:
                self._print_logins(demo_logins_existing())
            return

        def progress(done: int, total: int) -> None:
            if options["verbosity"] >= 2:
                self.stdout.write(f"  {done}/{total} clients")

        now = clock.now()
        started = time.perf_counter()
        try:
            result = demo_data_load(
                count=customers,
                seed=seed,
                now=now,
                batch_size=batch_size,
                use_copy=not no_copy,
                progress=progress,
            )
        except DemoDataRefused as exc:
            raise CommandError(str(exc)) from exc
        seconds = time.perf_counter() - started
        if verbose:
            names = {model._meta.model_name: model._meta.verbose_name_plural for model in LOAD_ORDER}
            detail = ", ".join(f"{count} {names[name]}" for name, count in result.counts.items())
            self.stdout.write(
                self.style.SUCCESS(
                    f"Données de démonstration chargées (graine {seed}) : {detail}. "
                    f"Codes client {result.first_code} à {result.last_code}."
                )
            )
            self.stdout.write(
                f"demo_data: {result.rows} lignes en {seconds:.2f} s "
                f"({result.rows / seconds:.0f} lignes/s, {result.method})"
            )
        if not no_logins:
            try:
                logins = demo_logins_ensure(now=now)
            except DemoDataRefused as exc:
                raise CommandError(str(exc)) from exc
            self._print_logins(logins)

    def _print_logins(self, logins: list[DemoLogin]) -> None:
        if not logins:
            self.stdout.write("Aucun compte de démonstration dans cette base.")
            return
        self.stdout.write("")
        self.stdout.write(self.style.MIGRATE_HEADING("Comptes de démonstration"))
        for login in logins:
            if login.label == "Connexion client":
                line = f"Connexion client : code client {login.username} / mot de passe {login.password}  ({login.url})"
            else:
                line = f"{login.label} : {login.url} {login.username} / {login.password}"
            if not login.valid:
                line += "  (mot de passe modifié depuis)"
            self.stdout.write(f"  {line}")
