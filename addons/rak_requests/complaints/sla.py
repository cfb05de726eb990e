"""Deadlines of a complaint, from its category (data): pure functions, the caller passes the time.

Urgent categories (fuite, coupure: the network works day and night) count calendar hours; the
others count the agencies' working days (``rak_base.workdays``): 72 hours filed on a Friday
evening fall due on Wednesday evening, not on Monday.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rak_base.workdays import is_working_day, working_day_after

# « bientôt en retard »: less than this share of the delay is left
SOON_SHARE = 0.25


class SlaState(StrEnum):
    OK = "ok"
    SOON = "soon"
    OVERDUE = "overdue"
    CLOSED = "closed"


SLA_LABELS = {
    SlaState.OK: _("Dans les délais"),
    SlaState.SOON: _("Bientôt en retard"),
    SlaState.OVERDUE: _("En retard"),
    SlaState.CLOSED: _("Clôturée"),
}


def deadline_after(start: datetime, *, hours: int, urgent: bool) -> datetime:
    """``start`` + ``hours``: calendar hours when ``urgent``, else whole days of 24 hours counted
    in working days (the remainder of hours added on the last day)."""
    if urgent:
        return start + timedelta(hours=hours)
    days, rest = divmod(hours, 24)
    local = timezone.localtime(start)
    day = local.date()
    if days:
        day = working_day_after(day, days)
    elif not is_working_day(day):
        day = working_day_after(day, 1)
    due = local.replace(year=day.year, month=day.month, day=day.day) + timedelta(hours=rest)
    return due


def complaint_deadlines(category, start: datetime) -> tuple[datetime, datetime]:
    """(first answer due, closure due) for a complaint of ``category`` filed (or reopened) at ``start``."""
    return (
        deadline_after(start, hours=category.first_answer_hours, urgent=category.is_urgent),
        deadline_after(start, hours=category.sla_hours, urgent=category.is_urgent),
    )


def sla_state(*, status: str, filed_at: datetime, due_at: datetime, now: datetime) -> SlaState:
    if status == "CLOSED":
        return SlaState.CLOSED
    if now >= due_at:
        return SlaState.OVERDUE
    total = (due_at - filed_at).total_seconds() or 1
    if (due_at - now).total_seconds() / total < SOON_SHARE:
        return SlaState.SOON
    return SlaState.OK
