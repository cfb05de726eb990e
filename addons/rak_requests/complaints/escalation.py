"""SLA escalation of complaints through the scheduler (rak_base.scheduler), every 15 minutes.

A complaint has two deadlines (``complaints.sla``): the first answer (``first_answer_due_at``, met
by the agent's first reply to the customer, an action the customer sees (credit note, intervention
order) or the closure — ``first_answered_at``, set by ``services._answered``; an assignment or an
internal note does not meet it) and the closure
(``due_at``).
Each is a breach, escalated once:

- an open complaint not answered past ``first_answer_due_at``, or open past ``due_at``, and not
  escalated yet (``escalated_at`` empty) is escalated;
- one escalated for its first answer before ``due_at`` (``escalated_at < due_at``) is escalated
  again once ``due_at`` passes — the second breach;
- reopening (``complaint_reopen``) computes new deadlines and clears ``escalated_at``: it can be
  escalated again.

Escalating writes an internal ESCALATED entry in the thread, sets ``escalated_at`` and alerts:
a bell and an e-mail to each member of the superviseur group, a bell to the agent in charge. The
candidates come from one query; each complaint is then locked, checked again and escalated in its
own transaction (``each_item``): a failing one is reported on the job's row and the others go on;
running the job twice sends nothing new.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import F, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from rak_base.api import each_item, job_register
from rak_requests.complaint_models import Complaint, ComplaintEntry
from rak_requests.complaints import notify

ESCALATE_EVERY = timedelta(minutes=15)
SUPERVISOR_GROUP = "superviseur"
JOB_NAME = "complaints.escalate"
BREACH_FIRST_ANSWER = "first_answer"
BREACH_DUE = "due"


def escalation_candidates_filter(now: datetime) -> Q:
    """Open complaints with a breach not escalated yet (see the module's docstring)."""
    unanswered_late = Q(first_answered_at__isnull=True, first_answer_due_at__lt=now)
    overdue = Q(due_at__lt=now)
    return ~Q(status=Complaint.Status.CLOSED) & (
        (Q(escalated_at__isnull=True) & (unanswered_late | overdue))
        | (Q(escalated_at__isnull=False) & overdue & Q(escalated_at__lt=F("due_at")))
    )


def breach_of(complaint: Complaint, now: datetime) -> str | None:
    """The breach to escalate now, or None (the same rule as the filter, for one locked row)."""
    if not complaint.is_open:
        return None
    overdue = complaint.due_at < now
    if complaint.escalated_at is None:
        if overdue:
            return BREACH_DUE
        if complaint.first_answered_at is None and complaint.first_answer_due_at < now:
            return BREACH_FIRST_ANSWER
        return None
    if overdue and complaint.escalated_at < complaint.due_at:
        return BREACH_DUE
    return None


def _when(value: datetime) -> str:
    return timezone.localtime(value).strftime("%d/%m/%Y %H:%M")


def _admin_url(complaint: Complaint) -> str:
    try:
        return settings.SITE_URL + reverse("admin:rak_requests_complaint_change", args=[complaint.pk])
    except NoReverseMatch:
        return ""


def supervisors():
    return (
        get_user_model()
        .objects.filter(groups__name=SUPERVISOR_GROUP, is_active=True, is_staff=True)
        .distinct()
        .order_by("pk")
    )


def complaint_escalate(*, complaint_id: int, now: datetime, supervisor_list=None) -> str | None:
    """Escalate one complaint if it still has an unescalated breach (call inside a transaction:
    ``each_item`` gives one). Returns the breach escalated, or None."""
    complaint = (
        Complaint.objects.select_for_update(of=("self",))
        .select_related("category", "assigned_to")
        .filter(pk=complaint_id)
        .first()
    )
    if complaint is None:
        return None
    breach = breach_of(complaint, now)
    if breach is None:
        return None
    values = {"first_due": _when(complaint.first_answer_due_at), "due": _when(complaint.due_at)}
    if breach == BREACH_DUE:
        text = gettext("Délai de traitement dépassé : la réclamation devait être traitée avant le %(due)s.") % values
        label = gettext("délai de traitement dépassé")
    else:
        text = gettext("Aucune première réponse au client avant le %(first_due)s.") % values
        label = gettext("sans première réponse dans le délai")
    Complaint.objects.filter(pk=complaint.pk).update(escalated_at=now)
    ComplaintEntry.objects.create(
        complaint=complaint,
        at=now,
        kind=ComplaintEntry.Kind.ESCALATED,
        actor_kind=ComplaintEntry.Actor.SYSTEM,
        body=text,
        internal=True,
        data={"breach": breach, "due_at": complaint.due_at.isoformat()},
    )
    agent = complaint.assigned_to if complaint.assigned_to is not None and complaint.assigned_to.is_active else None
    # the wording is the editable message template « complaint.escalated » (notify.py)
    notify.complaint_escalated_notify(
        complaint,
        supervisors=supervisor_list if supervisor_list is not None else supervisors(),
        agent=agent,
        breach=label,
        detail=text,
        url=_admin_url(complaint),
    )
    return breach


def complaints_escalate_overdue(*, now: datetime) -> int:
    """The scheduler's job: escalate every complaint with a new breach; returns how many."""
    candidates = list(
        Complaint.objects.filter(escalation_candidates_filter(now))
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)
    )
    if not candidates:
        return 0
    supervisor_list = list(supervisors())
    escalated: list[int] = []

    def escalate(complaint_id: int) -> None:
        if complaint_escalate(complaint_id=complaint_id, now=now, supervisor_list=supervisor_list):
            escalated.append(complaint_id)

    def describe(pk: int) -> str:
        return f"réclamation #{pk}"  # i18n: not for customers (the job's log)

    each_item(candidates, escalate, describe=describe)
    return len(escalated)


def complaints_escalate_job(*, now: datetime) -> str:
    count = complaints_escalate_overdue(now=now)
    return ngettext("%(count)d réclamation escaladée", "%(count)d réclamations escaladées", count) % {"count": count}


def jobs_register() -> None:
    """Register the complaint jobs with rak_base.scheduler (called from RakRequestsConfig.ready)."""
    job_register(
        JOB_NAME,
        complaints_escalate_job,
        every=ESCALATE_EVERY,
        label=_("Réclamations : escalade des délais (SLA) dépassés"),
    )
