"""The lifecycle of a subscription request after its administrative admissibility, to an active
subscription (seed « Suivre ma demande d'abonnement », « Signature du contrat et appel vidéo »,
« Paiement des frais »). Every state change goes through ``engine.request_transition``.

1. Recevabilité technique. The customer presses « Appeler » (``call_request_create``): a call
   request the agents see in their queue; expected action CALL. The agent records the identity
   check (``identity_check_record``: date, agent, result). Staff accept the technical check
   (``technical_accept``): the request moves to « Signature du contrat » and its contracts are
   generated (one per service); the expected action is SIGN once the identity is confirmed, CALL
   until then (the seed: « l'appel devient obligatoire avant de pouvoir signer le contrat »).
   Another call can be asked only after a failed check.
2. Signature. ``contract_sign``: refused before the identity check; each contract is signed on
   the canvas (PNG checked, stored privately, signed PDF registered). When the last one is
   signed, the fees invoice (Bill kind SUBSCRIPTION, lines per service) is issued into
   ``request.fee_bill`` and the request moves to « Paiement des frais », action PAY.
3. Paiement. ``fees_pay_start`` creates the CMI order (purpose REQUEST_FEE). Whatever settles the
   invoice (card, agency counter, other networks, customer credit) moves the request on without
   a human: the ledger's « facture réglée » hook (``HOOK_BILLS_SETTLED``) reaches
   ``fees_paid_check`` through ``rak_requests.settlement`` (registered for the PAIEMENT phase in
   ``RakRequestsConfig.ready``); it also runs right after the invoice is issued (customer credit
   settling it at once). It moves the request to « Pose du compteur », creates the installation
   order(s) and e-mails the signed contract(s).
4. Pose. ``installation_record`` (meter number, caliber, brand, index): meter, dossier (ACTIVE,
   start date, deposit) at the request's premises (created from the request when missing), the
   initial index reading; when every order is done the customer becomes CLIENT and the request is
   closed ACCEPTEE, the activation e-mailed with the contract.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rak_base.money import money_format
from rak_base.outbox import message_queue_email
from rak_billing.api import bill_issue_other, reading_installation_record
from rak_billing.models import Bill
from rak_customer.api import (
    Customer,
    DossierError,
    Premises,
    customer_email,
    customer_promote_client,
    dossier_open,
    meter_register,
    premises_create,
)
from rak_customer.language import customer_language
from rak_customer.models import PortalAccount
from rak_payment_cmi.api import PaymentOrder, order_create_for_bills
from rak_requests import contracts as contract_docs
from rak_requests.engine import OPEN_STATUSES, Notice, RequestError, request_lock, request_transition
from rak_requests.models import CallRequest, Contract, InstallationOrder, Phase, RequestEvent, ServiceRequest

logger = logging.getLogger(__name__)
Code = Phase.Code
Action = ServiceRequest.Action
Kind = RequestEvent.Kind
Actor = RequestEvent.Actor


class RequestNotFound(RequestError):
    """The request (or its contract, call, order) does not exist or is not the caller's: a 404."""

    default_message = gettext_lazy("Demande introuvable.")


class CallRefused(RequestError):
    default_message = gettext_lazy("L'appel au service client n'est pas possible à cette étape de la demande.")


class IdentityCheckRefused(RequestError):
    default_message = gettext_lazy("Cette vérification d'identité a déjà été enregistrée.")


class TechnicalAcceptRefused(RequestError):
    default_message = gettext_lazy("La recevabilité technique ne peut pas être validée à cette étape.")


class SignatureRefused(RequestError):
    default_message = gettext_lazy("Le contrat ne peut être signé qu'à l'étape « Signature du contrat ».")


class IdentityNotChecked(SignatureRefused):
    default_message = gettext_lazy(
        "Appelez d'abord le service client : votre identité doit être vérifiée avant la signature du contrat."
    )


class PaymentRefused(RequestError):
    default_message = gettext_lazy("Les frais se paient après la signature du contrat.")


class InstallationRefused(RequestError):
    default_message = gettext_lazy("Le compteur ne peut être posé qu'après le paiement des frais d'abonnement.")


# --- reads ----------------------------------------------------------------------------------------------


def phase_of(request: ServiceRequest, code: str) -> Phase:
    phase = Phase.objects.filter(request_type_id=request.request_type_id, code=code).first()
    if phase is None:
        raise RequestError(
            _("La phase « %(phase)s » n'est pas définie pour ce type de demande.") % {"phase": Code(code).label}
        )
    return phase


