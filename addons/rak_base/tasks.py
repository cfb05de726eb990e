"""Background tasks of rak_base (django-tasks, database backend; worker: manage.py rak_worker).
Periodic work is not here: it is registered with the scheduler (``rak_base.scheduler``,
``rak_base.jobs``)."""

from django_tasks import task

from rak_base.outbox import message_deliver


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
