"""Meter readings: history per dossier, the self-reading (« auto-relève ») window of each dossier,
sending an index with the photo of the dial, correcting or withdrawing it, contesting a held
reading — through the services the portal calls (rak_billing.readings), with its refusals and
messages. Another customer's dossier or reading is a 404.

Refusals (400, ``code``): ``reading_unavailable`` (no meter to read), ``reading_window_closed``
(outside the window: the message says when it opens), ``reading_already_done``,
``index_below_previous``, ``invalid_value`` (index unreadable, negative…),
``reading_needs_confirmation`` (an implausible index: send it again with ``confirm=true``),
``upload_missing`` / ``upload_wrong_kind`` / ``upload_too_large`` / ``upload_refused`` (the photo,
checked by its content), ``reading_not_correctable``, ``reading_not_contestable``. An abnormal
consumption is accepted but held for verification (status HELD, said in ``message``).
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from rak_api.base import CustomerAPIView, CustomerGenericView
from rak_api.pagination import RakPagination
from rak_api.parsers import MultiPartParser
from rak_api.serializers_billing import (
    ContestSerializer,
    CorrectionSerializer,
    ReadingSerializer,
    SelfReadingResultSerializer,
    SelfReadingSerializer,
    SelfReadingStateSerializer,
    SelfReadingStatusSerializer,
)
from rak_api.views.billing import PAGES, BinaryMixin, KnownQueryMixin
from rak_base import clock
from rak_base.private_files import private_file_response
from rak_billing.models import MeterReading
from rak_billing.readings import (
    last_readings,
    reading_contest,
    reading_history_queryset,
    reading_self_cancel,
    reading_self_correct,
    reading_self_submit,
    self_reading_saved_message,
    self_reading_states,
)
from rak_customer.models import Dossier

TAGS = ["Relevés"]  # i18n: not for customers (the schema's section name)


def _reading_result(reading: MeterReading, number: str, *, corrected: bool = False) -> dict:
    return {
        "reading": ReadingSerializer(reading).data,
        "message": self_reading_saved_message(reading, number, corrected=corrected),
    }


def _own_reading(request, pk: int) -> MeterReading:
    return get_object_or_404(MeterReading.objects.select_related("dossier"), pk=pk, dossier__customer=request.customer)


class SelfReadingView(CustomerAPIView):
    """Where each metered dossier stands today for the self-reading: window open or next one,
    already read (and whether it can still be corrected), last index."""

    @extend_schema(responses={200: SelfReadingStatusSerializer}, operation_id="self_reading_status", tags=TAGS)
    def get(self, request):
        today = timezone.localdate(clock.now())
        states = self_reading_states(request.customer.pk, today)
        context = {"last_readings": last_readings(s.dossier.pk for s in states)}
        return Response(
            {"date": today, "dossiers": SelfReadingStateSerializer(states, many=True, context=context).data}
        )


class SelfReadingSubmitView(CustomerAPIView):
    """« Relève de mon index »: the index and a photo of the dial (multipart/form-data), during
    the dossier's window, once per window."""

    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": SelfReadingSerializer},
        responses={201: SelfReadingResultSerializer},
        operation_id="self_reading_submit",
        tags=TAGS,
    )
    def post(self, request, number: str):
        dossier = get_object_or_404(Dossier, number=number, customer=request.customer)
        data = SelfReadingSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reading = reading_self_submit(
            customer_id=request.customer.pk,
            dossier_id=dossier.pk,
            index=data.validated_data["index"],
            photo=data.validated_data["photo"],
            user=request.user,
            now=clock.now(),
            confirmed=data.validated_data["confirm"],
        )
        return Response(_reading_result(reading, dossier.number), status=status.HTTP_201_CREATED)


class ReadingHistoryView(KnownQueryMixin, CustomerGenericView):
    """« Historique des relevés » of one dossier, newest first."""

    query_parameters = PAGES

    serializer_class = ReadingSerializer
    pagination_class = RakPagination

    @extend_schema(responses={200: ReadingSerializer(many=True)}, operation_id="dossiers_readings", tags=TAGS)
    def get(self, request, number: str):
        dossier = get_object_or_404(Dossier, number=number, customer=request.customer)
        page = self.paginate_queryset(reading_history_queryset(dossier.pk))
        return self.get_paginated_response(ReadingSerializer(page, many=True).data)


class ReadingCorrectionView(CustomerAPIView):
    """« Corriger »: replace one's own self-reading while the window is open and before it is
    verified or billed (the photo is optional: the previous one is kept)."""

    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": CorrectionSerializer},
        responses={201: SelfReadingResultSerializer},
        operation_id="readings_correct",
        tags=TAGS,
    )
    def post(self, request, pk: int):
        reading = _own_reading(request, pk)
        data = CorrectionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        new = reading_self_correct(
            customer_id=request.customer.pk,
            reading_id=reading.pk,
            index=data.validated_data["index"],
            photo=data.validated_data.get("photo"),
            user=request.user,
            now=clock.now(),
            confirmed=data.validated_data["confirm"],
        )
        return Response(_reading_result(new, reading.dossier.number, corrected=True), status=status.HTTP_201_CREATED)


class ReadingCancelView(CustomerAPIView):
    """« Annuler ce relevé »: withdraw one's own self-reading (same conditions as a correction);
    the dossier can then be read again in the window."""

    @extend_schema(request=None, responses={200: ReadingSerializer}, operation_id="readings_cancel", tags=TAGS)
    def post(self, request, pk: int):
        reading = _own_reading(request, pk)
        withdrawn = reading_self_cancel(
            customer_id=request.customer.pk, reading_id=reading.pk, user=request.user, now=clock.now()
        )
        return Response(ReadingSerializer(withdrawn).data)


class ReadingContestView(CustomerAPIView):
    """« Contester ce relevé »: a reading held for verification, with a photo of the index."""

    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": ContestSerializer},
        responses={200: ReadingSerializer},
        operation_id="readings_contest",
        tags=TAGS,
    )
    def post(self, request, pk: int):
        reading = _own_reading(request, pk)
        data = ContestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        contested = reading_contest(
            customer_id=request.customer.pk,
            reading_id=reading.pk,
            note=data.validated_data.get("note", ""),
            photo=data.validated_data["photo"],
            user=request.user,
            now=clock.now(),
        )
        return Response(ReadingSerializer(contested).data)


PHOTO_RESPONSES = {
    (200, "image/jpeg"): OpenApiTypes.BINARY,
    (200, "image/png"): OpenApiTypes.BINARY,
    (200, "image/webp"): OpenApiTypes.BINARY,
    (200, "image/heic"): OpenApiTypes.BINARY,
}


class ReadingPhotoView(BinaryMixin, CustomerAPIView):
    """The photo of one of the customer's readings (404 when it has none)."""

    @extend_schema(responses=PHOTO_RESPONSES, operation_id="readings_photo", tags=TAGS)
    def get(self, request, pk: int):
        return private_file_response(_own_reading(request, pk).photo)


class ReadingContestPhotoView(BinaryMixin, CustomerAPIView):
    """The photo the customer joined to a contest (404 when there is none)."""

    @extend_schema(responses=PHOTO_RESPONSES, operation_id="readings_contest_photo", tags=TAGS)
    def get(self, request, pk: int):
        return private_file_response(_own_reading(request, pk).contest_photo)
