"""« Facture réglée »: a settled bill moves on the request that owns it.

rak_billing's ledger fires ``HOOK_BILLS_SETTLED`` (``bill_ids=[...]``, ``customer_id=``) in the
transaction that settles bills, whatever the channel: CMI card payment, agency counter, other
networks' files, customer credit applied, credit note. ``on_bills_settled`` (subscribed in
``RakRequestsConfig.ready``) finds the open requests linked to one of those bills and calls the
handler registered for the phase each request is in. Each call runs in a savepoint: a failure is
logged and never rolls back the payment; the request then waits for « Vérifier les paiements des
frais » (back office, ``settled_bills_recheck``), which runs the same handlers by hand.

Entry point for a request type (its module in ``rak_requests.kinds``, run at start-up)::

    settled_bill_handler_register(Phase.Code.PAIEMENT, fees_paid_check)  # link: request.fee_bill
    settled_bill_handler_register(Phase.Code.DEVIS, works_paid_check, bill_link="fee_bill")

``handler(*, request_id, now, actor=None) -> bool`` (moved or not; idempotent: it locks the request
and checks its phase and the bill itself). ``bill_link`` is the ORM path from ``ServiceRequest`` to
the bill (default ``fee_bill``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from rak_base import clock
from rak_requests.engine import OPEN_STATUSES, request_transition
from rak_requests.models import ServiceRequest

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SettledBillHandler:
    phase_code: str
    handler: Callable[..., bool]
    bill_link: str = "fee_bill"


_handlers: dict[str, SettledBillHandler] = {}


def settled_bill_handler_register(
    phase_code: str, handler: Callable[..., bool], *, bill_link: str = "fee_bill"
) -> None:
    """When a bill linked to a request (``bill_link``) is settled while the request is open in
    ``phase_code``, call ``handler(request_id=, now=, actor=None)``. One handler per phase."""
    _handlers[str(phase_code)] = SettledBillHandler(str(phase_code), handler, bill_link)


def _dispatch(rows: Iterable[tuple[int, str]], *, now: datetime, actor=None) -> int:
    moved = 0
    for request_id, phase_code in rows:
        entry = _handlers.get(phase_code)
        if entry is None:
            continue
        try:
            with transaction.atomic():  # a savepoint: the payment stays recorded whatever happens here
                moved += bool(entry.handler(request_id=request_id, now=now, actor=actor))
        except Exception:
            logger.exception(
                "Demande %s (phase %s) : suite donnée au règlement de la facture impossible", request_id, phase_code
            )
    return moved


def on_bills_settled(*, bill_ids: Iterable[int], now: datetime | None = None, **_payload) -> int:
    """``HOOK_BILLS_SETTLED`` handler (in the settling transaction). Returns how many requests moved."""
    bill_ids = list(bill_ids)
    if not bill_ids or not _handlers:
        return 0
    now = now or clock.now()
    waiting = Q()  # one query for every registered phase (issue 15: one statement per settlement)
    for entry in _handlers.values():
        waiting |= Q(**{f"{entry.bill_link}__in": bill_ids}, phase__code=entry.phase_code)
    rows: list[tuple[int, str]] = list(
        ServiceRequest.objects.filter(waiting, status__in=OPEN_STATUSES).order_by("pk").values_list("pk", "phase__code")
    )
    return _dispatch(sorted(set(rows)), now=now)


def settled_bills_recheck(*, now: datetime, actor=None) -> int:
    """By hand (back office « Vérifier les paiements des frais »): the open requests whose linked
    bill is settled but that did not move on (their handler failed when the bill was settled)."""
    rows: list[tuple[int, str]] = []
    for entry in _handlers.values():
        rows += (
            ServiceRequest.objects.filter(
                **{f"{entry.bill_link}__settled_at__isnull": False},
                phase__code=entry.phase_code,
                status__in=OPEN_STATUSES,
            )
            .order_by("pk")
            .values_list("pk", "phase__code")
        )
    return _dispatch(sorted(set(rows)), now=now, actor=actor)


def on_bills_reopened(
    *, bill_ids: Iterable[int], reason: str = "", at: datetime | None = None, **_payload
) -> list[int]:
    """``HOOK_BILLS_REOPENED`` handler (in the reversal's transaction): a payment that had paid a
    request's bill was reversed (a cheque returned unpaid, a card chargeback). The open requests
    linked to a re-opened bill get an internal note in their history and the supervisors one bell
    + e-mail; what waits for the payment checks the bill itself (the meter's pose refuses while the
    fees are open again). Returns the requests told."""
    from django.contrib.auth import get_user_model

    from rak_base.outbox import message_queue_bell, message_queue_email
    from rak_requests.models import RequestEvent
    from rak_requests.services import SUPERVISOR_GROUP

    bill_ids = list(bill_ids)
    links = {entry.bill_link for entry in _handlers.values()} or {"fee_bill"}
    requests: set[int] = set()
    for link in links:
        requests.update(
            ServiceRequest.objects.filter(**{f"{link}__in": bill_ids}, status__in=OPEN_STATUSES).values_list(
                "pk", flat=True
            )
        )
    if not requests:
        return []
    now = at or clock.now()
    told = []
    for request_id in sorted(requests):
        request = ServiceRequest.objects.select_related("fee_bill", "phase").get(pk=request_id)
        bill_number = request.fee_bill.number if request.fee_bill is not None else "—"
        message = _(
            "Paiement de la facture %(bill)s annulé — motif : %(reason)s. "
            "La facture est de nouveau à payer : la suite de la demande attend son règlement."
        ) % {"bill": bill_number, "reason": reason or "—"}
        request_transition(
            request_id=request_id,
            now=now,
            event_kind=RequestEvent.Kind.NOTE,
            actor_kind=RequestEvent.Actor.SYSTEM,
            expect_status=None,
            internal=True,
            message=message,
        )
        told.append(request)
    subject = _("Paiement annulé : %(requests)s") % {"requests": ", ".join(r.number for r in told)}
    body = "\n".join(
        _("- %(request)s (%(phase)s) : facture %(bill)s de nouveau à payer (motif : %(reason)s).")
        % {
            "request": r.number,
            "phase": r.phase.name if r.phase else "—",
            "bill": r.fee_bill.number if r.fee_bill is not None else "—",
            "reason": reason or "—",
        }
        for r in told
    )
    supervisors = get_user_model().objects.filter(groups__name=SUPERVISOR_GROUP, is_active=True, is_staff=True)
    for supervisor in supervisors.distinct():
        message_queue_bell(user=supervisor, subject=subject, body=body, kind="request")
        if supervisor.email:
            message_queue_email(to=supervisor.email, subject=subject, body=body, user=supervisor, kind="request")
    return [r.pk for r in told]
