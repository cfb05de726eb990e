"""Background tasks of rak_base (django-tasks, database backend; worker: manage.py rak_worker)."""

from django_tasks import task

from rak_base.outbox import message_deliver


@task(queue_name="default")
def message_deliver_task(message_id: int) -> str:
    message = message_deliver(message_id=message_id)
    return message.status if message is not None else "LOCKED"
