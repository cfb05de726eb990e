"""The request engine's primitive: every change of a request goes through ``request_transition``.

It locks the request row (``select_for_update``), checks the expected state (so two agents acting
at once cannot both move it), applies the change, computes the phase deadline from the phase's
SLA (data), writes the history event, and queues the customer's notification (SMS, e-mail, bell)
in the same transaction. Higher-level services (filing, complement loop, acceptance, signature,
payment, installation) are thin wrappers that decide *what* changes; this decides *how*.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeAlias

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rak_base.errors import RakError
from rak_base.outbox import event_key, message_queue_bell, message_queue_email, message_queue_sms
from rak_customer.language import customer_language
from rak_customer.models import PortalAccount
from rak_customer.selectors import customer_email, customer_sms_phone
from rak_requests.models import Phase, RequestEvent, ServiceRequest

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

OPEN_STATUSES = (ServiceRequest.Status.EN_COURS, ServiceRequest.Status.COMPLEMENT_DEMANDE)


class RequestError(RakError):
    default_message = gettext_lazy("Cette action n'est pas possible sur cette demande.")


class WrongState(RequestError):
    default_message = gettext_lazy("La demande a changé entre-temps : rechargez la page et réessayez.")


def request_state_label(request: ServiceRequest) -> str:
    """Where the request is now, in words: « en phase « Devis » (En cours) », « Rejetée le 04/12/2026 »."""
    if request.status in OPEN_STATUSES:
        if request.phase is not None:
            return _("en phase « %(phase)s » (%(status)s)") % {
                "phase": request.phase.name,
                "status": request.get_status_display(),
            }
        return f"({request.get_status_display()})"
    if request.processed_at:
        processed = timezone.localtime(request.processed_at)
        return _("%(status)s le %(date)s à %(time)s") % {
            "status": request.get_status_display(),
            "date": f"{processed:%d/%m/%Y}",
            "time": f"{processed:%H:%M}",
        }
    return str(request.get_status_display())


def stale_state(request: ServiceRequest) -> WrongState:
    """The refusal of an action decided on a page that no longer shows the request as it is."""
    return WrongState(
        _(
            "La demande %(number)s a changé depuis l'affichage de votre page : elle est maintenant "
            "%(state)s. Rechargez la page et réessayez."
        )
        % {"number": request.number, "state": request_state_label(request)}
    )


NoticeText: TypeAlias = "StrOrPromise | Callable[[], str]"  # a lazy string composed in the customer's language


@dataclass(frozen=True)
class Notice:
    """What the customer is told: a short subject (bell, e-mail) and an SMS-sized text.

    ``subject`` and ``text`` are best given as lazy strings or as callables (``lambda: _("…") % {…}``):
    ``notify_customer`` composes them inside ``customer_language(customer)``, so the customer reads
    them in their own language whoever triggered the step (a French back office, a worker)."""

    subject: NoticeText
    text: NoticeText
    sms: bool = True
    email: bool = True


def request_kind(request: ServiceRequest):
    """The module of the request's type (``rak_requests.kinds``). Imported here, not at the top:
    the kinds' modules build on the engine and its services."""
    from rak_requests.kinds import kind_for

    return kind_for(request.request_type.code)


def request_lock(*, request_id: int) -> ServiceRequest:
    """Lock the request's row, then read it with its type, phase and customer. Two statements:
    when the lock had to wait for another transaction that moved the request, PostgreSQL re-reads
    the locked row but not the rows joined to it, so a joined read would pair the new phase id
    with no phase at all (seen with an accept and a reject pressed at once)."""
    ServiceRequest.objects.select_for_update().filter(pk=request_id).values_list("pk", flat=True).get()
    return ServiceRequest.objects.select_related("request_type", "phase", "customer").get(pk=request_id)


def phase_deadline(phase: Phase | None, start: datetime) -> datetime | None:
    return start + timedelta(days=phase.sla_days) if phase is not None else None


def _composed(value: NoticeText) -> str:
    return str(value() if callable(value) else value)


