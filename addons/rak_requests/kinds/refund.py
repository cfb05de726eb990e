"""« Demande de remboursement » (seed 000): « Les remboursements des clients suite à une opération de
résiliation, avance devis ou de double paiement sont disponibles dans ce menu ».

The customer sees what the RAK owes them (``rak_billing.api.refundable_items``: each remainder of
credit with its origin), clicks « demander le remboursement » on one of them, confirms with
« valider »: a REFUND request is filed (``refund_request_file``) and its status is « Demande en
attente ». Refused at once, nothing filed (``RefundRequestRefused`` subclasses, French messages):

- unpaid bills: the seed's « Si vous avez des impayés votre demande de remboursement sera
  rejetée… » with the amount owed;
- no phone on the profile: « Une erreur s'est produite » and the seed's hint (the advisor calls);
- nothing owed, or that credit already paid out: a clear message;
- a request already open for the same credit: its number.

Phases (names and SLA are data, rows adjusted by migration 0008_refund):

- TRAITEMENT, « Demande en attente »: the front desk calls the customer (seed: « un conseiller client
  prend contact avec vous pour confirmer votre demande et vous expliquer les démarches ») and
  accepts the phase (generic « Accepter la phase »), or rejects it with a reason;
- VERSEMENT, « Versement du remboursement »: ends only by the staff action « Enregistrer le
  remboursement » (payout method — virement to a validated RIB, chèque, espèces en agence —,
  amount defaulting to the credit, reference) -> ``rak_billing.api.refund_record`` (idempotent on
  ``REQ:<n° de demande>``: two clicks never pay twice), then the request is closed ACCEPTEE. The
  refund's receipt and SMS/e-mail/bell come from rak_billing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import cast

from django import forms
from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from rak_base.money import money_format
from rak_base.rib import InvalidRib, rib_validate
from rak_billing.api import (
    Refund,
    customer_unpaid_amount,
    refund_credit_available,
    refund_for_external_id,
    refund_record,
    refundable_items,
)
from rak_customer.models import Customer
from rak_customer.selectors import customer_sms_phone
from rak_requests.engine import OPEN_STATUSES, RequestError, request_lock, request_transition, stale_state
from rak_requests.kinds.base import PhaseRule, RequestData, RequestKind, StaffAction, kind_register
from rak_requests.models import Phase, RequestEvent, RequestType, ServiceRequest

Code = Phase.Code

# --- refusals -------------------------------------------------------------------------------------


class RefundRequestRefused(RequestError):
    default_message = _("Votre demande de remboursement n'a pas pu être enregistrée.")


class RefundServiceUnavailable(RefundRequestRefused):
    default_message = _("Le service des remboursements en ligne est momentanément indisponible.")


class UnpaidBills(RefundRequestRefused):
    pass


class NoPhoneOnProfile(RefundRequestRefused):
    default_message = _(
        "Une erreur s'est produite : vérifiez sur votre profil que votre numéro de téléphone est bien présent."
    )


class NothingOwed(RefundRequestRefused):
    default_message = _("Aucun remboursement ne vous est dû : votre compte n'est pas créditeur auprès de la RAK.")


class CreditNoLongerOwed(RefundRequestRefused):
    default_message = _(
        "Ce montant ne figure plus parmi vos remboursements (il a déjà été remboursé ou réglé une facture). "
        "Rechargez la page."
    )


class AlreadyRequested(RefundRequestRefused):
    pass


class PayoutNotRecorded(RefundRequestRefused):
    default_message = _("Enregistrez le remboursement (« Enregistrer le remboursement ») pour clôturer la demande.")


# --- typed data -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefundData(RequestData):
    #: the refundable item asked for (``P<payment id>`` / ``C<credit note id>``, rak_billing)
    item: str = ""
    #: what it was worth when asked (Decimal as text)
    amount: str = ""
    origin: str = ""
    reference: str = ""

    LABELS = {
        "origin": _("Origine"),
        "reference": _("Référence"),
        "amount": _("Montant demandé"),
    }

    def validate(self) -> None:
        if not self.item:
            raise CreditNoLongerOwed()

    def display(self, name: str, value) -> str:
        if name == "amount" and value:
            return money_format(Decimal(value))
        return super().display(name, value)


# --- rules ----------------------------------------------------------------------------------------


def refund_open_request(*, customer_id: int, item: str) -> ServiceRequest | None:
    """The customer's open refund request for ``item``, if any."""
    return (
        ServiceRequest.objects.filter(
            customer_id=customer_id,
            request_type__code=RequestType.Code.REFUND,
            status__in=OPEN_STATUSES,
            data__item=item,
        )
        .order_by("filed_at", "id")
        .first()
    )


