"""rak_requests' answer to the customer 360's timeline (rak_customer.timeline): the customer's
requests and complaints, each at its filing date, one query per kind and page on
request_customer_recent / complaint_customer_recent. Subscribed in ``RakRequestsConfig.ready``."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from rak_base.hooks import hook_subscribe
from rak_customer.timeline import (
    HOOK_CUSTOMER_TIMELINE,
    TimelineEvent,
    TimelineKind,
    TimelinePart,
    admin_url,
    page_of,
    wanted,
)
from rak_requests.complaint_models import Complaint
from rak_requests.models import ServiceRequest

REQUEST, COMPLAINT = "request", "complaint"
REQUEST_VARIANTS = {"EN_COURS": "info", "COMPLEMENT_DEMANDE": "warning", "REJETEE": "danger", "ACCEPTEE": "success"}
COMPLAINT_VARIANTS = {"NEW": "warning", "IN_PROGRESS": "info", "WAITING_CUSTOMER": "warning", "CLOSED": "success"}


def _requests(customer_id, before, limit) -> list[TimelineEvent]:
    rows = page_of(
        ServiceRequest.objects.filter(customer_id=customer_id).select_related("request_type", "phase"),
        field_name="filed_at",
        kind=REQUEST,
        before=before,
        limit=limit,
    )
    return [
        TimelineEvent(
            at=item.filed_at,
            kind=REQUEST,
            pk=item.pk,
            label=_("Demande %(number)s — %(type)s") % {"number": item.number, "type": item.request_type.name}
            + (f" ({item.phase.name})" if item.phase_id and item.status == "EN_COURS" else ""),
            status=item.get_status_display(),
            variant=REQUEST_VARIANTS.get(item.status, ""),
            url=admin_url(ServiceRequest, item.pk),
        )
        for item in rows
    ]


def _complaints(customer_id, before, limit) -> list[TimelineEvent]:
    rows = page_of(
        Complaint.objects.filter(customer_id=customer_id).select_related("category"),
        field_name="filed_at",
        kind=COMPLAINT,
        before=before,
        limit=limit,
    )
    return [
        TimelineEvent(
            at=item.filed_at,
            kind=COMPLAINT,
            pk=item.pk,
            label=_("Réclamation %(number)s — %(category)s : %(subject)s")
            % {"number": item.number, "category": item.category.name, "subject": item.subject[:80]},
            status=item.get_status_display(),
            variant=COMPLAINT_VARIANTS.get(item.status, ""),
            url=admin_url(Complaint, item.pk),
        )
        for item in rows
    ]


SOURCES = (
    (REQUEST, _("Demandes"), "rak_requests.view_servicerequest", _requests),
    (COMPLAINT, _("Réclamations"), "rak_requests.view_complaint", _complaints),
)


def requests_part(*, user, customer_id: int, before, limit: int, kinds) -> TimelinePart:
    part = TimelinePart()
    for code, label, permission, source in SOURCES:
        if user.has_perm(permission):
            part.kinds.append(TimelineKind(code, label))
            if wanted(kinds, code):
                part.events.extend(source(customer_id, before, limit))
    return part


def register() -> None:
    hook_subscribe(HOOK_CUSTOMER_TIMELINE, requests_part)
