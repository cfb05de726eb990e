"""The outbox services: queue a message in the caller's transaction, deliver it after commit.

Delivery goes through django-tasks (database backend): the task row is written in the same
transaction as the message, so a crash before commit loses both and a crash after commit loses
neither. The message row is the source of truth: delivery locks it, checks it is still QUEUED,
sends, and records the result, so a duplicate task never sends twice. ``outbox_recover``
re-enqueues messages whose task was lost with a killed worker.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction

from rak_base import clock
from rak_base.company import email_signature
from rak_base.errors import RakError
from rak_base.models import Message
from rak_base.sms import SmsDeliveryError, get_sms_backend
from rak_base.sms_length import sms_length

logger = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=10)


def event_key() -> str:
    """A fresh key for one notice sent on several channels: pass it as ``event`` to each
    ``message_queue_*`` call (or set it on the bulk rows) so that the bell shows the notice once."""
    return uuid.uuid4().hex


def sms_cost_set(message: Message) -> Message:
    """Store on an SMS what it costs (encoding, segments: rak_base.sms_length), counted on the body
    as queued; other channels keep the empty defaults."""
    if message.channel == Message.Channel.SMS:
        length = sms_length(message.body or "")
        message.sms_encoding, message.sms_segments = length.encoding, length.segments
    return message


def _enqueue(message: Message) -> None:
    from rak_base.tasks import message_deliver_task

    task = message_deliver_task
    if message.next_attempt_at and message.next_attempt_at > clock.now():
        task = task.using(run_after=message.next_attempt_at)
    task.enqueue(message.pk)


@transaction.atomic
def message_queue_sms(
    *, to: str, body: str, user=None, kind: str = "info", sensitive: bool = False, event: str = ""
) -> Message:
    from rak_base.sms_limits import sms_budget_count

    sms_budget_count(now=clock.now())  # the hourly SMS budget ([sms] hourly_budget), alert when reached
    length = sms_length(body)
    message = Message.objects.create(
        event=event,
        channel=Message.Channel.SMS,
        recipient=to,
        body=body,
        user=user,
        kind=kind,
        sensitive=sensitive,
        next_attempt_at=clock.now(),
        sms_encoding=length.encoding,
        sms_segments=length.segments,
    )
    _enqueue(message)
    return message


@transaction.atomic
def message_queue_email(
    *, to: str, subject: str, body: str, user=None, kind: str = "info", sensitive: bool = False, event: str = ""
) -> Message:
    message = Message.objects.create(
        event=event,
        channel=Message.Channel.EMAIL,
        recipient=to,
        subject=subject,
        body=body,
        user=user,
        kind=kind,
        sensitive=sensitive,
        next_attempt_at=clock.now(),
    )
    _enqueue(message)
    return message


@transaction.atomic
def message_queue_bell(*, user, subject: str, body: str, kind: str = "info", event: str = "") -> Message:
    """An in-app notification only: nothing to deliver."""
    now = clock.now()
    return Message.objects.create(
        event=event,
        channel=Message.Channel.BELL,
        user=user,
        subject=subject,
        body=body,
        kind=kind,
        status=Message.Status.SENT,
        sent_at=now,
    )


BULK_PER_TASK = 200


@transaction.atomic
def message_queue_bulk(messages: list[Message], *, per_task: int = BULK_PER_TASK) -> int:
    """Queue many unsaved messages at once (e.g. « votre facture est disponible » after a billing
    run): one multi-row INSERT per thousand, SMS and e-mails QUEUED with one delivery task per
    ``per_task`` messages, bells stored as sent. Same guarantees as the single-message services:
    written in the caller's transaction, delivered after commit, recovered if a worker dies."""
    from rak_base.tasks import message_deliver_many_task

    now = clock.now()
    for message in messages:
        if message.channel == Message.Channel.BELL:
            message.status, message.sent_at, message.next_attempt_at = Message.Status.SENT, now, None
        else:
            message.status, message.next_attempt_at = Message.Status.QUEUED, now
        sms_cost_set(message)
    created = Message.objects.bulk_create(messages, batch_size=1000)
    ids = [m.pk for m in created if m.channel != Message.Channel.BELL]  # bulk_create returns the ids on PostgreSQL
    for start in range(0, len(ids), per_task):
        message_deliver_many_task.enqueue(ids[start : start + per_task])
    return len(created)


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: base, 2×base, 4×base... capped at six hours."""
    seconds = settings.OUTBOX_RETRY_BASE_SECONDS * (2 ** max(attempts - 1, 0))
    return timedelta(seconds=min(seconds, 6 * 3600))


def message_reference(message: Message) -> str:
    """The client reference sent with each SMS: the same at every attempt of one message, so the
    operator can drop the copy a killed worker sends again (at-least-once delivery)."""
    return f"RAK-{message.pk}"


def _send(message: Message) -> str:
    if message.channel == Message.Channel.SMS:
        backend = get_sms_backend()
        return backend.send(
            to=message.recipient, text=message.body, sender=settings.SMS_SENDER, reference=message_reference(message)
        ).provider_id
    if message.channel == Message.Channel.EMAIL:
        body = f"{message.body}\n\n-- \n{email_signature()}"  # the régie's name, address, phone (rak.conf)
        email = EmailMultiAlternatives(
            subject=message.subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[message.recipient]
        )
        email.send(fail_silently=False)
        return ""
    return ""


def message_deliver(*, message_id: int, now: datetime | None = None) -> Message | None:
    """Deliver one queued message. Safe to call twice: the row lock and the status check make
    the second call a no-op. Returns the message, or None when another worker holds it."""
    with transaction.atomic():
        message = Message.objects.select_for_update(skip_locked=True).filter(pk=message_id).first()
        now = now or clock.now()
        if message is None or message.status != Message.Status.QUEUED or (message.next_attempt_at or now) > now:
            return message  # gone, done, or a retry not due yet (a duplicate task must not skip the backoff)
        message.attempts += 1
        try:
            message.provider_id = _send(message)[:120]
        except (SmsDeliveryError, OSError) as exc:
            message.last_error = str(exc)[:2000]
            if message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
                message.status = Message.Status.FAILED
                message.next_attempt_at = None
                if message.sensitive:
                    # A code or password that never arrived is useless and must not stay readable.
                    message.body = Message.REDACTED
                logger.error("outbox: message %s failed for good: %s", message.pk, exc)
            else:
                message.next_attempt_at = now + retry_delay(message.attempts)
                logger.warning("outbox: message %s attempt %s failed: %s", message.pk, message.attempts, exc)
            message.save(update_fields=["attempts", "last_error", "status", "next_attempt_at", "body"])
            if message.status == Message.Status.QUEUED:
                _enqueue(message)
            return message
        message.status = Message.Status.SENT
        message.sent_at = now
        message.next_attempt_at = None
        message.last_error = ""
        if message.sensitive:
            message.body = Message.REDACTED
        message.save(
            update_fields=["attempts", "provider_id", "status", "sent_at", "next_attempt_at", "last_error", "body"]
        )
        return message


@transaction.atomic
def message_retry(*, message_id: int) -> Message:
    """Back office: send a failed message again."""
    message = Message.objects.select_for_update().get(pk=message_id)
    if message.status == Message.Status.FAILED and message.sensitive:
        raise RakError(  # i18n: not for customers (the back office's « Renvoyer »)
            "Ce message contenait un code ou un mot de passe : il ne peut pas être renvoyé. "
            "Faites générer un nouveau code ou un nouveau mot de passe au client."
        )
    if message.status == Message.Status.FAILED:
        message.status = Message.Status.QUEUED
        message.attempts = 0
        message.next_attempt_at = clock.now()
        message.save(update_fields=["status", "attempts", "next_attempt_at"])
        _enqueue(message)
    return message


def outbox_recover(*, now: datetime | None = None, stale_after: timedelta | None = STALE_AFTER) -> int:
    """Re-enqueue queued messages whose delivery is overdue (their task died with a worker).
    Delivery is idempotent, so a message that still has a live task is not sent twice.
    The worker calls it at start-up with ``stale_after=None`` (everything due)."""
    now = now or clock.now()
    cutoff = now - stale_after if stale_after else now
    ids = list(Message.objects.due(cutoff).values_list("pk", flat=True)[:10000])
    with transaction.atomic():
        for message in Message.objects.filter(pk__in=ids):
            _enqueue(message)
    return len(ids)
