"""Complaints (« réclamations ») and outage notices in the API — what « Envoyer une réclamation »,
« Signaler une fuite ou une coupure » and « Mes réclamations » offer on the portal, through the same
forms (rak_portal.complaint_forms: field rules, upload checks by content) and the same services
(rak_requests.complaints.services), with the same refusals:

- GET  /complaint-categories/                 the categories (incident ones flagged)
- GET  /complaints/                           « Mes réclamations » (open first), paginated
- POST /complaints/                           file one (multipart for a file) → 201
- GET  /complaints/{number}/                  the complaint, its exchange, what may be done now
- POST /complaints/{number}/messages/         « Ajouter une information » (answer a request for information)
- POST /complaints/{number}/reopen/           « Rouvrir » within COMPLAINT_REOPEN_DAYS
- POST /complaints/{number}/rating/           « Donner mon avis » (once, closed complaints)
- GET  /complaints/attachments/{id}/          a file of the exchange (the owner's only)
- POST /incidents/                            a leak or a cut; a cut already covered by a published
                                              notice is answered 409 « outage_notice_covers » with
                                              the notice: post again with ``outage_notice`` to file anyway
- GET  /outages/                              the notices of the customer's districts (the dashboard's)
- GET  /outages/current/                      every current notice (public, « Coupures et travaux »)

Filing sends the SMS « de prise en charge »: the portal's SMS limits (per address, the hourly
budget; the per-session one counted per device) then the service's per-phone throttle — 429.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import PurePosixPath
from types import SimpleNamespace

from django.conf import settings
from django.http import Http404
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from rak_api.base import CustomerAPIView, CustomerGenericView
from rak_api.pagination import RakPagination
from rak_api.serializers_complaints import (
    ComplaintAddInfoSerializer,
    ComplaintCategorySerializer,
    ComplaintDetailSerializer,
    ComplaintFileSerializer,
    ComplaintRateSerializer,
    ComplaintReopenSerializer,
    ComplaintSummarySerializer,
    IncidentFileSerializer,
    OutageNoticeSerializer,
)
from rak_api.throttles import Throttled, throttle_or_refuse
from rak_base import clock
from rak_base.errors import RakError
from rak_base.http import client_ip
from rak_base.private_files import private_file_response
from rak_base.sms_limits import SmsLimitReached, SmsSessionLimitReached, sms_request_allow
from rak_billing.models import Bill
from rak_customer.models import Dossier
from rak_customer.selectors import customer_email, customer_sms_phone
from rak_portal.complaint_forms import (
    INCIDENT_SERVICES,
    AddInfoForm,
    ComplaintForm,
    IncidentForm,
    RateForm,
    ReopenForm,
)
from rak_requests.complaint_models import Complaint
from rak_requests.complaints.categories import category_name
from rak_requests.complaints.errors import ComplaintRefused, ComplaintThrottled
from rak_requests.complaints.selectors import (
    complaint_attachment_for_customer,
    complaint_categories,
    complaint_for_customer,
    customer_complaints,
    customer_premises,
    district_canonical,
    incident_outage_notice,
)
from rak_requests.complaints.services import (
    ComplaintFiling,
    complaint_customer_add,
    complaint_file,
    complaint_rate,
    complaint_reopen,
)
from rak_requests.outages import customer_outage_notices, outage_notices_current

TAGS = ["Réclamations"]
OUTAGE_TAGS = ["Coupures et travaux"]  # i18n: not for customers (the API documentation)
SMS_WINDOW = timedelta(hours=1)
NUMBER_PATTERN = r"[A-Za-z0-9-]{1,20}"
NUMBER_PARAM = OpenApiParameter("number", str, OpenApiParameter.PATH, description="N° de réclamation (REC2026-000123).")


class PublicGenericView(generics.GenericAPIView):
    """A paginated list anyone may read (no token needed; a token sent is still checked)."""

    permission_classes = [AllowAny]
    pagination_class = RakPagination


# --- shared helpers --------------------------------------------------------------------------------------


def form_errors(form) -> dict:
    """A Django form's errors as DRF field errors (same French messages, same codes)."""
    fields: dict[str, list] = {}
    for field, errors in form.errors.as_data().items():
        key = "non_field_errors" if field == "__all__" else field
        for error in errors:
            for message in error.messages:
                fields.setdefault(key, []).append(exceptions.ErrorDetail(message, code=error.code or "invalid"))
    return fields


