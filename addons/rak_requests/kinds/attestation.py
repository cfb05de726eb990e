"""« Demande d'attestations » (seed 000): the customer chooses the type of attestation and the
dossier, clicks « générer », and the attestation is produced at once — no staff step.

The three types: attestation d'abonnement, historique de consommation (relevés), attestation de
résiliation. Each is a real PDF (``rak_base.pdf.pdf_render``, the régie's header from
``rak_base.company``) carrying a reference code and its QR code, registered in the document
registry (kind ATTESTATION) so that « Vérifier des documents » proves it authentic.

Each generation is a request of type ATTESTATION (so it shows in « Suivi des demandes »): filed by
the engine (``rak_requests.filing.request_file``: number, FILED event; no « reçu » nor
acknowledgement, ``acknowledges_filing = False``), then ``on_filed`` renders and registers the PDF
and closes the request ACCEPTEE (a SYSTEM event naming the reference code).

Refusals (``AttestationRefused``, French message): no résiliation attestation for a dossier that is
not terminated; no attestation d'abonnement for a terminated dossier (the résiliation one is
suggested); no consumption history without an accepted reading; another customer's dossier is
« introuvable »; at most ``DAILY_LIMIT`` attestations per customer in 24 hours (``rak_base.throttle``)
so that the service cannot be used to fill the disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from django import forms
from django.db import models, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from rak_base.documents import (
    document_for_subject,
    document_reference_new,
    document_register,
    reference_display,
    verification_url,
)
from rak_base.models import Document
from rak_base.money import money_format
from rak_base.throttle import throttle_hit
from rak_billing.models import MeterReading
from rak_billing.pdf import qr_data_uri
from rak_billing.readings import reading_history
from rak_billing.readings.rules import fmt_quantity, unit
from rak_customer.language import customer_language
from rak_customer.models import Customer, Dossier, PortalAccount
from rak_requests.engine import RequestError, request_transition
from rak_requests.kinds.base import PhaseRule, RequestData, RequestKind, kind_register
from rak_requests.models import Phase, RequestEvent, RequestType, ServiceRequest

DAILY_LIMIT = 20  # attestations per customer in 24 hours
DAILY_WINDOW = timedelta(hours=24)
#: the same attestation asked again within this delay (a double click, a form posted twice) is the one
#: already generated, not a second request
RESUBMIT_WINDOW = timedelta(seconds=30)
HISTORY_READINGS = 24  # readings on the « historique de consommation » (two years of monthly readings)


class AttestationType(models.TextChoices):
    SUBSCRIPTION = "ABONNEMENT", _("Attestation d'abonnement")
    CONSUMPTION = "CONSOMMATION", _("Historique de consommation (relevés)")
    TERMINATION = "RESILIATION", _("Attestation de résiliation")


# --- refusals ---------------------------------------------------------------------------------------


class AttestationRefused(RequestError):
    default_message = _("L'attestation n'a pas pu être générée.")


class AttestationUnavailable(AttestationRefused):
    default_message = _("Le service des attestations en ligne est momentanément indisponible.")


class AttestationTypeUnknown(AttestationRefused):
    default_message = _("Choisissez le type d'attestation.")


class AttestationDossierNotFound(AttestationRefused):
    default_message = _("Dossier introuvable : choisissez l'un de vos dossiers d'abonnement.")


class DossierNotTerminated(AttestationRefused):
    pass


class DossierTerminated(AttestationRefused):
    pass


class NoReadings(AttestationRefused):
    pass


class TooManyAttestations(AttestationRefused):
    pass


class AttestationJustGenerated(AttestationRefused):
    """The same attestation asked again within ``RESUBMIT_WINDOW`` (a double click at the counter)."""


# --- typed data -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttestationData(RequestData):
    attestation_type: str = ""
    dossier_number: str = ""
    #: the registry's reference code, chosen before the PDF is rendered (it is printed on it)
    reference: str = ""

    LABELS = {
        "attestation_type": _("Type d'attestation"),
        "dossier_number": _("Dossier"),
        "reference": _("Code de référence"),
    }

    def validate(self) -> None:
        if self.attestation_type not in AttestationType.values:
            raise AttestationTypeUnknown()
        if not self.dossier_number:
            raise AttestationDossierNotFound()

    def display(self, name: str, value) -> str:
        if name == "attestation_type" and value in AttestationType.values:
            return str(AttestationType(value).label)
        if name == "reference":
            return reference_display(value)
        return super().display(name, value)

    @property
    def type_label(self) -> str:
        return str(AttestationType(self.attestation_type).label)


# --- rules ------------------------------------------------------------------------------------------


def _customer_dossier(*, customer_id: int, number: str) -> Dossier:
    dossier = (
        Dossier.objects.filter(customer_id=customer_id, number=(number or "").strip())
        .select_related("premises", "meter", "customer")
        .first()
    )
    if dossier is None:
        raise AttestationDossierNotFound()
    return dossier


def _accepted_readings(dossier: Dossier) -> list[MeterReading]:
    readings = reading_history(dossier.pk, limit=HISTORY_READINGS * 2)
    return [r for r in readings if r.status == MeterReading.Status.ACCEPTED][:HISTORY_READINGS]


def attestation_check(*, dossier: Dossier, attestation_type: str) -> list[MeterReading]:
    """Refuse what cannot be attested (raises an ``AttestationRefused``); returns the readings of a
    consumption history (empty for the other types)."""
    if attestation_type == AttestationType.TERMINATION and dossier.status != Dossier.Status.TERMINATED:
        raise DossierNotTerminated(
            gettext(
                "Le dossier %(number)s n'est pas résilié (statut : %(status)s) : l'attestation de résiliation "
                "n'est délivrée que pour un dossier résilié."
            )
            % {"number": dossier.number, "status": dossier.get_status_display().lower()}
        )
    if attestation_type == AttestationType.SUBSCRIPTION and dossier.status == Dossier.Status.TERMINATED:
        ended = gettext(" depuis le %(date)s") % {"date": f"{dossier.end_date:%d/%m/%Y}"} if dossier.end_date else ""
        raise DossierTerminated(
            gettext(
                "Le dossier %(number)s est résilié%(ended)s : il n'est plus possible d'obtenir une attestation "
                "d'abonnement. Choisissez « Attestation de résiliation »."
            )
            % {"number": dossier.number, "ended": ended}
        )
    if attestation_type == AttestationType.CONSUMPTION:
        readings = _accepted_readings(dossier)
        if not readings:
            raise NoReadings(
                gettext(
                    "Aucun relevé n'est enregistré pour le dossier %(number)s : l'historique de consommation "
                    "ne peut pas être généré."
                )
                % {"number": dossier.number}
            )
        return readings
    return []


# --- the document -----------------------------------------------------------------------------------


def attestation_pdf(*, request: ServiceRequest, data: AttestationData, dossier: Dossier, readings, now) -> bytes:
    """The attestation's PDF in the active language (the caller activates the customer's: dates,
    amounts, labels and the sentence of the attestation follow it)."""
    from rak_base.pdf import pdf_render  # heavy import: only where a PDF is made

    url = verification_url(data.reference)
    html = render_to_string(
        "rak_requests/pdf/attestation.html",
        {
            "request": request,
            "data": data,
            "type": data.attestation_type,
            "title": data.type_label,
            "customer": dossier.customer,
            "dossier": dossier,
            "readings": [
                {
                    "date": r.reading_date,
                    "index": fmt_quantity(r.index),
                    "consumption": fmt_quantity(r.consumption),
                    "source": r.get_source_display(),
                }
                for r in readings
            ],
            "unit": unit(dossier.service),
            "deposit": money_format(dossier.deposit_amount),
            "reference": reference_display(data.reference),
            "qr_uri": qr_data_uri(url),
            "verification_url": url,
            "issued_at": timezone.localtime(now),
        },
    )
    return pdf_render(html)


def attestation_document(request: ServiceRequest) -> Document | None:
    """The registered PDF of an attestation request (None before it is generated)."""
    return document_for_subject(kind=Document.Kind.ATTESTATION, subject=request)


def attestation_issue(*, request: ServiceRequest, now: datetime) -> Document:
    """Render and register the attestation of a filed request, then close it ACCEPTEE (a SYSTEM
    event; the customer sees it at once, so no SMS). Idempotent: a request that has its document
    returns it."""
    existing = attestation_document(request)
    if existing is not None:
        return existing
    data = AttestationData.from_json(request.data)
    data.validate()
    if not data.reference:  # filed by another path than « générer » (the counter): chosen now
        data = AttestationData(
            attestation_type=data.attestation_type,
            dossier_number=data.dossier_number,
            reference=document_reference_new(),
        )
        request.data = data.to_json()
        request.save(update_fields=["data"])
    dossier = _customer_dossier(customer_id=request.customer_id, number=data.dossier_number)
    readings = attestation_check(dossier=dossier, attestation_type=data.attestation_type)
    # in the customer's language, also when filed at the counter (the back office is French)
    with customer_language(dossier.customer):
        pdf = attestation_pdf(request=request, data=data, dossier=dossier, readings=readings, now=now)
        title = gettext("%(type)s — dossier %(number)s") % {"type": data.type_label, "number": dossier.number}
    account = PortalAccount.objects.filter(customer_id=request.customer_id).select_related("user").first()
    document = document_register(
        kind=Document.Kind.ATTESTATION,
        title=title,
        owner=account.user if account else None,
        owner_label=dossier.customer.display_name,
        subject=request,
        pdf_bytes=pdf,
        reference=data.reference,
    )
    request_transition(
        request_id=request.pk,
        now=now,
        event_kind=RequestEvent.Kind.ACCEPTED,
        actor_kind=RequestEvent.Actor.SYSTEM,
        status=ServiceRequest.Status.ACCEPTEE,
        action=ServiceRequest.Action.NONE,
        close=True,
        message=gettext("Attestation générée : code de référence %(reference)s.")
        % {"reference": reference_display(document.reference)},
    )
    return document


# --- the form (the portal page, the counter) -------------------------------------------------------


class AttestationForm(forms.Form):
    """« choisissez le type d'attestation, et le dossier d'abonnement »: the customer's dossiers only
    (another customer's number is « introuvable »)."""

    attestation_type = forms.ChoiceField(
        label=_("Type d'attestation"),
        choices=[("", _("— Choisissez —")), *AttestationType.choices],
        error_messages={
            "required": _("Choisissez le type d'attestation."),
            "invalid_choice": _("Choisissez le type d'attestation."),
        },
    )
    dossier_number = forms.ChoiceField(
        label=_("Dossier d'abonnement"),
        error_messages={
            "required": _("Choisissez le dossier d'abonnement."),
            "invalid_choice": _("Dossier introuvable : choisissez l'un de vos dossiers d'abonnement."),
        },
    )

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        dossiers = Dossier.objects.filter(customer_id=customer.pk).select_related("premises").order_by("number")
        cast(forms.ChoiceField, self.fields["dossier_number"]).choices = [("", _("— Choisissez —"))] + [
            (d.number, f"{d.number} — {d.get_service_display()} — {d.premises.address} ({d.get_status_display()})")
            for d in dossiers
        ]

    @property
    def has_dossiers(self) -> bool:
        return len(cast(forms.ChoiceField, self.fields["dossier_number"]).choices) > 1  # type: ignore[arg-type]  # a list here


# --- the kind ---------------------------------------------------------------------------------------


class AttestationKind(RequestKind):
    code = RequestType.Code.ATTESTATION
    title = _("Demande d'attestation")
    phases = {Phase.Code.TRAITEMENT: PhaseRule()}
    data_class = AttestationData
    requires_contact = False
    slug = "attestation"  # the counter's filing (the portal has its own page)
    portal_url_name = "portal:attestations"
    acknowledges_filing = False

    def customer_form(self, *, customer, data=None, files=None) -> forms.Form:
        return AttestationForm(data=data, customer=customer)

    def dossiers_from_data(self, *, customer, data: AttestationData):  # type: ignore[override]  # each kind reads its own RequestData subclass
        return Dossier.objects.filter(customer_id=customer.pk, number=data.dossier_number)

    def filing_check(self, *, customer, data: AttestationData, now: datetime) -> None:  # type: ignore[override]  # each kind reads its own RequestData subclass
        data.validate()
        dossier = _customer_dossier(customer_id=customer.pk, number=data.dossier_number)
        attestation_check(dossier=dossier, attestation_type=data.attestation_type)
        recent = attestation_recent(customer_id=customer.pk, data=data, now=now)
        if recent is not None:
            raise AttestationJustGenerated(
                gettext("Cette attestation vient d'être générée (n° %(number)s) : ouvrez-la avec « Voir ».")
                % {"number": recent.number}
            )

    def on_filed(self, *, request: ServiceRequest, now: datetime) -> None:
        attestation_issue(request=request, now=now)

    def can_cancel(self, request: ServiceRequest) -> bool | None:
        return False  # answered at once: nothing left to cancel


KIND = kind_register(AttestationKind())


# --- the customer's service -------------------------------------------------------------------------


def attestation_recent(*, customer_id: int, data: AttestationData, now: datetime) -> ServiceRequest | None:
    """The same attestation (type and dossier) generated for the customer within ``RESUBMIT_WINDOW``."""
    return (
        ServiceRequest.objects.filter(
            customer_id=customer_id,
            request_type__code=RequestType.Code.ATTESTATION,
            filed_at__gte=now - RESUBMIT_WINDOW,
            filed_at__lte=now,
            data__attestation_type=data.attestation_type,
            data__dossier_number=data.dossier_number,
        )
        .order_by("-filed_at", "-id")
        .first()
    )


@dataclass(frozen=True)
class Generated:
    request: ServiceRequest
    document: Document


@transaction.atomic
def attestation_generate(
    *,
    customer: Customer,
    attestation_type: str,
    dossier_number: str,
    now: datetime,
    actor=None,
    channel: str = ServiceRequest.Channel.WEB,
) -> Generated:
    """« générer »: check, count against the daily limit, file the ATTESTATION request through the
    engine, whose ``on_filed`` issues the PDF and closes the request. Raises an
    ``AttestationRefused`` (French message)."""
    from rak_requests.filing import request_file  # filing imports the kinds' registry

    request_type = RequestType.objects.filter(code=RequestType.Code.ATTESTATION, is_active=True).first()
    if request_type is None:
        raise AttestationUnavailable()
    data = AttestationData(attestation_type=attestation_type, dossier_number=(dossier_number or "").strip())
    # the customer's lock first: the same « générer » posted twice (even at once) gives the one attestation
    list(Customer.objects.select_for_update().filter(pk=customer.pk).values_list("pk"))
    recent = attestation_recent(customer_id=customer.pk, data=data, now=now)
    if recent is not None and (document := attestation_document(recent)) is not None:
        return Generated(request=recent, document=document)
    KIND.filing_check(customer=customer, data=data, now=now)
    if not throttle_hit(key=f"attestation:{customer.pk}", limit=DAILY_LIMIT, window=DAILY_WINDOW, now=now):
        raise TooManyAttestations(
            gettext(
                "Vous avez déjà généré %(limit)s attestations au cours des dernières 24 heures. Réessayez "
                "plus tard ou adressez-vous à l'une de nos agences."
            )
            % {"limit": DAILY_LIMIT}
        )
    data = AttestationData(
        attestation_type=data.attestation_type, dossier_number=data.dossier_number, reference=document_reference_new()
    )
    # the engine: filing_check under the customer's lock, number, dossier, FILED event, on_filed
    request = request_file(
        request_type=request_type, customer=customer, data=data, attachments=[], now=now, actor=actor, channel=channel
    )
    request.refresh_from_db()
    document = attestation_document(request)
    if document is None:  # never: on_filed issued it just now, in this transaction
        raise RuntimeError(f"attestation request {request.pk} filed without its document")
    return Generated(request=request, document=document)


# --- reads for the portal page ----------------------------------------------------------------------


@dataclass(frozen=True)
class AttestationRow:
    request: ServiceRequest
    document: Document | None
    data: AttestationData

    @property
    def type_label(self) -> str:
        return self.data.type_label if self.data.attestation_type in AttestationType.values else ""

    @property
    def reference(self) -> str:
        return reference_display(self.document.reference) if self.document else ""


def customer_attestations(customer_id: int, *, limit: int = 50) -> list[AttestationRow]:
    """The customer's generated attestations, newest first, with their document (two queries)."""
    requests = list(
        ServiceRequest.objects.filter(customer_id=customer_id, request_type__code=RequestType.Code.ATTESTATION)
        .select_related("request_type")
        .order_by("-filed_at", "-id")[:limit]
    )
    meta = ServiceRequest._meta
    documents = {
        d.subject_id: d
        for d in Document.objects.filter(
            kind=Document.Kind.ATTESTATION,
            subject_type=f"{meta.app_label}.{meta.model_name}",
            subject_id__in=[str(r.pk) for r in requests],
            revoked_at__isnull=True,
        )
    }
    return [
        AttestationRow(request=r, document=documents.get(str(r.pk)), data=AttestationData.from_json(r.data))
        for r in requests
    ]


def customer_attestation_document(customer_id: int, number: str) -> Document | None:
    """The PDF of one of the customer's attestations (another customer's number: None -> 404)."""
    request = ServiceRequest.objects.filter(
        customer_id=customer_id, number=number, request_type__code=RequestType.Code.ATTESTATION
    ).first()
    return attestation_document(request) if request is not None else None
