"""Reads of rak_portal's own data, and the customer pages' reads that combine several addons (the
dashboard), shared by the portal's views and the mobile API (rak_api)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from rak_base.errors import RakError
from rak_base.models import Message
from rak_billing import selectors as billing
from rak_billing.api import mandate_active
from rak_billing.models import Bill
from rak_billing.readings import last_readings, self_reading_states
from rak_billing.readings.selectors import SelfReadingState
from rak_customer.api import customer_dossier
from rak_customer.models import Dossier, Service
from rak_portal.models import NewsItem
from rak_requests.complaint_models import Complaint
from rak_requests.tracking import dossier_timeline

NEWS_SHOWN = 6
DASHBOARD_LAST_BILLS = 5
CHART_MONTHS = 6


class DossierNotFound(RakError):
    """A dossier number that is not one of the customer's (a 404 for the portal and the API)."""

    code = "not_found"
    http_status = 404
    default_message = gettext_lazy("Dossier introuvable.")


def news_active(*, now: datetime, limit: int = NEWS_SHOWN) -> list[NewsItem]:
    """« Les actualités de la RAK » of the dashboard slider: active, published, not expired,
    in the back office's order."""
    return list(
        NewsItem.objects.filter(is_active=True, published_at__lte=now)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by("position", "-published_at")[:limit]
    )


def chart_dossier_pick(dossiers: list[Dossier], number: str | None) -> Dossier | None:
    """The dossier named ``number`` among the customer's own (``DossierNotFound`` for any other),
    else the first active metered one (water or electricity: a sanitation dossier has no
    consumption of its own to chart), else the first active one, else the first."""
    if number:
        for dossier in dossiers:
            if dossier.number == number:
                return dossier
        raise DossierNotFound()
    active = [d for d in dossiers if d.status == Dossier.Status.ACTIVE]
    metered = [d for d in active if d.meter_id is not None and d.service != Service.ASSAINISSEMENT]
    candidates = metered or active or dossiers
    return candidates[0] if candidates else None


@dataclass
class Dashboard:
    """What the dashboard shows besides the customer's name: the dossiers, the two top cards
    (balance, last billed month), the six-month consumption of the chosen dossier, the news."""

    dossiers: list[Dossier]
    summary: billing.AccountSummary
    chart_dossier: Dossier | None
    consumption: list[billing.MonthPoint]
    unit: str
    news: list[NewsItem]


def dashboard(customer_id: int, *, dossier_number: str | None, now: datetime) -> Dashboard:
    """The portal's dashboard (``dossier_number``: the chart's dossier, ``?dossier=``). Five
    queries whatever the history."""
    dossiers = billing.customer_dossiers(customer_id)
    dossier = chart_dossier_pick(dossiers, dossier_number)
    return Dashboard(
        dossiers=dossiers,
        summary=billing.account_summary(customer_id),
        chart_dossier=dossier,
        consumption=billing.dossier_monthly_consumption(dossier.pk, months=CHART_MONTHS) if dossier else [],
        unit=billing.service_unit(dossier.service) if dossier else "",
        news=news_active(now=now),
    )


@dataclass
class DashboardDetails(Dashboard):
    """The dashboard as an app shows it: the portal's figures, plus what its other cards link to
    (« Mes impayés », the last bills, « Relève de mon index », the bell)."""

    unpaid: billing.UnpaidSummary = field(default_factory=lambda: billing.UnpaidSummary(bills=[]))
    last_bills: list[billing.BillWithStatus] = field(default_factory=list)
    reading_states: list[SelfReadingState] = field(default_factory=list)
    last_readings: dict = field(default_factory=dict)  # dossier id -> its latest reading
    unread_notifications: int = 0

    @property
    def reading_open(self) -> bool:
        """A dossier can be read today (its window is open and it was not read yet)."""
        return any(state.ready for state in self.reading_states)


def dashboard_details(
    customer_id: int, *, user, dossier_number: str | None, now: datetime, last_bills: int = DASHBOARD_LAST_BILLS
) -> DashboardDetails:
    """``dashboard`` and the unpaid total, the ``last_bills`` latest bills with their status, the
    self-reading state of each metered dossier and the unread notifications of ``user``: a fixed
    number of queries (about a dozen) whatever the history."""
    today = timezone.localdate(now)
    base = dashboard(customer_id, dossier_number=dossier_number, now=now)
    states = self_reading_states(customer_id, today)
    return DashboardDetails(
        **vars(base),
        unpaid=billing.unpaid_bills(customer_id, as_of=today),
        last_bills=billing.bills_status(billing.efacture_bills(customer_id)[:last_bills], as_of=today),
        reading_states=states,
        last_readings=last_readings(state.dossier.pk for state in states),
        unread_notifications=Message.objects.for_user(user).unread_events_count(),
    )


@dataclass
class DossierOverview:
    """The magnifier of « Mes abonnements »: one dossier, what the RAK did on it (its history and
    the requests about it, newest first) and its active direct-debit mandate."""

    dossier: Dossier
    operations: list = field(default_factory=list)
    mandate: object | None = None


def dossier_overview(customer_id: int, number: str) -> DossierOverview:
    """One of the customer's dossiers with its operations (``DossierNotFound`` for any other
    number): a fixed number of queries (dossier, history, meters, requests, mandate)."""
    dossier = customer_dossier(customer_id, number)
    if dossier is None:
        raise DossierNotFound()
    return DossierOverview(dossier=dossier, operations=dossier_timeline(dossier), mandate=mandate_active(dossier.pk))


def bill_open_complaint(customer_id: int, bill: Bill):
    """The customer's complaint about ``bill`` still open (« Suivre ma réclamation » instead of a
    second « Contester cette facture »), or None; never for a credit note."""
    if bill.kind == Bill.Kind.CREDIT_NOTE:
        return None
    return (
        Complaint.objects.filter(customer_id=customer_id, bill_id=bill.pk)
        .exclude(status=Complaint.Status.CLOSED)
        .only("number")
        .order_by("-filed_at")
        .first()
    )
