"""Services of « Demande de résiliation » after its filing (the kind: ``rak_requests.kinds.termination``).

Phases (data: migration 0007): TRAITEMENT (front desk: accept, complement, reject) -> RELEVE_FINALE
(the customer's « Communiquer l'index final de votre compteur ») -> CLOTURE (the system, at once).

- ``termination_treatment_accept``: « Accepter la phase » of TRAITEMENT: the request moves to
  « Relève finale » and waits for the final index (customer told by SMS, e-mail, bell); a request
  whose dossiers have no meter (sanitation only) goes straight on to the closing.
- ``termination_final_reading_submit`` (the customer, from the tracking page: index + photo) and
  ``termination_final_reading_record`` (staff: the technician's reading, « Enregistrer la relève
  finale ») record a dossier's final index through ``rak_billing.api.final_reading_record``; once
  every metered dossier of the request has its final index, the phase ends and the closing runs.
- ``termination_close``: for each dossier, its accounts closed (``dossier_accounts_close``: final
  bill, deposit set against the last bills, balance) and the dossier TERMINATED on the final
  reading's date (``rak_customer.api.dossier_terminate``); then the request is ACCEPTEE and the
  customer told the balance. Idempotent: both services return what was done the first time.

Everything runs under the request's row lock (``engine.request_lock``) in one transaction.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rak_base.money import money_format
from rak_billing.api import dossier_accounts_close, final_reading_record, final_readings
from rak_billing.models import MeterReading
from rak_customer.api import Dossier, dossier_terminate
from rak_requests.engine import Notice, RequestError, request_lock, request_transition, stale_state
from rak_requests.models import Phase, RequestEvent, ServiceRequest

ZERO = Decimal("0.00")


class FinalReadingNotExpected(RequestError):
    default_message = gettext_lazy("Cette demande n'attend pas d'index final.")


class FinalReadingDossierUnknown(RequestError):
    default_message = gettext_lazy("Ce dossier ne fait pas partie de cette demande de résiliation.")


def _phase(request: ServiceRequest, code: str) -> Phase | None:
    return Phase.objects.filter(request_type_id=request.request_type_id, code=code).first()


def termination_dossiers(request: ServiceRequest) -> list[Dossier]:
    return list(request.dossiers.select_related("premises", "meter").order_by("number"))


def termination_pending_dossiers(request: ServiceRequest, dossiers: list[Dossier] | None = None) -> list[Dossier]:
    """The request's dossiers with a meter whose final index is not recorded yet."""
    dossiers = termination_dossiers(request) if dossiers is None else dossiers
    metered = [d for d in dossiers if d.meter_id is not None and d.status != Dossier.Status.TERMINATED]
    done = final_readings([d.pk for d in metered])
    return [d for d in metered if d.pk not in done]


def _read_meter_text(dossiers: list[Dossier]) -> str:
    numbers = ", ".join(d.number for d in dossiers)
    return _(
        "votre demande de résiliation est acceptée. Communiquez l'index final de votre compteur (dossier %(numbers)s) "
        "avec sa photo depuis « Suivi des demandes », ou un technicien de la RAK passera le relever."
    ) % {"numbers": numbers}


@transaction.atomic
def termination_treatment_accept(
    *, request_id: int, staff, now: datetime, message: str = "", expect_status: str | None = None
) -> ServiceRequest:
    """« Accepter la phase » of TRAITEMENT: on to « Relève finale » (expected action READ_METER);
    without any meter to read, straight on to the closing."""
    current = request_lock(request_id=request_id)
    if current.phase is None or current.phase.code != Phase.Code.TRAITEMENT:
        raise stale_state(current)
    if expect_status is not None and current.status != expect_status:
        raise stale_state(current)
    reading = _phase(current, Phase.Code.RELEVE_FINALE)
    pending = termination_pending_dossiers(current)
    if reading is None or not pending:
        return _to_closing(
            request_id=request_id, now=now, actor=staff, from_phase=Phase.Code.TRAITEMENT, message=message
        )
    request, _event = request_transition(
        request_id=request_id,
        now=now,
        event_kind=RequestEvent.Kind.PHASE,
        actor=staff,
        actor_kind=RequestEvent.Actor.STAFF,
        expect_phase=Phase.Code.TRAITEMENT,
        expect_status=(ServiceRequest.Status.EN_COURS,),
        to_phase=reading,
        action=ServiceRequest.Action.READ_METER,
        message=message,
        notice=Notice(subject=lambda: _(reading.name), text=lambda: _read_meter_text(pending)),
    )
    return request