def form_or_400(form):
    if not form.is_valid():
        raise exceptions.ValidationError(form_errors(form))
    return form.cleaned_data


def upload_name(file) -> str:
    """The name the customer's file had (shown in the exchange, never used to store it)."""
    name = PurePosixPath(((file.name if file else "") or "").replace("\\", "/")).name
    return "".join(ch for ch in name if ch.isprintable())[-200:]


def sms_allow_for_device(request, *, now) -> None:
    """The portal's SMS limits (rak_base.sms_limits: per address, the hourly budget) on the same
    keys; the per-session limit counted per device (an app has no session). 429 when reached."""
    shim = SimpleNamespace(user=request.user, META=request.META, session=None)
    try:
        sms_request_allow(shim, now=now)
    except SmsLimitReached as exc:
        raise Throttled(exc.message, wait=SMS_WINDOW.total_seconds()) from exc
    device = getattr(request.auth, "pk", None) or request.user.pk
    throttle_or_refuse(
        key=f"sms:device:{device}",
        limit=settings.SMS_PER_SESSION_HOURLY,
        window=SMS_WINDOW,
        message=str(SmsSessionLimitReached.default_message),
    )


def refuse(exc: RakError, form) -> None:
    """A service refusal: throttles are 429; a refusal about a field is a 400 on that field; any
    other domain error goes to the handler (400 + its code)."""
    if isinstance(exc, ComplaintThrottled):
        raise Throttled(exc.message, wait=3600) from exc
    field = exc.params.get("field") if isinstance(exc, ComplaintRefused) else None
    if field == "premises" and "premises" not in form.fields:
        field = "address"
    if isinstance(field, str) and field in form.fields:
        raise exceptions.ValidationError({field: [exceptions.ErrorDetail(exc.message, code="refused")]}) from exc
    raise exc


def own_complaint(request, number: str) -> Complaint:
    try:
        return complaint_for_customer(request.customer, number)
    except Complaint.DoesNotExist as exc:
        raise Http404 from exc


def detail_response(complaint: Complaint, *, status_code: int = 200) -> Response:
    if complaint.customer is None:  # the API shows a customer's own complaints only: not reached
        raise Http404
    # re-read: the services changed it (status, entries)
    fresh = complaint_for_customer(complaint.customer, complaint.number)
    return Response(ComplaintDetailSerializer(fresh, context={"now": clock.now()}).data, status=status_code)


def contact_defaults(request, data: dict) -> dict:
    """Name, phone and e-mail default to the customer's (the portal pre-fills them)."""
    customer = request.customer
    return {
        "name": data.get("name") or customer.display_name,
        "phone": data.get("phone") or customer_sms_phone(customer) or "",
        "email": data.get("email") or customer_email(customer) or request.user.email or "",
    }


def _plain(value) -> str:
    return "" if value is None else str(value)


# --- categories ----------------------------------------------------------------------------------------


class ComplaintCategoryListView(PublicGenericView):
    """The categories of « Envoyer une réclamation » and « Signaler une fuite ou une coupure »
    (``is_incident``), in the portal's order."""

    @extend_schema(
        responses={200: ComplaintCategorySerializer(many=True)}, operation_id="complaint_categories_list", tags=TAGS
    )
    def get(self, request):
        page = self.paginate_queryset(complaint_categories())
        return self.get_paginated_response(ComplaintCategorySerializer(page, many=True).data)


# --- « Mes réclamations » / « Envoyer une réclamation » -----------------------------------------------