def identity_confirmed(request: ServiceRequest) -> bool:
    return CallRequest.objects.filter(request=request, result=CallRequest.Result.CONFIRMED).exists()


def call_pending(request: ServiceRequest) -> CallRequest | None:
    return CallRequest.objects.filter(request=request, result=CallRequest.Result.PENDING).first()


def _phase_code(request: ServiceRequest) -> str | None:
    return request.phase.code if request.phase is not None else None


def can_call(request: ServiceRequest) -> bool:
    """« Appeler » is shown: technical or signature phase, no call pending, identity not yet confirmed."""
    return (
        request.status in OPEN_STATUSES
        and _phase_code(request) in (Code.RECEVABILITE_TECH, Code.SIGNATURE)
        and not call_pending(request)
        and not identity_confirmed(request)
    )


def can_sign(request: ServiceRequest) -> bool:
    return (
        request.status in OPEN_STATUSES
        and _phase_code(request) == Code.SIGNATURE
        and identity_confirmed(request)
        and request.contracts.filter(status=Contract.Status.DRAFT).exists()
    )


def can_pay(request: ServiceRequest) -> bool:
    return (
        request.status in OPEN_STATUSES
        and _phase_code(request) == Code.PAIEMENT
        and request.fee_bill is not None
        and request.fee_bill.settled_at is None
    )


def contracts_downloadable(request: ServiceRequest) -> bool:
    """The signed PDF is kept by the RAK until the fees are paid (seed), then downloadable."""
    return request.fee_bill is not None and request.fee_bill.settled_at is not None


LIFECYCLE_PHASES = (Code.RECEVABILITE_TECH, Code.SIGNATURE, Code.PAIEMENT, Code.POSE_COMPTEUR)


def lifecycle_state(request: ServiceRequest) -> dict:
    """What the request page shows for the lifecycle (buttons, contracts, invoice, orders): no
    query for a request outside the lifecycle, three at most otherwise."""
    state: dict[str, Any] = {
        "can_call": False,
        "call_pending": None,
        "identity_confirmed": False,
        "can_sign": False,
        "can_pay": False,
        "contracts": [],
        "contracts_downloadable": False,
        "fee_bill": None,
        "installations": [],
    }
    code = _phase_code(request)
    if code not in LIFECYCLE_PHASES:
        return state
    is_open = request.status in OPEN_STATUSES
    calls = list(request.calls.all())
    pending = next((c for c in calls if c.result == CallRequest.Result.PENDING), None)
    confirmed = any(c.result == CallRequest.Result.CONFIRMED for c in calls)
    contracts = list(request.contracts.select_related("document").order_by("service"))
    fee_bill = request.fee_bill if request.fee_bill_id else None
    paid = fee_bill is not None and fee_bill.settled_at is not None
    state.update(
        {
            "can_call": is_open and code in (Code.RECEVABILITE_TECH, Code.SIGNATURE) and not pending and not confirmed,
            "call_pending": pending if is_open else None,
            "identity_confirmed": confirmed,
            "can_sign": is_open
            and code == Code.SIGNATURE
            and confirmed
            and any(c.status == Contract.Status.DRAFT for c in contracts),
            "can_pay": is_open and code == Code.PAIEMENT and fee_bill is not None and not paid,
            "contracts": contracts,
            "contracts_downloadable": paid,
            "fee_bill": fee_bill,
            "installations": list(request.installations.select_related("meter", "dossier").order_by("service"))
            if code == Code.POSE_COMPTEUR
            else [],
        }
    )
    return state


def _owned(request_id: int, customer: Customer) -> ServiceRequest:
    request = request_lock(request_id=request_id)
    if request.customer_id != customer.pk:
        raise RequestNotFound()
    return request


# --- 1. recevabilité technique: the call and the identity check ----------------------------------------


