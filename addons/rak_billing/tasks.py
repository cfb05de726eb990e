"""Background tasks of rak_billing (django-tasks, database backend; worker: manage.py rak_worker).

A billing run is a chain: each chunk task bills one chunk in one transaction and, in that same
transaction, enqueues the next chunk (or the finalisation). A worker killed mid-chunk loses only
that chunk's uncommitted work, and the chain with it: the scheduler job ``billing.runs_recover``
(every minute, ``billing_runs_recover``) queues the next chunk again and the run continues from
``last_dossier_id``; « Reprendre » in the back office (``billing_run_resume``) does the same by hand.
A chunk task holds the run's chunk lock (``RUN_CHUNK_LOCK``) for its transaction, so a duplicate
task of the same run gives way.
"""

from __future__ import annotations

import traceback

from django.db import transaction
from django_tasks import task

from rak_billing.billing import (
    _enqueue_chunk,
    _enqueue_finalize,
    billing_run_chunk_lock_try,
    billing_run_fail,
    billing_run_step,
)
from rak_billing.notifications import billing_run_finalize


@task(queue_name="default")
def billing_run_chunk_task(run_id: int) -> str:
    try:
        with transaction.atomic():
            if not billing_run_chunk_lock_try(run_id):
                return "BUSY"  # another task of this run is billing a chunk: it carries the chain on
            result = billing_run_step(run_id=run_id)
            if result.busy:
                return "BUSY"
            if result.finished:
                _enqueue_finalize(run_id)
                return f"DONE +{result.created}"
            _enqueue_chunk(run_id)
            return f"+{result.created}"
    except Exception as exc:
        billing_run_fail(run_id=run_id, error=f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}")
        raise


@task(queue_name="default")
def billing_run_finalize_task(run_id: int) -> int:
    return billing_run_finalize(run_id=run_id)