class ComplaintListView(CustomerGenericView):
    pagination_class = RakPagination
    metadata_class = None  # OPTIONS: 405 (the schema documents GET and POST only)

    @extend_schema(responses={200: ComplaintSummarySerializer(many=True)}, operation_id="complaints_list", tags=TAGS)
    def get(self, request):
        page = self.paginate_queryset(customer_complaints(request.customer))
        data = ComplaintSummarySerializer(page, many=True, context={"now": clock.now()}).data
        return self.get_paginated_response(data)

    @extend_schema(
        request={"multipart/form-data": ComplaintFileSerializer, "application/json": ComplaintFileSerializer},
        responses={201: ComplaintDetailSerializer},
        operation_id="complaints_create",
        tags=TAGS,
        description="Envoyer une réclamation : le SMS « de prise en charge » part avec le numéro attribué. "
        "Une même réclamation renvoyée dans les 15 minutes (double envoi) rend la première.",
    )
    def post(self, request):
        shape = ComplaintFileSerializer(data=request.data)
        shape.is_valid(raise_exception=True)
        data = shape.validated_data
        customer, now = request.customer, clock.now()
        bill_queryset = Bill.objects.filter(customer=customer)
        form = ComplaintForm(
            {
                **contact_defaults(request, data),
                "category": _plain(data["category"]),
                "dossier": _plain(data.get("dossier")),
                "bill": _plain(data.get("bill")),
                "subject": data.get("subject", ""),
                "message": data["message"],
            },
            {"file": data["file"]} if data.get("file") else {},
            customer=customer,
            dossiers=Dossier.objects.filter(customer=customer).select_related("premises"),
            bills=[],
            bill_queryset=bill_queryset,
        )
        cleaned = form_or_400(form)
        category, bill = cleaned["category"], cleaned.get("bill")
        filing = ComplaintFiling(
            category=category,
            name=cleaned["name"],
            phone=cleaned["phone"],
            email=cleaned["email"],
            subject=cleaned["subject"],
            message=cleaned["message"],
            dossier_id=cleaned["dossier"].pk if cleaned.get("dossier") else None,
            bill_id=bill.pk if bill else None,
            source=Complaint.Source.BILL if bill is not None and category.about_bill else Complaint.Source.FORM,
            channel=Complaint.Channel.MOBILE,
            upload=cleaned.get("file"),
            upload_name=upload_name(data.get("file")) if cleaned.get("file") else "",
        )
        sms_allow_for_device(request, now=now)
        try:
            complaint = complaint_file(
                filing=filing,
                now=now,
                customer=customer,
                user=request.user,
                ip=client_ip(request),
                deduplicate=True,
                language=getattr(request, "LANGUAGE_CODE", None),
            )
        except RakError as exc:
            refuse(exc, form)
        return detail_response(complaint, status_code=status.HTTP_201_CREATED)


class ComplaintDetailView(CustomerAPIView):
    @extend_schema(
        parameters=[NUMBER_PARAM],
        responses={200: ComplaintDetailSerializer},
        operation_id="complaints_retrieve",
        tags=TAGS,
    )
    def get(self, request, number: str):
        complaint = own_complaint(request, number)
        return Response(ComplaintDetailSerializer(complaint, context={"now": clock.now()}).data)


class ComplaintAddInfoView(CustomerAPIView):
    @extend_schema(
        parameters=[NUMBER_PARAM],
        request={"multipart/form-data": ComplaintAddInfoSerializer, "application/json": ComplaintAddInfoSerializer},
        responses={201: ComplaintDetailSerializer},
        operation_id="complaints_add_info",
        tags=TAGS,
        description="« Ajouter une information » (texte et/ou fichier) à une réclamation en cours — "
        "la réponse à une demande d'information de la RAK.",
    )
    def post(self, request, number: str):
        complaint = own_complaint(request, number)
        shape = ComplaintAddInfoSerializer(data=request.data)
        shape.is_valid(raise_exception=True)
        file = shape.validated_data.get("file")
        form = AddInfoForm({"body": shape.validated_data.get("body", "")}, {"file": file} if file else {})  # type: ignore[arg-type]  # files: a plain dict is what the form reads
        cleaned = form_or_400(form)
        try:
            complaint_customer_add(
                complaint_id=complaint.pk,
                customer=request.customer,
                user=request.user,
                body=cleaned["body"],
                upload=cleaned.get("file"),
                upload_name=upload_name(file) if cleaned.get("file") else "",
                now=clock.now(),
            )
        except Complaint.DoesNotExist as exc:
            raise Http404 from exc
        return detail_response(complaint, status_code=status.HTTP_201_CREATED)


