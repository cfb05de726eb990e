"""The customer 360's timeline: everything that happened to a customer, newest first, in one list.

rak_customer does not know the higher addons: it asks them through two hooks (``hook_collect``).

- ``HOOK_CUSTOMER_TIMELINE`` — asked with ``user=`` (the staff member), ``customer_id=``,
  ``before=`` (a :class:`Cursor`, or None for the first page), ``limit=`` and ``kinds=`` (the kind
  codes wanted, or None for all). Each subscriber answers a :class:`TimelinePart`: the kinds it
  offers this user (for the filter's checkboxes) and at most ``limit`` events of the wanted kinds
  strictly older than ``before``, newest first — one query per kind (:func:`page_of`), on an index
  that starts with the customer.
- ``HOOK_CUSTOMER_SUMMARY`` — asked with ``user=``, ``customer_id=`` and ``now=``: a list of
  ``{"key", "label", "value", "variant"}`` figures shown above the timeline (the balance...).

Events are ordered by (date, kind, id), descending; the cursor is the last event shown, so a page
never repeats nor skips an event, even when several share the same date. Date-only events (a
bill's issue date, a reading date) are placed at the start of their day (local time).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Q, QuerySet, Subquery
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rak_base.hooks import hook_collect, hook_subscribe

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

HOOK_CUSTOMER_TIMELINE = "rak_customer.customer_timeline"
HOOK_CUSTOMER_SUMMARY = "rak_customer.customer_summary"
PAGE_SIZE = 50
CURSOR_SEPARATOR = "~"


@dataclass(frozen=True)
class TimelineKind:
    code: str
    label: StrOrPromise


@dataclass(frozen=True)
class TimelineEvent:
    at: datetime.datetime  # aware; a date-only event at the start of its day (``day_start``)
    kind: str  # a TimelineKind code, unique per model (the cursor's tie-break)
    pk: int
    label: str
    amount: Decimal | None = None
    status: str = ""
    url: str = ""
    all_day: bool = False  # shown without a time
    variant: str = ""  # unfold label colour of the status: success, warning, danger, info

    @property
    def sort_key(self) -> tuple:
        return (self.at, self.kind, self.pk)

    @property
    def cursor(self) -> Cursor:
        return Cursor(at=self.at, kind=self.kind, pk=self.pk)


@dataclass(frozen=True)
class TimelinePart:
    kinds: list[TimelineKind] = field(default_factory=list)
    events: list[TimelineEvent] = field(default_factory=list)


@dataclass(frozen=True)
class Cursor:
    """The last event of the previous page: (at, kind, pk)."""

    at: datetime.datetime
    kind: str
    pk: int

    def encode(self) -> str:
        return CURSOR_SEPARATOR.join((self.at.isoformat(), self.kind, str(self.pk)))

    @classmethod
    def decode(cls, value: str | None) -> Cursor | None:
        """None for an empty or malformed value (a hostile query string gives the first page)."""
        if not value:
            return None
        parts = value.split(CURSOR_SEPARATOR)
        if len(parts) != 3 or not parts[1].replace("_", "").isalpha() or not parts[2].isdigit():
            return None
        try:
            at = datetime.datetime.fromisoformat(parts[0])
        except ValueError:
            return None
        if timezone.is_naive(at) or len(parts[2]) > 18:
            return None
        return cls(at=at, kind=parts[1], pk=int(parts[2]))


@dataclass(frozen=True)
class TimelinePage:
    kinds: list[TimelineKind]
    events: list[TimelineEvent]
    next_cursor: Cursor | None


def day_start(day: datetime.date) -> datetime.datetime:
    """A date-only event's place in the timeline: the start of its day, local time."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def wanted(kinds, code: str) -> bool:
    return kinds is None or code in kinds


def cursor_q(field_name: str, kind: str, cursor: Cursor | None, *, dates: bool = False) -> Q:
    """Rows of one kind strictly after ``cursor`` in the timeline's order (date, kind, id)
    descending; ``dates``: ``field_name`` is a DateField (events at the start of their day)."""
    if cursor is None:
        return Q()
    if dates:
        day = timezone.localdate(cursor.at)
        if day_start(day) != cursor.at:
            # the cursor is inside the day: that day's date-only events (at its start) come after
            return Q(**{f"{field_name}__lte": day})
        older, same = Q(**{f"{field_name}__lt": day}), Q(**{field_name: day})
    else:
        older, same = Q(**{f"{field_name}__lt": cursor.at}), Q(**{field_name: cursor.at})
    if kind < cursor.kind:
        return older | same
    if kind > cursor.kind:
        return older
    return older | (same & Q(pk__lt=cursor.pk))


