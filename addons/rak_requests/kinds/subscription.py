"""« Demande d'abonnement »: the public 4-step wizard (``rak_portal.views.subscription``) files it;
its phases after the administrative admissibility are the lifecycle (``rak_requests.lifecycle``):
the call and identity check, the contract signature, the fees, the meter installation.

- « Recevabilité technique »: the customer is expected to call (« Appeler »); decided by the technical
  service; accepting it generates the contracts (``lifecycle.technical_accept``).
- « Signature du contrat », « Paiement des frais », « Pose du compteur »: end by the customer's act
  (signature, payment) or by recording the installed meter, never by « Accepter la phase ». The
  fees invoice settled through any channel (``rak_requests.settlement``, handler registered below)
  moves the request from « Paiement des frais » to « Pose du compteur » (``lifecycle.fees_paid_check``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import ClassVar

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from rak_requests.engine import RequestError
from rak_requests.kinds.base import PhaseRule, RequestData, RequestKind, kind_register
from rak_requests.lifecycle import fees_paid_check, technical_accept
from rak_requests.models import Phase, RequestType, ServiceRequest
from rak_requests.settlement import settled_bill_handler_register

Code = Phase.Code
Action = ServiceRequest.Action

SERVICES = ("EAU", "ELECTRICITE")


class InvalidRequestData(RequestError):
    default_message = _("Les informations de la demande sont invalides.")


def _coerce(instance: RequestData) -> None:
    """JSON read back (or a form's cleaned data) into the declared types: « 4 » -> 4 for an int
    field, 6 -> « 6 » for a text field, a single value -> a one-item list."""
    for item in dataclasses.fields(instance):
        value = getattr(instance, item.name)
        kind = str(item.type)
        if kind.startswith("list"):
            if value in (None, ""):
                value = []
            elif isinstance(value, str | int):
                value = [str(value)]
            else:
                value = [str(v) for v in value]
        elif kind.startswith("int"):
            if value in (None, ""):
                value = None
            else:
                try:
                    value = int(value)
                except (TypeError, ValueError) as exc:
                    raise InvalidRequestData() from exc
        elif kind == "str":
            value = "" if value is None else str(value)
        object.__setattr__(instance, item.name, value)


@dataclass(frozen=True)
class PremisesData(RequestData):
    """What the public forms store for the premises and the services (keys of ``to_data`` of
    ``rak_portal.request_forms``: each chosen option's label beside its value)."""

    LABELS: ClassVar[dict] = {
        "services": _("Service(s) demandé(s)"),
        "address": _("Adresse du local"),
        "district": _("Quartier"),
        "city": _("Ville"),
        "postal_code": _("Code postal"),
        "usage": _("Usage"),
        "tariff_category": _("Catégorie tarifaire"),
        "tariff_category_eau": _("Catégorie tarifaire (eau)"),
        "tariff_category_electricite": _("Catégorie tarifaire (électricité)"),
        "building_type": _("Type de construction"),
        "units": _("Nombre de logements / locaux"),
        "power_kva": _("Puissance demandée (kVA)"),
        "caliber_mm": _("Calibre demandé (mm)"),
        "works_description": _("Description des travaux"),
        "service": _("Service demandé"),
        "premises_address": _("Adresse du local"),
    }

    services: list[str] = field(default_factory=list)
    services_labels: list[str] = field(default_factory=list)
    address: str = ""
    district: str = ""
    city: str = ""
    postal_code: str = ""
    power_kva: str = ""
    caliber_mm: str = ""
    caliber_mm_label: str = ""
    #: the applicant's contact when filed (shown with the applicant, not in the summary)
    phone: str = ""
    email: str = ""
    #: older requests: one service (``EAU``, ``ELECTRICITE``, ``EAU_ELECTRICITE``) and a free address
    service: str = ""
    premises_address: str = ""

    def __post_init__(self) -> None:
        _coerce(self)

    def validate(self) -> None:
        if any(service not in SERVICES for service in self.services):
            raise InvalidRequestData(_("Choisissez l'eau, l'électricité ou les deux."))
        if self.power_kva:
            try:
                power = Decimal(self.power_kva.replace(",", "."))
            except InvalidOperation as exc:
                raise InvalidRequestData(_("Indiquez une puissance en kVA (ex. 6).")) from exc
            if not power.is_finite() or power <= 0:
                raise InvalidRequestData(_("Indiquez une puissance en kVA (ex. 6)."))

    def display(self, name: str, value) -> str:
        """A chosen option in words: its stored label (French, as the form offered it) in the reader's
        language — a label the catalogues do not know shows as stored."""
        if isinstance(value, list | tuple):
            labels = getattr(self, f"{name}_labels", None)
            return ", ".join(gettext(str(v)) for v in (labels or value))
        label = getattr(self, f"{name}_label", "")
        return str(gettext(label) if label else super().display(name, value))

    def summary(self) -> list[tuple[str, str]]:
        """The form's fields in the order of the receipt (``LABELS``), with their labels."""
        rows = []
        for name, label in self.LABELS.items():
            value = getattr(self, name, None)
            if value in (None, "", [], ()):
                continue
            rows.append((str(label), self.display(name, value)))
        return rows


@dataclass(frozen=True)
class SubscriptionData(PremisesData):
    usage: str = ""
    usage_label: str = ""
    tariff_category_eau: str = ""
    tariff_category_eau_label: str = ""
    tariff_category_electricite: str = ""
    tariff_category_electricite_label: str = ""
    #: older requests: one category list for both services
    tariff_category: str = ""
    tariff_category_label: str = ""


def summary_with_extra(data_class: type[PremisesData], raw: dict | None) -> list[tuple[str, str]]:
    """The typed rows, then any key the type does not declare (data written before the types were
    typed, demo rows) as entered — never a Python or JSON literal on a page."""
    raw = raw or {}
    rows = data_class.from_json(raw).summary()
    names = {item.name for item in dataclasses.fields(data_class)}
    for key, value in raw.items():
        if key in names or key.endswith(("_label", "_labels")) or value in (None, "", [], {}):
            continue
        label = str(key).replace("_", " ").capitalize()
        rows.append((gettext(label), _words(value)))  # a label the catalogues know shows translated
    return rows


def _words(value) -> str:
    if isinstance(value, bool):
        return str(_("Oui") if value else _("Non"))
    if isinstance(value, dict):
        return ", ".join(f"{str(k).replace('_', ' ')} : {_words(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_words(v) for v in value)
    return str(value)


class SubscriptionKind(RequestKind):
    code = RequestType.Code.SUBSCRIPTION
    title = _("Demande d'abonnement")
    data_class = SubscriptionData
    requires_otp = True
    portal_url_name = "portal:subscription"
    phases: ClassVar[dict[str, PhaseRule]] = {
        Code.RECEVABILITE_TECH: PhaseRule(entry_action=Action.CALL, technical=True),
        Code.SIGNATURE: PhaseRule(entry_action=Action.SIGN, customer_driven=True),
        Code.PAIEMENT: PhaseRule(entry_action=Action.PAY, customer_driven=True),
        # recording the installed meter(s) closes the request (lifecycle.installation_record)
        Code.POSE_COMPTEUR: PhaseRule(customer_driven=True, technical=True),
    }

    def summary(self, raw: dict) -> list[tuple[str, str]]:
        return summary_with_extra(self.data_class, raw)

    def phase_accept(self, *, request: ServiceRequest, staff, now: datetime, message: str) -> ServiceRequest | None:
        if request.phase is not None and request.phase.code == Code.RECEVABILITE_TECH:
            return technical_accept(request_id=request.pk, agent=staff, now=now, message=message)
        return None


kind_register(SubscriptionKind())
# « facture réglée » (any channel): the fees invoice paid moves the request to « Pose du compteur »
settled_bill_handler_register(Code.PAIEMENT, fees_paid_check)
