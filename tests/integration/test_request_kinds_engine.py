"""The engine asks the request type's module (``rak_requests.kinds``) at every step and special-cases
no type: filing (typed data, ``filing_check`` refusals before anything is written, dossiers and
premises named by the data, ``on_filed``), the customer's expected action when a phase starts, who
decides a phase, « Accepter la phase » (``phase_accept`` or the next phase; refused in a
customer-driven phase), ``on_accepted`` before ACCEPTEE, ``on_rejected``, ``can_cancel`` /
``on_cancelled``. A test-only type is registered here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import pytest

from rak_requests.engine import RequestError
from rak_requests.filing import request_file, request_summary
from rak_requests.kinds.base import PhaseRule, RequestData, RequestKind, kind_register, kind_unregister
from rak_requests.models import Phase, RequestEvent, RequestType, ServiceRequest
from rak_requests.services import (
    ADMINISTRATIVE_PERMISSION,
    TECHNICAL_PERMISSION,
    PhaseNeedsCustomer,
    phase_decide_permission,
    request_accept_phase,
    request_can_cancel,
    request_cancel,
    request_phase_advance,
    request_reject,
)
from tests.factories import DossierFactory, StaffFactory, customer_with_account

pytestmark = pytest.mark.django_db

CODE = "TEST_ENGINE"
CALLS: list[tuple] = []


class Refused(RequestError):
    default_message = "Motif refusé pour ce test."


@dataclass(frozen=True)
class ReasonData(RequestData):
    LABELS: ClassVar[dict] = {"reason": "Motif"}
    reason: str = ""
    dossier: str = ""

    def validate(self) -> None:
        if self.reason == "refuse":
            raise Refused()


class EngineKind(RequestKind):
    code = CODE
    data_class = ReasonData
    phases: ClassVar[dict] = {
        Phase.Code.ENQUETE: PhaseRule(entry_action=ServiceRequest.Action.READ_METER, technical=True),
        Phase.Code.CLOTURE: PhaseRule(customer_driven=True),
    }

    def dossiers_from_data(self, *, customer, data):
        return list(customer.dossiers.filter(number=data.dossier))

    def premises_from_data(self, *, customer, data):
        dossier = customer.dossiers.filter(number=data.dossier).select_related("premises").first()
        return dossier.premises if dossier else None

    def on_filed(self, *, request, now):
        CALLS.append(("filed", request.number))

    def phase_accept(self, *, request, staff, now, message):
        if request.phase.code == Phase.Code.TRAITEMENT and message == "ici":
            CALLS.append(("phase_accept", request.phase.code))
            return request  # decided here: no move
        return None

    def on_accepted(self, *, request, actor, now):
        CALLS.append(("accepted", request.status))

    def on_rejected(self, *, request, staff, reason, now):
        CALLS.append(("rejected", reason, request.status))

    def can_cancel(self, request):
        return request.phase.code != Phase.Code.CLOTURE

    def on_cancelled(self, *, request, now):
        CALLS.append(("cancelled", request.status))


@pytest.fixture
def request_type():
    CALLS.clear()
    kind_register(EngineKind())
    request_type = RequestType.objects.create(code=CODE, name="Demande de test", number_prefix="TE")
    for position, (code, name) in enumerate(
        [(Phase.Code.TRAITEMENT, "Traitement"), (Phase.Code.ENQUETE, "Enquête"), (Phase.Code.CLOTURE, "Clôture")],
        start=1,
    ):
        Phase.objects.create(request_type=request_type, code=code, name=name, position=position, sla_days=5)
    yield request_type
    kind_unregister(CODE)


@pytest.fixture
def owner():
    return customer_with_account(phone="+212662000001", email="nadia@example.ma")


@pytest.fixture
def customer(owner):
    return owner[0]


def test_filing_asks_the_type(request_type, customer, now):
    dossier = DossierFactory(customer=customer)
    with pytest.raises(Refused, match="Motif refusé pour ce test."):
        request_file(request_type=request_type, customer=customer, data={"reason": "refuse"}, attachments=[], now=now)
    assert not ServiceRequest.objects.filter(request_type=request_type).exists()

    request = request_file(
        request_type=request_type,
        customer=customer,
        data={"reason": "déménagement", "dossier": dossier.number, "unknown": "dropped"},
        attachments=[],
        now=now,
    )
    assert request.data == {"reason": "déménagement", "dossier": dossier.number}  # typed: nothing else kept
    assert list(request.dossiers.all()) == [dossier] and request.premises == dossier.premises
    assert CALLS == [("filed", request.number)]
    assert request.receipt is not None
    assert request_summary(request) == [("Motif", "déménagement")]


def test_phases_follow_the_type_rules(request_type, customer, now):
    staff = StaffFactory()
    request = request_file(request_type=request_type, customer=customer, data={"reason": "x"}, attachments=[], now=now)
    assert phase_decide_permission(request) == ADMINISTRATIVE_PERMISSION

    same = request_accept_phase(request_id=request.pk, staff=staff, now=now, message="ici")
    assert same.phase.code == Phase.Code.TRAITEMENT and CALLS[-1] == ("phase_accept", "TRAITEMENT")

    moved = request_accept_phase(request_id=request.pk, staff=staff, now=now)
    assert moved.phase.code == Phase.Code.ENQUETE
    assert moved.expected_action == ServiceRequest.Action.READ_METER  # the type's entry action
    assert phase_decide_permission(moved) == TECHNICAL_PERMISSION
    assert request_can_cancel(moved)  # the type allows it beyond the first phase

    closing = request_accept_phase(request_id=request.pk, staff=staff, now=now)
    assert closing.phase.code == Phase.Code.CLOTURE
    with pytest.raises(PhaseNeedsCustomer):
        request_accept_phase(request_id=request.pk, staff=staff, now=now)
    assert not request_can_cancel(closing)

    done = request_phase_advance(request_id=request.pk, now=now)  # the system's act ends it
    assert done.status == ServiceRequest.Status.ACCEPTEE and done.processed_at == now
    assert CALLS[-1] == ("accepted", ServiceRequest.Status.EN_COURS)  # before the request is closed


def test_reject_and_cancel_call_the_type(request_type, customer, owner, now):
    staff = StaffFactory()
    first = request_file(request_type=request_type, customer=customer, data={"reason": "x"}, attachments=[], now=now)
    request_reject(request_id=first.pk, staff=staff, reason="Dossier inconnu", now=now)
    assert CALLS[-1] == ("rejected", "Dossier inconnu", ServiceRequest.Status.REJETEE)

    second = request_file(request_type=request_type, customer=customer, data={"reason": "y"}, attachments=[], now=now)
    request_accept_phase(request_id=second.pk, staff=staff, now=now)
    cancelled = request_cancel(request_id=second.pk, user=owner[1], now=now)
    assert cancelled.status == ServiceRequest.Status.ANNULEE
    assert CALLS[-1] == ("cancelled", ServiceRequest.Status.ANNULEE)
    assert cancelled.events.filter(kind=RequestEvent.Kind.CANCELLED).exists()
