"""Import of the agents' readings (CSV or XLSX) with a per-row report.

Why not django-import-export: it fits imports that map rows to model instances one by one
(``Resource.import_row`` loads, validates and saves each instance, so a 50,000-row file costs
hundreds of thousands of queries unless its bulk mode is used, and then its per-row validation and
report are lost). Here a row is not an instance: it must be resolved (n° dossier *or* n°
compteur), checked against the dossier's previous readings and average (the same ``rules`` as the
self-reading), and turned into a French report line when it fails. So the pipeline is our own and
set-based:

1. the file is checked by content (``rak_base.uploads``: XLSX by its zip structure, CSV as text);
   rows are read with ``openpyxl`` (read-only mode) or ``csv`` (delimiter ``;``, ``,`` or tab,
   UTF-8 or Windows-1252);
2. every value is parsed (dates JJ/MM/AAAA or ISO or spreadsheet dates, French decimals);
3. dossiers, meters, external keys already imported, and for every dossier of the file its
   baseline (latest accepted reading, average over its last 12 intervals, latest reading date —
   one aggregate query in SQL) are loaded in a fixed number of queries (one per slice of 20,000
   values);
4. rows are checked in date order per dossier in memory and written with PostgreSQL ``COPY``;
   abnormal ones are kept HELD and their customers told (SMS + bell, one bulk insert into the
   outbox).

Idempotence: each row has a stable ``external_key`` — a hash of dossier number, date and index
(unique in the database) — so re-importing a file, or a file overlapping an earlier one, creates
nothing twice; rows already present are counted as « déjà présentes », not rejected. The file's
SHA-256 is kept on the ``ReadingImport`` and the report says when the same file was imported
before. Rows are written without django-simple-history rows (a bulk load is not a per-record
change; the ``ReadingImport`` records who imported what and when); later transitions (review) do
write history.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone

from rak_base.imports import import_archive
from rak_base.uploads import SPREADSHEET_KINDS, upload_validate
from rak_billing.models import MeterReading, ReadingImport
from rak_billing.readings import rules
from rak_billing.readings.errors import IndexBelowPrevious, InvalidValue, ReadingImportRefused
from rak_billing.readings.selectors import accepted_baselines, any_of, chunked, existing_keys, taken_days
from rak_billing.readings.services import readings_notify_held
from rak_customer.models import Dossier

IMPORT_MAX_BYTES = 30 * 1024 * 1024
REPORT_MAX_LINES = 5000

HEADERS = {
    "dossier": {
        "n dossier",
        "no dossier",
        "num dossier",
        "numero dossier",
        "numero de dossier",
        "n de dossier",
        "dossier",
    },
    "meter": {"n compteur", "no compteur", "num compteur", "numero compteur", "numero de compteur", "compteur"},
    "reading_date": {"date de releve", "date releve", "date de la releve", "date"},
    "index": {"index", "nouvel index", "index releve", "nouvel index releve"},
    "meter_replaced": {"compteur remplace", "remplacement compteur", "remplacement de compteur", "remplace"},
    "note": {"observation", "observations", "note", "commentaire", "remarque"},
}
HEADER_LABELS = {
    "dossier": "n° dossier",
    "meter": "n° compteur",
    "reading_date": "date de relève",
    "index": "index",
}


@dataclass
class ParsedRow:
    line: int
    dossier_number: str
    meter_number: str
    reading_date: date
    index: Decimal
    meter_replaced: bool
    note: str
    dossier: tuple[int, str, int] | None = None  # (id, number, meter_id), attached by _resolve
    key: str = ""

    @property
    def resolved(self) -> tuple[int, str, int]:
        """(dossier id, number, meter id) of a row that ``_resolve`` kept."""
        if self.dossier is None:
            raise RuntimeError(f"line {self.line} used before _resolve attached its dossier")
        return self.dossier


@dataclass
class ImportResult:
    batch: ReadingImport
    created: int = 0
    held: int = 0
    previously_imported: ReadingImport | None = None


class Report:
    def __init__(self) -> None:
        self.lines: list[dict] = []
        self.rejected = 0
        self.held = 0

    def reject(self, line: int, value, reason: str, dossier: str = "") -> None:
        self.rejected += 1
        self._add({"line": line, "dossier": dossier, "value": _text(value), "reason": reason, "level": "rejected"})

    def hold(self, line: int, dossier: str, value, reason: str) -> None:
        self.held += 1
        self._add({"line": line, "dossier": dossier, "value": _text(value), "reason": reason, "level": "held"})

    def _add(self, entry: dict) -> None:
        if len(self.lines) < REPORT_MAX_LINES:
            self.lines.append(entry)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return rules.fmt_date(value if isinstance(value, date) and not isinstance(value, datetime) else value.date())
    if isinstance(value, Decimal):
        return rules.fmt_quantity(value)
    return str(value)[:120]


# --- reading the file ----------------------------------------------------------------------------


def _rows_xlsx(file) -> list[tuple[int, tuple]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    file.seek(0)
    try:
        workbook = load_workbook(io.BytesIO(file.read()), read_only=True, data_only=True)
    except (InvalidFileException, KeyError, ValueError, OSError) as exc:
        raise ReadingImportRefused("Le classeur Excel est illisible.") from exc
    try:
        sheet = workbook.worksheets[0]
        return [(number, row) for number, row in enumerate(sheet.iter_rows(values_only=True), start=1)]
    finally:
        workbook.close()


def _rows_csv(file) -> list[tuple[int, tuple]]:
    file.seek(0)
    raw = file.read()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ReadingImportRefused("Le fichier CSV n'est ni en UTF-8 ni en Windows-1252.")
    first_line = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return [(number, tuple(row)) for number, row in enumerate(reader, start=1)]


def _columns(header: tuple) -> dict[str, int]:
    columns: dict[str, int] = {}
    for position, title in enumerate(header):
        name = rules.normalize_header(title)
        for column, aliases in HEADERS.items():
            if name in aliases and column not in columns:
                columns[column] = position
    missing = [HEADER_LABELS[c] for c in ("reading_date", "index") if c not in columns]
    if "dossier" not in columns and "meter" not in columns:
        missing.insert(0, "n° dossier ou n° compteur")
    if missing:
        raise ReadingImportRefused(
            f"Colonne(s) manquante(s) : {', '.join(missing)}. La première ligne doit porter les titres "
            "« N° dossier » (ou « N° compteur »), « Date de relève », « Index », et au besoin "
            "« Compteur remplacé » et « Observation »."
        )
    return columns


def _cell(row: tuple, columns: dict[str, int], name: str):
    position = columns.get(name)
    if position is None or position >= len(row):
        return None
    value = row[position]
    return value.strip() if isinstance(value, str) else value


def _blank(row: tuple) -> bool:
    return all(value is None or (isinstance(value, str) and not value.strip()) for value in row)


def _parse(rows: list[tuple[int, tuple]], report: Report, today: date) -> list[ParsedRow]:
    if not rows:
        raise ReadingImportRefused("Le fichier est vide.")
    columns = _columns(rows[0][1])
    parsed = []
    dates: dict[str, date] = {}
    for line, row in rows[1:]:
        dossier_number = _text(_cell(row, columns, "dossier") or "").strip().upper()
        meter_number = _text(_cell(row, columns, "meter") or "").strip().upper()
        if not dossier_number and not meter_number:
            report.reject(line, "", "Ni n° de dossier ni n° de compteur")
            continue
        who = dossier_number or meter_number
        raw_date = _cell(row, columns, "reading_date")
        reading_date = dates.get(raw_date) if isinstance(raw_date, str) else None
        if reading_date is None:
            try:
                reading_date = rules.parse_date(raw_date)
            except InvalidValue as exc:
                report.reject(line, raw_date, exc.message, who)
                continue
            if isinstance(raw_date, str):
                dates[raw_date] = reading_date  # a file holds few distinct dates
        if reading_date > today:
            report.reject(line, raw_date, "Date de relève dans le futur", who)
            continue
        raw_index = _cell(row, columns, "index")
        try:
            index = rules.parse_index(raw_index)
        except InvalidValue as exc:
            report.reject(line, raw_index, exc.message, who)
            continue
        raw_replaced = _cell(row, columns, "meter_replaced")
        try:
            replaced = rules.parse_bool(raw_replaced)
        except InvalidValue as exc:
            report.reject(line, raw_replaced, exc.message, who)
            continue
        note = _text(_cell(row, columns, "note") or "")
        parsed.append(ParsedRow(line, dossier_number, meter_number, reading_date, index, replaced, note))
    return parsed


# --- resolving and checking ----------------------------------------------------------------------


def _resolve(parsed: list[ParsedRow], report: Report) -> list[ParsedRow]:
    """Attach (dossier id, number, meter id) to each row: by n° dossier, else by the dossier the
    meter is on (the active one first). Two queries per slice of 20,000 numbers."""
    numbers = sorted({r.dossier_number for r in parsed if r.dossier_number})
    by_number: dict[str, tuple] = {}
    for chunk in chunked(numbers):
        for pk, number, meter_id, meter_number in Dossier.objects.filter(any_of("number", chunk)).values_list(
            "id", "number", "meter_id", "meter__number"
        ):
            by_number[number] = (pk, number, meter_id, meter_number)
    meters = sorted({r.meter_number for r in parsed if r.meter_number and not r.dossier_number})
    by_meter: dict[str, tuple] = {}
    for chunk in chunked(meters):
        rows = (
            Dossier.objects.filter(meter__number__in=chunk)
            .values_list("id", "number", "meter_id", "meter__number", "status")
            .order_by("meter__number", "start_date")
        )
        for pk, number, meter_id, meter_number, status in rows:
            current = by_meter.get(meter_number)
            if current is None or status == Dossier.Status.ACTIVE or current[4] != Dossier.Status.ACTIVE:
                by_meter[meter_number] = (pk, number, meter_id, meter_number, status)
    resolved = []
    for row in parsed:
        if row.dossier_number:
            dossier = by_number.get(row.dossier_number)
            if dossier is None:
                report.reject(row.line, row.dossier_number, "N° de dossier inconnu", row.dossier_number)
                continue
            if row.meter_number and row.meter_number != (dossier[3] or ""):
                report.reject(
                    row.line,
                    row.meter_number,
                    f"Le compteur ne correspond pas au dossier (compteur du dossier : {dossier[3] or 'aucun'})",
                    row.dossier_number,
                )
                continue
        else:
            dossier = by_meter.get(row.meter_number)
            if dossier is None:
                report.reject(row.line, row.meter_number, "N° de compteur inconnu ou rattaché à aucun dossier")
                continue
        if dossier[2] is None:
            report.reject(row.line, dossier[1], "Ce dossier n'a pas de compteur", dossier[1])
            continue
        row.dossier = dossier[:3]
        row.key = external_key(dossier[1], row.reading_date, row.index)
        resolved.append(row)
    return resolved


def external_key(dossier_number: str, reading_date: date, index: Decimal) -> str:
    """Stable id of an imported reading: the same dossier, date and index is the same reading."""
    digest = hashlib.sha256(f"{dossier_number}|{reading_date.isoformat()}|{index:.3f}".encode()).hexdigest()
    return f"imp:{digest[:48]}"


COPY_COLUMNS = (
    "dossier_id",
    "meter_id",
    "reading_date",
    "index",
    "previous_index",
    "consumption",
    "source",
    "status",
    "meter_replaced",
    "photo",
    "note",
    "contest_photo",
    "contest_note",
    "review_note",
    "external_key",
    "import_batch_id",
    "created_by_id",
    "created_at",
)


def _write(rows: list[tuple]) -> None:
    """PostgreSQL ``COPY`` (3× faster than multi-row INSERT for 50,000 rows). The unique
    constraints still hold: a concurrent import of the same rows fails the whole transaction
    rather than doubling a reading."""
    if not rows:
        return
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in COPY_COLUMNS)
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {quote(MeterReading._meta.db_table)} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def _keep_file(batch: ReadingImport, file, file_name: str) -> None:
    """The imported file itself, kept with its report (private storage, never deleted: an import is
    archived, see ``reading_import_archive``)."""
    file.seek(0)
    suffix = ".xlsx" if file_name.lower().endswith(".xlsx") else ".csv"
    batch.file.save(f"releves-{batch.pk}{suffix}", ContentFile(file.read()), save=False)
    batch.save(update_fields=["file"])
    file.seek(0)


def reading_import_archive(*, batch_id: int, staff_user, reason: str, now: datetime) -> ReadingImport:
    """Archive an import instead of deleting it: its file, its report and its readings stay
    (``rak_base.imports.import_archive``)."""
    return import_archive(model=ReadingImport, batch_id=batch_id, staff_user=staff_user, reason=reason, now=now)


@transaction.atomic
def reading_import_file(*, file, file_name: str, user, now: datetime) -> ImportResult:
    """Import a CSV or XLSX file of agents' readings. Returns the ``ReadingImport`` (its counts and
    ``report``: one French line per rejected or held row, with row number and value). Raises
    ``ReadingImportRefused`` / ``UploadRefused`` when the whole file cannot be read."""
    validated = upload_validate(file, kinds=SPREADSHEET_KINDS, max_bytes=IMPORT_MAX_BYTES)
    today = timezone.localdate(now)
    report = Report()
    raw_rows = _rows_xlsx(validated.file) if validated.kind == "xlsx" else _rows_csv(validated.file)
    raw_rows = [(number, row) for number, row in raw_rows if not _blank(row)]
    parsed = _parse(raw_rows, report, today)
    previous = ReadingImport.objects.filter(sha256=validated.sha256).order_by("created_at").first()
    batch = ReadingImport.objects.create(
        file_name=file_name[:255], sha256=validated.sha256, uploaded_by=user, rows_total=max(len(raw_rows) - 1, 0)
    )
    _keep_file(batch, validated.file, file_name)
    rows = _resolve(parsed, report)

    present = existing_keys([r.key for r in rows])
    unchanged = 0
    seen: dict[str, int] = {}
    seen_day: dict[tuple[int, date], int] = {}
    fresh: list[ParsedRow] = []
    for row in rows:
        if row.key in present:
            unchanged += 1
            continue
        if row.key in seen:
            report.reject(
                row.line, row.resolved[1], f"Ligne en double (déjà à la ligne {seen[row.key]})", row.resolved[1]
            )
            continue
        day = (row.resolved[0], row.reading_date)
        if day in seen_day:
            report.reject(
                row.line,
                _text(row.index),
                f"Deux index différents pour ce dossier à cette date (voir la ligne {seen_day[day]})",
                row.resolved[1],
            )
            continue
        seen[row.key] = seen_day[day] = row.line
        fresh.append(row)

    created: list[tuple] = []
    held: list[MeterReading] = []
    if fresh:
        dossier_ids = {r.resolved[0] for r in fresh}
        baselines, latest = accepted_baselines(dossier_ids)
        taken = taken_days(dossier_ids, min(r.reading_date for r in fresh), max(r.reading_date for r in fresh))
        fresh.sort(key=lambda r: (r.resolved[0], r.reading_date))
        user_id = getattr(user, "pk", None)
        for row in fresh:
            dossier_id, number, meter_id = row.resolved
            if (dossier_id, row.reading_date) in taken:
                report.reject(row.line, row.reading_date, "Un relevé existe déjà pour ce dossier à cette date", number)
                continue
            last = latest.get(dossier_id)
            if last is not None and last > row.reading_date:
                report.reject(
                    row.line,
                    row.reading_date,
                    f"Un relevé plus récent existe déjà pour ce dossier ({rules.fmt_date(last)})",
                    number,
                )
                continue
            base = baselines.get(dossier_id, rules.Baseline())
            try:
                checked = rules.reading_check(
                    index=row.index, reading_date=row.reading_date, base=base, meter_replaced=row.meter_replaced
                )
            except IndexBelowPrevious as exc:
                report.reject(row.line, row.index, exc.message, number)
                continue
            status = MeterReading.Status.HELD if checked.abnormal else MeterReading.Status.ACCEPTED
            if checked.abnormal:
                if checked.expected is None:  # reading_check judges « abnormal » against an expected consumption
                    raise RuntimeError(f"line {row.line}: abnormal without an expected consumption")
                report.hold(
                    row.line,
                    number,
                    row.index,
                    f"Consommation anormale ({rules.fmt_quantity(checked.consumption)}, plus de trois fois la "
                    f"moyenne de {rules.fmt_quantity(checked.expected.quantize(Decimal(1)))} sur la période) : "
                    "relevé mis en attente de vérification",
                )
                held.append(
                    MeterReading(
                        dossier_id=dossier_id,
                        reading_date=row.reading_date,
                        index=row.index,
                        consumption=checked.consumption,
                    )
                )
            else:
                baselines[dossier_id] = base.after(row.reading_date, row.index, checked.consumption)
            latest[dossier_id] = row.reading_date
            created.append(
                (
                    dossier_id,
                    meter_id,
                    row.reading_date,
                    row.index,
                    checked.previous_index,
                    checked.consumption,
                    MeterReading.Source.AGENT.value,
                    status.value,
                    row.meter_replaced,
                    "",
                    row.note,
                    "",
                    "",
                    "",
                    row.key,
                    batch.pk,
                    user_id,
                    now,
                )
            )
        _write(created)

    if held:
        readings_notify_held(held)

    report.lines.sort(key=lambda entry: entry["line"])
    batch.rows_created = len(created)
    batch.rows_unchanged = unchanged
    batch.rows_rejected = report.rejected
    batch.report = report.lines
    batch.save(update_fields=["rows_created", "rows_unchanged", "rows_rejected", "report"])
    return ImportResult(batch=batch, created=len(created), held=len(held), previously_imported=previous)
