"""Factories for rak_requests: request types with their phases and required documents (the seed's
subscription and termination types, built here so the engine tests do not depend on the seed data
migration), requests and attachments' test files."""

from __future__ import annotations

import datetime
import functools
from zoneinfo import ZoneInfo

import factory
from django.core.files.uploadedfile import SimpleUploadedFile

from rak_requests.engine import phase_deadline
from rak_requests.models import Phase, RequestType, RequiredDocument, ServiceRequest
from tests.factories import CustomerFactory

CASABLANCA = ZoneInfo("Africa/Casablanca")

SUBSCRIPTION_PHASES = [
    (Phase.Code.RECEVABILITE_ADMIN, "Recevabilité administrative", 5),
    (Phase.Code.RECEVABILITE_TECH, "Recevabilité technique", 7),
    (Phase.Code.SIGNATURE, "Signature du contrat", 10),
    (Phase.Code.PAIEMENT, "Paiement des frais", 15),
    (Phase.Code.POSE_COMPTEUR, "Pose du compteur", 10),
]


def subscription_type() -> RequestType:
    """The subscription type, its five phases and two required documents (get or create)."""
    request_type, created = RequestType.objects.get_or_create(
        code=RequestType.Code.SUBSCRIPTION,
        defaults={"name": "Demande d'abonnement", "number_prefix": "AB", "is_public": True, "position": 1},
    )
    if created or not request_type.phases.exists():
        for position, (code, name, days) in enumerate(SUBSCRIPTION_PHASES, start=1):
            Phase.objects.create(request_type=request_type, code=code, name=name, position=position, sla_days=days)
        RequiredDocument.objects.get_or_create(
            request_type=request_type, code="cin", defaults={"label": "Copie de la CIN", "position": 1}
        )
        RequiredDocument.objects.get_or_create(
            request_type=request_type,
            code="titre",
            defaults={"label": "Titre de propriété ou contrat de bail", "allowed_kinds": "pdf", "position": 2},
        )
    return request_type


def termination_type() -> RequestType:
    request_type, created = RequestType.objects.get_or_create(
        code=RequestType.Code.TERMINATION,
        defaults={"name": "Demande de résiliation", "number_prefix": "RS", "position": 3},
    )
    if created or not request_type.phases.exists():
        Phase.objects.create(
            request_type=request_type, code=Phase.Code.TRAITEMENT, name="Traitement", position=1, sla_days=5
        )
    return request_type


class ServiceRequestFactory(factory.django.DjangoModelFactory):
    """A subscription request filed on 2 March 2026, in its first phase."""

    class Meta:
        model = ServiceRequest

    number = factory.Sequence(lambda n: f"AB26{n:06d}")
    request_type = factory.LazyFunction(subscription_type)
    customer = factory.SubFactory(CustomerFactory)
    phase = factory.LazyAttribute(lambda o: o.request_type.phases.order_by("position").first())
    status = ServiceRequest.Status.EN_COURS
    filed_at = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=CASABLANCA)
    phase_started_at = factory.LazyAttribute(lambda o: o.filed_at)
    phase_due_at = factory.LazyAttribute(lambda o: phase_deadline(o.phase, o.filed_at))
    data = factory.LazyFunction(lambda: {"Service": "Eau", "Usage": "Domestique", "Adresse du local": "12 rue Sebou"})


# --- files ----------------------------------------------------------------------------------------


@functools.cache
def pdf_bytes() -> bytes:
    """A real one-page PDF (rendered by WeasyPrint, once per test process)."""
    from weasyprint import HTML

    return HTML(string="<p>Copie de la CIN</p>").write_pdf()


def pdf_upload(name: str = "cin.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pdf_bytes(), content_type="application/pdf")


def exe_renamed_pdf(name: str = "facture.pdf") -> SimpleUploadedFile:
    """A Windows executable (MZ header) renamed .pdf."""
    header = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    content = header + b"\x00" * 200 + b"This program cannot be run in DOS mode."
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def oversized_pdf(limit: int = 2 * 1024 * 1024) -> SimpleUploadedFile:
    """A real PDF padded to ``limit + 1`` bytes."""
    content = pdf_bytes()
    content += b"\n%" + b"0" * (limit + 1 - len(content) - 2)
    assert len(content) == limit + 1
    return SimpleUploadedFile("gros.pdf", content, content_type="application/pdf")
