"""rak_base's periodic jobs (registered with the scheduler in ``RakBaseConfig.ready``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from rak_base.models import ThrottleHit
from rak_base.outbox import outbox_recover
from rak_base.scheduler import job_register
from rak_base.throttle import KEEP as THROTTLE_KEEP

TASK_RESULTS_KEEP = timedelta(days=30)
PRUNE_BATCH = 5000


def outbox_recover_job(*, now: datetime) -> str:
    """Re-enqueue the messages whose delivery task died with a worker (delivery is idempotent)."""
    return _t("%(count)d message(s) remis en file") % {"count": outbox_recover(now=now)}


def task_results_prune_job(*, now: datetime) -> str:
    """Delete the django-tasks result rows finished more than 30 days ago, by batches (one
    transaction each), so the table does not grow without end."""
    from django_tasks_db.models import DBTaskResult

    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(
                DBTaskResult.objects.finished()
                .filter(finished_at__lt=now - TASK_RESULTS_KEEP)
                .values_list("pk", flat=True)[:PRUNE_BATCH]
            )
            if not ids:
                break
            deleted += DBTaskResult.objects.filter(pk__in=ids).delete()[0]
    return _t("%(count)d résultat(s) de tâche supprimé(s)") % {"count": deleted}


def throttle_purge_job(*, now: datetime) -> str:
    """Forget throttling counters older than a day (keys never hit again keep theirs otherwise)."""
    deleted, _ = ThrottleHit.objects.filter(created_at__lt=now - THROTTLE_KEEP).delete()
    return _t("%(count)d tentative(s) oubliée(s)") % {"count": deleted}


def register() -> None:
    job_register(
        "base.outbox_recover",
        outbox_recover_job,
        every=timedelta(minutes=5),
        label=_("Boîte d'envoi : relance des messages en souffrance"),
    )
    job_register(
        "base.task_results_prune",
        task_results_prune_job,
        every=timedelta(days=1),
        label=_("Worker : purge des tâches terminées depuis 30 jours"),
        grace=timedelta(hours=2),
    )
    job_register(
        "base.throttle_purge",
        throttle_purge_job,
        every=timedelta(days=1),
        label=_("Limitation des essais : purge des compteurs anciens"),
        grace=timedelta(hours=2),
    )
