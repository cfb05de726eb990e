"""Background tasks of rak_base (django-tasks, database backend; worker: manage.py rak_worker)."""

from datetime import timedelta

from django_tasks import task

from rak_base import clock
from rak_base.outbox import message_deliver, outbox_recover


@task(queue_name="default")
def message_deliver_task(message_id: int) -> str:
    message = message_deliver(message_id=message_id)
    return message.status if message is not None else "LOCKED"


@task(queue_name="default")
def message_deliver_many_task(message_ids: list[int]) -> int:
    """Deliver a batch queued by ``message_queue_bulk``; each delivery is idempotent."""
    sent = 0
    for message_id in message_ids:
        message = message_deliver(message_id=message_id)
        sent += message is not None and message.status == "SENT"
    return sent


RECOVER_EVERY = timedelta(minutes=5)


@task(queue_name="default")
def outbox_recover_task() -> int:
    """Every few minutes: re-enqueue messages stranded by a worker that died and was not
    restarted. Re-schedules itself; ``outbox_recover_schedule`` keeps a single chain alive."""
    recovered = outbox_recover(now=clock.now())
    outbox_recover_schedule(replace=True)
    return recovered


def outbox_recover_schedule(*, replace: bool = False) -> None:
    """Enqueue the next recovery run unless one is already waiting (several workers may start)."""
    from django_tasks_db.models import DBTaskResult

    pending = DBTaskResult.objects.filter(status="READY", task_path=outbox_recover_task.module_path)
    if pending.exists() and not replace:
        return
    outbox_recover_task.using(run_after=clock.now() + RECOVER_EVERY).enqueue()