class ComplaintReopenView(CustomerAPIView):
    @extend_schema(
        parameters=[NUMBER_PARAM],
        request=ComplaintReopenSerializer,
        responses={200: ComplaintDetailSerializer},
        operation_id="complaints_reopen",
        tags=TAGS,
        description="« Rouvrir la réclamation » : clôturée depuis moins de COMPLAINT_REOPEN_DAYS jours.",
    )
    def post(self, request, number: str):
        complaint = own_complaint(request, number)
        shape = ComplaintReopenSerializer(data=request.data)
        shape.is_valid(raise_exception=True)
        cleaned = form_or_400(ReopenForm(shape.validated_data))
        try:
            complaint_reopen(
                complaint_id=complaint.pk,
                customer=request.customer,
                user=request.user,
                reason=cleaned["reason"],
                now=clock.now(),
            )
        except Complaint.DoesNotExist as exc:
            raise Http404 from exc
        return detail_response(complaint)


class ComplaintRateView(CustomerAPIView):
    @extend_schema(
        parameters=[NUMBER_PARAM],
        request=ComplaintRateSerializer,
        responses={200: ComplaintDetailSerializer},
        operation_id="complaints_rate",
        tags=TAGS,
        description="« Donner mon avis » sur la réponse (1 à 5 étoiles), une fois, réclamation clôturée.",
    )
    def post(self, request, number: str):
        complaint = own_complaint(request, number)
        shape = ComplaintRateSerializer(data=request.data)
        shape.is_valid(raise_exception=True)
        cleaned = form_or_400(
            RateForm(
                {"rating": str(shape.validated_data["rating"]), "comment": shape.validated_data.get("comment", "")}
            )
        )
        try:
            complaint_rate(
                complaint_id=complaint.pk,
                customer=request.customer,
                user=request.user,
                rating=cleaned["rating"],
                comment=cleaned["comment"],
                now=clock.now(),
            )
        except Complaint.DoesNotExist as exc:
            raise Http404 from exc
        return detail_response(complaint)


ATTACHMENT_TYPES = ("application/pdf", "image/jpeg", "image/png", "image/webp", "image/heic")


class ComplaintAttachmentView(CustomerAPIView):
    @extend_schema(
        responses={(200, kind): OpenApiTypes.BINARY for kind in ATTACHMENT_TYPES},
        operation_id="complaints_attachment",
        tags=TAGS,
    )
    def get(self, request, pk: int):
        entry = complaint_attachment_for_customer(request.customer, pk)
        if entry is None:
            raise Http404
        return private_file_response(entry.file, download_name=entry.file_name or None)


# --- « Signaler une fuite ou une coupure » -----------------------------------------------------------


class OutageKnownSerializer(serializers.Serializer):
    """409: a published notice already covers this cut."""

    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField()  # type: ignore[assignment]  # a declared field (DRF)
    outage_notice_id = serializers.IntegerField()
    outage_notice = OutageNoticeSerializer()