def _reading_words(dossier: Dossier, reading: MeterReading) -> str:
    unit = "kWh" if dossier.service == "ELECTRICITE" else "m³"
    index = f"{reading.index.normalize():f}".replace(".", ",")
    return _("dossier %(number)s : index %(index)s %(unit)s le %(date)s") % {
        "number": dossier.number,
        "index": index,
        "unit": unit,
        "date": reading.reading_date.strftime("%d/%m/%Y"),
    }


def _record(
    *,
    request_id: int,
    dossier_number: str,
    now: datetime,
    actor,
    actor_kind: str,
    record,
) -> ServiceRequest:
    """Shared by the customer's and the staff's final index: checks, ``record(dossier)`` (the
    billing service), an internal trace, then the closing when nothing is left to read."""
    current = request_lock(request_id=request_id)
    if (
        current.status != ServiceRequest.Status.EN_COURS
        or current.phase is None
        or current.phase.code != Phase.Code.RELEVE_FINALE
    ):
        raise FinalReadingNotExpected()
    dossiers = termination_dossiers(current)
    dossier = next((d for d in dossiers if d.number == (dossier_number or "").strip()), None)
    if dossier is None:
        raise FinalReadingDossierUnknown()
    if dossier not in termination_pending_dossiers(current, dossiers):
        raise FinalReadingNotExpected(
            _("L'index final du dossier %(number)s est déjà enregistré.") % {"number": dossier.number}
        )
    reading = record(dossier)
    request_transition(
        request_id=request_id,
        now=now,
        event_kind=RequestEvent.Kind.NOTE,
        actor=actor,
        actor_kind=actor_kind,
        expect_status=None,
        internal=True,
        message=_("Relève finale enregistrée (%(who)s) — %(words)s.")
        % {
            "who": _("client") if actor_kind == RequestEvent.Actor.CUSTOMER else _("agent"),
            "words": _reading_words(dossier, reading),
        },
        data={"dossier": dossier.number, "reading_id": reading.pk},
    )
    if termination_pending_dossiers(current):
        return request_lock(request_id=request_id)
    return _to_closing(request_id=request_id, now=now, actor=actor, from_phase=Phase.Code.RELEVE_FINALE)


@transaction.atomic
def termination_final_reading_submit(
    *,
    request_id: int,
    customer_id: int,
    user,
    dossier_number: str,
    index,
    photo,
    now: datetime,
    confirmed: bool = False,
) -> ServiceRequest:
    """The customer's own final index (tracking page): their request, a dossier of it still to be
    read, the index with a photo (checked as « Relève de mon index »)."""
    current = request_lock(request_id=request_id)
    if current.customer_id != customer_id:
        raise FinalReadingDossierUnknown()
    return _record(
        request_id=request_id,
        dossier_number=dossier_number,
        now=now,
        actor=user,
        actor_kind=RequestEvent.Actor.CUSTOMER,
        record=lambda dossier: final_reading_record(
            dossier_id=dossier.pk,
            customer_id=customer_id,
            index=index,
            photo=photo,
            source=MeterReading.Source.SELF,
            user=user,
            now=now,
            reference=current.number,
            confirmed=confirmed,
        ),
    )


