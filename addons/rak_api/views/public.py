"""Public endpoints (no token): « Nos agences », the bill simulator (the portal's form and engine),
« Vérifier un document » (throttled per address on the portal's key), « Contactez-nous ».

- GET  /agencies/
- GET  /simulator/            the services and tariff categories to choose from
- POST /simulator/            the bill the engine would produce
- POST /documents/verify/     reference (+ the PDF, optional) → verdict
- POST /contact/              a message to the customer service
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from rak_api.base import PublicAPIView
from rak_api.pagination import RakPagination
from rak_api.serializers_complaints import (
    AgencySerializer,
    ContactInputSerializer,
    ContactSentSerializer,
    SimulationSerializer,
    SimulatorInputSerializer,
    SimulatorOptionsSerializer,
    VerificationSerializer,
    VerifyInputSerializer,
)
from rak_api.throttles import Throttled
from rak_api.views.complaints import form_or_400
from rak_base import clock
from rak_base.documents import document_verify, reference_display
from rak_base.errors import RakError
from rak_base.http import client_ip
from rak_base.money import money_format
from rak_billing.api import EngineError, TariffNotFound, bill_line_label, fmt_qty
from rak_customer.models import Dossier
from rak_customer.selectors import customer_acting_for
from rak_customer.services import contact_message_create
from rak_portal.agencies import agency_cards
from rak_portal.forms import ContactForm
from rak_portal.simulator_forms import (
    MAX_DAYS,
    SERVICE_CHOICES,
    SimulatorForm,
    simulation_run,
    simulator_book,
    simulator_categories,
)
from rak_portal.throttling import CONTACT_WINDOW, contact_message_allowed, contact_refused_message
from rak_portal.verify_forms import (
    VERIFY_WINDOW,
    VerifyForm,
    verify_throttle_allow,
    verify_throttled_message,
)

TAGS = ["Public"]


class AgencyListView(generics.GenericAPIView):
    permission_classes = [AllowAny]
    pagination_class = RakPagination

    @extend_schema(responses={200: AgencySerializer(many=True)}, operation_id="agencies_list", tags=TAGS)
    def get(self, request):
        page = self.paginate_queryset(agency_cards())
        return self.get_paginated_response(AgencySerializer(page, many=True).data)


def _simulator_form_data(data: dict) -> dict:
    """The API's typed values as the portal form's inputs (decimals with a point, ISO dates)."""
    return {
        key: "" if value is None else (value.isoformat() if hasattr(value, "isoformat") else str(value))
        for key, value in data.items()
    }


class SimulatorView(PublicAPIView):
    @extend_schema(responses={200: SimulatorOptionsSerializer}, operation_id="simulator_options", tags=TAGS)
    def get(self, request):
        book = simulator_book(timezone.localdate(clock.now()))
        form = SimulatorForm(categories=simulator_categories(book))
        return Response(
            {
                "services": [{"value": value, "label": str(label)} for value, label in SERVICE_CHOICES],
                "categories": [{"value": value, "label": str(label)} for value, label in form.category_choices],
                "categories_by_service": {service: list(values) for service, values in form.categories.items()},
                "max_days": MAX_DAYS,
            }
        )

    @extend_schema(
        request=SimulatorInputSerializer,
        responses={200: SimulationSerializer},
        operation_id="simulator_simulate",
        tags=TAGS,
        description="La facture que produirait le moteur de facturation (mêmes règles que le simulateur du portail).",
    )
    def post(self, request):
        shape = SimulatorInputSerializer(data=request.data)
        shape.is_valid(raise_exception=True)
        today = timezone.localdate(clock.now())
        book = simulator_book(today)
        form = SimulatorForm(_simulator_form_data(shape.validated_data), categories=simulator_categories(book))
        cleaned = form_or_400(form)
        try:
            result = simulation_run(cleaned, today=today, book=book)
        except (TariffNotFound, EngineError) as exc:
            raise exceptions.ValidationError(
                {"category": [exceptions.ErrorDetail(str(exc), code="no_tariff")]}
            ) from exc
        labels = dict(Dossier.TariffCategory.choices)
        return Response(
            SimulationSerializer(
                {
                    "service": result.service,
                    "category": result.category,
                    "category_label": str(labels.get(result.category, result.category)),
                    "consumption": result.consumption,
                    "monthly_consumption": result.monthly_consumption,
                    "unit": result.unit,
                    "days": result.days,
                    "on_date": result.on_date,
                    "total_ht": result.total_ht,
                    "total_tva": result.total_tva,
                    "total_ttc": result.total_ttc,
                    "notices": [str(n) for n in result.notices],
                    "parts": [_part(part, unit=result.unit) for part in result.parts],
                }
            ).data
        )


def _part(part, *, unit: str) -> dict:
    comp = part.computation
    at_threshold = ""
    if part.at_threshold is not None:
        threshold, ttc = part.at_threshold
        at_threshold = gettext(
            "Pour comparaison : avec %(threshold)s %(unit)s par mois, cette facture serait de "
            "%(ttc)s DH TTC, soit %(more)s DH de moins."
        ) % {
            "threshold": fmt_qty(threshold),
            "unit": unit,
            "ttc": money_format(ttc, currency=""),
            "more": money_format(comp.total_ttc - ttc, currency=""),
        }
    return {
        "service": part.service,
        "title": gettext(part.title),
        "total_ht": comp.total_ht,
        "total_tva": comp.total_tva,
        "total_ttc": comp.total_ttc,
        "at_threshold": at_threshold,
        "lines": [
            {
                "kind": line.kind,
                "label": bill_line_label(line.label),
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "amount_ht": line.amount_ht,
                "vat_rate": line.vat_rate,
                "amount_tva": line.amount_tva,
                "amount_ttc": line.amount_ttc,
            }
            for line in comp.lines
        ],
    }


class DocumentVerifyView(PublicAPIView):
    @extend_schema(
        request={"multipart/form-data": VerifyInputSerializer, "application/json": VerifyInputSerializer},
        responses={200: VerificationSerializer},
        operation_id="documents_verify",
        tags=TAGS,
        description="« Vérifier un document » : le code de référence (et, facultatif, le PDF reçu, qui doit "
        "être identique à celui émis). Limité par adresse comme la page du portail (429).",
    )
    def post(self, request):
        shape = VerifyInputSerializer(data=request.data)
        shape.is_valid(raise_exception=True)
        file = shape.validated_data.get("file")
        files = MultiValueDict({"file": [file]} if file else {})
        form = VerifyForm({"reference": shape.validated_data["reference"]}, files)
        cleaned = form_or_400(form)
        if not verify_throttle_allow(client_ip(request)):
            raise Throttled(verify_throttled_message(), wait=VERIFY_WINDOW.total_seconds())
        result = document_verify(cleaned["reference"], cleaned.get("file"))
        document = result.document
        return Response(
            VerificationSerializer(
                {
                    "verdict": result.verdict,
                    "authentic": result.authentic,
                    "message": result.message,
                    "reference": reference_display(result.reference),
                    "file_checked": result.file_checked,
                    "document_kind": document.get_kind_display() if document else "",
                    "document_title": document.title if document else "",
                    "issued_at": document.created_at if document else None,
                    "owner_masked": result.owner_masked,
                    "revoked_at": document.revoked_at if document else None,
                }
            ).data
        )


class ContactView(PublicAPIView):
    @extend_schema(
        request=ContactInputSerializer,
        responses={201: ContactSentSerializer},
        operation_id="contact_create",
        tags=TAGS,
        description="« Contactez-nous » : un message au service client (limité par adresse).",
    )
    def post(self, request):
        shape = ContactInputSerializer(data=request.data)
        shape.is_valid(raise_exception=True)
        form = ContactForm({key: str(value) for key, value in shape.validated_data.items()})
        cleaned = form_or_400(form)
        if not contact_message_allowed(request):  # one budget with the portal's form
            raise Throttled(contact_refused_message(), wait=CONTACT_WINDOW.total_seconds())
        customer = None
        if request.user and request.user.is_authenticated and getattr(request.user, "is_customer", False):
            customer = customer_acting_for(request.user)
        try:
            contact_message_create(**cleaned, customer=customer)
        except RakError as exc:
            raise exceptions.ValidationError({"phone": [exceptions.ErrorDetail(exc.message, code="invalid")]}) from exc
        return Response(
            {"message": gettext("Votre message a bien été envoyé. Notre service client vous répondra rapidement.")},
            status=status.HTTP_201_CREATED,
        )
