"""What every kept import file shares (reading imports, other networks' payment files, banks'
direct-debit rejects): it is archived with a reason, never deleted — its file, its report and what
it recorded stay. The model has ``archived_at``, ``archived_by`` and ``archive_reason``."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from rak_base.errors import RakError


class ImportArchiveRefused(RakError):
    default_message = _("Cet import est déjà archivé.")


@transaction.atomic
def import_archive(*, model, batch_id: int, staff_user, reason: str, now: datetime):
    """Archive one import of ``model`` (under its row lock): a reason is required, and an import is
    archived once. It leaves the default list of imports (the « Archivés » filter shows it)."""
    reason = (reason or "").strip()
    if not reason:
        raise ImportArchiveRefused(_("Indiquez le motif de l'archivage."))
    batch = model.objects.select_for_update().get(pk=batch_id)
    if batch.archived_at is not None:
        raise ImportArchiveRefused()
    batch.archived_at = now
    batch.archived_by = staff_user
    batch.archive_reason = reason[:255]
    batch.save(update_fields=["archived_at", "archived_by", "archive_reason"])
    return batch