class IncidentView(CustomerAPIView):
    @extend_schema(
        request={"multipart/form-data": IncidentFileSerializer, "application/json": IncidentFileSerializer},
        responses={201: ComplaintDetailSerializer, 409: OutageKnownSerializer},
        operation_id="incidents_create",
        tags=TAGS,
        description="Une fuite ou une coupure, avec le local du client, une adresse et son quartier, ou la "
        "position. Une coupure déjà couverte par un avis publié : 409 « outage_notice_covers » avec l'avis ; "
        "renvoyer avec outage_notice=<id> pour la signaler quand même.",
    )
    def post(self, request):
        shape = IncidentFileSerializer(data=request.data)
        shape.is_valid(raise_exception=True)
        data = shape.validated_data
        customer, now = request.customer, clock.now()
        form = IncidentForm(
            {
                **contact_defaults(request, data),
                "category": _plain(data["category"]),
                "service": data.get("service", ""),
                "premises": _plain(data.get("premises")),
                "address": data.get("address", ""),
                "district": data.get("district", ""),
                "latitude": _plain(data.get("latitude")),
                "longitude": _plain(data.get("longitude")),
                "message": data["message"],
                "outage_notice": _plain(data.get("outage_notice")),
            },
            {"photo": data["photo"]} if data.get("photo") else {},
            customer=customer,
            premises=customer_premises(customer),
        )
        cleaned = form_or_400(form)
        district = district_canonical(cleaned.get("district", ""))
        category, service, premises = cleaned["category"], form.service_code(), cleaned.get("premises")
        notice_id = cleaned.get("outage_notice")
        if not notice_id:
            notice = incident_outage_notice(
                category=category, service=service, premises=premises, district=district, now=now
            )
            if notice is not None:
                message = gettext(
                    "Cette coupure est déjà connue : l'avis %(number)s couvre votre quartier. Si votre problème est "
                    "différent, renvoyez votre signalement avec cet avis."
                ) % {"number": notice.number}
                return Response(
                    {
                        "code": "outage_notice_covers",
                        "message": message,
                        "fields": {},
                        "outage_notice_id": notice.pk,
                        "outage_notice": OutageNoticeSerializer(notice, context={"now": now}).data,
                    },
                    status=status.HTTP_409_CONFLICT,
                )
        service_label = dict(INCIDENT_SERVICES).get(service, "") if service else ""
        name = category_name(category)
        filing = ComplaintFiling(
            category=category,
            name=cleaned["name"],
            phone=cleaned["phone"],
            email=cleaned["email"],
            subject=f"{name} — {service_label}" if service_label else name,
            message=cleaned["message"],
            premises_id=premises.pk if premises is not None else None,
            address=cleaned["address"] if premises is None else "",
            district=district if premises is None else "",
            latitude=cleaned.get("latitude"),
            longitude=cleaned.get("longitude"),
            outage_notice_id=notice_id or None,
            source=Complaint.Source.INCIDENT,
            channel=Complaint.Channel.MOBILE,
            upload=cleaned.get("photo"),
            upload_name=upload_name(data.get("photo")) if cleaned.get("photo") else "",
        )
        sms_allow_for_device(request, now=now)
        try:
            complaint = complaint_file(
                filing=filing,
                now=now,
                customer=customer,
                user=request.user,
                ip=client_ip(request),
                deduplicate=True,
                language=getattr(request, "LANGUAGE_CODE", None),
            )
        except RakError as exc:
            refuse(exc, form)
        return detail_response(complaint, status_code=status.HTTP_201_CREATED)


# --- outage notices ----------------------------------------------------------------------------------


class CustomerOutageListView(CustomerGenericView):
    """The notices of the customer's dashboard: current ones covering their premises or that they
    were told about, and those restored less than a day ago."""

    pagination_class = RakPagination

    @extend_schema(responses={200: OutageNoticeSerializer(many=True)}, operation_id="outages_mine", tags=OUTAGE_TAGS)
    def get(self, request):
        now = clock.now()
        page = self.paginate_queryset(customer_outage_notices(request.customer, now=now))
        return self.get_paginated_response(OutageNoticeSerializer(page, many=True, context={"now": now}).data)


class CurrentOutageListView(PublicGenericView):
    """« Coupures et travaux en cours » (public): every published notice not restored, ``?district=``
    to keep one district's."""

    @extend_schema(
        parameters=[OpenApiParameter("district", str, description="Un quartier (« Maamora »).")],
        responses={200: OutageNoticeSerializer(many=True)},
        operation_id="outages_current",
        tags=OUTAGE_TAGS,
    )
    def get(self, request):
        now = clock.now()
        notices = outage_notices_current(now=now)
        district = (request.query_params.get("district") or "").strip()[:80]
        if district:
            notices = notices.filter(districts__contains=[district.replace("\x00", "")])
        page = self.paginate_queryset(notices)
        return self.get_paginated_response(OutageNoticeSerializer(page, many=True, context={"now": now}).data)
