"""Services of the request engine (filing excepted: rak_requests.filing; call, signature, payment
and installation: rak_requests.lifecycle).

Each service decides *what* changes and who may do it, then goes through
``engine.request_transition`` (row lock, state guard, SLA deadline, history event, notification
in the same transaction):

- the complement loop: ``request_ask_complement`` (staff) -> COMPLEMENT_DEMANDE + « Répondre à la
  demande de complément »; ``request_answer_complement`` (the customer, text and/or file) -> back
  to EN_COURS, the exchange in the history, the file among the attachments;
- decisions: ``request_accept_phase`` (next phase by position; the last one closes the request
  ACCEPTEE), ``request_reject`` (a reason is required; REJETEE, closed);
- ``request_cancel`` by the customer *while no decision is taken*: the request is open and still in
  its first phase (no phase has been accepted yet) -> ANNULEE, closed;
- back-office bookkeeping: ``request_assign``, ``request_note`` (internal, never shown to the
  customer);
- ``attachment_add``: checked by content and size (rak_base.uploads) against the required
  document's formats and maximum size, stored under a generated name in private storage;
- SLA: ``requests_escalate_overdue(now=...)`` marks the open requests past their phase deadline
  escalated (one ESCALATED event each) and tells the supervisor group (bell + e-mail, one summary
  per run). Run every 15 minutes by the scheduler (``rak_requests.jobs``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.db.models import Q

from rak_base.outbox import message_queue_bell, message_queue_email
from rak_base.scheduler import each_item
from rak_base.uploads import IMAGE_KINDS, upload_validate
from rak_customer.models import PortalAccount
from rak_requests.engine import (
    OPEN_STATUSES,
    Notice,
    RequestError,
    WrongState,
    request_lock,
    request_transition,
    stale_state,
)
from rak_requests.models import Attachment, Phase, RequestEvent, RequiredDocument, ServiceRequest

SUPERVISOR_GROUP = "superviseur"
COMPLEMENT_CODE = "complement"
DEFAULT_KINDS = "pdf,image,zip,rar"

# The action expected from the customer when a phase starts (the seed's « état de votre demande »).
PHASE_ENTRY_ACTION = {
    Phase.Code.RECEVABILITE_TECH: ServiceRequest.Action.CALL,
    Phase.Code.SIGNATURE: ServiceRequest.Action.SIGN,
    Phase.Code.PAIEMENT: ServiceRequest.Action.PAY,
}
# Phases that end by the customer's own act (signature, payment: rak_requests.lifecycle), never by
# a staff member's « accepter la phase ».
CUSTOMER_DRIVEN_PHASES = frozenset({Phase.Code.SIGNATURE, Phase.Code.PAIEMENT, Phase.Code.POSE_COMPTEUR})


class NotAllowed(RequestError):
    default_message = "Vous ne pouvez pas effectuer cette action sur cette demande."


class CancelNotAllowed(RequestError):
    default_message = "Cette demande ne peut plus être annulée : son traitement a déjà été décidé."


class AnswerMissing(RequestError):
    default_message = "Saisissez une réponse ou joignez un fichier."


class ReasonMissing(RequestError):
    default_message = "Indiquez le motif."


class PhaseNeedsCustomer(RequestError):
    default_message = (
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
    if not PortalAccount.objects.filter(user=user, customer_id=request.customer_id).exists():
        raise NotAllowed()


def seen_statuses(allowed: tuple[str, ...], seen: str | None) -> tuple[str, ...]:
    """The statuses an action accepts, narrowed to the one the agent's page showed (if given): a
    request whose status changed since is refused (WrongState)."""
    return allowed if not seen else tuple(status for status in allowed if status == seen)


def phase_entry_action(phase: Phase | None) -> str:
    return PHASE_ENTRY_ACTION.get(phase.code, ServiceRequest.Action.NONE) if phase else ServiceRequest.Action.NONE


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
    return request.status in OPEN_STATUSES and request_is_first_phase(request)


# --- attachments ----------------------------------------------------------------------------------


def document_kinds(allowed: str) -> frozenset[str]:
    """« pdf,image,zip,rar » (data) -> rak_base.uploads kinds."""
    kinds: set[str] = set()
    for name in (part.strip().lower() for part in (allowed or DEFAULT_KINDS).split(",")):
        if name in {"image", "images"}:
            kinds |= IMAGE_KINDS
        elif name in {"jpg", "jpeg"}:
            kinds.add("jpeg")
        elif name in {"pdf", "zip", "rar", "png", "webp", "heic"}:
            kinds.add(name)
    return frozenset(kinds or document_kinds(DEFAULT_KINDS))


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
    """Validate ``file`` by content and size (the required document's formats and maximum size;
    PDF, image, ZIP or RAR and 2 Mo otherwise) and store it under a generated name. Raises
    rak_base.uploads.UploadRefused with the French message."""
    if document is not None:
        validated = upload_validate(file, kinds=document_kinds(document.allowed_kinds), max_bytes=document.max_bytes)
    else:
        validated = upload_validate(file, kinds=document_kinds(DEFAULT_KINDS))
    attachment = Attachment(
        request=request,
        document_code=document.code if document is not None else COMPLEMENT_CODE,
        label=label or (document.label if document is not None else "Complément"),
        original_name=(getattr(file, "name", "") or "")[-255:],
        content_type=validated.mime,
        size=validated.size,
        sha256=validated.sha256,
        uploaded_by=uploaded_by,
        uploaded_at=now,
        event=event,
    )
    attachment.file.save(validated.stored_name(), validated.file, save=False)
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
        raise ReasonMissing("Indiquez au client ce qui manque.")
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
            subject="Demande de complément",
            text=f"la RAK vous demande un complément : {message} Répondez depuis « Suivi des demandes ».",
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
        raise WrongState("Aucun complément n'est demandé sur cette demande.")
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
        attachment_add(request=request, file=file, now=now, uploaded_by=user, event=event, label="Complément")
    if request.assigned_to_id:
        message_queue_bell(
            user=request.assigned_to,
            subject=f"Complément reçu — {request.number}",
            body=text or "Le client a joint un fichier.",
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
    """Move an open request (EN_COURS) to the next phase of its type by position; after the last
    phase the request is ACCEPTEE and closed. Used by staff acceptance and by the lifecycle
    (signature, payment, installation)."""
    current = request_lock(request_id=request_id)
    following = next_phase(current.phase, request_type_id=current.request_type_id)
    if following is None:
        request, _ = request_transition(
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
            notice=Notice(subject="Demande acceptée", text="votre demande a été acceptée."),
        )
        return request
    request, _ = request_transition(
        request_id=request_id,
        now=now,
        event_kind=RequestEvent.Kind.PHASE,
        actor=actor,
        actor_kind=actor_kind,
        expect_phase=expect_phase,
        expect_status=(ServiceRequest.Status.EN_COURS,),
        to_phase=following,
        action=phase_entry_action(following),
        message=message,
        notice=Notice(
            subject=following.name,
            text=f"votre demande passe à l'étape « {following.name} ».",
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
    page showed: if the request moved meanwhile, WrongState (one of two agents acting at once wins)."""
    _require_staff(staff)
    with transaction.atomic():
        current = request_lock(request_id=request_id)
        if expect_status is not None and current.status != expect_status:
            raise stale_state(current)
        if expect_phase is None:
            expect_phase = current.phase.code if current.phase else None
        if current.phase is not None and current.phase.code in CUSTOMER_DRIVEN_PHASES:
            raise PhaseNeedsCustomer()
        if current.phase is not None and current.phase.code == Phase.Code.RECEVABILITE_TECH:
            from rak_requests.lifecycle import technical_accept  # lifecycle builds on these services' engine

            if expect_phase != Phase.Code.RECEVABILITE_TECH:
                raise stale_state(current)
            return technical_accept(request_id=request_id, agent=staff, now=now, message=message)
        if current.phase is not None and current.phase.code == Phase.Code.DEVIS:
            from rak_requests.quotes import devis_accept_check, works_paid_check

            if expect_phase != Phase.Code.DEVIS:
                raise stale_state(current)
            devis_accept_check(request=current)  # refused until a quote is accepted and its works paid
            works_paid_check(request_id=request_id, now=now, actor=staff)
            return request_lock(request_id=request_id)
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
    agent's page showed — a rejection from a stale page never overrides a phase accepted since."""
    _require_staff(staff)
    reason = (reason or "").strip()
    if not reason:
        raise ReasonMissing("Indiquez le motif du rejet.")
    request, _ = request_transition(
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
        notice=Notice(subject="Demande rejetée", text=f"votre demande a été rejetée. Motif : {reason}"),
    )
    return request


