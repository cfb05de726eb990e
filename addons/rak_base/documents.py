"""The document registry: every PDF the agency issues (bill, receipt, attestation...) is stored
once with its SHA-256 and a reference code printed on it (with a QR code), so the public page
« Vérifier des documents » can say whether a presented document is authentic.

Reference codes: 12 characters of Crockford's base32 (digits and capital letters without I, L, O
and U: nothing to confuse when typed from paper), 60 random bits, shown in groups of four
(``7KQ2-M9XD-4TRA``). Typing is forgiving: case, spaces and dashes are ignored, O reads as 0 and
I/L as 1. A code is random, not sequential, so one document's code says nothing about another's.

The reference is chosen before the PDF is rendered (it is printed on it):
``document_reference_new()`` then ``document_register(..., reference=...)``; or leave
``reference`` out when nothing on the document carries it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from rak_base.errors import RakError
from rak_base.models import Document

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32
REFERENCE_LENGTH = 12
_TYPING = str.maketrans({"O": "0", "I": "1", "L": "1", " ": None, "-": None, ".": None, "\t": None})


class DocumentError(RakError):
    default_message = _("Le document n'a pas pu être enregistré.")


def reference_normalize(text: str) -> str:
    """What the customer typed -> the stored form (upper case, no separators, O->0, I/L->1)."""
    return (text or "").strip().upper().translate(_TYPING)


def reference_display(reference: str) -> str:
    """``7KQ2M9XD4TRA`` -> ``7KQ2-M9XD-4TRA``."""
    return "-".join(reference[i : i + 4] for i in range(0, len(reference), 4))


def reference_is_well_formed(reference: str) -> bool:
    return len(reference) == REFERENCE_LENGTH and all(ch in ALPHABET for ch in reference)


def document_reference_new() -> str:
    """A fresh reference code not used by any registered document."""
    while True:
        reference = "".join(secrets.choice(ALPHABET) for _ in range(REFERENCE_LENGTH))
        if not Document.objects.filter(reference=reference).exists():
            return reference


def verification_url(reference: str, *, absolute: bool = True) -> str:
    """The public verification page, pre-filled with ``reference`` (what the QR code encodes)."""
    path = f"{reverse('portal:verify')}?ref={reference_display(reference)}"
    return f"{settings.SITE_URL}{path}" if absolute else path


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _subject_key(subject) -> tuple[str, str]:
    if subject is None:
        return "", ""
    if isinstance(subject, tuple):
        return str(subject[0]), str(subject[1])
    meta = subject._meta
    return f"{meta.app_label}.{meta.model_name}", str(subject.pk)


def document_for_subject(*, kind: str, subject) -> Document | None:
    """The live document of ``kind`` registered for ``subject`` (a model instance or a
    ``(type, id)`` pair), if any."""
    subject_type, subject_id = _subject_key(subject)
    return (
        Document.objects.filter(kind=kind, subject_type=subject_type, subject_id=subject_id, revoked_at__isnull=True)
        .order_by("-id")
        .first()
    )


def documents_revoke(*, kind: str, subject, at: datetime) -> int:
    """Revoke the live documents of ``kind`` registered for ``subject`` (a receipt whose payment
    was reversed): the verification page answers « annulé » from then on. Returns how many."""
    subject_type, subject_id = _subject_key(subject)
    return Document.objects.filter(
        kind=kind, subject_type=subject_type, subject_id=subject_id, revoked_at__isnull=True
    ).update(revoked_at=at)


@transaction.atomic
def document_register(
    *,
    kind: str,
    title: str,
    owner=None,
    owner_label: str = "",
    subject=None,
    pdf_bytes: bytes,
    reference: str | None = None,
) -> Document:
    """Store ``pdf_bytes`` in the private storage (``MEDIA_ROOT``, or the bucket with ``[storage]
    backend = s3``; a generated, unguessable file name) and register it with its SHA-256 and
    reference code. Returns the Document. If the caller's transaction rolls back, the file stays in
    the storage as an orphan; a row never points to a missing file."""
    if not pdf_bytes:
        raise DocumentError(gettext("Document vide : rien à enregistrer."))
    if kind not in Document.Kind.values:
        raise DocumentError(gettext("Type de document inconnu : %(kind)s.") % {"kind": kind})
    if reference is not None:
        reference = reference_normalize(reference)
        if not reference_is_well_formed(reference):
            raise DocumentError(gettext("Code de référence mal formé."))
    subject_type, subject_id = _subject_key(subject)
    document = Document(
        kind=kind,
        reference=reference or document_reference_new(),
        sha256=sha256_hex(pdf_bytes),
        title=title[:200],
        owner=owner,
        owner_label=owner_label[:200],
        subject_type=subject_type,
        subject_id=subject_id,
        size=len(pdf_bytes),
    )
    document.file.save(f"{secrets.token_urlsafe(18)}.pdf", ContentFile(pdf_bytes), save=False)
    try:
        with transaction.atomic():
            document.save()
    except IntegrityError as exc:
        document.file.delete(save=False)
        raise DocumentError(gettext("Ce code de référence est déjà utilisé.")) from exc
    return document


def document_read(document: Document) -> bytes:
    with document.file.open("rb") as handle:
        return handle.read()


# --- verification ---------------------------------------------------------------------------------


class Verdict:
    AUTHENTIC = "AUTHENTIC"
    ALTERED = "ALTERED"
    NOT_FOUND = "NOT_FOUND"
    REVOKED = "REVOKED"


VERDICT_MESSAGES = {
    Verdict.AUTHENTIC: _("Document authentique : il a bien été émis par la RAK."),
    Verdict.ALTERED: _(
        "Attention : le fichier présenté ne correspond pas au document émis par la RAK sous cette référence. "
        "Il a été modifié."
    ),
    Verdict.NOT_FOUND: _("Aucun document émis par la RAK ne porte cette référence."),
    Verdict.REVOKED: _("Ce document a été émis par la RAK mais il a été annulé depuis."),
}


@dataclass(frozen=True)
class Verification:
    verdict: str
    reference: str
    document: Document | None = None
    file_checked: bool = False

    @property
    def authentic(self) -> bool:
        return self.verdict == Verdict.AUTHENTIC

    @property
    def message(self) -> str:
        return str(VERDICT_MESSAGES[self.verdict])

    @property
    def owner_masked(self) -> str:
        return mask_name(self.document.owner_label) if self.document else ""

    @property
    def issued_at(self) -> datetime | None:
        return self.document.created_at if self.document else None


def mask_name(name: str) -> str:
    """« Youssef El Alaoui » -> « Yo***** El Al**** »: enough to recognise, not to harvest."""
    words = []
    for word in (name or "").split():
        keep = 2 if len(word) > 3 else 1
        words.append(word[:keep] + "*" * max(len(word) - keep, 1))
    return " ".join(words)


def document_verify(reference: str, uploaded_bytes: bytes | None = None) -> Verification:
    """Is there a document with this reference, and — when the file is given — is it exactly
    the one issued (same SHA-256)?"""
    reference = reference_normalize(reference)
    document = None
    if reference_is_well_formed(reference):
        document = Document.objects.filter(reference=reference).first()
    if document is None:
        return Verification(Verdict.NOT_FOUND, reference)
    if document.revoked_at is not None:
        return Verification(Verdict.REVOKED, reference, document)
    if uploaded_bytes is not None:
        if sha256_hex(uploaded_bytes) != document.sha256:
            return Verification(Verdict.ALTERED, reference, document, file_checked=True)
        return Verification(Verdict.AUTHENTIC, reference, document, file_checked=True)
    return Verification(Verdict.AUTHENTIC, reference, document)