@transaction.atomic
def call_request_create(*, request_id: int, customer: Customer, now: datetime) -> CallRequest:
    """« Appeler »: the customer asks to be called to verify their identity (once; again only
    after a failed check)."""
    request = _owned(request_id, customer)
    if request.status not in OPEN_STATUSES or _phase_code(request) not in (Code.RECEVABILITE_TECH, Code.SIGNATURE):
        raise CallRefused()
    if identity_confirmed(request):
        raise CallRefused(_("Votre identité est déjà vérifiée : aucun appel n'est nécessaire."))
    if call_pending(request):
        raise CallRefused(_("Votre demande d'appel est déjà enregistrée : un conseiller de la RAK va vous appeler."))
    call = CallRequest.objects.create(request=request, requested_at=now)
    request_transition(
        request_id=request.pk,
        now=now,
        event_kind=Kind.CALL_REQUESTED,
        actor_kind=Actor.CUSTOMER,
        expect_phase=_phase_code(request),
        action=Action.CALL,
        message=_("Le client demande à être appelé pour la vérification de son identité."),
        data={"call": call.pk},
        notice=Notice(
            subject=gettext_lazy("Demande d'appel enregistrée"),
            text=gettext_lazy(
                "Votre demande d'appel est enregistrée : un conseiller de la RAK va vous appeler pour vérifier "
                "votre identité."
            ),
            sms=False,
        ),
    )
    return call


@transaction.atomic
def identity_check_record(*, call_id: int, agent, result: str, notes: str = "", now: datetime) -> CallRequest:
    """The agent called back: record the identity check (date, agent, result)."""
    call = CallRequest.objects.select_for_update().filter(pk=call_id).first()
    if call is None:
        raise RequestNotFound()
    if call.result != CallRequest.Result.PENDING:
        raise IdentityCheckRefused()
    if result not in (CallRequest.Result.CONFIRMED, CallRequest.Result.FAILED):
        raise IdentityCheckRefused(_("Indiquez si l'identité est confirmée ou non."))
    request = request_lock(request_id=call.request_id)
    if request.status not in OPEN_STATUSES:
        raise IdentityCheckRefused(_("Cette demande est close."))
    call.result = result
    call.checked_at = now
    call.checked_by = agent
    call.notes = notes
    call.save(update_fields=["result", "checked_at", "checked_by", "notes"])
    confirmed = result == CallRequest.Result.CONFIRMED
    in_signature = _phase_code(request) == Code.SIGNATURE
    if confirmed:
        action = Action.SIGN if in_signature else Action.NONE
        text = (
            gettext_lazy(
                "Votre identité est vérifiée : vous pouvez signer votre contrat en ligne (bouton « Signer en ligne »)."
            )
            if in_signature
            else gettext_lazy("Votre identité est vérifiée. La vérification technique de votre local est en cours.")
        )
    else:
        action = Action.CALL
        text = gettext_lazy(
            "Votre identité n'a pas pu être vérifiée : appelez à nouveau le service client (bouton « Appeler »)."
        )
    request_transition(
        request_id=request.pk,
        now=now,
        event_kind=Kind.IDENTITY_CHECKED,
        actor=agent,
        expect_phase=request.phase.code if request.phase is not None else None,
        action=action,
        message=str(text),
        data={"call": call.pk, "result": result, "agent": getattr(agent, "username", "")},
        notice=Notice(subject=gettext_lazy("Vérification d'identité"), text=text),
    )
    return call


@transaction.atomic
def technical_accept(*, request_id: int, agent, now: datetime, message: str = "") -> ServiceRequest:
    """Staff accept the technical check: the request moves to « Signature du contrat » and its
    contracts are generated; the customer signs once the identity is confirmed."""
    request = request_lock(request_id=request_id)
    if request.status not in OPEN_STATUSES or _phase_code(request) != Code.RECEVABILITE_TECH:
        raise TechnicalAcceptRefused()
    contract_docs.contracts_generate(request=request, now=now)
    confirmed = identity_confirmed(request)
    text = (
        gettext_lazy("La recevabilité technique de votre demande est validée : signez votre contrat en ligne.")
        if confirmed
        else gettext_lazy(
            "La recevabilité technique de votre demande est validée. Appelez le service client (bouton "
            "« Appeler ») pour vérifier votre identité avant de signer votre contrat."
        )
    )
    request, _event = request_transition(
        request_id=request.pk,
        now=now,
        event_kind=Kind.PHASE,
        actor=agent,
        expect_phase=Code.RECEVABILITE_TECH,
        to_phase=phase_of(request, Code.SIGNATURE),
        status=ServiceRequest.Status.EN_COURS,
        action=Action.SIGN if confirmed else Action.CALL,
        message=message or str(text),
        data={"accepted_phase": Code.RECEVABILITE_TECH},
        notice=Notice(subject=gettext_lazy("Recevabilité technique validée"), text=text),
    )
    return request


def contracts_ensure(*, request: ServiceRequest, now: datetime) -> list[Contract]:
    """Contracts of a request in « Signature du contrat » (generated when another path moved it
    there)."""
    return contract_docs.contracts_generate(request=request, now=now)


