"""Field intervention orders (« Ordre d'intervention »): issued from a complaint for the technical
team, completed with a report (« compte rendu ») or cancelled with a reason.

Each service locks the order (and, through ``complaint_action_record``, the complaint) and writes
the complaint's thread in the same transaction: the order issued (visible to the customer: an
intervention is planned), its report (visible to the customer unless the technician keeps it
internal), its cancellation (internal). The agent in charge of the complaint is told (bell).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rak_base.api import sequence_next
from rak_requests.complaint_models import Complaint, FieldIntervention
from rak_requests.complaints import notify
from rak_requests.complaints.errors import ComplaintError
from rak_requests.complaints.services import complaint_action_record

PLANNED_HORIZON = timedelta(days=366)  # a planned date beyond a year is a year typed wrong


class InterventionError(ComplaintError):
    default_message = gettext_lazy("Cette action n'est pas possible sur cet ordre d'intervention.")


class InterventionRefused(InterventionError):
    """The order cannot be issued as asked (no address, date in the past, closed complaint)."""


class InterventionNotPending(InterventionError):
    default_message = gettext_lazy("Cet ordre d'intervention n'est plus à réaliser (déjà réalisé ou annulé).")


class InterventionReportRequired(InterventionError):
    default_message = gettext_lazy("Rédigez le compte rendu de l'intervention : il est versé à la réclamation.")


class InterventionReasonRequired(InterventionError):
    default_message = gettext_lazy("Indiquez le motif de l'annulation.")


@dataclass(frozen=True)
class InterventionOrder:
    kind: str
    instructions: str
    planned_for: date | None = None
    address: str = ""
    district: str = ""


def intervention_number_next(*, now: datetime) -> str:
    year = timezone.localtime(now).year
    return f"OI{year}-{sequence_next(name=f'intervention:{year}', start=1):06d}"


def intervention_place(complaint: Complaint) -> tuple[str, str]:
    """Where to go: the complaint's address, else its premises' (or its dossier's premises')."""
    premises = complaint.premises or (complaint.dossier.premises if complaint.dossier is not None else None)
    address = complaint.address or (premises.address if premises else "")
    district = complaint.district or (premises.district if premises else "")
    return address, district


def technicians():
    """Active staff who carry out interventions (« Réaliser les ordres d'intervention »)."""
    return (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True)
        .filter(groups__permissions__codename="perform_intervention")
        .distinct()
    )


def _planned_text(planned_for: date | None) -> str:
    if planned_for is None:
        return ""
    return " " + _("Elle est prévue le %(date)s.") % {"date": date_format(planned_for, "l j F Y")}


@transaction.atomic
def intervention_order(*, complaint_id: int, staff_user, order: InterventionOrder, now: datetime) -> FieldIntervention:
    """« Ordre d'intervention »: a numbered order for the technical team, at the complaint's place
    (or the address given), recorded in the thread and announced to the technicians."""
    complaint = (
        Complaint.objects.select_for_update(of=("self",))
        .select_related("category", "premises", "dossier__premises")
        .get(pk=complaint_id)
    )
    if not complaint.is_open:
        raise InterventionRefused(_("Cette réclamation est clôturée : rouvrez-la avant d'ordonner une intervention."))
    if order.kind not in FieldIntervention.Kind.values:
        raise InterventionRefused(_("Choisissez la nature de l'intervention."))
    instructions = (order.instructions or "").strip()
    if not instructions:
        raise InterventionRefused(_("Indiquez les consignes pour l'équipe technique."))
    if order.planned_for is not None and order.planned_for < timezone.localdate(now):
        raise InterventionRefused(_("La date prévue ne peut pas être dans le passé."))
    if order.planned_for is not None and order.planned_for > timezone.localdate(now) + PLANNED_HORIZON:
        raise InterventionRefused(_("La date prévue est à plus d'un an : vérifiez l'année."))
    default_address, default_district = intervention_place(complaint)
    address = (order.address or "").strip() or default_address
    district = (order.district or "").strip() or default_district
    if not address:
        raise InterventionRefused(
            _("Cette réclamation n'a ni adresse ni local : indiquez l'adresse de l'intervention.")
        )
    service = complaint.category.service or (complaint.dossier.service if complaint.dossier is not None else "")
    intervention = FieldIntervention.objects.create(
        number=intervention_number_next(now=now),
        complaint=complaint,
        kind=order.kind,
        service=service,
        address=address[:255],
        district=district[:80],
        instructions=instructions[:2000],
        planned_for=order.planned_for,
        created_at=now,
        created_by=staff_user,
    )
    with notify.in_complaint_language(complaint):  # the thread entry is the customer's
        body = _("Une intervention de nos équipes techniques a été ordonnée : %(kind)s.") % {
            "kind": intervention.get_kind_display()
        } + _planned_text(order.planned_for)
    complaint_action_record(
        complaint_id=complaint.pk,
        staff_user=staff_user,
        now=now,
        body=body,
        data={
            "action": "intervention",
            "intervention_id": intervention.pk,
            "intervention_number": intervention.number,
            "kind": intervention.kind,
        },
    )
    notify.complaint_staff_notify(
        complaint,
        subject=_("Ordre d'intervention %(number)s (réclamation %(complaint)s)")
        % {"number": intervention.number, "complaint": complaint.number},
        body=f"{intervention.get_kind_display()} — {address}\n{instructions[:300]}",
        users=[u for u in technicians() if u != staff_user],
    )
    return intervention


