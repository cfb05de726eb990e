"""A failed background task's traceback, masked before django-tasks stores it (issue 15).

The database worker (``db_worker``, run by ``rak_worker``) records a failure with
``DBTaskResult.set_failed``: the exception's class path and its whole traceback, kept on the
result row — shown to staff in « Tâches en arrière-plan » and carried by every backup. PostgreSQL's
errors quote the row they refuse (« Failing row contains (…) »: a customer's name, CIN, birth date)
or its key (« Key (cin)=(…) »), and an exception's message can carry a phone or an e-mail: the text
goes through the log lines' masker (``rak_base.redact.mask_text``) on every save that writes it, so
whichever worker or code path records the failure, the row never holds it unmasked.

The class path names a class, nothing else: kept. A task's return value is left as it is: ours
return ids, counts and statuses (a failure stores none)."""

from __future__ import annotations

from typing import Any

from rak_base.redact import mask_text


def task_result_traceback_masked(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    """``pre_save`` of ``DBTaskResult``: the traceback about to be written, masked."""
    if update_fields is not None and "traceback" not in update_fields:
        return
    if instance.traceback:
        instance.traceback = mask_text(instance.traceback)


def connect() -> None:
    from django.db.models.signals import pre_save
    from django_tasks_db.models import DBTaskResult

    pre_save.connect(task_result_traceback_masked, sender=DBTaskResult, dispatch_uid="rak_task_result_masked")