# --- 2. signature -----------------------------------------------------------------------------------------


@transaction.atomic
def contract_sign(*, contract_id: int, customer: Customer, signature_data_url: str, ip: str, now: datetime) -> Contract:
    """Sign one contract with the drawn signature; the last signature issues the fees invoice
    and moves the request to « Paiement des frais »."""
    contract = Contract.objects.filter(pk=contract_id, request__customer=customer).only("request_id").first()
    if contract is None:
        raise RequestNotFound()
    request = request_lock(request_id=contract.request_id)
    if request.status not in OPEN_STATUSES or _phase_code(request) != Code.SIGNATURE:
        early = (Code.RECEVABILITE_ADMIN, Code.RECEVABILITE_TECH)
        if request.status in OPEN_STATUSES and _phase_code(request) in early:
            raise SignatureRefused(_("Le contrat se signe après la validation de la recevabilité technique."))
        raise SignatureRefused()
    if not identity_confirmed(request):
        raise IdentityNotChecked()
    contract = Contract.objects.select_for_update().select_related("request__customer").get(pk=contract_id)
    if contract.status == Contract.Status.SIGNED:
        raise SignatureRefused(_("Ce contrat est déjà signé."))
    png = contract_docs.signature_png_decode(signature_data_url)
    document = contract_docs.contract_sign_store(contract=contract, signature_png=png, ip=ip, now=now)
    remaining = request.contracts.filter(status=Contract.Status.DRAFT).exclude(pk=contract.pk).count()
    request_transition(
        request_id=request.pk,
        now=now,
        event_kind=Kind.CONTRACT_SIGNED,
        actor_kind=Actor.CUSTOMER,
        expect_phase=Code.SIGNATURE,
        message=_("Contrat %(service)s signé en ligne.") % {"service": contract.get_service_display().lower()},
        data={
            "contract": contract.pk,
            "service": contract.service,
            "text_sha256": contract_docs.contract_text_sha256(contract),
            "document": document.reference,
            "pdf_sha256": document.sha256,
            "ip": ip,
        },
    )
    if remaining == 0:
        _fees_invoice(request=request, now=now)
    contract.refresh_from_db()
    return contract


def _fees_invoice(*, request: ServiceRequest, now: datetime) -> Bill:
    lines = []
    for contract in request.contracts.order_by("service"):
        # The invoice's lines are stored in French whoever signs last (the customer's Arabic page
        # signed the last contract): the portal shows them in the reader's language
        # (rak_billing line_labels), the back office and the bill PDF read them in French.
        with translation.override(settings.LANGUAGE_CODE):
            lines += contract_docs.fee_lines(
                contract.service,
                contract_docs.request_caliber(request, contract.service),
                on_date=timezone.localdate(now),  # the VAT rate in force on the invoice's date
            )
    bill = bill_issue_other(
        kind=Bill.Kind.SUBSCRIPTION,
        customer=request.customer,
        lines=lines,
        issue_date=timezone.localdate(now),
        now=now,
    )
    ServiceRequest.objects.filter(pk=request.pk).update(fee_bill=bill)

    def text() -> str:  # composed in the customer's language by notify_customer
        return _(
            "Votre contrat est signé. Payez vos frais d'abonnement (%(amount)s, facture %(number)s) en "
            "ligne sur l'agence en ligne ou en agence : un ordre de pose de votre compteur sera alors généré."
        ) % {"amount": money_format(bill.total_ttc, plain_space=True), "number": bill.number}

    request_transition(
        request_id=request.pk,
        now=now,
        event_kind=Kind.FEES_INVOICED,
        actor_kind=Actor.SYSTEM,
        expect_phase=Code.SIGNATURE,
        to_phase=phase_of(request, Code.PAIEMENT),
        action=Action.PAY,
        message=_("Facture des frais d'abonnement %(number)s : %(amount)s TTC.")
        % {"number": bill.number, "amount": money_format(bill.total_ttc)},
        data={"bill": bill.number, "amount": str(bill.total_ttc)},
        notice=Notice(subject=gettext_lazy("Paiement des frais d'abonnement"), text=text),
    )
    if bill.settled_at is not None:  # the customer's credit paid it at once
        fees_paid_check(request_id=request.pk, now=now)
    return bill


# --- 3. paiement ------------------------------------------------------------------------------------------


