"""Reads of complaints: the customer's list and detail (their own only), the helpdesk queue and
its counters. Each in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Value
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from rak_customer.models import Customer, Premises
from rak_requests.complaint_models import Complaint, ComplaintCategory, ComplaintEntry
from rak_requests.complaints.sla import SOON_SHARE, SlaState, sla_state
from rak_requests.outages import outage_notice_current_for


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


# --- the customer's side (portal and API share these) -----------------------------------------------


def complaint_reopen_until(complaint: Complaint) -> datetime | None:
    """Until when a closed complaint may be reopened (``COMPLAINT_REOPEN_DAYS`` after closing)."""
    if complaint.closed_at is None:
        return None
    return complaint.closed_at + timedelta(days=settings.COMPLAINT_REOPEN_DAYS)


def complaint_can_reopen(complaint: Complaint, now: datetime) -> bool:
    until = complaint_reopen_until(complaint)
    return complaint.status == Complaint.Status.CLOSED and until is not None and now <= until


def complaint_can_rate(complaint: Complaint) -> bool:
    return complaint.status == Complaint.Status.CLOSED and complaint.rating is None


def complaint_is_overdue(complaint: Complaint, now: datetime) -> bool:
    return complaint.is_open and complaint.due_at <= now


def complaint_sla_text(complaint: Complaint, now: datetime) -> str:
    """The deadline in the customer's words (« Mes réclamations », the API)."""
    if complaint.status == Complaint.Status.CLOSED:
        closed = timezone.localtime(complaint.closed_at) if complaint.closed_at else None
        return _("Clôturée le %(date)s") % {"date": date_format(closed, "d/m/Y")} if closed else ""
    if complaint.status == Complaint.Status.WAITING_CUSTOMER:
        return _("Nous attendons votre réponse : ajoutez les informations demandées.")
    due = date_format(timezone.localtime(complaint.due_at), "d/m/Y H:i")
    if complaint_sla_state(complaint, now) == SlaState.OVERDUE:
        return _(
            "Le délai prévu (%(date)s) est dépassé : nous vous prions de nous excuser, votre réclamation est "
            "traitée en priorité."
        ) % {"date": due}
    return _("Réponse prévue au plus tard le %(date)s") % {"date": due}


def complaint_attachment_for_customer(customer: Customer, pk: int) -> ComplaintEntry | None:
    """A file of one of the customer's own complaints (never an internal note's); None otherwise."""
    return (
        ComplaintEntry.objects.filter(pk=pk, complaint__customer=customer, internal=False)
        .exclude(file="")
        .select_related("complaint")
        .first()
    )


def customer_premises(customer: Customer):
    """The premises of the customer's dossiers (« Votre local » of an incident report)."""
    return Premises.objects.filter(dossiers__customer=customer).distinct().order_by("address")


def district_canonical(typed: str) -> str:
    """« maamora » typed -> « Maamora » as the premises (and the outage notices) spell it."""
    typed = " ".join((typed or "").split())
    if not typed:
        return ""
    known = Premises.objects.filter(district__iexact=typed).values_list("district", flat=True).first()
    return known or typed


# incident categories whose code starts with this are « coupures »: checked against outage notices
OUTAGE_CATEGORY_PREFIX = "coupure"


def incident_outage_notice(*, category: ComplaintCategory, service: str, premises, district: str, now: datetime):
    """The published notice that already covers this « coupure » (shown instead of filing a
    duplicate), or None (not a coupure, no place, no notice)."""
    if not category.code.startswith(OUTAGE_CATEGORY_PREFIX) or not service:
        return None
    district = premises.district if premises is not None else district
    round_code = premises.round_code if premises is not None else ""
    if not (district or round_code):
        return None
    return outage_notice_current_for(service=service, district=district, round_code=round_code, now=now)
