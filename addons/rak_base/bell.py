"""The bell (« Notifications »): each notice once, whatever the number of channels it went out on,
with those channels named and its read state — what the portal's page shows and the API serves
(GET /api/v1/notifications/) — and the writes that mark notices read (one, or all).

A notice sent on several channels (SMS + e-mail + bell) shares one ``event`` key: it is one line
(``Message.objects.bell_lines``), unread while any of its copies is unread, and marking it read
marks every copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from rak_base.models import Message

BELL_FIELDS = ("channel", "event", "kind", "subject", "body", "created_at", "read_at", "status", "sensitive", "user_id")


@dataclass(frozen=True)
class BellLine:
    message: Message
    channels: tuple[str, ...]  # Message.Channel values, in the channels' order
    unread: bool


def bell_queryset(user):
    """The user's notices, newest first, one row per notice (to paginate)."""
    return Message.objects.for_user(user).bell_lines().only(*BELL_FIELDS).order_by("-created_at", "-pk")


def bell_lines_for(user, messages) -> list[BellLine]:
    """The lines of one page of ``bell_queryset``: the channels of each notice and whether any copy
    is unread (one query for the whole page)."""
    messages = list(messages)
    events = {m.event for m in messages if m.event}
    channels: dict[str, set[str]] = {}
    unread_events: set[str] = set()
    if events:
        rows = Message.objects.for_user(user).filter(event__in=events).values_list("event", "channel", "read_at")
        for event, channel, read_at in rows:
            channels.setdefault(event, set()).add(channel)
            if read_at is None:
                unread_events.add(event)
    order = list(dict(Message.Channel.choices))
    lines = []
    for message in messages:
        used = channels.get(message.event) or {message.channel}
        lines.append(
            BellLine(
                message=message,
                channels=tuple(sorted(used, key=lambda c: order.index(c) if c in order else len(order))),
                unread=message.read_at is None or message.event in unread_events,
            )
        )
    return lines


def bell_unread_count(user) -> int:
    """Unread notices, the copies of one event counted once (the bell's badge)."""
    return Message.objects.for_user(user).unread_events_count()


def bell_message_for(user, message_id: int) -> Message | None:
    """The user's notice ``message_id`` (None for anyone else's: a 404)."""
    return Message.objects.for_user(user).filter(pk=message_id).only(*BELL_FIELDS).first()


def bell_mark_read(*, user, message_id: int, now: datetime) -> Message | None:
    """Mark one notice read — every copy of its event. None when it is not the user's."""
    message = bell_message_for(user, message_id)
    if message is None:
        return None
    same = Q(pk=message.pk) | (Q(event=message.event) if message.event else Q(pk=message.pk))
    Message.objects.for_user(user).unread().filter(same).update(read_at=now)
    message.read_at = message.read_at or now
    return message


def bell_mark_lines_read(*, user, lines: list[BellLine], now: datetime) -> int:
    """Mark the unread lines of a page read (the portal's page marks what it shows)."""
    unread = [line.message for line in lines if line.unread]
    if not unread:
        return 0
    events = [m.event for m in unread if m.event]
    return (
        Message.objects.for_user(user)
        .unread()
        .filter(Q(pk__in=[m.pk for m in unread]) | Q(event__in=events))
        .update(read_at=now)
    )


def bell_mark_all_read(*, user, now: datetime) -> int:
    return Message.objects.for_user(user).unread().update(read_at=now)
