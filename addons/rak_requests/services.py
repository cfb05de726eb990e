"""Services of the request engine (filing excepted: rak_requests.filing; each type's own steps: its
module in rak_requests.kinds and the services it calls, e.g. rak_requests.lifecycle for the
subscription's call, signature, payment and installation).

No request type is special-cased here: the engine asks the type's module (``engine.request_kind``)
for each phase's rule (``PhaseRule``: the customer's expected action when it starts, customer-driven
or not, technical or administrative) and for the effects of each decision (``phase_accept``,
``on_accepted``, ``on_rejected``, ``can_cancel`` / ``on_cancelled``), inside the request's
transaction.

Each service decides *what* changes and who may do it, then goes through
``engine.request_transition`` (row lock, state guard, SLA deadline, history event, notification
in the same transaction):

- the complement loop: ``request_ask_complement`` (staff) -> COMPLEMENT_DEMANDE + « Répondre à la
  demande de complément »; ``request_answer_complement`` (the customer, text and/or file) -> back
  to EN_COURS, the exchange in the history, the file among the attachments;
- decisions: ``request_accept_phase`` (refused in a customer-driven phase; the type's
  ``phase_accept``, else the next phase by position; after the last one ``on_accepted`` and the
  request is closed ACCEPTEE), ``request_reject`` (a reason is required; REJETEE, closed);
- ``request_cancel`` by the customer *while no decision is taken*: the request is open and, unless
  its type says otherwise (``can_cancel``), still in its first phase -> ANNULEE, closed;
- back-office bookkeeping: ``request_assign``, ``request_note`` (internal, never shown to the
  customer);
- ``attachment_add``: checked by content and size by the requests' one upload check
  (``rak_requests.uploads.request_upload_validate``) against the required document's formats and
  maximum size, stored under a generated name in private storage;
- SLA: ``requests_escalate_overdue(now=...)`` marks the open requests past their phase deadline
  escalated (one ESCALATED event each) and tells the supervisor group (bell + e-mail, one summary
  per run). Run every 15 minutes by the scheduler (``rak_requests.jobs``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rak_base.outbox import message_queue_bell, message_queue_email
from rak_base.scheduler import each_item
from rak_customer.models import Customer
from rak_customer.selectors import customer_acting_for
from rak_requests.engine import (
    OPEN_STATUSES,
    Notice,
    RequestError,
    WrongState,
    request_kind,
    request_lock,
    request_transition,
    stale_state,
)
from rak_requests.models import Attachment, Phase, RequestEvent, RequiredDocument, ServiceRequest
from rak_requests.uploads import DEFAULT_ALLOWED as DEFAULT_KINDS
from rak_requests.uploads import document_kinds, request_upload_validate

__all__ = ["DEFAULT_KINDS", "document_kinds"]  # kept for callers of the former names

SUPERVISOR_GROUP = "superviseur"
COMPLEMENT_CODE = "complement"

# Who decides a phase (accept it, ask a complement): the technical service the phases its type's
# module marks technical (``PhaseRule.technical``), the front desk the others.
TECHNICAL_PERMISSION = "rak_requests.act_technical_phase"
ADMINISTRATIVE_PERMISSION = "rak_requests.act_administrative_phase"


class NotAllowed(RequestError):
    default_message = gettext_lazy("Vous ne pouvez pas effectuer cette action sur cette demande.")


class CancelNotAllowed(RequestError):
    default_message = gettext_lazy("Cette demande ne peut plus être annulée : son traitement a déjà été décidé.")


class AnswerMissing(RequestError):
    default_message = gettext_lazy("Saisissez une réponse ou joignez un fichier.")


class ReasonMissing(RequestError):
    default_message = gettext_lazy("Indiquez le motif.")


class PhaseNeedsCustomer(RequestError):
    default_message = gettext_lazy(
        "Cette phase se termine par l'action du client (signature ou paiement) ou par l'enregistrement du "
        "compteur posé (ordres de pose)."
    )


# --- who may act --------------------------------------------------------------------------------


def _require_staff(user) -> None:
    if user is None or not user.is_authenticated or not user.is_staff:
        raise NotAllowed()


def _require_owner(user, request: ServiceRequest) -> None:
    """The customer whose request it is (through their portal account); staff never act as one."""
    if user is None or not user.is_authenticated or user.is_staff:
        raise NotAllowed()
    code = Customer.objects.filter(pk=request.customer_id).values_list("code", flat=True).first()
    if code is None or customer_acting_for(user, code=code) is None:  # their own, or a code they linked
        raise NotAllowed()


def seen_statuses(allowed: tuple[str, ...], seen: str | None) -> tuple[str, ...]:
    """The statuses an action accepts, narrowed to the one the agent's page showed (if given): a
    request whose status changed since is refused (WrongState)."""
    return allowed if not seen else tuple(status for status in allowed if status == seen)


def phase_rule(request: ServiceRequest, phase: Phase | None = None):
    """The rule of ``phase`` (default: the request's current phase) in the request's type module."""
    phase = phase if phase is not None else (request.phase if request.phase_id else None)
    return request_kind(request).phase_rule(phase.code if phase is not None else None)


def phase_entry_action(phase: Phase | None, *, request: ServiceRequest) -> str:
    """The action expected from the customer when ``phase`` starts (its type's ``PhaseRule``)."""
    if phase is None:
        return ServiceRequest.Action.NONE
    return phase_rule(request, phase).entry_action


def phase_is_customer_driven(request: ServiceRequest) -> bool:
    """The current phase ends by the customer's act or by the system, never by « Accepter la phase »."""
    return request.phase_id is not None and phase_rule(request).customer_driven


def phase_decide_permission(request: ServiceRequest) -> str:
    """The permission that decides the request's current phase (technical or administrative)."""
    return TECHNICAL_PERMISSION if phase_rule(request).technical else ADMINISTRATIVE_PERMISSION


def next_phase(phase: Phase | None, *, request_type_id: int) -> Phase | None:
    phases = Phase.objects.filter(request_type_id=request_type_id).order_by("position")
    if phase is not None:
        phases = phases.filter(position__gt=phase.position)
    return phases.first()


def request_is_first_phase(request: ServiceRequest) -> bool:
    """True while no phase has been accepted: the request is in the first phase of its type."""
    if request.phase is None:
        return True
    earlier = Phase.objects.filter(request_type_id=request.request_type_id, position__lt=request.phase.position)
    return not earlier.exists()


def request_can_cancel(request: ServiceRequest) -> bool:
    """« Annuler la demande » is offered: the request is open and its type allows it (by default:
    while still in its first phase, no decision taken)."""
    if request.status not in OPEN_STATUSES:
        return False
    verdict = request_kind(request).can_cancel(request)
    return request_is_first_phase(request) if verdict is None else bool(verdict)


# --- attachments ----------------------------------------------------------------------------------


@transaction.atomic
def attachment_add(
    *,
    request: ServiceRequest,
    file,
    now: datetime,
    document: RequiredDocument | None = None,
    label: str = "",
    uploaded_by=None,
    event: RequestEvent | None = None,
) -> Attachment:
    """Validate ``file`` by content and size (``rak_requests.uploads.request_upload_validate``: the
    required document's formats and maximum size; PDF, image, ZIP or RAR and 2 Mo otherwise) and
    store it under a generated name. Raises rak_base.uploads.UploadRefused with the French message."""
    validated = request_upload_validate(file, document=document)
    attachment = Attachment(
        request=request,
        document_code=document.code if document is not None else COMPLEMENT_CODE,
        label=label or (document.label if document is not None else _("Complément")),
        original_name=(getattr(file, "name", "") or "")[-255:],
        content_type=validated.mime,
        size=validated.size,
        sha256=validated.sha256,
        uploaded_by=uploaded_by,
        uploaded_at=now,
        event=event,
    )
    attachment.file.save(validated.stored_name(), File(validated.file), save=False)
    attachment.save()
    return attachment


# --- the complement loop --------------------------------------------------------------------------


@transaction.atomic
def request_ask_complement(
    *,
    request_id: int,
    staff,
    message: str,
    now: datetime,
    documents: Iterable[str] = (),
    expect_phase: str | None = None,
    expect_status: str | None = None,
) -> ServiceRequest:
    """Staff ask the customer for a document or an answer. ``expect_phase`` / ``expect_status``:
    what the agent's page showed (refused if the request changed since)."""
    _require_staff(staff)
    message = (message or "").strip()
    if not message:
        raise ReasonMissing(_("Indiquez au client ce qui manque."))
    current = request_lock(request_id=request_id)
    wanted = [label for label in (str(d).strip() for d in documents) if label]
    request, _event = request_transition(
        request_id=request_id,
        now=now,
        event_kind=RequestEvent.Kind.COMPLEMENT_ASKED,
        actor=staff,
        expect_phase=expect_phase,
        expect_status=seen_statuses((ServiceRequest.Status.EN_COURS,), expect_status),
        status=ServiceRequest.Status.COMPLEMENT_DEMANDE,
        action=ServiceRequest.Action.ANSWER_COMPLEMENT,
        message=message,
        data={"documents": wanted, "previous_action": current.expected_action},
        notice=Notice(
            subject=gettext_lazy("Demande de complément"),
            text=lambda: (
                _("la RAK vous demande un complément : %(message)s Répondez depuis « Suivi des demandes ».")
                % {"message": message}
            ),
        ),
    )
    return request


@transaction.atomic
def request_answer_complement(*, request_id: int, user, now: datetime, text: str = "", file=None) -> ServiceRequest:
    """The customer answers a complement request with text and/or a file."""
    current = request_lock(request_id=request_id)
    _require_owner(user, current)
    text = (text or "").strip()
    if not text and not file:
        raise AnswerMissing()
    if current.status != ServiceRequest.Status.COMPLEMENT_DEMANDE:
        raise WrongState(_("Aucun complément n'est demandé sur cette demande."))
    asked = current.events.filter(kind=RequestEvent.Kind.COMPLEMENT_ASKED).order_by("-at", "-id").first()
    previous_action = (asked.data.get("previous_action") if asked else None) or ServiceRequest.Action.NONE
    request, event = request_transition(
        request_id=request_id,
        now=now,
        event_kind=RequestEvent.Kind.COMPLEMENT_ANSWERED,
        actor=user,
        actor_kind=RequestEvent.Actor.CUSTOMER,
        expect_status=(ServiceRequest.Status.COMPLEMENT_DEMANDE,),
        status=ServiceRequest.Status.EN_COURS,
        action=previous_action,
        message=text,
    )
    if file:
        attachment_add(request=request, file=file, now=now, uploaded_by=user, event=event, label=_("Complément"))
    if request.assigned_to_id:
        message_queue_bell(
            user=request.assigned_to,
            subject=_("Complément reçu — %(number)s") % {"number": request.number},
            body=text or _("Le client a joint un fichier."),
            kind="request",
        )
    return request


# --- decisions ------------------------------------------------------------------------------------


@transaction.atomic
def request_phase_advance(
    *,
    request_id: int,
    now: datetime,
    expect_phase: str | None = None,
    actor=None,
    actor_kind: str = RequestEvent.Actor.SYSTEM,
    message: str = "",
) -> ServiceRequest:
    """Move an open request (EN_COURS) to the next phase of its type by position, with the action
    its type expects from the customer there; after the last phase the type's ``on_accepted``
    effects run and the request is ACCEPTEE and closed. Used by staff acceptance and by the types'
    own steps (signature, payment, installation...)."""
    current = request_lock(request_id=request_id)
    following = next_phase(current.phase, request_type_id=current.request_type_id)
    if following is None:
        if current.status != ServiceRequest.Status.EN_COURS or (
            expect_phase is not None and (current.phase is None or current.phase.code != expect_phase)
        ):
            raise stale_state(current)
        request_kind(current).on_accepted(request=current, actor=actor, now=now)
        request, _event = request_transition(
            request_id=request_id,
            now=now,
            event_kind=RequestEvent.Kind.ACCEPTED,
            actor=actor,
            actor_kind=actor_kind,
            expect_phase=expect_phase,
            expect_status=(ServiceRequest.Status.EN_COURS,),
            status=ServiceRequest.Status.ACCEPTEE,
            action=ServiceRequest.Action.NONE,
            message=message,
            close=True,
            notice=Notice(subject=gettext_lazy("Demande acceptée"), text=gettext_lazy("votre demande a été acceptée.")),
        )
        return request
    request, _event = request_transition(
        request_id=request_id,
        now=now,
        event_kind=RequestEvent.Kind.PHASE,
        actor=actor,
        actor_kind=actor_kind,
        expect_phase=expect_phase,
        expect_status=(ServiceRequest.Status.EN_COURS,),
        to_phase=following,
        action=phase_entry_action(following, request=current),
        message=message,
        notice=Notice(
            subject=lambda: _(following.name),
            text=lambda: _("votre demande passe à l'étape « %(phase)s ».") % {"phase": _(following.name)},
        ),
    )
    return request


def request_accept_phase(
    *,
    request_id: int,
    staff,
    now: datetime,
    expect_phase: str | None = None,
    expect_status: str | None = None,
    message: str = "",
) -> ServiceRequest:
    """« Accepter la phase » (staff). ``expect_phase`` / ``expect_status`` are what the agent's
    page showed: if the request moved meanwhile, WrongState (one of two agents acting at once wins).
    Refused in a phase its type marks customer-driven; the type's ``phase_accept`` decides when the
    phase needs more than moving on (checks, documents, orders), else the next phase starts."""
    _require_staff(staff)
    with transaction.atomic():
        current = request_lock(request_id=request_id)
        if expect_status is not None and current.status != expect_status:
            raise stale_state(current)
        current_code = current.phase.code if current.phase is not None else None
        if expect_phase is None:
            expect_phase = current_code
        if phase_is_customer_driven(current):
            raise PhaseNeedsCustomer()
        if expect_phase != current_code:
            raise stale_state(current)
        done = request_kind(current).phase_accept(request=current, staff=staff, now=now, message=message)
        if done is not None:
            return done
        return request_phase_advance(
            request_id=request_id,
            now=now,
            expect_phase=expect_phase,
            actor=staff,
            actor_kind=RequestEvent.Actor.STAFF,
            message=message,
        )


@transaction.atomic
def request_reject(
    *,
    request_id: int,
    staff,
    reason: str,
    now: datetime,
    expect_phase: str | None = None,
    expect_status: str | None = None,
) -> ServiceRequest:
    """« Rejeter » (staff, a reason required). ``expect_phase`` / ``expect_status``: what the
    agent's page showed — a rejection from a stale page never overrides a phase accepted since.
    The type's ``on_rejected`` effects run in the same transaction."""
    _require_staff(staff)
    reason = (reason or "").strip()
    if not reason:
        raise ReasonMissing(_("Indiquez le motif du rejet."))
    request, _event = request_transition(
        request_id=request_id,
        now=now,
        event_kind=RequestEvent.Kind.REJECTED,
        actor=staff,
        expect_phase=expect_phase,
        expect_status=seen_statuses(OPEN_STATUSES, expect_status),
        status=ServiceRequest.Status.REJETEE,
        action=ServiceRequest.Action.NONE,
        message=reason,
        close=True,
        notice=Notice(
            subject=gettext_lazy("Demande rejetée"),
            text=lambda: _("votre demande a été rejetée. Motif : %(reason)s") % {"reason": reason},
        ),
    )
    request_kind(request).on_rejected(request=request, staff=staff, reason=reason, now=now)
    return request


@transaction.atomic
def request_cancel(*, request_id: int, user, now: datetime) -> ServiceRequest:
    """« Annuler la demande » by the customer, while its type allows it (by default: open, first
    phase, no decision taken); the type's ``on_cancelled`` effects run in the same transaction."""
    current = request_lock(request_id=request_id)
    _require_owner(user, current)
    if not request_can_cancel(current):
        raise CancelNotAllowed()
    request, _event = request_transition(
        request_id=request_id,
        now=now,
        event_kind=RequestEvent.Kind.CANCELLED,
        actor=user,
        actor_kind=RequestEvent.Actor.CUSTOMER,
        status=ServiceRequest.Status.ANNULEE,
        action=ServiceRequest.Action.NONE,
        close=True,
        notice=Notice(
            subject=gettext_lazy("Demande annulée"),
            text=gettext_lazy("votre demande a été annulée à votre demande."),
            sms=False,
        ),
    )
    request_kind(request).on_cancelled(request=request, now=now)
    return request


# --- back-office bookkeeping ----------------------------------------------------------------------


@transaction.atomic
def request_assign(*, request_id: int, staff, agent, now: datetime) -> ServiceRequest:
    _require_staff(staff)
    if agent is None or not agent.is_staff or not agent.is_active:
        raise NotAllowed(_("Choisissez un agent du back office."))
    request, _event = request_transition(
        request_id=request_id,
        now=now,
        event_kind=RequestEvent.Kind.ASSIGNED,
        actor=staff,
        internal=True,
        message=_("Affectée à %(agent)s") % {"agent": agent.get_full_name() or agent.username},
        data={"agent_id": agent.pk},
    )
    ServiceRequest.objects.filter(pk=request.pk).update(assigned_to=agent)
    request.assigned_to = agent
    if agent != staff:
        message_queue_bell(
            user=agent,
            subject=_("Demande affectée — %(number)s") % {"number": request.number},
            body=_("%(type)s : la demande %(number)s vous est affectée.")
            % {"type": request.request_type.name, "number": request.number},
            kind="request",
        )
    return request


@transaction.atomic
def request_note(*, request_id: int, staff, text: str, now: datetime) -> RequestEvent:
    """An internal note (never shown to the customer), on any request, open or closed."""
    _require_staff(staff)
    text = (text or "").strip()
    if not text:
        raise ReasonMissing(_("Saisissez la note."))
    _request, event = request_transition(
        request_id=request_id,
        now=now,
        event_kind=RequestEvent.Kind.NOTE,
        actor=staff,
        expect_status=None,
        message=text,
        internal=True,
    )
    return event


# --- SLA ------------------------------------------------------------------------------------------


def overdue_filter(now: datetime) -> Q:
    return Q(status__in=OPEN_STATUSES, phase_due_at__lt=now)


def requests_escalate_overdue(*, now: datetime) -> int:
    """Escalate the open requests past their phase deadline (once per phase: a new phase clears
    ``escalated_at``). Each request in its own transaction (``each_item``: a failing one does not
    stop the others); then one bell + e-mail summary to each supervisor. Returns how many were
    escalated. Run by the scheduler (``rak_requests.jobs``)."""
    from django.contrib.auth import get_user_model

    candidates = list(
        ServiceRequest.objects.filter(overdue_filter(now), escalated_at__isnull=True)
        .order_by("phase_due_at")
        .values_list("pk", flat=True)
    )
    escalated: list[ServiceRequest] = []

    def escalate(request_id: int) -> None:
        current = request_lock(request_id=request_id)
        if current.escalated_at is not None or current.phase_due_at is None or current.phase_due_at >= now:
            return
        request, _event = request_transition(
            request_id=request_id,
            now=now,
            event_kind=RequestEvent.Kind.ESCALATED,
            actor_kind=RequestEvent.Actor.SYSTEM,
            internal=True,
            message=_("Échéance de la phase dépassée (%(due)s).") % {"due": f"{current.phase_due_at:%d/%m/%Y %H:%M}"},
        )
        ServiceRequest.objects.filter(pk=request_id).update(escalated_at=now)
        escalated.append(request)

    # each request in its own transaction: one that fails is logged (and reported on the
    # scheduler's row) and the others are escalated all the same
    each_item(candidates, escalate, describe=lambda pk: f"demande #{pk}")
    if escalated:
        lines = "\n".join(
            f"- {r.number} ({r.request_type.name}, {r.phase.name if r.phase else '—'})" for r in escalated
        )
        subject = _("%(count)s demande(s) en dépassement de délai") % {"count": len(escalated)}
        body = _("Les demandes suivantes ont dépassé l'échéance de leur phase :") + f"\n{lines}\n"
        supervisors = get_user_model().objects.filter(groups__name=SUPERVISOR_GROUP, is_active=True, is_staff=True)
        with transaction.atomic():
            for supervisor in supervisors.distinct():
                message_queue_bell(user=supervisor, subject=subject, body=body, kind="request")
                if supervisor.email:
                    message_queue_email(
                        to=supervisor.email, subject=subject, body=body, user=supervisor, kind="request"
                    )
    return len(escalated)


# --- what the customer pays on a request -----------------------------------------------------------


def request_payment_start(*, request_id: int, customer, email: str, now: datetime):
    """« Payer les frais » (a subscription in « Paiement des frais ») or « Payer les travaux » (a
    connection's accepted quote): the CMI payment order of the invoice the request waits for.
    Another customer's request: ``lifecycle.RequestNotFound``; nothing to pay:
    ``lifecycle.PaymentRefused`` / ``quotes.WorksPaymentRefused``."""
    from rak_requests import lifecycle
    from rak_requests.quotes import works_bill_payable, works_pay_start

    request = (
        ServiceRequest.objects.select_related("phase", "fee_bill")
        .filter(pk=request_id, customer_id=customer.pk)
        .first()
    )
    if request is None:
        raise lifecycle.RequestNotFound()
    if works_bill_payable(request):
        return works_pay_start(request_id=request.pk, customer=customer, email=email, now=now)
    return lifecycle.fees_pay_start(request_id=request.pk, customer=customer, email=email, now=now)
