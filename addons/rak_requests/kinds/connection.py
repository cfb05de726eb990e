"""« Demande de branchement »: filed by the public 4-step wizard; « Étude technique », « Devis »,
« Travaux », all decided by the technical service. The quote loop lives in ``rak_requests.quotes``:
« Accepter la phase » in « Devis » is refused until the customer accepted a quote and paid the works
invoice, and then moves the request to « Travaux » (``works_paid_check``, also run by the ledger's
« facture réglée » hook)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from django.utils.translation import gettext_lazy as _

from rak_requests.engine import request_lock
from rak_requests.kinds.base import PhaseRule, RequestKind, kind_register
from rak_requests.kinds.subscription import InvalidRequestData, PremisesData, summary_with_extra
from rak_requests.models import Phase, RequestType, ServiceRequest
from rak_requests.quotes import devis_accept_check, works_paid_check
from rak_requests.settlement import settled_bill_handler_register

Code = Phase.Code


@dataclass(frozen=True)
class ConnectionData(PremisesData):
    building_type: str = ""
    building_type_label: str = ""
    units: int | None = None
    works_description: str = ""

    def validate(self) -> None:
        super().validate()
        if self.units is not None and not 1 <= self.units <= 999:
            raise InvalidRequestData(_("Au moins un logement ou local."))


class ConnectionKind(RequestKind):
    code = RequestType.Code.CONNECTION
    title = _("Demande de branchement")
    data_class = ConnectionData
    requires_otp = True
    portal_url_name = "portal:connection"
    phases: ClassVar[dict[str, PhaseRule]] = {
        Code.ETUDE: PhaseRule(technical=True),
        Code.DEVIS: PhaseRule(technical=True),
        Code.TRAVAUX: PhaseRule(technical=True),
    }

    def summary(self, raw: dict) -> list[tuple[str, str]]:
        return summary_with_extra(self.data_class, raw)

    def phase_accept(self, *, request: ServiceRequest, staff, now: datetime, message: str) -> ServiceRequest | None:
        if request.phase is not None and request.phase.code == Code.DEVIS:
            devis_accept_check(request=request)  # refused until a quote is accepted and its works paid
            works_paid_check(request_id=request.pk, now=now, actor=staff)
            return request_lock(request_id=request.pk)
        return None


kind_register(ConnectionKind())
# « facture réglée » (any channel): the works invoice paid moves the request to « Travaux »
settled_bill_handler_register(Code.DEVIS, works_paid_check)
