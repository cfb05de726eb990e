"""Reads that put the customer's requests beside what other addons keep:

- « Suivi des demandes »: the requests and, as rows of type « Relevé index » (seed 000: « Type de la
  demande : abonnement, branchement, relevé index, remboursement… »), the customer's own meter
  readings with the reading's status (« En attente de vérification », « Contesté par le client »,
  « Validé », « Rejeté »); the magnifier of such a row opens the reading in « Historique des
  relevés ». Two queries whatever the number of rows.
- « Mes abonnements »: under the magnifier of a dossier, the operations of its history
  (``rak_customer.dossier_history``) and the requests about it, newest first (four queries).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from rak_billing.api import customer_self_readings
from rak_billing.models import MeterReading
from rak_customer.api import DossierOperation, dossier_operations
from rak_customer.models import Dossier
from rak_requests.engine import OPEN_STATUSES
from rak_requests.models import Quote, RequestType, ServiceRequest
from rak_requests.selectors import customer_requests, request_action_expected, request_detail, request_status_label

READING_TYPE = _("Relevé index")


@dataclass(frozen=True)
class ReadingRow:
    """A self-reading as a row of « Suivi des demandes »."""

    reading: MeterReading

    @property
    def type_label(self) -> str:
        return str(READING_TYPE)

    @property
    def status_label(self) -> str:
        return self.reading.get_status_display()

    @property
    def filed_at(self) -> datetime:
        return self.reading.created_at

    @property
    def processed_at(self) -> datetime | None:
        """Decided by an agent (reviewed), or accepted at once when it was sent."""
        if self.reading.reviewed_at is not None:
            return self.reading.reviewed_at
        if self.reading.status == MeterReading.Status.ACCEPTED:
            return self.reading.created_at
        return None


def customer_tracking_rows(customer_id: int) -> list[dict]:
    """« Suivi des demandes »: the requests and the self-readings, newest first (two queries).
    Each row: ``request`` (a ServiceRequest, with ``status_label`` and ``action_expected``) or
    ``reading`` (a ReadingRow)."""
    rows: list[dict[str, Any]] = [
        {
            "request": r,
            "status_label": request_status_label(r),
            "action_expected": request_action_expected(r),
            "at": r.filed_at,
        }
        for r in customer_requests(customer_id)
    ]
    rows += [{"reading": ReadingRow(m), "at": m.created_at} for m in customer_self_readings(customer_id)]
    rows.sort(key=lambda row: row["at"], reverse=True)
    return rows


def dossier_timeline(dossier: Dossier) -> list[DossierOperation]:
    """What the RAK did on ``dossier`` (its history) and the requests about it, newest first."""
    operations = dossier_operations(dossier)
    requests = (
        ServiceRequest.objects.filter(customer_id=dossier.customer_id, dossiers=dossier)
        .select_related("request_type", "phase")
        .order_by("filed_at", "id")
    )
    for r in requests:
        operations.append(
            DossierOperation(
                day=timezone.localdate(r.filed_at),
                at=r.filed_at,
                label=gettext(r.request_type.name),  # a seeded name in the reader's language
                detail=gettext("Demande n° %(number)s") % {"number": r.number},
                status=request_status_label(r),
                request_number=r.number,
            )
        )
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return sorted(operations, key=lambda op: (op.day, op.at or epoch), reverse=True)


def request_tracking(request: ServiceRequest) -> dict:
    """Everything « Suivi des demandes » shows of one request, for the API and the portal alike:
    the phase bar, history, attachments, awaited complement, summary, what the customer may do now
    (answer, cancel, call, sign, pay the fees, accept the quote, pay the works, send the final
    index), the contracts and the fees or works invoice (a bounded number of queries)."""
    from rak_requests import lifecycle
    from rak_requests.filing import request_summary
    from rak_requests.quotes import works_bill_payable
    from rak_requests.services import request_can_cancel
    from rak_requests.termination import termination_pending_dossiers

    detail = request_detail(request)
    state = lifecycle.lifecycle_state(request)
    reading_final = (
        request.request_type.code == RequestType.Code.TERMINATION
        and request.status == ServiceRequest.Status.EN_COURS
        and request.expected_action == ServiceRequest.Action.READ_METER
    )
    complement = detail["complement"]
    accept_quote = (
        request.status in OPEN_STATUSES
        and request.expected_action == ServiceRequest.Action.ACCEPT_QUOTE
        and request.quotes.filter(status=Quote.Status.VALIDE).exists()
    )
    return {
        **detail,
        "complement": {
            "asked_at": complement.at,
            "message": complement.message,
            "documents": list((complement.data or {}).get("documents") or []),
        }
        if complement is not None
        else None,
        "summary": request_summary(request),
        "receipt_available": request.receipt_id is not None,
        "can_cancel": request_can_cancel(request),
        "lifecycle": state,
        "works_payable": works_bill_payable(request),
        "accept_quote": accept_quote,
        "final_index_dossiers": [d.number for d in termination_pending_dossiers(request)] if reading_final else [],
    }
