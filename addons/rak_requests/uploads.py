"""The one upload check of the requests: every path that receives a request's file (the public
wizard's step 3, the generic portal flow, the counter, the complement answer, ``attachment_add``)
calls ``request_upload_validate(file, document=...)``, so a required document's formats and maximum
size (data: ``RequiredDocument.allowed_kinds`` / ``max_bytes``, edited in the back office) mean
the same everywhere. The portal's file inputs take their ``accept=`` and help text from
``document_upload_hints`` (same data, same mapping).

``allowed_kinds`` is a comma-separated list of names: ``pdf``, ``image`` (JPEG, PNG, WebP, HEIC),
``jpg``/``jpeg``, ``png``, ``webp``, ``heic``, ``zip``, ``rar``. Staff editing it get a French
message for any other name (``allowed_kinds_check``, called by ``RequiredDocument.clean``).
The content is checked by ``rak_base.uploads.upload_validate`` (magic bytes, size, pixels)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rak_base.errors import RakError
from rak_base.uploads import IMAGE_KINDS, KINDS, ValidatedUpload, kinds_label, size_label, upload_validate

DEFAULT_ALLOWED = "pdf,image,zip,rar"
DEFAULT_MAX_BYTES = 2 * 1024 * 1024

#: the names staff may write in « formats acceptés » -> rak_base.uploads kinds
NAMES: dict[str, frozenset[str]] = {
    "pdf": frozenset({"pdf"}),
    "image": IMAGE_KINDS,
    "jpg": frozenset({"jpeg"}),
    "jpeg": frozenset({"jpeg"}),
    "png": frozenset({"png"}),
    "webp": frozenset({"webp"}),
    "heic": frozenset({"heic"}),
    "zip": frozenset({"zip"}),
    "rar": frozenset({"rar"}),
}


class UnknownFormat(RakError):
    default_message = gettext_lazy("Format inconnu.")


def _names(allowed: str) -> list[str]:
    return [part.strip().lower() for part in (allowed or "").split(",") if part.strip()]


def allowed_kinds_check(allowed: str) -> str:
    """The normalised list (« pdf,image ») or ``UnknownFormat`` naming what is not a format."""
    names = _names(allowed)
    if not names:
        raise UnknownFormat(
            _("Indiquez au moins un format parmi : %(known)s.") % {"known": ", ".join(NAMES)},
        )
    unknown = [name for name in names if name not in NAMES]
    if unknown:
        raise UnknownFormat(
            _("Format(s) inconnu(s) : %(unknown)s. Formats possibles : %(known)s.")
            % {"unknown": ", ".join(unknown), "known": ", ".join(NAMES)}
        )
    return ",".join(dict.fromkeys(names))


def document_kinds(allowed: str) -> frozenset[str]:
    """« pdf,image,zip,rar » (data) -> rak_base.uploads kinds. A name that is not a format (a row
    saved before the check existed) is ignored; none at all means the default list."""
    kinds: set[str] = set()
    for name in _names(allowed):
        kinds |= NAMES.get(name, frozenset())
    if not kinds:
        for name in _names(DEFAULT_ALLOWED):
            kinds |= NAMES[name]
    return frozenset(kinds)


def _limits(document) -> tuple[frozenset[str], int]:
    if document is None:
        return document_kinds(DEFAULT_ALLOWED), DEFAULT_MAX_BYTES
    return document_kinds(document.allowed_kinds), document.max_bytes or DEFAULT_MAX_BYTES


def request_upload_validate(file, *, document=None) -> ValidatedUpload:
    """Check a request's file by content and size against the required document's formats and
    maximum size (a free attachment, e.g. a complement: PDF, image, ZIP or RAR, 2 Mo). Raises
    ``rak_base.uploads.UploadRefused`` (French message)."""
    kinds, max_bytes = _limits(document)
    return upload_validate(file, kinds=kinds, max_bytes=max_bytes)


def document_upload_hints(document=None) -> dict[str, str]:
    """What a file input shows for a document: ``accept`` (extensions the browser offers), the
    formats in words and the maximum size — from the same data as the check."""
    kinds, max_bytes = _limits(document)
    extensions = {"." + KINDS[kind].extension for kind in kinds}
    if "jpeg" in kinds:
        extensions.add(".jpeg")
    return {
        "accept": ",".join(sorted(extensions)),
        "formats": kinds_label(kinds),
        "max_size": size_label(max_bytes),
    }


def document_help_text(document=None) -> str:
    """« PDF, image ou fichier compressé, 2 Mo au plus »: a document's formats and size in words."""
    kinds, max_bytes = _limits(document)
    words = []
    if "pdf" in kinds:
        words.append(_("PDF"))
    if kinds & IMAGE_KINDS:
        words.append(_("image"))
    if kinds & {"zip", "rar"}:
        words.append(_("fichier compressé"))
    formats = words[0] if len(words) == 1 else ", ".join(words[:-1]) + _(" ou ") + words[-1]
    return _("%(formats)s, %(size)s au plus") % {"formats": formats, "size": size_label(max_bytes)}
