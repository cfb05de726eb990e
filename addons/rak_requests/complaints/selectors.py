"""Reads of complaints: the customer's list and detail (their own only), the helpdesk queue and
its counters. Each in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Value

from rak_customer.models import Customer
from rak_requests.complaint_models import Complaint, ComplaintCategory, ComplaintEntry
from rak_requests.complaints.sla import SOON_SHARE, SlaState, sla_state


def complaint_categories(*, incident: bool | None = None) -> QuerySet[ComplaintCategory]:
    qs = ComplaintCategory.objects.filter(is_active=True)
    if incident is not None:
        qs = qs.filter(is_incident=incident)
    return qs.order_by("position", "name")


def customer_complaints(customer: Customer) -> QuerySet[Complaint]:
    """« Mes réclamations »: the customer's complaints, open ones first, newest first."""
    return (
        Complaint.objects.filter(customer=customer)
        .select_related("category")
        .annotate(is_closed=Q(status=Complaint.Status.CLOSED))
        .order_by("is_closed", "-filed_at")
    )


def complaint_for_customer(customer: Customer, number: str) -> Complaint:
    """The customer's complaint ``number``; ``Complaint.DoesNotExist`` for anyone else's (a 404)."""
    return (
        Complaint.objects.select_related("category", "dossier", "bill", "outage_notice")
        .filter(customer=customer)
        .get(number=number)
    )


def complaint_public_entries(complaint: Complaint) -> QuerySet[ComplaintEntry]:
    """The thread as the customer sees it (no internal notes)."""
    return complaint.entries.filter(internal=False).select_related("actor").order_by("at", "id")


def complaint_entries(complaint: Complaint) -> QuerySet[ComplaintEntry]:
    """The whole thread (staff)."""
    return complaint.entries.select_related("actor").order_by("at", "id")


def complaint_sla_state(complaint: Complaint, now: datetime) -> SlaState:
    return sla_state(status=complaint.status, filed_at=complaint.filed_at, due_at=complaint.due_at, now=now)


def _soon_margin() -> ExpressionWrapper:
    """A quarter of the complaint's whole delay: « bientôt en retard » when less than that is left."""
    return ExpressionWrapper((F("due_at") - F("filed_at")) * Value(SOON_SHARE), output_field=DurationField())


def complaint_queue_sla_filter(state: str, now: datetime) -> Q:
    """A Q for the helpdesk filter « délai »: overdue, soon (less than a quarter of the delay left), ok."""
    open_ = ~Q(status=Complaint.Status.CLOSED)
    if state == SlaState.OVERDUE:
        return open_ & Q(due_at__lte=now)
    if state == SlaState.SOON:
        return open_ & Q(due_at__gt=now) & Q(due_at__lt=now + _soon_margin())
    if state == SlaState.OK:
        return open_ & Q(due_at__gt=now) & Q(due_at__gte=now + _soon_margin())
    if state == SlaState.CLOSED:
        return Q(status=Complaint.Status.CLOSED)
    return Q()


@dataclass(frozen=True)
class ComplaintCounters:
    open: int
    new: int
    overdue: int
    waiting_customer: int
    mine: int
    unassigned: int
    closed_today: int


def complaint_counters(*, user, now: datetime, day_start: datetime) -> ComplaintCounters:
    """The helpdesk's counters, in one query."""
    open_ = ~Q(status=Complaint.Status.CLOSED)
    row = Complaint.objects.aggregate(
        open=Count("id", filter=open_),
        new=Count("id", filter=Q(status=Complaint.Status.NEW)),
        overdue=Count("id", filter=open_ & Q(due_at__lte=now)),
        waiting_customer=Count("id", filter=Q(status=Complaint.Status.WAITING_CUSTOMER)),
        mine=Count("id", filter=open_ & Q(assigned_to=user)),
        unassigned=Count("id", filter=open_ & Q(assigned_to__isnull=True)),
        closed_today=Count("id", filter=Q(closed_at__gte=day_start, closed_at__lt=day_start + timedelta(days=1))),
    )
    return ComplaintCounters(**row)


def complaint_districts() -> list[str]:
    """Districts complaints were filed for (the queue's filter)."""
    return list(
        Complaint.objects.exclude(district="").order_by("district").values_list("district", flat=True).distinct()
    )