def refund_request_check(*, customer: Customer, item: str) -> RefundData:
    """« demander le remboursement »: refuse at once what cannot be filed (raises a
    ``RefundRequestRefused`` with its French message); returns the data that would be filed."""
    unpaid = customer_unpaid_amount(customer)
    if unpaid > 0:
        raise UnpaidBills(
            gettext(
                "Votre demande de remboursement est rejetée : vous avez des impayés (%(amount)s). Si vous avez des "
                "impayés votre demande de remboursement sera rejetée, donc avant de procéder à la demande de "
                "remboursement merci de vérifier votre solde des impayés sur le « tableau de bord »."
            )
            % {"amount": money_format(unpaid)}
        )
    items = {i.key: i for i in refundable_items(customer)}
    if not items:
        raise NothingOwed()
    chosen = items.get(item or "")
    if chosen is None:
        raise CreditNoLongerOwed()
    pending = refund_open_request(customer_id=customer.pk, item=chosen.key)
    if pending is not None:
        raise AlreadyRequested(
            gettext(
                "Une demande de remboursement est déjà en attente pour ce montant (demande n° %(number)s) : un "
                "conseiller client prend contact avec vous."
            )
            % {"number": pending.number}
        )
    if not customer_sms_phone(customer):
        raise NoPhoneOnProfile()
    return RefundData(
        item=chosen.key, amount=str(chosen.amount), origin=chosen.origin_label, reference=chosen.reference
    )


# --- the counter's form ---------------------------------------------------------------------------