def fees_pay_start(*, request_id: int, customer: Customer, email: str, now: datetime):
    """The CMI payment order for the request's fees invoice (then ``order_checkout_form``)."""
    with transaction.atomic():
        request = _owned(request_id, customer)
        if request.status not in OPEN_STATUSES or _phase_code(request) != Code.PAIEMENT or request.fee_bill_id is None:
            raise PaymentRefused()
        bill = Bill.objects.get(pk=request.fee_bill_id)
        if bill.settled_at is not None:
            raise PaymentRefused(_("Vos frais d'abonnement sont déjà payés."))
    return order_create_for_bills(
        customer=customer, bills=[bill], email=email, now=now, purpose=PaymentOrder.Purpose.REQUEST_FEE
    )


def _site_link(name: str, **kwargs) -> str:
    try:
        return settings.SITE_URL + reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return settings.SITE_URL + "/"


def _contracts_email(*, request: ServiceRequest, subject, intro) -> None:
    """E-mail the signed contract(s): their reference codes and the link to download them, in the
    customer's language (``subject`` / ``intro``: lazy strings or callables, composed in it)."""
    email = customer_email(request.customer)
    if not email:
        return
    with customer_language(request.customer):
        _contracts_email_queue(
            request=request,
            email=email,
            subject=str(subject() if callable(subject) else subject),
            intro=str(intro() if callable(intro) else intro),
        )


def _contracts_email_queue(*, request: ServiceRequest, email: str, subject: str, intro: str) -> None:
    account = PortalAccount.objects.select_related("user").filter(customer_id=request.customer_id).first()
    lines = []
    for contract in request.contracts.select_related("document").order_by("service"):
        if contract.document is not None:  # select_related: no query
            lines.append(
                _("- Contrat %(service)s : référence %(reference)s, %(link)s")
                % {
                    "service": contract_docs.SERVICE_WORDS[contract.service],
                    "reference": contract_docs.reference_display(contract.document.reference),
                    "link": _site_link("portal:lifecycle_contract_pdf", pk=contract.pk),
                }
            )
    message_queue_email(
        to=email,
        subject=_("%(subject)s — demande %(number)s") % {"subject": subject, "number": request.number},
        user=account.user if account else None,
        kind="request",
        body=(
            _("Bonjour,\n\n%(intro)s\n\nVotre contrat d'abonnement signé est disponible dans votre espace :\n")
            % {"intro": intro}
            + "\n".join(lines)
            + "\n\n"
            + _(
                "Chaque contrat porte un code de référence vérifiable sur l'agence en ligne de la RAK, rubrique "
                "« Vérifier des documents »."
            )
            + "\n"
        ),
    )


@transaction.atomic
def fees_paid_check(*, request_id: int, now: datetime, actor=None) -> bool:
    """If the request waits for its fees and the invoice is settled (card, agency counter, other
    network, credit), move it to « Pose du compteur »: installation orders, contract e-mailed.
    Returns whether it moved; safe to call any number of times."""
    request = request_lock(request_id=request_id)
    if request.status not in OPEN_STATUSES or _phase_code(request) != Code.PAIEMENT or request.fee_bill_id is None:
        return False
    bill = Bill.objects.only("settled_at", "number", "total_ttc").get(pk=request.fee_bill_id)
    if bill.settled_at is None:
        return False
    for contract in request.contracts.order_by("service"):
        InstallationOrder.objects.get_or_create(request=request, service=contract.service, defaults={"created_at": now})
    request_transition(
        request_id=request.pk,
        now=now,
        event_kind=Kind.FEES_PAID,
        actor=actor,
        actor_kind=Actor.SYSTEM if actor is None else Actor.STAFF,
        expect_phase=Code.PAIEMENT,
        to_phase=phase_of(request, Code.POSE_COMPTEUR),
        action=Action.NONE,
        message=_("Facture %(number)s payée : ordre de pose du compteur généré.") % {"number": bill.number},
        data={"bill": bill.number},
        notice=Notice(
            subject=gettext_lazy("Frais d'abonnement payés"),
            text=gettext_lazy(
                "Vos frais d'abonnement sont payés. Votre contrat signé vous est envoyé par e-mail et est "
                "disponible dans votre espace ; un ordre de pose de votre compteur est généré."
            ),
        ),
    )
    _contracts_email(
        request=request,
        subject=gettext_lazy("Votre contrat d'abonnement"),
        intro=gettext_lazy("Vos frais d'abonnement sont payés : un ordre de pose de votre compteur est généré."),
    )
    return True


# --- 4. pose du compteur ---------------------------------------------------------------------------------