def _locked_pending(intervention_id: int) -> FieldIntervention:
    intervention = (
        FieldIntervention.objects.select_for_update(of=("self",))
        .select_related("complaint__assigned_to")
        .get(pk=intervention_id)
    )
    if intervention.status != FieldIntervention.Status.PENDING:
        raise InterventionNotPending()
    return intervention


@transaction.atomic
def intervention_complete(
    *, intervention_id: int, staff_user, report: str, now: datetime, public: bool = True
) -> FieldIntervention:
    """« Marquer réalisée »: the report goes into the complaint's thread (visible to the customer
    when ``public``) and the agent in charge of the complaint is told."""
    intervention = _locked_pending(intervention_id)
    report = (report or "").strip()
    if not report:
        raise InterventionReportRequired()
    intervention.status = FieldIntervention.Status.DONE
    intervention.report = report[:2000]
    intervention.done_at = now
    intervention.done_by = staff_user
    intervention.save(update_fields=["status", "report", "done_at", "done_by"])
    complaint = intervention.complaint
    with notify.in_complaint_language(complaint) if public else translation.override(settings.LANGUAGE_CODE):
        body = _("Intervention réalisée (%(kind)s) — compte rendu : %(report)s") % {
            "kind": intervention.get_kind_display(),
            "report": intervention.report,
        }
    entry = complaint_action_record(
        complaint_id=complaint.pk,
        staff_user=staff_user,
        now=now,
        internal=not public,
        body=body,
        data={
            "action": "intervention_done",
            "intervention_id": intervention.pk,
            "intervention_number": intervention.number,
        },
    )
    if public and complaint.is_open:  # the customer is told (bell and e-mail; the closure brings the SMS)
        notify.complaint_reply_notify(complaint, text=entry.body, channels=(notify.EMAIL, notify.BELL))
    if complaint.assigned_to_id and complaint.assigned_to_id != getattr(staff_user, "pk", None):
        notify.complaint_staff_notify(
            complaint,
            subject=_("Intervention %(number)s réalisée (réclamation %(complaint)s)")
            % {"number": intervention.number, "complaint": complaint.number},
            body=intervention.report[:300],
        )
    return intervention


@transaction.atomic
def intervention_cancel(*, intervention_id: int, staff_user, reason: str, now: datetime) -> FieldIntervention:
    """« Annuler » with a reason (kept in the order's report and in the thread, internal)."""
    intervention = _locked_pending(intervention_id)
    reason = (reason or "").strip()
    if not reason:
        raise InterventionReasonRequired()
    intervention.status = FieldIntervention.Status.CANCELLED
    intervention.report = (_("Annulé : %(reason)s") % {"reason": reason})[:2000]
    intervention.done_by = staff_user
    intervention.save(update_fields=["status", "report", "done_by"])
    complaint = intervention.complaint
    complaint_action_record(
        complaint_id=complaint.pk,
        staff_user=staff_user,
        now=now,
        internal=True,
        body=_("Ordre d'intervention %(number)s annulé : %(reason)s")
        % {"number": intervention.number, "reason": reason},
        data={
            "action": "intervention_cancelled",
            "intervention_id": intervention.pk,
            "intervention_number": intervention.number,
        },
    )
    if complaint.assigned_to_id and complaint.assigned_to_id != getattr(staff_user, "pk", None):
        notify.complaint_staff_notify(
            complaint,
            subject=_("Intervention %(number)s annulée (réclamation %(complaint)s)")
            % {"number": intervention.number, "complaint": complaint.number},
            body=reason[:300],
        )
    return intervention