@transaction.atomic
def request_cancel(*, request_id: int, user, now: datetime) -> ServiceRequest:
    """« Annuler la demande » by the customer, while no decision is taken (open, first phase)."""
    current = request_lock(request_id=request_id)
    _require_owner(user, current)
    if not request_can_cancel(current):
        raise CancelNotAllowed()
    request, _ = request_transition(
        request_id=request_id,
        now=now,
        event_kind=RequestEvent.Kind.CANCELLED,
        actor=user,
        actor_kind=RequestEvent.Actor.CUSTOMER,
        status=ServiceRequest.Status.ANNULEE,
        action=ServiceRequest.Action.NONE,
        close=True,
        notice=Notice(subject="Demande annulée", text="votre demande a été annulée à votre demande.", sms=False),
    )
    return request


# --- back-office bookkeeping ----------------------------------------------------------------------


@transaction.atomic
def request_assign(*, request_id: int, staff, agent, now: datetime) -> ServiceRequest:
    _require_staff(staff)
    if agent is None or not agent.is_staff or not agent.is_active:
        raise NotAllowed("Choisissez un agent du back office.")
    request, _ = request_transition(
        request_id=request_id,
        now=now,
        event_kind=RequestEvent.Kind.ASSIGNED,
        actor=staff,
        internal=True,
        message=f"Affectée à {agent.get_full_name() or agent.username}",
        data={"agent_id": agent.pk},
    )
    ServiceRequest.objects.filter(pk=request.pk).update(assigned_to=agent)
    request.assigned_to = agent
    if agent != staff:
        message_queue_bell(
            user=agent,
            subject=f"Demande affectée — {request.number}",
            body=f"{request.request_type.name} : la demande {request.number} vous est affectée.",
            kind="request",
        )
    return request


