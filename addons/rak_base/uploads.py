"""Validation of uploaded files, by content: what a file *is*, never what its name or the browser
says it is.

``upload_validate(file, kinds=IMAGE_KINDS)`` reads the first bytes, recognises the format by its
magic bytes (the ``filetype`` package), checks it is one of the allowed kinds and that the size is
within the limit (``settings.UPLOAD_MAX_BYTES`` unless given), and for the images Pillow can decode
(JPEG, PNG, WebP) runs ``Image.verify()`` so that a file with the right first bytes but no picture
behind them is refused too. HEIC (iPhone photos) is recognised by its ``ftyp`` box only: Pillow
cannot decode it without a plugin.

The result, ``ValidatedUpload``, carries the detected kind, MIME type and extension and the
SHA-256 of the content; store it under ``validated.stored_name()`` — a random name with the detected
extension — never under the name the user chose. Messages are French and meant for the user; a
caller may pass its own ``missing_message`` (e.g. the self-reading's « Vous devez joindre une photo
de l'index de votre compteur... »).

Kinds: ``jpeg png webp heic pdf zip rar xlsx csv``. ``csv`` has no magic bytes: it is accepted when
nothing binary was recognised and the content decodes as UTF-8 or Windows-1252 text without NUL.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

import filetype
from django.conf import settings
from django.utils.formats import number_format
from django.utils.translation import gettext, gettext_lazy

from rak_base.errors import RakError

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

HEADER_BYTES = 8192
# Largest picture accepted: 50 million pixels (a 48 Mpx phone photo is 8000 × 6000); a PNG of
# 20,000 × 20,000 pixels weighs a few KB and would need gigabytes to decode.
MAX_IMAGE_PIXELS = 50_000_000


@dataclass(frozen=True)
class Kind:
    name: str
    mime: str
    extension: str
    label: str


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("jpeg", "image/jpeg", "jpg", "JPEG"),
        Kind("png", "image/png", "png", "PNG"),
        Kind("webp", "image/webp", "webp", "WebP"),
        Kind("heic", "image/heic", "heic", "HEIC"),
        Kind("pdf", "application/pdf", "pdf", "PDF"),
        Kind("zip", "application/zip", "zip", "ZIP"),
        Kind("rar", "application/vnd.rar", "rar", "RAR"),
        Kind("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx", "Excel (XLSX)"),
        Kind("csv", "text/csv", "csv", "CSV"),
    )
}
IMAGE_KINDS = frozenset({"jpeg", "png", "webp", "heic"})
DOCUMENT_KINDS = frozenset({"pdf", "jpeg", "png", "webp", "heic", "zip", "rar"})
SPREADSHEET_KINDS = frozenset({"xlsx", "csv"})
PILLOW_VERIFIABLE = frozenset({"jpeg", "png", "webp"})

# filetype's extension -> our kind
_DETECTED = {"jpg": "jpeg", "png": "png", "webp": "webp", "heic": "heic", "pdf": "pdf", "rar": "rar", "xlsx": "xlsx"}


class UploadRefused(RakError):
    default_message = gettext_lazy("Le fichier joint n'a pas pu être accepté.")


class UploadMissing(UploadRefused):
    default_message = gettext_lazy("Veuillez joindre un fichier.")


class UploadTooLarge(UploadRefused):
    pass


class UploadWrongKind(UploadRefused):
    pass


@dataclass(frozen=True)
class ValidatedUpload:
    file: IO[bytes]
    kind: str
    mime: str
    extension: str
    size: int
    sha256: str

    def stored_name(self) -> str:
        """A fresh random name with the detected extension (the user's file name is never used)."""
        return f"{uuid.uuid4().hex}.{self.extension}"


def size_label(size: int) -> str:
    """« 2 Mo », « 1,5 Mo », « 500 Ko » (units and decimal mark of the active language, rounded)."""
    if size >= 1024 * 1024:
        value = size / (1024 * 1024)
        number = f"{value:.0f}" if value == int(value) else number_format(round(value, 1), decimal_pos=1)
        return gettext("%(size)s Mo") % {"size": number}
    return gettext("%(size)s Ko") % {"size": max(1, round(size / 1024))}


def kinds_label(kinds: Iterable[str]) -> str:
    labels = [KINDS[name].label for name in sorted(kinds, key=list(KINDS).index)]
    if len(labels) == 1:
        return labels[0]
    return gettext("%(first)s ou %(last)s") % {"first": gettext(", ").join(labels[:-1]), "last": labels[-1]}


def _size(file) -> int:
    size = getattr(file, "size", None)
    if size is not None:
        return int(size)
    position = file.tell()
    file.seek(0, 2)
    size = file.tell()
    file.seek(position)
    return size


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
        return True
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a character cut by the end of the header
            return True
    try:
        head.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return True


def detect_kind(head: bytes) -> str | None:
    """The kind of content whose first bytes are ``head`` (None when not one of ours)."""
    guessed = filetype.guess(head)
    if guessed is not None:
        kind = _DETECTED.get(guessed.extension)
        if kind is None and guessed.extension == "zip":
            kind = "xlsx" if b"[Content_Types].xml" in head and b"xl/" in head else "zip"
        return kind
    if head and _looks_like_text(head):
        return "csv"
    return None


def pillow_limit() -> None:
    """Pillow refuses to open an image of more than ``MAX_IMAGE_PIXELS`` × 2 pixels (and warns
    above it): set once for the whole process (rak_base's AppConfig.ready), so that every later
    ``Image.open`` — signature, PDF rendering — is bounded too."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS


def _image_too_large(pixels: int) -> UploadTooLarge:
    return UploadTooLarge(
        gettext(
            "L'image est trop grande (%(pixels)s millions de pixels) : %(max)s millions de pixels au plus. "
            "Envoyez une photo de taille normale."
        )
        % {"pixels": f"{pixels / 1_000_000:.0f}", "max": MAX_IMAGE_PIXELS // 1_000_000}
    )


def _image_is_decodable(file) -> bool:
    """Whether Pillow can decode the image; ``UploadTooLarge`` for a « decompression bomb » (a
    small file of a huge number of pixels), refused from its header before any decoding."""
    import warnings

    from PIL import Image, UnidentifiedImageError

    pillow_limit()
    file.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(file) as image:
                if image.width * image.height > MAX_IMAGE_PIXELS:
                    raise _image_too_large(image.width * image.height)
                image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _image_too_large(_pixels_of(str(exc))) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return False
    finally:
        file.seek(0)
    return True


def _pixels_of(message: str) -> int:
    digits = message.split("(", 1)[-1].split(" ", 1)[0]
    return int(digits) if digits.isdigit() else MAX_IMAGE_PIXELS + 1


def _sha256(file) -> str:
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in iter(lambda: file.read(1024 * 1024), b""):
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


def upload_validate(
    file,
    *,
    kinds: Iterable[str] = IMAGE_KINDS,
    max_bytes: int | None = None,
    missing_message: StrOrPromise | None = None,
    wrong_kind_message: StrOrPromise | None = None,
) -> ValidatedUpload:
    """Check an uploaded file (Django ``UploadedFile`` or any binary file object) by content and
    size. Raises ``UploadMissing``, ``UploadTooLarge`` or ``UploadWrongKind`` with a French message."""
    kinds = frozenset(kinds)
    unknown = kinds - KINDS.keys()
    if unknown:
        raise ValueError(f"unknown upload kinds: {sorted(unknown)}")
    limit = max_bytes if max_bytes is not None else settings.UPLOAD_MAX_BYTES
    if file is None or _size(file) == 0:
        raise UploadMissing(missing_message)
    size = _size(file)
    if size > limit:
        raise UploadTooLarge(
            gettext("Le fichier est trop volumineux (%(size)s) : la taille maximale autorisée est de %(limit)s.")
            % {"size": size_label(size), "limit": size_label(limit)}
        )
    file.seek(0)
    head = file.read(HEADER_BYTES)
    file.seek(0)
    kind = detect_kind(head)
    if kind == "zip" and "xlsx" in kinds and "zip" not in kinds:
        kind = "xlsx" if _zip_is_xlsx(file) else kind
    wrong = wrong_kind_message or (
        gettext("Le fichier joint n'est pas dans un format accepté (%(kinds)s) : son contenu a été vérifié.")
        % {"kinds": kinds_label(kinds)}
    )
    if kind not in kinds:
        raise UploadWrongKind(wrong)
    if kind in PILLOW_VERIFIABLE and not _image_is_decodable(file):
        raise UploadWrongKind(wrong)
    detected = KINDS[kind]
    return ValidatedUpload(
        file=file, kind=kind, mime=detected.mime, extension=detected.extension, size=size, sha256=_sha256(file)
    )


def _zip_is_xlsx(file) -> bool:
    import zipfile

    file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False
    finally:
        file.seek(0)