@transaction.atomic
def termination_final_reading_record(
    *,
    request_id: int,
    staff,
    dossier_number: str,
    index,
    now: datetime,
    reading_date: date | None = None,
    note: str = "",
) -> ServiceRequest:
    """« Enregistrer la relève finale » (back office): the technician's final index of a dossier."""
    current = request_lock(request_id=request_id)
    return _record(
        request_id=request_id,
        dossier_number=dossier_number,
        now=now,
        actor=staff,
        actor_kind=RequestEvent.Actor.STAFF,
        record=lambda dossier: final_reading_record(
            dossier_id=dossier.pk,
            index=index,
            reading_date=reading_date,
            source=MeterReading.Source.AGENT,
            user=staff,
            now=now,
            reference=current.number,
            note=note,
        ),
    )


def _to_closing(*, request_id: int, now: datetime, actor, from_phase: str, message: str = "") -> ServiceRequest:
    closing = _phase(request_lock(request_id=request_id), Phase.Code.CLOTURE)
    if closing is not None:
        request_transition(
            request_id=request_id,
            now=now,
            event_kind=RequestEvent.Kind.PHASE,
            actor=actor,
            actor_kind=RequestEvent.Actor.SYSTEM if actor is None else _actor_kind(actor),
            expect_phase=from_phase,
            expect_status=(ServiceRequest.Status.EN_COURS,),
            to_phase=closing,
            action=ServiceRequest.Action.NONE,
            message=message,
        )
    return termination_close(request_id=request_id, now=now)


def _actor_kind(user) -> str:
    return RequestEvent.Actor.STAFF if getattr(user, "is_staff", False) else RequestEvent.Actor.CUSTOMER


def _balance_words(balance: Decimal) -> str:
    if balance > ZERO:
        return _("débiteur de %(amount)s") % {"amount": money_format(balance, plain_space=True)}
    if balance < ZERO:
        return _("créditeur de %(amount)s") % {"amount": money_format(-balance, plain_space=True)}
    return _("soldé")


@transaction.atomic
def termination_close(*, request_id: int, now: datetime) -> ServiceRequest:
    """« Clôture du compte » (the system): each dossier's accounts closed and the dossier terminated,
    then the request ACCEPTEE and the customer told the balance. Idempotent."""
    current = request_lock(request_id=request_id)
    if current.status == ServiceRequest.Status.ACCEPTEE:
        return current
    if current.status != ServiceRequest.Status.EN_COURS or current.phase is None:
        raise stale_state(current)
    closings, total = [], ZERO
    for dossier in termination_dossiers(current):
        closing = dossier_accounts_close(dossier_id=dossier.pk, reference=current.number, now=now)
        dossier_terminate(dossier_id=dossier.pk, end_date=closing.end_date or timezone.localdate(now))
        total += closing.balance
        closings.append((dossier, closing))

    def parts() -> list[str]:
        words = []
        for dossier, closing in closings:
            part = _("dossier %(number)s résilié le %(date)s") % {
                "number": dossier.number,
                "date": (closing.end_date or timezone.localdate(now)).strftime("%d/%m/%Y"),
            }
            if closing.final_bill is not None:
                part += _(", facture de clôture %(number)s : %(amount)s") % {
                    "number": closing.final_bill.number,
                    "amount": money_format(closing.final_bill.total_ttc, plain_space=True),
                }
            if closing.deposit_amount:
                part += _(", dépôt de garantie déduit : %(amount)s") % {
                    "amount": money_format(closing.deposit_amount, plain_space=True)
                }
            words.append(part)
        return words

    def text() -> str:  # composed in the customer's language by notify_customer
        return _(
            "votre demande de résiliation est acceptée : %(parts)s. Solde de la résiliation : %(balance)s "
            "(voir « Mes remboursements »)."
        ) % {"parts": " ; ".join(parts()), "balance": _balance_words(total)}

    request, _event = request_transition(
        request_id=request_id,
        now=now,
        event_kind=RequestEvent.Kind.ACCEPTED,
        actor_kind=RequestEvent.Actor.SYSTEM,
        expect_status=(ServiceRequest.Status.EN_COURS,),
        status=ServiceRequest.Status.ACCEPTEE,
        action=ServiceRequest.Action.NONE,
        message=text()[0].upper() + text()[1:],
        close=True,
        notice=Notice(subject=gettext_lazy("Demande acceptée"), text=text),
    )
    return request
