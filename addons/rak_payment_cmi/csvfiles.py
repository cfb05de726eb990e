"""Reading the CSV files the back office imports (other networks' payments, the gateway's
settlement file): encoding (UTF-8 with or without BOM, else Windows-1252), separator (« ; » or
« , »), headers matched without case, accents or punctuation, French amounts and dates."""

from __future__ import annotations

import csv
import datetime
import io
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.conf import settings

from rak_base.errors import RakError
from rak_base.money import round_money

MAX_BYTES = 10 * 1024 * 1024
MAX_AMOUNT = Decimal("1000000000000")  # 10^12: above, a DecimalField(14, 2) overflows
DATE_FORMATS = (
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y%m%d %H:%M:%S",
)


class ImportFileError(RakError):
    default_message = "Le fichier n'a pas pu être lu."


class RowError(ValueError):
    """What is wrong with one row (French, shown in the report)."""


def header_key(text: str) -> str:
    """« N° Facture » -> ``n_facture``; « Code autorisation » -> ``code_autorisation``."""
    text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise ImportFileError(f"Fichier trop volumineux (maximum {MAX_BYTES // (1024 * 1024)} Mo).")
    if b"\x00" in data:  # a binary file (or UTF-16) renamed .csv: PostgreSQL stores no NUL character
        raise ImportFileError("Ce fichier n'est pas un fichier CSV texte (caractères nuls) : exportez-le en CSV UTF-8.")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError("Encodage du fichier non reconnu (UTF-8 attendu).")


def read_rows(data: bytes, aliases: dict[str, tuple[str, ...]], required: tuple[str, ...]) -> list[tuple[int, dict]]:
    """``[(line number, {field: value})]``; ``aliases`` maps a field to the header keys it may
    have. Raises ``ImportFileError`` when a required column is missing."""
    text = decode(data)
    if not text.strip():
        raise ImportFileError("Le fichier est vide.")
    first = text.splitlines()[0]
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [header_key(h) for h in next(reader)]
    columns: dict[str, int] = {}
    for name, keys in aliases.items():
        for index, key in enumerate(header):
            if key in keys:
                columns[name] = index
                break
    missing = [name for name in required if name not in columns]
    if missing:
        raise ImportFileError(
            "Colonnes manquantes : " + ", ".join(missing) + ". En-têtes lus : " + ", ".join(header) + "."
        )
    rows = []
    for number, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        rows.append((number, {name: (values[i].strip() if i < len(values) else "") for name, i in columns.items()}))
    return rows


def parse_amount(text: str) -> Decimal:
    cleaned = (text or "").replace("\u00a0", "").replace(" ", "").replace("MAD", "").replace("DH", "")
    if "," in cleaned and "." in cleaned:
        cleaned = cleaned.replace(".", "")  # 1.234,56
    cleaned = cleaned.replace(",", ".")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation as exc:
        raise RowError(f"Montant illisible : « {text} ».") from exc
    if not amount.is_finite() or amount <= 0:
        raise RowError(f"Montant invalide : « {text} ».")
    if amount >= MAX_AMOUNT:  # what a money column holds (14 digits, 2 decimals)
        raise RowError(f"Montant hors limites : « {text} ».")
    if amount != round_money(amount):
        raise RowError(f"Montant avec plus de deux décimales : « {text} ».")
    return round_money(amount)


def parse_datetime(text: str) -> datetime.datetime:
    """A local (Casablanca) date or date-time -> an aware datetime (noon when only a date)."""
    text = (text or "").strip()
    zone = ZoneInfo(settings.TIME_ZONE)
    for fmt in DATE_FORMATS:
        try:
            value = datetime.datetime.strptime(text, fmt)  # noqa: DTZ007 - made aware just below
        except ValueError:
            continue
        if "%H" not in fmt:
            value = value.replace(hour=12)
        return value.replace(tzinfo=zone)
    raise RowError(f"Date illisible : « {text} » (JJ/MM/AAAA ou AAAA-MM-JJ, heure facultative).")
