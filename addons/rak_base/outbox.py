"""The outbox services: queue a message in the caller's transaction, deliver it after commit.

Delivery goes through django-tasks (database backend): the task row is written in the same
transaction as the message, so a crash before commit loses both and a crash after commit loses
neither. The message row is the source of truth: delivery locks it, checks it is still QUEUED,
sends, and records the result, so a duplicate task never sends twice. ``outbox_recover``
re-enqueues messages whose task was lost with a killed worker.

Customers' choices (issue 13, ``rak_base.notification_kinds``): every ``message_queue_*`` reads
the preferences of the message's account — a copy on a channel the customer turned off for that
category is written SKIPPED (« non envoyé (préférence du client) »), with no task, out of the
customer's bell, visible to staff. The « toujours envoyé » categories and kinds nobody registered
are never held back; a message with no account (a visitor, an SMS queued without its user) cannot
be. When the notice is of a push category, the account has subscribed browsers and push is
configured (``rak_base.push``), a PUSH copy is queued under the same event key (the bell still
shows the notice once), worded from the bell notification when there is one. The bulk path stays
set-based: one query for the preferences of all its accounts, one for their subscriptions.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import TypeGuard

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from rak_base import clock
from rak_base.company import email_signature
from rak_base.errors import RakError
from rak_base.models import Message, MessageAttachment, NotificationPreference
from rak_base.notification_kinds import CUSTOMER_FLAG_CELL, CategorySpec, category_of
from rak_base.sms import SmsDeliveryError, get_sms_backend
from rak_base.sms_length import sms_length

logger = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=10)
ATTACHMENTS_MAX_BYTES = 20 * 1024 * 1024  # all the files of one e-mail (MessageAttachment's cap)


class AttachmentsTooLarge(RakError):
    default_message = _("Les pièces jointes dépassent 20 Mo : le message n'est pas envoyé.")


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


# --- customers' preferences and push copies -----------------------------------------------------------


def _choosable(spec: CategorySpec | None, channel: str) -> TypeGuard[CategorySpec]:
    """Whether the customer's choice applies to this category on this channel."""
    if spec is None or spec.always or not spec.customer_only:
        return False
    return (spec.code, channel) != CUSTOMER_FLAG_CELL  # held by Customer.sms_service_notices (the caller's)


def _muted(user_ids, categories) -> set[tuple[int, str, str]]:
    """(user id, category, channel) turned off, for these accounts and categories: one query."""
    user_ids, categories = {u for u in user_ids if u}, set(categories)
    if not user_ids or not categories:
        return set()
    return set(
        NotificationPreference.objects.filter(user_id__in=user_ids, category__in=categories, enabled=False).values_list(
            "user_id", "category", "channel"
        )
    )


def _skip(message: Message) -> None:
    message.status, message.next_attempt_at, message.sent_at = Message.Status.SKIPPED, None, None


def _push_wanted(spec: CategorySpec | None, user_id, *, sensitive: bool = False) -> bool:
    from rak_base.push import push_configured

    return bool(spec and spec.push and user_id and not sensitive and push_configured())


def _push_copy_for(source: Message, muted: set, now: datetime) -> Message | None:
    """The single path: queue the push copy of ``source`` (once per event and account), or reword
    a queued one from a bell notification. ``source.event`` is already set when a copy may be wanted."""
    from rak_base.push import push_text, user_ids_with_subscriptions

    spec = category_of(source.kind)
    if source.user_id is None or not _push_wanted(spec, source.user_id, sensitive=source.sensitive):
        return None
    if not user_ids_with_subscriptions([source.user_id]):
        return None
    existing = Message.objects.filter(channel=Message.Channel.PUSH, user_id=source.user_id, event=source.event).first()
    if existing is not None:
        if source.channel == Message.Channel.BELL and existing.status == Message.Status.QUEUED:
            existing.subject, existing.body = push_text(source)
            existing.save(update_fields=["subject", "body"])
        return existing
    title, body = push_text(source)
    copy = Message(
        channel=Message.Channel.PUSH,
        user_id=source.user_id,
        kind=source.kind,
        event=source.event,
        subject=title,
        body=body,
        next_attempt_at=now,
    )
    held = _choosable(spec, Message.Channel.PUSH) and (source.user_id, spec.code, Message.Channel.PUSH) in muted
    if held:
        _skip(copy)
    copy.save()
    if not held:
        _enqueue(copy)
    return copy


