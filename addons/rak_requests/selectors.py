"""Reads of rak_requests: the customer's « Suivi des demandes » (list, detail) and the back office's
queue counters and SLA breaches. Every customer read is filtered on the customer, so another
customer's request or attachment is simply not found (404). Query counts do not grow with the
number of requests, events or attachments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from rak_requests.engine import OPEN_STATUSES
from rak_requests.models import Attachment, Phase, RequestEvent, ServiceRequest

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

ACTION_EXPECTED = (
    ServiceRequest.Action.ANSWER_COMPLEMENT,
    ServiceRequest.Action.CALL,
    ServiceRequest.Action.SIGN,
    ServiceRequest.Action.PAY,
    ServiceRequest.Action.ACCEPT_QUOTE,
    ServiceRequest.Action.READ_METER,
)


def customer_requests(customer_id: int) -> QuerySet[ServiceRequest]:
    """« Suivi des demandes »: the customer's requests, newest first (one query)."""
    return (
        ServiceRequest.objects.filter(customer_id=customer_id)
        .select_related("request_type", "phase")
        .order_by("-filed_at", "-id")
    )


def customer_request(customer_id: int, number: str) -> ServiceRequest | None:
    return (
        ServiceRequest.objects.filter(customer_id=customer_id, number=number)
        .select_related("request_type", "phase", "customer", "fee_bill", "premises")
        .first()
    )


def customer_attachment(customer_id: int, attachment_id: int) -> Attachment | None:
    return Attachment.objects.filter(pk=attachment_id, request__customer_id=customer_id).first()


FINAL_EVENT: dict[str, str] = {
    ServiceRequest.Status.ACCEPTEE: RequestEvent.Kind.ACCEPTED,
    ServiceRequest.Status.REJETEE: RequestEvent.Kind.REJECTED,
    ServiceRequest.Status.ANNULEE: RequestEvent.Kind.CANCELLED,
}


def request_final_state(request: ServiceRequest, *, with_actor: bool = True) -> str:
    """How a closed request ended, for staff: « Clôturée (acceptée) le 04/12/2026 à 10:02 par
    Salma Alaoui », « Refusée le … par … — motif : … », « Annulée par le client le … ». Without
    the actor (lists): no query."""
    if request.processed_at is not None:
        processed = timezone.localtime(request.processed_at)
        when = {"date": f"{processed:%d/%m/%Y}", "time": f"{processed:%H:%M}"}
        words: dict[str, StrOrPromise] = {
            ServiceRequest.Status.ACCEPTEE: _("Clôturée (acceptée) le %(date)s à %(time)s") % when,
            ServiceRequest.Status.REJETEE: _("Refusée le %(date)s à %(time)s") % when,
            ServiceRequest.Status.ANNULEE: _("Annulée par le client le %(date)s à %(time)s") % when,
        }
    else:
        words = {
            ServiceRequest.Status.ACCEPTEE: _("Clôturée (acceptée)"),
            ServiceRequest.Status.REJETEE: pgettext("request closed", "Refusée"),
            ServiceRequest.Status.ANNULEE: _("Annulée par le client"),
        }
    text = str(words.get(request.status, request.get_status_display()))
    if not with_actor or request.status not in FINAL_EVENT:
        return text
    event = (
        request.events.filter(kind=FINAL_EVENT[request.status]).select_related("actor").order_by("-at", "-id").first()
    )
    if event is None:
        return text
    if request.status != ServiceRequest.Status.ANNULEE:
        if event.actor is not None:
            text = _("%(state)s par %(actor)s") % {
                "state": text,
                "actor": event.actor.get_full_name() or event.actor.username,
            }
        elif event.actor_kind == RequestEvent.Actor.SYSTEM:
            text = _("%(state)s automatiquement") % {"state": text}
    if request.status == ServiceRequest.Status.REJETEE and event.message:
        text = _("%(state)s — motif : %(reason)s") % {"state": text, "reason": event.message}
    return text


