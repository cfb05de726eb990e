"""Many messages at once (``message_queue_bulk``, used after a billing run): each SMS and e-mail is
delivered exactly once by the worker, bells are in the customer's list at once, one delivery task
per batch, and nothing leaves when the transaction that queued them rolls back."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from rak_base.models import Message
from rak_base.outbox import message_queue_bulk
from rak_base.tasks import message_deliver_many_task
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def batch(n: int, user=None) -> list[Message]:
    messages = []
    for i in range(n):
        messages.append(Message(channel=Message.Channel.SMS, recipient=f"+2126610000{i:02d}", body=f"SMS {i}"))
        messages.append(
            Message(channel=Message.Channel.EMAIL, recipient=f"c{i}@example.ma", subject="Objet", body=f"Mail {i}")
        )
    if user is not None:
        messages.append(Message(channel=Message.Channel.BELL, user=user, subject="Facture", body="Disponible"))
    return messages


def test_bulk_messages_are_delivered_once_in_batches(run_worker, sms_lines):
    user = StaffFactory()
    queued = message_queue_bulk(batch(5, user), per_task=4)

    assert queued == 11
    tasks = DBTaskResult.objects.filter(task_path=message_deliver_many_task.module_path)
    assert tasks.count() == 3  # 10 SMS/e-mails, 4 per task
    bell = Message.objects.get(channel=Message.Channel.BELL)
    assert bell.status == Message.Status.SENT and bell.user == user

    run_worker()
    run_worker()  # a second pass (duplicate tasks, restarted worker) sends nothing more

    assert Message.objects.filter(status=Message.Status.SENT).count() == 11
    assert len(sms_lines()) == 5
    assert sorted(m.to[0] for m in mail.outbox) == [f"c{i}@example.ma" for i in range(5)]


def test_bulk_messages_roll_back_with_their_transaction():
    with pytest.raises(RuntimeError), transaction.atomic():
        message_queue_bulk(batch(3))
        raise RuntimeError("the change that caused them failed")
    assert not Message.objects.exists()
    assert not DBTaskResult.objects.filter(task_path=message_deliver_many_task.module_path).exists()
