"""``manage.py readings_import FILE``: import a CSV or XLSX file of agents' readings (the same
service as the back office's « Importer un fichier »), print the counts and the per-row report."""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from rak_base import clock
from rak_base.errors import RakError
from rak_billing.readings import reading_import_file


class Command(BaseCommand):
    help = "Importe un fichier de relevés (CSV ou XLSX) et affiche le rapport ligne par ligne."

    def add_arguments(self, parser):
        parser.add_argument("path", help="Fichier CSV ou XLSX.")
        parser.add_argument("--report-lines", type=int, default=50, help="Lignes du rapport affichées (défaut 50).")

    def handle(self, *args, path: str, report_lines: int, **options):
        file_path = Path(path)
        if not file_path.is_file():
            raise CommandError(f"Fichier introuvable : {file_path}")
        started = time.perf_counter()
        try:
            with file_path.open("rb") as handle:
                result = reading_import_file(file=handle, file_name=file_path.name, user=None, now=clock.now())
        except RakError as exc:
            raise CommandError(exc.message) from exc
        elapsed = time.perf_counter() - started
        batch = result.batch
        self.stdout.write(
            f"readings_import: {batch.rows_total} lignes, {batch.rows_created} créées, {batch.rows_unchanged} déjà "
            f"présentes, {batch.rows_rejected} rejetées, {result.held} en attente de vérification en {elapsed:.2f} s"
        )
        if result.previously_imported:
            self.stdout.write(f"Ce fichier avait déjà été importé (import n° {result.previously_imported.pk}).")
        for entry in batch.report[:report_lines]:
            self.stdout.write(f"  ligne {entry['line']} [{entry['dossier']}] « {entry['value']} » : {entry['reason']}")