def _premises_for(request: ServiceRequest) -> Premises:
    if request.premises is not None:  # no query when premises_id is None
        return request.premises
    address = contract_docs.request_address(request)
    premises = premises_create(
        address=address["address"],
        district=address["district"],
        city=address["city"],
        postal_code=address["postal_code"],
    )
    ServiceRequest.objects.filter(pk=request.pk).update(premises=premises)
    request.premises = premises
    return premises


@transaction.atomic
def installation_record(
    *,
    order_id: int,
    agent,
    meter_number: str,
    caliber: str,
    brand: str,
    index,
    now: datetime,
) -> InstallationOrder:
    """The technical team installed the meter: meter, dossier (ACTIVE) and its first index; when
    every order of the request is done the subscription is active and the request closed."""
    order = InstallationOrder.objects.select_for_update().filter(pk=order_id).first()
    if order is None:
        raise RequestNotFound()
    request = request_lock(request_id=order.request_id)
    if request.status not in OPEN_STATUSES or _phase_code(request) != Code.POSE_COMPTEUR:
        raise InstallationRefused()
    if (
        request.fee_bill_id is not None
        and not Bill.objects.filter(pk=request.fee_bill_id, settled_at__isnull=False).exists()
    ):
        # the payment of the fees was reversed after the request moved on (settlement.on_bills_reopened)
        raise InstallationRefused(
            _("Les frais de cette demande ne sont plus réglés (paiement annulé) : la pose attend leur paiement.")
        )
    if order.status != InstallationOrder.Status.PENDING:
        raise InstallationRefused(_("Ce compteur est déjà posé."))
    caliber = (caliber or "").strip() or contract_docs.request_caliber(request, order.service)
    today = timezone.localdate(now)
    try:  # rak_customer's services write the meter, premises and dossier; rak_billing the reading
        meter = meter_register(
            number=meter_number, service=order.service, caliber=caliber, brand=brand, installed_date=today
        )
        if index is None or index < 0:
            raise InstallationRefused(_("L'index de pose doit être positif ou nul."))
        dossier = dossier_open(
            customer=request.customer,
            service=order.service,
            premises=_premises_for(request),
            meter=meter,
            tariff_category=contract_docs.request_category(request),
            deposit_amount=contract_docs.deposit_for(
                order.service, contract_docs.request_caliber(request, order.service)
            ),
            start_date=today,
        )
    except DossierError as exc:
        raise InstallationRefused(exc.message) from exc
    reading_installation_record(
        dossier=dossier, meter=meter, reading_date=today, index=index, agent=agent, note=_("Index de pose du compteur")
    )
    order.meter = meter
    order.dossier = dossier
    order.installed_at = now
    order.technician = agent
    order.status = InstallationOrder.Status.DONE
    order.save(update_fields=["meter", "dossier", "installed_at", "technician", "status"])
    request.dossiers.add(dossier)
    request_transition(
        request_id=request.pk,
        now=now,
        event_kind=Kind.METER_INSTALLED,
        actor=agent,
        expect_phase=Code.POSE_COMPTEUR,
        message=_("Compteur %(service)s n° %(meter)s posé (index %(index)s) : dossier %(dossier)s.")
        % {
            "service": meter.get_service_display().lower(),
            "meter": meter.number,
            "index": index,
            "dossier": dossier.number,
        },
        data={"meter": meter.number, "dossier": dossier.number, "index": str(index)},
    )
    if not request.installations.filter(status=InstallationOrder.Status.PENDING).exists():
        _activate(request=request, agent=agent, now=now)
    return order


def _activate(*, request: ServiceRequest, agent, now: datetime) -> None:
    customer_promote_client(customer_id=request.customer_id)
    numbers = ", ".join(request.dossiers.order_by("number").values_list("number", flat=True))

    def text() -> str:  # composed in the customer's language by notify_customer
        return _("Votre compteur est posé : votre abonnement est actif (dossier %(numbers)s).") % {"numbers": numbers}

    request_transition(
        request_id=request.pk,
        now=now,
        event_kind=Kind.ACCEPTED,
        actor=agent,
        expect_phase=Code.POSE_COMPTEUR,
        status=ServiceRequest.Status.ACCEPTEE,
        action=Action.NONE,
        close=True,
        message=text(),
        notice=Notice(subject=gettext_lazy("Abonnement actif"), text=text),
    )
    _contracts_email(request=request, subject=gettext_lazy("Votre abonnement est actif"), intro=text)