def request_status_label(request: ServiceRequest) -> str:
    """The state shown to the customer, in the seed's words: « En cours : aucune action »,
    « Répondre à la demande de complément », « Signer le contrat », « Appeler le service client »,
    « Payer les frais d'abonnement »; closed: « Accepté », « Rejeté », « Annulé »."""
    closed: dict[str, str] = {
        ServiceRequest.Status.ACCEPTEE: pgettext("request state shown to the customer", "Accepté"),
        ServiceRequest.Status.REJETEE: pgettext("request state shown to the customer", "Rejeté"),
        ServiceRequest.Status.ANNULEE: pgettext("request state shown to the customer", "Annulé"),
    }
    if request.status in closed:
        return closed[request.status]
    if request.status == ServiceRequest.Status.COMPLEMENT_DEMANDE:
        return _("Répondre à la demande de complément")
    if (
        request.expected_action == ServiceRequest.Action.PAY
        and request.phase is not None
        and request.phase.code == Phase.Code.DEVIS
    ):
        return _("Payer la facture des travaux")  # a connection request's accepted quote
    actions: dict[str, str] = {
        ServiceRequest.Action.NONE: _("En cours : aucune action"),
        ServiceRequest.Action.ANSWER_COMPLEMENT: _("Répondre à la demande de complément"),
        ServiceRequest.Action.CALL: _("Appeler le service client"),
        ServiceRequest.Action.SIGN: _("Signer le contrat"),
        ServiceRequest.Action.PAY: _("Payer les frais d'abonnement"),
        ServiceRequest.Action.ACCEPT_QUOTE: _("Accepter le devis"),
        ServiceRequest.Action.READ_METER: _("Communiquer l'index final de votre compteur"),
    }
    return actions.get(request.expected_action) or _("En cours : aucune action")


def request_action_expected(request: ServiceRequest) -> bool:
    return request.status in OPEN_STATUSES and (
        request.status == ServiceRequest.Status.COMPLEMENT_DEMANDE or request.expected_action in ACTION_EXPECTED
    )


@dataclass(frozen=True)
class PhaseStep:
    name: str
    done: bool
    current: bool


def request_phase_steps(request: ServiceRequest, phases: list[Phase]) -> list[PhaseStep]:
    """The phase bar: done phases checked, the current one highlighted (all done once accepted)."""
    position = request.phase.position if request.phase else None
    accepted = request.status == ServiceRequest.Status.ACCEPTEE
    steps = []
    for phase in phases:
        done = accepted or (position is not None and phase.position < position)
        current = not accepted and position is not None and phase.position == position
        steps.append(PhaseStep(name=phase.name, done=done, current=current))
    return steps


def request_detail(request: ServiceRequest) -> dict:
    """What the detail page shows besides the request itself (three queries)."""
    phases = list(Phase.objects.filter(request_type_id=request.request_type_id).order_by("position"))
    events = list(
        RequestEvent.objects.filter(request=request, internal=False).select_related("to_phase").order_by("at", "id")
    )
    attachments = list(Attachment.objects.filter(request=request).order_by("uploaded_at", "id"))
    complement = None
    if request.status == ServiceRequest.Status.COMPLEMENT_DEMANDE:
        complement = next((e for e in reversed(events) if e.kind == RequestEvent.Kind.COMPLEMENT_ASKED), None)
    return {
        "steps": request_phase_steps(request, phases),
        "events": events,
        "attachments": attachments,
        "complement": complement,
        "status_label": request_status_label(request),
        "action_expected": request_action_expected(request),
    }


# --- back office ----------------------------------------------------------------------------------


def queue_counters(*, now: datetime, user_id: int | None = None) -> list[dict]:
    """Open requests per type and phase: total, awaiting the customer's complement, overdue, and
    assigned to ``user_id``; oldest deadline first within a type (one grouped query)."""
    rows = (
        ServiceRequest.objects.filter(status__in=OPEN_STATUSES)
        .values(
            "request_type_id",
            "request_type__name",
            "request_type__position",
            "phase_id",
            "phase__name",
            "phase__position",
        )
        .annotate(
            total=Count("id"),
            complement=Count("id", filter=Q(status=ServiceRequest.Status.COMPLEMENT_DEMANDE)),
            overdue=Count("id", filter=Q(phase_due_at__lt=now)),
            mine=Count("id", filter=Q(assigned_to_id=user_id)) if user_id else Count("id", filter=Q(pk__in=[])),
            oldest_due=Min("phase_due_at"),
        )
        .order_by("request_type__position", "request_type__name", "phase__position")
    )
    return [dict(row) for row in rows]


def overdue_requests(*, now: datetime) -> QuerySet[ServiceRequest]:
    """The supervisor's SLA breaches: open requests past their phase deadline, oldest first."""
    return (
        ServiceRequest.objects.filter(status__in=OPEN_STATUSES, phase_due_at__lt=now)
        .select_related("request_type", "phase", "customer", "assigned_to")
        .order_by("phase_due_at", "id")
    )