class RefundItemForm(forms.Form):
    """The form of the counter's filing (« Déposer une demande »): which of the amounts owed."""

    item = forms.ChoiceField(
        label=_("Montant à rembourser"),
        error_messages={"required": _("Choisissez le montant à rembourser.")},
    )

    def __init__(self, *args, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        item_field = cast(forms.ChoiceField, self.fields["item"])
        item_field.choices = [
            (item.key, f"{item.origin_label} — {item.reference} — {money_format(item.amount)}")
            for item in refundable_items(customer)
        ]
        if not item_field.choices:
            self.fields["item"].help_text = NothingOwed.default_message


# --- the back office's payout ---------------------------------------------------------------------


class RefundPayoutForm(forms.Form):
    """« Enregistrer le remboursement »: how and how much (default: the customer's credit)."""

    credit: Decimal | None = None  # set per request by ``RefundKind.staff_actions``

    method = forms.ChoiceField(label=_("Mode de versement"), choices=Refund.Method.choices)
    amount = forms.DecimalField(
        label=_("Montant (DH)"),
        required=False,
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
        help_text=_("Vide : tout le crédit du client."),
    )
    rib = forms.CharField(
        label=_("RIB du client (virement)"),
        required=False,
        max_length=40,
        help_text=_("24 chiffres, obligatoire pour un virement ; la clé et la banque sont vérifiées."),
        widget=forms.TextInput(attrs={"dir": "ltr"}),
    )
    reference = forms.CharField(
        label=_("Référence"),
        required=False,
        max_length=64,
        help_text=_("N° de l'ordre de virement, du chèque ou du bon de caisse."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.credit is not None:
            self.fields["amount"].initial = self.credit
            self.fields["amount"].help_text = gettext("Crédit du client : %(credit)s. Vide : tout le crédit.") % {
                "credit": money_format(self.credit)
            }

    def clean(self):
        data = super().clean()
        if data is None:  # a clean() may return None: the form's cleaned_data stands (Django's rule)
            data = self.cleaned_data
        if data.get("method") == Refund.Method.VIREMENT:
            try:
                data["rib"] = rib_validate(data.get("rib") or "").number
            except InvalidRib as exc:
                self.add_error("rib", str(exc.message))
        return data


@transaction.atomic
def refund_payout_record(*, request_id: int, staff, now: datetime, data: dict) -> str:
    """The staff action « Enregistrer le remboursement »: the payout through rak_billing (once per
    request), then the request closed ACCEPTEE. Returns the success message."""
    request = request_lock(request_id=request_id)
    if request.status not in OPEN_STATUSES or request.phase is None or request.phase.code != Code.VERSEMENT:
        raise stale_state(request)
    item = RefundData.from_json(request.data).item
    refund = refund_record(
        customer=request.customer,
        method=data.get("method") or "",
        amount=data.get("amount") or None,
        rib=data.get("rib") or "",
        reference=data.get("reference") or "",
        paid_at=now,
        now=now,
        recorded_by=staff,
        external_id=f"REQ:{request.number}",
        request_ref=request.number,
        sources=(item,) if item else (),
    )
    message = gettext("Remboursement de %(amount)s enregistré (%(method)s%(reference)s).") % {
        "amount": money_format(refund.amount, plain_space=True),
        "method": refund.get_method_display(),
        "reference": f", {refund.reference}" if refund.reference else "",
    }
    request_transition(
        request_id=request.pk,
        now=now,
        event_kind=RequestEvent.Kind.ACCEPTED,
        actor=staff,
        actor_kind=RequestEvent.Actor.STAFF,
        expect_phase=Code.VERSEMENT,
        expect_status=(ServiceRequest.Status.EN_COURS,),
        status=ServiceRequest.Status.ACCEPTEE,
        action=ServiceRequest.Action.NONE,
        message=message,
        close=True,
        notice=None,  # the refund itself tells the customer (SMS, e-mail, bell with the receipt)
    )
    return gettext("%(message)s La demande %(number)s est clôturée.") % {"message": message, "number": request.number}


# --- the kind -------------------------------------------------------------------------------------


class RefundKind(RequestKind):
    code = RequestType.Code.REFUND
    title = _("Demande de remboursement")
    phases = {
        Code.TRAITEMENT: PhaseRule(),  # the front desk calls the customer, then accepts the phase
        Code.VERSEMENT: PhaseRule(customer_driven=True),  # ends by « Enregistrer le remboursement »
    }
    data_class = RefundData
    requires_contact = False  # its own page: the missing phone is the seed's « une erreur s'est produite »
    slug = "remboursement"  # the counter's filing (the portal has its own page)
    portal_url_name = "portal:refund_request"

    def customer_form(self, *, customer, data=None, files=None) -> forms.Form:
        return RefundItemForm(data=data, customer=customer)

    def data_from_form(self, *, customer, cleaned: dict) -> RefundData:
        chosen = {i.key: i for i in refundable_items(customer)}.get(cleaned.get("item") or "")
        if chosen is None:
            return RefundData(item=cleaned.get("item") or "")  # refused by filing_check
        return RefundData(
            item=chosen.key, amount=str(chosen.amount), origin=chosen.origin_label, reference=chosen.reference
        )

    def filing_check(self, *, customer, data: RefundData, now: datetime) -> None:  # type: ignore[override]  # each kind reads its own RequestData subclass
        data.validate()
        refund_request_check(customer=customer, item=data.item)

    def phase_accept(self, *, request: ServiceRequest, staff, now: datetime, message: str) -> ServiceRequest | None:
        if request.phase is not None and request.phase.code == Code.VERSEMENT:
            raise PayoutNotRecorded()
        return None

    def staff_actions(self, request: ServiceRequest) -> list[StaffAction]:
        credit = refund_credit_available(request.customer_id) if request.status in OPEN_STATUSES else None
        form_class = type("RefundPayoutForm", (RefundPayoutForm,), {"credit": credit})
        return [
            StaffAction(
                name="refund_payout",
                label=_("Enregistrer le remboursement"),
                run=refund_payout_record,
                form_class=form_class,
                phases=(Code.VERSEMENT,),
                permission="rak_billing.add_refund",
            )
        ]


KIND = kind_register(RefundKind())


# --- the customer's service -----------------------------------------------------------------------


@transaction.atomic
def refund_request_file(
    *,
    customer: Customer,
    item: str,
    now: datetime,
    actor=None,
    channel: str = ServiceRequest.Channel.WEB,
) -> ServiceRequest:
    """« valider »: under the customer's row lock (two tabs never file the same credit twice),
    check again and file the REFUND request through the engine. Raises a ``RefundRequestRefused``."""
    from rak_requests.filing import request_file  # filing imports the kinds' registry

    request_type = RequestType.objects.filter(code=RequestType.Code.REFUND, is_active=True).first()
    if request_type is None:
        raise RefundServiceUnavailable()
    list(Customer.objects.select_for_update().filter(pk=customer.pk).values_list("pk"))
    data = refund_request_check(customer=customer, item=item)
    return request_file(
        request_type=request_type,
        customer=customer,
        data=data.to_json(),
        attachments=[],
        now=now,
        actor=actor,
        channel=channel,
    )


# --- reads for the portal -------------------------------------------------------------------------


def refund_request_status(request: ServiceRequest) -> str:
    """The state a customer reads: « Demande en attente » (seed), then the payout, then closed."""
    if request.status == ServiceRequest.Status.ACCEPTEE:
        return gettext("Remboursé")
    if request.status == ServiceRequest.Status.REJETEE:
        return gettext("Rejetée")
    if request.status == ServiceRequest.Status.ANNULEE:
        return gettext("Annulée")
    if request.phase is not None and request.phase.code == Code.VERSEMENT:
        return gettext("Remboursement en cours de versement")
    return gettext("Demande en attente")


def customer_refund_requests(customer_id: int, *, limit: int = 100) -> list[ServiceRequest]:
    """The customer's refund requests, newest first (one query)."""
    return list(
        ServiceRequest.objects.filter(customer_id=customer_id, request_type__code=RequestType.Code.REFUND)
        .select_related("phase")
        .order_by("-filed_at", "-id")[:limit]
    )


def request_refund(request: ServiceRequest):
    """The refund recorded for a request, if any."""
    return refund_for_external_id(f"REQ:{request.number}")