def page_of(
    queryset: QuerySet, *, field_name: str, kind: str, before: Cursor | None, limit: int, dates: bool = False
) -> QuerySet:
    """One page of a source: the rows after the cursor, newest first, ``limit + 1`` at most (the
    extra row tells the page that more follow)."""
    return queryset.filter(cursor_q(field_name, kind, before, dates=dates)).order_by(f"-{field_name}", "-pk")[
        : limit + 1
    ]


def admin_url(model, pk) -> str:
    """The back-office page of an object, or "" when its model has no admin page."""
    opts = model._meta
    try:
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[pk])
    except NoReverseMatch:
        return ""


def timeline_page(
    *, user, customer_id: int, before: Cursor | None = None, limit: int = PAGE_SIZE, kinds=None
) -> TimelinePage:
    """Every source's events merged and sorted newest first, ``limit`` at most, and the cursor of
    the next page (None: nothing older)."""
    kinds = frozenset(kinds) if kinds is not None else None
    parts = hook_collect(
        HOOK_CUSTOMER_TIMELINE, user=user, customer_id=customer_id, before=before, limit=limit, kinds=kinds
    )
    offered: list[TimelineKind] = []
    events: list[TimelineEvent] = []
    for part in parts:
        offered.extend(part.kinds)
        events.extend(event for event in part.events if wanted(kinds, event.kind))
    events.sort(key=lambda event: event.sort_key, reverse=True)
    page = events[:limit]
    next_cursor = page[-1].cursor if len(events) > limit and page else None
    return TimelinePage(kinds=offered, events=page, next_cursor=next_cursor)


def customer_summary(*, user, customer_id: int, now: datetime.datetime) -> list[dict]:
    figures: list[dict] = []
    for answer in hook_collect(HOOK_CUSTOMER_SUMMARY, user=user, customer_id=customer_id, now=now):
        figures.extend(answer)
    return figures


# --- rak_customer's own source: the messages sent to the customer (SMS, e-mail, bell, push) ----------


MESSAGE_KIND = "message"


def messages_part(*, user, customer_id: int, before: Cursor | None, limit: int, kinds) -> TimelinePart | None:
    """The outbox's messages to the customer's portal account or to one of their phones / e-mails:
    two queries (the customer's addresses, then the messages on message_user_recent and
    message_recipient_recent). Codes and passwords stay masked (message_body_display)."""
    if not user.has_perm("rak_base.view_message"):
        return None
    part = TimelinePart(kinds=[TimelineKind(MESSAGE_KIND, _("Messages"))])
    if not wanted(kinds, MESSAGE_KIND):
        return part
    from rak_base.admin import message_body_display
    from rak_base.models import Message
    from rak_customer.models import Contact, Customer, PortalAccount

    identity = (
        Customer.objects.filter(pk=customer_id)
        .annotate(
            account_user=Subquery(PortalAccount.objects.filter(customer_id=customer_id).values("user_id")[:1]),
            addresses=ArraySubquery(Contact.objects.filter(customer_id=customer_id).values("value")),
        )
        .values("account_user", "addresses")
        .first()
    )
    if identity is None:
        return part
    query = Q(recipient__in=identity["addresses"]) if identity["addresses"] else Q(pk__in=[])
    if identity["account_user"] is not None:
        query |= Q(user_id=identity["account_user"])
    rows = page_of(
        Message.objects.filter(query), field_name="created_at", kind=MESSAGE_KIND, before=before, limit=limit
    )
    variants = {"SENT": "success", "FAILED": "danger", "QUEUED": "warning"}
    for message in rows:
        body = message_body_display(message)
        text = message.subject or body
        part.events.append(
            TimelineEvent(
                at=message.created_at,
                kind=MESSAGE_KIND,
                pk=message.pk,
                label=f"{message.get_channel_display()} — {text[:120]}",
                status=message.get_status_display(),
                variant=variants.get(message.status, ""),
                url=admin_url(Message, message.pk),
            )
        )
    return part


def hooks_register() -> None:
    hook_subscribe(HOOK_CUSTOMER_TIMELINE, messages_part)
