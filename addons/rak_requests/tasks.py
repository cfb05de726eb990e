"""Background tasks of rak_requests (django-tasks, database backend; worker: manage.py rak_worker).

``requests_escalate_task`` runs the SLA escalation every few minutes and re-schedules itself (the
same run moves on the subscription requests whose fees invoice was settled at the counter or
through another network: ``lifecycle.fees_paid_sweep``);
``requests_escalate_schedule`` (called when a worker starts, through the ``worker_starting`` hook)
keeps a single chain alive, as rak_base's outbox recovery does."""

from datetime import timedelta

from django_tasks import task

from rak_base import clock
from rak_requests.lifecycle import fees_paid_sweep
from rak_requests.services import requests_escalate_overdue

ESCALATE_EVERY = timedelta(minutes=15)


@task(queue_name="default")
def requests_escalate_task() -> int:
    escalated = requests_escalate_overdue(now=clock.now())
    # fees paid at the counter or through another network: their requests move on (lifecycle)
    fees_paid_sweep(now=clock.now())
    requests_escalate_schedule(replace=True)
    return escalated


def requests_escalate_schedule(*, replace: bool = False, **_payload) -> None:
    """Enqueue the next escalation run unless one is already waiting (several workers may start)."""
    from django_tasks_db.models import DBTaskResult

    pending = DBTaskResult.objects.filter(status="READY", task_path=requests_escalate_task.module_path)
    if pending.exists() and not replace:
        return
    requests_escalate_task.using(run_after=clock.now() + ESCALATE_EVERY).enqueue()