def _prepare(*, user, kind: str, channel: str, sensitive: bool, event: str) -> tuple[bool, set, str]:
    """(held back?, the account's muted cells of the category, the event key to use) for one message."""
    spec = category_of(kind)
    user_id = getattr(user, "pk", user)
    wants_push = _push_wanted(spec, user_id, sensitive=sensitive)
    if not user_id or spec is None or not (_choosable(spec, channel) or wants_push):
        return False, set(), event
    muted = _muted([user_id], [spec.code])
    held = _choosable(spec, channel) and (user_id, spec.code, channel) in muted
    return held, muted, (event or (event_key() if wants_push else ""))


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

    held, muted, event = _prepare(user=user, kind=kind, channel=Message.Channel.SMS, sensitive=sensitive, event=event)
    if not held:
        sms_budget_count(now=clock.now())  # the hourly SMS budget ([sms] hourly_budget), alert when reached
    length = sms_length(body)
    message = Message(
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
    return _queue_one(message, held=held, muted=muted)


def _queue_one(message: Message, *, held: bool, muted: set) -> Message:
    if held:
        _skip(message)
    message.save()
    if not held:
        _enqueue(message)
    _push_copy_for(message, muted, clock.now())
    return message


@transaction.atomic
def message_queue_email(
    *,
    to: str,
    subject: str,
    body: str,
    user=None,
    kind: str = "info",
    sensitive: bool = False,
    event: str = "",
    attachments: list[tuple[str, str, bytes]] | None = None,
) -> Message:
    """An e-mail, with files when ``attachments`` lists (file name, content type, bytes): stored with
    the message (``MessageAttachment``), sent with it at every attempt."""
    attachments = list(attachments or [])
    if sum(len(content) for _name, _type, content in attachments) > ATTACHMENTS_MAX_BYTES:
        raise AttachmentsTooLarge()
    held, muted, event = _prepare(user=user, kind=kind, channel=Message.Channel.EMAIL, sensitive=sensitive, event=event)
    message = Message(
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
    if not attachments:
        return _queue_one(message, held=held, muted=muted)
    message.save()  # the files are written before the delivery task can read them
    MessageAttachment.objects.bulk_create(
        MessageAttachment(
            message=message, name=name[:200], content_type=content_type[:120], content=content, size=len(content)
        )
        for name, content_type, content in attachments
    )
    return _queue_one(message, held=held, muted=muted)


@transaction.atomic
def message_queue_bell(*, user, subject: str, body: str, kind: str = "info", event: str = "") -> Message:
    """An in-app notification only: nothing to deliver (SKIPPED when the customer turned it off)."""
    now = clock.now()
    held, muted, event = _prepare(user=user, kind=kind, channel=Message.Channel.BELL, sensitive=False, event=event)
    message = Message.objects.create(
        event=event,
        channel=Message.Channel.BELL,
        user=user,
        subject=subject,
        body=body,
        kind=kind,
        status=Message.Status.SKIPPED if held else Message.Status.SENT,
        sent_at=None if held else now,
    )
    _push_copy_for(message, muted, now)
    return message


BULK_PER_TASK = 200


@transaction.atomic
def message_queue_bulk(messages: list[Message], *, per_task: int = BULK_PER_TASK) -> int:
    """Queue many unsaved messages at once (e.g. « votre facture est disponible » after a billing
    run): one multi-row INSERT per thousand, SMS and e-mails QUEUED with one delivery task per
    ``per_task`` messages, bells stored as sent. Same guarantees as the single-message services:
    written in the caller's transaction, delivered after commit, recovered if a worker dies.
    Customers' preferences and push copies as the single services (module docstring), in two
    queries whatever the number of messages. Returns the number of messages written (push copies
    and copies held back included)."""
    from rak_base.push import push_text, user_ids_with_subscriptions
    from rak_base.tasks import message_deliver_many_task

    now = clock.now()
    specs = {m.kind: category_of(m.kind) for m in messages}
    users = {m.user_id for m in messages if m.user_id}
    muted = _muted(users, {spec.code for spec in specs.values() if spec and not spec.always and spec.customer_only})
    push_users = set()
    if any(_push_wanted(specs[m.kind], m.user_id, sensitive=m.sensitive) for m in messages):
        push_users = user_ids_with_subscriptions(
            m.user_id for m in messages if _push_wanted(specs[m.kind], m.user_id, sensitive=m.sensitive)
        )
    pushes: dict[tuple[int, str], tuple[Message, Message]] = {}  # (user, event) -> (push copy, its source)
    for message in messages:
        spec = specs[message.kind]
        if message.channel == Message.Channel.BELL:
            message.status, message.sent_at, message.next_attempt_at = Message.Status.SENT, now, None
        else:
            message.status, message.next_attempt_at = Message.Status.QUEUED, now
        if _choosable(spec, message.channel) and (message.user_id, spec.code, message.channel) in muted:
            _skip(message)
        sms_cost_set(message)
        if message.user_id in push_users and _push_wanted(spec, message.user_id, sensitive=message.sensitive):
            if not message.event:
                message.event = event_key()
            key = (message.user_id, message.event)
            current = pushes.get(key)
            if current is None or (message.channel == Message.Channel.BELL and current[1].channel != "BELL"):
                title, body = push_text(message)
                copy = Message(
                    channel=Message.Channel.PUSH,
                    user_id=message.user_id,
                    kind=message.kind,
                    event=message.event,
                    subject=title,
                    body=body,
                    status=Message.Status.QUEUED,
                    next_attempt_at=now,
                )
                if _choosable(spec, Message.Channel.PUSH) and (message.user_id, spec.code, "PUSH") in muted:
                    _skip(copy)
                pushes[key] = (copy, message)
    created = Message.objects.bulk_create(messages, batch_size=1000)
    ids = [m.pk for m in created if m.status == Message.Status.QUEUED]  # bulk_create returns the ids on PostgreSQL
    if pushes:
        # one push copy per notice and account (a unique index): a copy already there is kept
        copies = [copy for copy, _source in pushes.values()]
        Message.objects.bulk_create(copies, batch_size=1000, ignore_conflicts=True)
        events = {event for _user, event in pushes}
        ids += list(
            Message.objects.filter(
                channel=Message.Channel.PUSH,
                status=Message.Status.QUEUED,
                user_id__in={user for user, _event in pushes},
                event__in=events,
            ).values_list("pk", flat=True)
        )
    for start in range(0, len(ids), per_task):
        message_deliver_many_task.enqueue(ids[start : start + per_task])
    return len(created) + len(pushes)


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: base, 2×base, 4×base... capped at six hours."""
    seconds = settings.OUTBOX_RETRY_BASE_SECONDS * (2 ** max(attempts - 1, 0))
    return timedelta(seconds=min(seconds, 6 * 3600))


def message_reference(message: Message) -> str:
    """The client reference sent with each SMS: the same at every attempt of one message, so the
    operator can drop the copy a killed worker sends again (at-least-once delivery)."""
    return f"RAK-{message.pk}"


class DeliveryRefused(Exception):
    """Nothing will ever take this message (no browser subscribed any more): failed at once."""


def _send(message: Message) -> str:
    if message.channel == Message.Channel.PUSH:
        from rak_base.push import PushNoSubscription, push_deliver

        try:
            return push_deliver(message, now=clock.now())
        except PushNoSubscription as exc:
            raise DeliveryRefused(str(exc)) from exc
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
        for attachment in message.attachments.all():
            email.attach(attachment.name, bytes(attachment.content), attachment.content_type)
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
        except DeliveryRefused as exc:
            message.last_error = str(exc)[:2000]
            message.status, message.next_attempt_at = Message.Status.FAILED, None
            message.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
            return message
        except (SmsDeliveryError, OSError) as exc:
            message.last_error = str(exc)[:2000]
            if message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
                message.status = Message.Status.FAILED
                message.next_attempt_at = None
                if message.sensitive:
                    # A code or password that never arrived is useless and must not stay readable.
                    message.body = Message.REDACTED
                    message.attachments.all().delete()
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
            message.attachments.all().delete()
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