def notify_customer(*, request: ServiceRequest, notice: Notice) -> None:
    """Queue the SMS, e-mail and bell notification of a step (outbox, same transaction), written in
    the customer's language."""
    account = PortalAccount.objects.select_related("user").filter(customer_id=request.customer_id).first()
    user = account.user if account else None
    with customer_language(request.customer):
        _notify(request=request, notice=notice, user=user)


def _notify(*, request: ServiceRequest, notice: Notice, user) -> None:
    notice = Notice(subject=_composed(notice.subject), text=_composed(notice.text), sms=notice.sms, email=notice.email)
    text = _("RAK : demande %(number)s — %(text)s") % {"number": request.number, "text": notice.text}
    event = event_key()  # one line in the bell for the three copies
    if notice.sms:
        phone = customer_sms_phone(request.customer)
        if phone:
            message_queue_sms(to=phone, body=text[:459], user=user, kind="request", event=event)
    if notice.email:
        email = customer_email(request.customer)
        if email:
            message_queue_email(
                to=email,
                subject=_("%(subject)s — demande %(number)s") % {"subject": notice.subject, "number": request.number},
                user=user,
                kind="request",
                event=event,
                body=_(
                    "Bonjour,\n\n%(text)s\n\nSuivez votre demande sur l'agence en ligne de la RAK, "
                    "rubrique « Suivi des demandes ».\n"
                )
                % {"text": notice.text},
            )
    if user is not None:
        message_queue_bell(
            user=user,
            subject=_("%(subject)s — %(number)s") % {"subject": notice.subject, "number": request.number},
            body=str(notice.text),  # composed above: a str
            kind="request",
            event=event,
        )


@transaction.atomic
def request_transition(
    *,
    request_id: int,
    now: datetime,
    event_kind: str,
    actor=None,
    actor_kind: str = RequestEvent.Actor.STAFF,
    expect_phase: str | None = None,
    expect_status: tuple[str, ...] | None = OPEN_STATUSES,
    to_phase: Phase | None = None,
    status: str | None = None,
    action: str | None = None,
    message: str = "",
    internal: bool = False,
    data: dict | None = None,
    notice: Notice | None = None,
    close: bool = False,
) -> tuple[ServiceRequest, RequestEvent]:
    """Apply one step to a request under its row lock and record it.

    ``expect_phase`` / ``expect_status`` guard against acting on a request that moved meanwhile
    (raises WrongState naming where the request is now): the back office passes the phase and the
    status the agent's page showed, so an action from a stale tab never overrides another's.
    ``to_phase`` starts a new phase (its SLA sets ``phase_due_at``); ``close`` stamps
    ``processed_at`` (accepted, rejected, cancelled)."""
    request = request_lock(request_id=request_id)
    if expect_status is not None and request.status not in expect_status:
        raise stale_state(request)
    if expect_phase is not None and (request.phase is None or request.phase.code != expect_phase):
        raise stale_state(request)
    from_phase = request.phase
    fields = []
    if to_phase is not None and to_phase != request.phase:
        request.phase = to_phase
        request.phase_started_at = now
        request.phase_due_at = phase_deadline(to_phase, now)
        request.escalated_at = None
        fields += ["phase", "phase_started_at", "phase_due_at", "escalated_at"]
    if status is not None and status != request.status:
        request.status = status
        fields.append("status")
    if action is not None and action != request.expected_action:
        request.expected_action = action
        fields.append("expected_action")
    if close:
        request.processed_at = now
        request.phase_due_at = None
        fields += ["processed_at", "phase_due_at"]
    if fields:
        request.save(update_fields=sorted(set(fields)))
    event = RequestEvent.objects.create(
        request=request,
        at=now,
        kind=event_kind,
        actor_kind=actor_kind,
        actor=actor,
        message=message,
        internal=internal,
        from_phase=from_phase,
        to_phase=request.phase if to_phase is not None else None,
        data=data or {},
    )
    if notice is not None and not internal:
        notify_customer(request=request, notice=notice)
    return request, event