@transaction.atomic
def request_note(*, request_id: int, staff, text: str, now: datetime) -> RequestEvent:
    """An internal note (never shown to the customer), on any request, open or closed."""
    _require_staff(staff)
    text = (text or "").strip()
    if not text:
        raise ReasonMissing("Saisissez la note.")
    _, event = request_transition(
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
        request, _ = request_transition(
            request_id=request_id,
            now=now,
            event_kind=RequestEvent.Kind.ESCALATED,
            actor_kind=RequestEvent.Actor.SYSTEM,
            internal=True,
            message=f"Échéance de la phase dépassée ({current.phase_due_at:%d/%m/%Y %H:%M}).",
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
        subject = f"{len(escalated)} demande(s) en dépassement de délai"
        body = f"Les demandes suivantes ont dépassé l'échéance de leur phase :\n{lines}\n"
        supervisors = get_user_model().objects.filter(groups__name=SUPERVISOR_GROUP, is_active=True, is_staff=True)
        with transaction.atomic():
            for supervisor in supervisors.distinct():
                message_queue_bell(user=supervisor, subject=subject, body=body, kind="request")
                if supervisor.email:
                    message_queue_email(
                        to=supervisor.email, subject=subject, body=body, user=supervisor, kind="request"
                    )
    return len(escalated)
