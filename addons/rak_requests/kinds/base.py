"""What a request type (« kind ») is: one module per type owns its workflow.

The engine (``rak_requests.engine`` / ``services`` / ``filing``) knows nothing about any type: it asks
the type's module. A module subclasses ``RequestKind`` and registers an instance with
``kind_register`` (``rak_requests.kinds.__init__`` imports every module). Adding a type = one module +
its seed rows (RequestType, Phase, RequiredDocument: data, edited in the back office).

What a kind owns
- ``code``: the ``RequestType.code`` it serves; ``slug``: its portal URL part
  (``/espace/services/<slug>/`` for the generic flow).
- ``phases``: ``{Phase.Code: PhaseRule}`` — the action expected from the customer when the phase
  starts, whether the phase ends by the customer's/system's act (never by « accepter la phase »), and
  whether it is decided by the technical service (permission ``act_technical_phase``) or the front
  desk (``act_administrative_phase``). Names, order and SLA stay data (``Phase`` rows).
- ``data_class``: its typed data (a frozen dataclass subclassing ``RequestData``): validated on the
  way in (``from_form`` / ``validate``), stored as JSON in ``ServiceRequest.data`` through
  ``to_json``, read back with ``from_json``. Nobody writes ``request.data`` by hand.
- ``customer_form(...)``: the portal form of the generic flow (None: the type has its own pages).
- ``filing_check(...)``: refusals before anything is filed (unpaid bills, nothing to terminate...),
  raised as ``RequestError`` subclasses carrying the French message.
- ``on_filed`` / ``phase_accept`` / ``on_accepted`` / ``on_rejected`` / ``on_cancelled``: the effects of
  each decision, called by the engine inside the request's transaction, through the owning addon's
  services (``rak_customer.api``, ``rak_billing.api``) — never by writing their tables.
- ``staff_actions(request)``: the back-office buttons a phase offers beyond accept / complement /
  reject / note (record a final reading, record a payout...), each one form + one service call.
- ``summary(data)``: the (label, value) rows shown on the receipt, the tracking page and in the back
  office.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from rak_requests.models import ServiceRequest

Action = ServiceRequest.Action


@dataclass(frozen=True)
class PhaseRule:
    """How the code treats one phase of a type (its name, order and SLA are data)."""

    #: the action expected from the customer when the phase starts (the seed's « état de votre demande »)
    entry_action: str = Action.NONE
    #: True: the phase ends by the customer's act (signature, payment) or by the system (an order
    #: done), never by a staff member's « accepter la phase »
    customer_driven: bool = False
    #: True: decided by the technical service (``act_technical_phase``), else the front desk
    technical: bool = False


@dataclass(frozen=True)
class RequestData:
    """Typed data of a request. Subclasses are frozen dataclasses of JSON-able fields (str, int,
    bool, lists of them; Decimal and dates as ISO strings) with a French ``LABELS`` map used by
    ``summary``. ``validate`` raises ``RequestError`` (French message) when the data cannot be filed."""

    LABELS: ClassVar[dict[str, Any]] = {}

    def validate(self) -> None:  # pragma: no cover - overridden where a rule exists
        return None

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, raw: dict | None):
        raw = raw or {}
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in raw.items() if key in names})

    def summary(self) -> list[tuple[str, str]]:
        rows = []
        for item in dataclasses.fields(self):
            label = self.LABELS.get(item.name)
            value = getattr(self, item.name)
            if label is None or value in (None, "", [], ()):
                continue
            rows.append((str(label), self.display(item.name, value)))
        return rows

    def display(self, name: str, value) -> str:
        """A value in words (override for choices). Lists joined with commas, booleans Oui/Non."""
        if isinstance(value, bool):
            return str(_("Oui") if value else _("Non"))
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        return str(value)


@dataclass(frozen=True)
class EmptyData(RequestData):
    pass


@dataclass(frozen=True)
class StaffAction:
    """A back-office button of a type, beyond the generic ones. ``run(request_id=, staff=, now=,
    data=<form.cleaned_data>)`` makes one service call and returns the success message. ``phases``:
    the phase codes where it shows (empty: every open phase); ``permission``: the Django permission
    the agent needs (default: the phase's decide permission)."""

    name: str
    label: Any
    run: Callable[..., str]
    form_class: type[forms.Form] | None = None
    phases: tuple[str, ...] = ()
    permission: str | None = None
    open_only: bool = True


class RequestKind:
    code: ClassVar[str]
    slug: ClassVar[str] = ""
    #: the seed's title of the service (portal heading, back-office label)
    title: ClassVar[Any] = ""
    phases: ClassVar[dict[str, PhaseRule]] = {}
    data_class: ClassVar[type[RequestData]] = EmptyData
    #: the generic portal flow asks an OTP by SMS before filing (résiliation)
    requires_otp: ClassVar[bool] = False
    #: the generic portal flow asks the phone and e-mail first when the profile lacks them
    requires_contact: ClassVar[bool] = True
    #: template included above the generic form (the seed's explanation, templates to download...)
    intro_template: ClassVar[str] = ""
    #: the generic form's button when the seed names it (« envoyer »); default « Valider » / « Envoyer »
    submit_label: ClassVar[Any] = ""
    #: the portal page of the type, when it has its own (attestations, remboursements)
    portal_url_name: ClassVar[str] = ""
    #: heading of the customer's requests of the type below the generic form (« Toutes vos demandes de
    #: résiliation »); default « Toutes vos demandes « <title> » »
    list_title: ClassVar[Any] = ""
    #: filing renders the « reçu » and sends the « accusé de réception » (SMS, e-mail); False for a
    #: type answered at once by its own document (attestation: the document is the answer)
    acknowledges_filing: ClassVar[bool] = True

    # --- phases ---------------------------------------------------------------------------------

    def phase_rule(self, phase_code: str | None) -> PhaseRule:
        return self.phases.get(phase_code or "", PhaseRule())

    # --- customer side --------------------------------------------------------------------------

    def customer_form(self, *, customer, data=None, files=None) -> forms.Form | None:
        """The form of the generic portal flow (bound when ``data`` is given), or None."""
        return None

    def data_from_form(self, *, customer, cleaned: dict) -> RequestData:
        """Typed data from the form's cleaned data (default: the fields the dataclass has)."""
        return self.data_class.from_json(cleaned)

    def dossiers_from_data(self, *, customer, data: RequestData) -> Iterable:
        """The dossiers the request is about (set on ``ServiceRequest.dossiers`` at filing)."""
        return ()

    def premises_from_data(self, *, customer, data: RequestData):
        return None

    def filing_check(self, *, customer, data: RequestData, now: datetime) -> None:
        """Refuse (raise a ``RequestError``) what cannot be filed; called under the customer lock."""
        data.validate()

    def summary(self, raw: dict) -> list[tuple[str, str]]:
        return self.data_class.from_json(raw).summary()

    # --- decisions (called by the engine inside the request's transaction) ----------------------

    def on_filed(self, *, request: ServiceRequest, now: datetime) -> None:
        return None

    def phase_accept(self, *, request: ServiceRequest, staff, now: datetime, message: str) -> ServiceRequest | None:
        """« Accepter la phase » when the phase needs more than moving on (checks, orders...).
        Return the request when done here; None lets the engine move to the next phase."""
        return None

    def on_accepted(self, *, request: ServiceRequest, actor, now: datetime) -> None:
        """The request's last phase was accepted (before it is closed ACCEPTEE)."""
        return None

    def on_rejected(self, *, request: ServiceRequest, staff, reason: str, now: datetime) -> None:
        return None

    def on_cancelled(self, *, request: ServiceRequest, now: datetime) -> None:
        return None

    def can_cancel(self, request: ServiceRequest) -> bool | None:
        """None: the engine's rule (open and still in its first phase)."""
        return None

    # --- back office ----------------------------------------------------------------------------

    def staff_actions(self, request: ServiceRequest) -> list[StaffAction]:
        return []


_REGISTRY: dict[str, RequestKind] = {}
_BY_SLUG: dict[str, RequestKind] = {}


def kind_register(kind: RequestKind) -> RequestKind:
    if kind.code in _REGISTRY:
        raise ValueError(f"request kind {kind.code} registered twice")
    _REGISTRY[kind.code] = kind
    if kind.slug:
        _BY_SLUG[kind.slug] = kind
    return kind


def kind_unregister(code: str) -> None:
    """Forget a kind (tests that register a kind of their own)."""
    kind = _REGISTRY.pop(code, None)
    if kind is not None and kind.slug:
        _BY_SLUG.pop(kind.slug, None)


def kind_for(code: str) -> RequestKind:
    """The module of a request type; an unknown code gets the plain engine behaviour."""
    return _REGISTRY.get(code) or _DEFAULT


def kind_by_slug(slug: str) -> RequestKind | None:
    return _BY_SLUG.get(slug)


def kinds_all() -> list[RequestKind]:
    return list(_REGISTRY.values())


class _DefaultKind(RequestKind):
    code = ""


_DEFAULT = _DefaultKind()
