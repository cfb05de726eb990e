"""Requests in the API — « Services et demandes », « Suivi des demandes », « Mes devis », the
subscription's contract, « Demande d'attestations » — through the portal's forms and the same
services (rak_requests), with the same refusals:

- GET  /request-types/                              the catalogue (documents, fields, login, OTP)
- GET  /request-types/{slug}/                       one type
- POST /request-types/{slug}/draft/person/          wizard step 1 (public): the person, code by SMS
- POST /request-types/{slug}/draft/otp/             wizard step 1: the code → phone verified
- POST /request-types/{slug}/draft/info/            wizard step 2 (a logged-in customer starts here)
- POST /request-types/{slug}/draft/documents/       wizard step 3 (multipart, ``doc_<code>``)
- POST /request-types/{slug}/draft/submit/          wizard step 4 → 201, the request filed
- POST /request-types/{slug}/requests/              file a type's form (multipart) → 201, or 202
                                                    with a draft when an OTP confirms it
- POST /request-types/{slug}/requests/confirm/      the OTP → 201
- GET  /requests/                                   « Suivi des demandes », paginated
- GET  /requests/{number}/                          tracking: phases, history, what is awaited
- GET  /requests/{number}/receipt/                  the receipt (PDF)
- GET  /requests/attachments/{id}/                  one of the customer's attachments
- POST /requests/{number}/complement/               answer a complement request (text and/or file)
- POST /requests/{number}/cancel/                   « Annuler la demande »
- POST /requests/{number}/final-index/              termination: the final index with its photo
- POST /requests/{number}/call/                     subscription: « Appeler »
- POST /requests/{number}/pay/                      the fees (subscription) or the works (connection):
                                                    a CMI order, as POST /payments/orders/
- POST /contracts/{id}/sign/                        subscription: sign a contract (drawn PNG)
- GET  /contracts/{id}/pdf/                         the signed contract (after the fees)
- GET  /quotes/  GET /quotes/{id}/  GET /quotes/{id}/pdf/  POST /quotes/{id}/accept/
- GET  /attestations/  POST /attestations/  GET /attestations/{number}/pdf/

The wizard's draft (rak_requests.drafts) and a submission waiting for its OTP
(rak_requests.flow) travel as signed tokens (``draft``), where the portal keeps them in the
session. Every request, quote, contract and attestation is looked up through
``request.customer``: another customer's is 404.
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from django import forms
from django.conf import settings
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response

from rak_api import serializers_requests as s
from rak_api.base import CustomerAPIView, CustomerGenericView, PublicAPIView, request_customer
from rak_api.parsers import JSONParser, MultiPartParser
from rak_api.permissions import PasswordChangeRequired
from rak_api.throttles import Throttled, throttle_or_refuse
from rak_api.views import payments as payment_views
from rak_base import clock
from rak_base.http import client_ip
from rak_base.otp import OtpResendTooEarly
from rak_base.phones import phone_last_digits
from rak_base.private_files import private_file_response
from rak_base.sms_limits import SmsLimitReached, SmsSessionLimitReached, sms_request_allow
from rak_base.uploads import UploadRefused
from rak_billing.readings import IndexBelowPrevious, InvalidValue, ReadingNeedsConfirmation
from rak_customer.selectors import customer_email, customer_sms_phone
from rak_portal.payment_forms import ConditionsForm
from rak_portal.request_forms import ConfirmForm, ConnectionInfoForm, PersonForm, SubscriptionInfoForm, info_initial
from rak_portal.throttling import identity_check_allowed, identity_check_refused_message
from rak_requests import drafts, lifecycle
from rak_requests.filing import request_summary
from rak_requests.flow import (
    ContactMissing,
    KindSubmission,
    KindUnavailable,
    kind_contact_missing,
    kind_has_customer_form,
    kind_otp_send,
    kind_pending_file,
    kind_pending_from_token,
    kind_pending_token,
    kind_request_file,
    kind_request_type,
)
from rak_requests.kinds import kind_by_slug, kind_for, kinds_all
from rak_requests.kinds.attestation import (
    AttestationData,
    AttestationType,
    attestation_generate,
    customer_attestation_document,
    customer_attestations,
)
from rak_requests.models import Contract, Quote, RequestType, ServiceRequest
from rak_requests.quotes import quote_accept
from rak_requests.selectors import (
    customer_attachment,
    customer_request,
    customer_requests,
    request_action_expected,
    request_status_label,
)
from rak_requests.services import request_answer_complement, request_cancel, request_payment_start
from rak_requests.termination import termination_final_reading_submit
from rak_requests.tracking import request_tracking
from rak_requests.uploads import document_upload_hints

TAGS = ["Demandes"]
PDF = {(200, "application/pdf"): OpenApiTypes.BINARY}
MULTIPART = [MultiPartParser, JSONParser]
WIZARD_FORMS = {"abonnement": SubscriptionInfoForm, "branchement": ConnectionInfoForm}
SMS_WINDOW_SECONDS = 3600


# --- helpers ----------------------------------------------------------------------------------------


def _body(request) -> dict:
    if not hasattr(request.data, "get"):
        raise exceptions.ParseError(gettext("Le corps de la requête doit être un objet."))
    return request.data


def _parse(serializer_class, request) -> dict:
    serializer = serializer_class(data=_body(request))
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _form_valid(form: forms.Form) -> dict:
    """The portal form's rules as the API's field errors (400)."""
    if form.is_valid():
        return form.cleaned_data
    raise exceptions.ValidationError({name: [str(e) for e in errs] for name, errs in form.errors.items()})


def _sms_allow(request, now) -> None:
    """The portal's SMS limits (per address, the hourly budget; the per-session one counted per
    device or address, an app has no session): 429 when reached."""
    shim = SimpleNamespace(user=request.user, META=request.META, session=None)
    try:
        sms_request_allow(shim, now=now)
    except SmsLimitReached as exc:
        raise Throttled(exc.message, wait=SMS_WINDOW_SECONDS) from exc
    who = getattr(request.auth, "pk", None) or f"ip:{client_ip(request)}"
    throttle_or_refuse(
        key=f"sms:device:{who}",
        limit=settings.SMS_PER_SESSION_HOURLY,
        window=timedelta(seconds=SMS_WINDOW_SECONDS),
        message=str(SmsSessionLimitReached.default_message),
    )


def _optional_customer(request):
    """The customer of a token sent to a public endpoint (None: a visitor with no account)."""
    user = request.user
    if not (user and user.is_authenticated):
        return None
    if not getattr(user, "is_customer", False):
        raise exceptions.PermissionDenied()
    if getattr(user, "must_change_password", False):
        raise PasswordChangeRequired()
    return request_customer(request)


def request_body(r: ServiceRequest) -> dict:
    return {
        "number": r.number,
        "type_code": r.request_type.code,
        "type_label": gettext(r.request_type.name),
        "status": r.status,
        "status_label": request_status_label(r),
        "phase": {"code": r.phase.code, "name": gettext(r.phase.name)} if r.phase is not None else None,
        "expected_action": r.expected_action,
        "action_expected": request_action_expected(r),
        "filed_at": r.filed_at,
        "processed_at": r.processed_at,
    }


def _bill_body(bill) -> dict | None:
    if bill is None:
        return None
    return {
        "id": bill.pk,
        "number": bill.number,
        "kind": bill.kind,
        "total_ttc": bill.total_ttc,
        "settled": bill.settled_at is not None,
    }


def _contract_body(contract: Contract, downloadable: bool) -> dict:
    return {
        "id": contract.pk,
        "service": contract.service,
        "service_label": contract.get_service_display(),
        "status": contract.status,
        "fees_amount": contract.fees_amount,
        "signed_at": contract.signed_at,
        "body_html": contract.body_html,
        "pdf_available": downloadable and contract.document_id is not None,
    }


def _rows(rows) -> list[dict]:
    return [{"label": str(label), "value": str(value)} for label, value in rows]


def _own_request(request, number: str) -> ServiceRequest:
    found = customer_request(request.customer.pk, number)
    if found is None:
        raise Http404
    return found


def _filed_body(service_request: ServiceRequest, message: str, *, filing=None) -> dict:
    return {
        "request": request_body(service_request),
        "message": message,
        "customer_code": service_request.customer.code,
        "account_created": bool(filing is not None and filing.created_customer),
        "password_delivery": filing.delivery.message if filing is not None and filing.delivery else "",
    }


FILED_MESSAGE = gettext_lazy(
    "Votre demande n° %(number)s a bien été envoyée. Un email sera envoyé contenant l'accusé de réception de "
    "votre demande."
)


# --- the catalogue ------------------------------------------------------------------------------------


def _field_type(field: forms.Field) -> str:
    if isinstance(field, forms.FileField):
        return "file"
    if isinstance(field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField):
        return "multiple_choice"
    if isinstance(field, forms.ChoiceField | forms.ModelChoiceField):
        return "choice"
    if isinstance(field, forms.BooleanField):
        return "boolean"
    if isinstance(field, forms.IntegerField):
        return "integer"
    if isinstance(field, forms.DecimalField):
        return "decimal"
    if isinstance(field, forms.EmailField):
        return "email"
    if isinstance(field, forms.CharField) and isinstance(field.widget, forms.Textarea):
        return "textarea"
    return "text"


def _choices(field: forms.Field) -> list[dict]:
    widget_choices = getattr(field.widget, "choices", None)
    choices = getattr(field, "choices", None)
    if isinstance(field, forms.ModelChoiceField | forms.ModelMultipleChoiceField):
        choices = (
            widget_choices
            if widget_choices
            else [
                (field.prepare_value(o), field.label_from_instance(o))
                for o in (field.queryset if field.queryset is not None else [])
            ]
        )
    if not choices:
        return []
    rows = []
    for value, label in choices:
        value = getattr(value, "value", value)  # ModelChoiceIteratorValue
        if value in ("", None):
            continue
        rows.append({"value": str(value), "label": str(label)})
    return rows


def form_fields(form: forms.Form | None) -> list[dict]:
    if form is None:
        return []
    return [
        {
            "name": name,
            "label": str(field.label or name),
            "type": _field_type(field),
            "required": bool(field.required),
            "help_text": str(field.help_text or ""),
            "max_length": getattr(field, "max_length", None),
            "choices": _choices(field),
        }
        for name, field in form.fields.items()
    ]


def _documents(request_type: RequestType | None) -> list[dict]:
    if request_type is None:
        return []
    rows = []
    for doc in request_type.documents.order_by("position", "id"):
        hints = document_upload_hints(doc)
        rows.append(
            {
                "code": doc.code,
                "label": gettext(doc.label),
                "required": doc.required,
                "formats": hints["formats"],
                "accept": hints["accept"],
                "max_bytes": doc.max_bytes,
                "max_size": hints["max_size"],
            }
        )
    return rows


def _portal_url(name: str, *args) -> str:
    try:
        return settings.SITE_URL + reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _catalogue_entry(slug: str, customer) -> dict | None:
    """One service of « Services et demandes » as the app needs it (None: unknown or inactive)."""
    if slug in drafts.WIZARD_KINDS:
        request_type = RequestType.objects.filter(code=drafts.WIZARD_KINDS[slug], is_active=True).first()
        if request_type is None:
            return None
        wizard_kind = kind_for(request_type.code)
        return {
            "slug": slug,
            "code": request_type.code,
            "label": str(wizard_kind.title or gettext(request_type.name)),
            "description": gettext(request_type.description) if request_type.description else "",
            "filing": "wizard",
            "login_required": False,
            "otp_required": customer is None,
            "contact_required": False,
            "documents": _documents(request_type),
            "fields": form_fields(WIZARD_FORMS[slug]()),
            "portal_url": _portal_url(wizard_kind.portal_url_name) if wizard_kind.portal_url_name else "",
        }
    kind = kind_by_slug(slug)
    if kind is None:
        return None
    try:
        request_type = kind_request_type(kind)
    except KindUnavailable:
        return None
    if kind.code == RequestType.Code.ATTESTATION:
        filing = "attestation"
    elif kind.code == RequestType.Code.REFUND:
        filing = "refund"  # POST /api/v1/refunds/requests/ (the payments area)
    elif kind_has_customer_form(kind):
        filing = "form"
    else:
        filing = "own_page"
    form = kind.customer_form(customer=customer) if customer is not None and filing != "own_page" else None
    return {
        "slug": slug,
        "code": kind.code,
        "label": str(kind.title or gettext(request_type.name)),
        "description": gettext(request_type.description) if request_type.description else "",
        "filing": filing,
        "login_required": True,
        "otp_required": bool(kind.requires_otp) and filing == "form",
        "contact_required": bool(kind.requires_contact) and filing == "form",
        "documents": _documents(request_type) if filing == "form" else [],
        "fields": form_fields(form),
        "portal_url": _portal_url(kind.portal_url_name)
        if kind.portal_url_name
        else _portal_url("portal:kind_service", slug),
    }


def _catalogue(customer) -> list[dict]:
    slugs = [*drafts.WIZARD_KINDS, *(k.slug for k in kinds_all() if k.slug)]
    entries = [_catalogue_entry(slug, customer) for slug in slugs]
    return [e for e in entries if e is not None]


class RequestTypeListView(PublicAPIView):
    """« Services et demandes »: every request type the API files, with its documents (formats,
    size) and — for a signed-in customer — its form's fields and choices (their dossiers)."""

    @extend_schema(
        tags=TAGS, operation_id="request_types_list", request=None, responses={200: s.RequestTypeSerializer(many=True)}
    )
    def get(self, request):
        return Response(s.RequestTypeSerializer(_catalogue(_optional_customer(request)), many=True).data)


class RequestTypeDetailView(PublicAPIView):
    @extend_schema(
        tags=TAGS, operation_id="request_types_retrieve", request=None, responses={200: s.RequestTypeSerializer}
    )
    def get(self, request, slug: str):
        entry = _catalogue_entry(slug, _optional_customer(request))
        if entry is None:
            raise Http404
        return Response(s.RequestTypeSerializer(entry).data)


# --- the public wizard (abonnement, branchement) ---------------------------------------------------------


class DraftMixin:
    """A wizard step: the type, the caller (a visitor or a signed-in customer) and the draft."""

    def wizard(self, request, slug: str, token: str | None, *, new: bool = False):
        if slug not in drafts.WIZARD_KINDS:
            raise Http404
        request_type = drafts.wizard_request_type(slug)
        customer = _optional_customer(request)
        if token:
            state = drafts.draft_from_token(token, kind=slug, customer=customer)
        elif new or customer is not None:
            state = drafts.draft_new(kind=slug, customer=customer)
        else:
            raise drafts.DraftInvalid()
        return request_type, customer, state

    def answer(self, state, request_type, customer, *, message: str = "", errors=None, http_status=200):
        rows = drafts.draft_documents(state, request_type, errors)
        body = {
            "draft": drafts.draft_token(state),
            "next_step": drafts.draft_next_step(state, customer=customer),
            "otp_sent": bool(state.get("otp_phone")),
            "phone_verified": customer is not None or bool(state.get("phone_verified")),
            "summary": _rows(request_summary(state["info"], request_type=request_type)) if "info" in state else [],
            "documents": [
                {
                    "code": row["doc"].code,
                    "label": gettext(row["doc"].label),
                    "required": row["doc"].required,
                    "formats": row["formats"],
                    "accept": row["accept"],
                    "max_bytes": row["doc"].max_bytes,
                    "max_size": row["max_size"],
                    "staged": {k: row["staged"][k] for k in ("original", "size", "mime")} if row["staged"] else None,
                }
                for row in rows
            ],
            "message": message,
        }
        return Response(s.DraftStateSerializer(body).data, status=http_status)


class DraftPersonView(DraftMixin, PublicAPIView):
    """Step 1 of « Demande d'abonnement / de branchement » for a person with no account: their
    details, then a code by SMS to their mobile (a CIN/ICE the RAK knows: « identity_known », log
    in instead). Also « renvoyer le code »."""

    @extend_schema(
        tags=TAGS,
        operation_id="request_draft_person",
        request=s.DraftPersonSerializer,
        responses={200: s.DraftStateSerializer},
    )
    def post(self, request, slug: str):
        data = _parse(s.DraftPersonSerializer, request)
        request_type, customer, state = self.wizard(request, slug, data.get("draft"), new=True)
        if customer is not None:
            raise drafts.DraftInvalid(gettext("Vous êtes connecté : commencez à l'étape 2 (informations)."))
        person = _form_valid(PersonForm({k: v for k, v in data.items() if k != "draft"}))
        person = {k: v for k, v in person.items() if k != "otp"}
        now = clock.now()
        drafts.draft_person_set(
            state=state,
            person=person,
            identity_allowed=lambda identity: identity_check_allowed(request, identity),
            refused_message=identity_check_refused_message(),
        )
        drafts.draft_otp_send(state=state, now=now, sms_allow=lambda: _sms_allow(request, now))
        message = gettext(
            "Un code de confirmation (OTP) vous a été envoyé par SMS au numéro se terminant par %(digits)s."
        ) % {"digits": phone_last_digits(person["phone"])}
        return self.answer(state, request_type, customer, message=message)


class DraftOtpView(DraftMixin, PublicAPIView):
    @extend_schema(
        tags=TAGS,
        operation_id="request_draft_otp",
        request=s.DraftOtpSerializer,
        responses={200: s.DraftStateSerializer},
    )
    def post(self, request, slug: str):
        data = _parse(s.DraftOtpSerializer, request)
        request_type, customer, state = self.wizard(request, slug, data["draft"])
        drafts.draft_otp_verify(state=state, code=data["otp"], now=clock.now())
        return self.answer(state, request_type, customer)


class DraftInfoView(DraftMixin, PublicAPIView):
    """Step 2: the request's information (the portal's form and rules)."""

    @extend_schema(
        tags=TAGS,
        operation_id="request_draft_info",
        request=s.DraftInfoSerializer,
        responses={200: s.DraftStateSerializer},
    )
    def post(self, request, slug: str):
        data = _parse(s.DraftInfoSerializer, request)
        request_type, customer, state = self.wizard(request, slug, data.get("draft"))
        raw = {k: v for k, v in data.items() if k != "draft"}
        if "units" in raw:
            raw["units"] = str(raw["units"])
        form = WIZARD_FORMS[slug](raw)
        _form_valid(form)
        drafts.draft_info_set(state=state, customer=customer, info=form.to_data(), initial=info_initial(form))
        return self.answer(state, request_type, customer)


class DraftDocumentsView(DraftMixin, PublicAPIView):
    """Step 3: each document as a file field ``doc_<code>``, checked by content and size; every
    required document must be staged (in this call or an earlier one)."""

    parser_classes = MULTIPART

    @extend_schema(
        tags=TAGS,
        operation_id="request_draft_documents",
        request={"multipart/form-data": s.DraftDocumentsSerializer},
        responses={200: s.DraftStateSerializer},
    )
    def post(self, request, slug: str):
        data = _parse(s.DraftDocumentsSerializer, request)
        request_type, customer, state = self.wizard(request, slug, data["draft"])
        if drafts.draft_step(state, customer=customer, step=3) < 3:
            raise drafts.DraftIncomplete()
        errors = drafts.draft_files_stage(state=state, request_type=request_type, files=request.FILES)
        if errors:
            raise exceptions.ValidationError({f"doc_{code}": [message] for code, message in errors.items()})
        return self.answer(state, request_type, customer)


class DraftSubmitView(DraftMixin, PublicAPIView):
    """Step 4: the conditions accepted, the request filed (a new person becomes a customer with an
    account whose password goes by SMS)."""

    @extend_schema(
        tags=TAGS,
        operation_id="request_draft_submit",
        request=s.DraftSubmitSerializer,
        responses={201: s.RequestFiledSerializer},
    )
    def post(self, request, slug: str):
        data = _parse(s.DraftSubmitSerializer, request)
        request_type, customer, state = self.wizard(request, slug, data["draft"])
        form = ConfirmForm(
            {
                "accept_terms": "on" if data["accept_terms"] else "",
                "accept_data_processing": "on" if data["accept_data_processing"] else "",
            }
        )
        _form_valid(form)
        contact = None
        if customer is not None:
            contact = {"phone": customer_sms_phone(customer) or "", "email": customer_email(customer) or ""}
        filing = drafts.draft_submit(
            state=state,
            request_type=request_type,
            customer=customer,
            contact=contact,
            accept_terms=True,
            accept_data_processing=True,
            now=clock.now(),
            actor=request.user if customer is not None else None,
        )
        body = _filed_body(filing.request, str(FILED_MESSAGE) % {"number": filing.request.number}, filing=filing)
        return Response(s.RequestFiledSerializer(body).data, status=status.HTTP_201_CREATED)


# --- a kind's form (résiliation, compteurs collectifs, domiciliation bancaire…) --------------------------


def _kind_or_404(slug: str):
    kind = kind_by_slug(slug)
    if kind is None or not kind_has_customer_form(kind):
        raise Http404
    try:
        return kind, kind_request_type(kind)
    except KindUnavailable as exc:
        raise Http404 from exc


class KindFileView(CustomerAPIView):
    """File a request of a type served by a form (the catalogue's ``filing = form``): its fields and
    one file per document (``doc_<code>``), checked as on the portal. A type that asks an OTP
    answers 202 with a ``draft`` and sends the code by SMS: confirm with POST …/requests/confirm/."""

    parser_classes = MULTIPART

    @extend_schema(
        tags=TAGS,
        operation_id="request_kind_file",
        request={"multipart/form-data": s.KindFileSerializer, "application/json": s.KindFileSerializer},
        responses={201: s.RequestFiledSerializer, 202: s.KindPendingSerializer},
    )
    def post(self, request, slug: str):
        kind, request_type = _kind_or_404(slug)
        _parse(s.KindFileSerializer, request)
        customer = request.customer
        now = clock.now()
        staging: dict = {}
        submission = KindSubmission(
            kind=kind,
            request_type=request_type,
            customer=customer,
            staging=staging,
            data=_body(request),
            files=request.FILES,
        )
        valid = submission.is_valid(now=now)
        errors = {name: [str(e) for e in errs] for name, errs in submission.form.errors.items()}
        errors.update({row.field_name: [row.error] for row in submission.rows if row.error})
        if not valid or errors:
            raise exceptions.ValidationError(errors or {"non_field_errors": [gettext("Demande invalide.")]})
        if kind.requires_contact and kind_contact_missing(customer):
            raise ContactMissing()
        if not kind.requires_otp:
            _sms_allow(request, now)  # filing queues the acknowledgement SMS
            filed = kind_request_file(
                kind=kind,
                customer=customer,
                data=submission.valid_data,
                staged=staging.get("files", {}),
                staging_token=staging.get("token", ""),
                now=now,
                actor=request.user,
            )
            body = _filed_body(filed, str(FILED_MESSAGE) % {"number": filed.number})
            return Response(s.RequestFiledSerializer(body).data, status=status.HTTP_201_CREATED)
        phone = customer_sms_phone(customer) or ""
        try:
            kind_otp_send(customer=customer, user=request.user, now=now, sms_allow=lambda: _sms_allow(request, now))
        except OtpResendTooEarly as exc:  # the code sent a moment ago is still valid (as on the portal)
            message = exc.message
        else:
            message = gettext(
                "Un code de confirmation (OTP) vous a été envoyé par SMS au numéro se terminant par %(hint)s."
            ) % {"hint": phone_last_digits(phone)}
        body = {
            "otp_required": True,
            "draft": kind_pending_token(kind=kind, customer=customer, data=submission.valid_data, staging=staging),
            "phone_hint": phone_last_digits(phone),
            "message": message,
        }
        return Response(s.KindPendingSerializer(body).data, status=status.HTTP_202_ACCEPTED)


class KindConfirmView(CustomerAPIView):
    """The code received by SMS: the pending request is filed."""

    @extend_schema(
        tags=TAGS,
        operation_id="request_kind_confirm",
        request=s.KindConfirmSerializer,
        responses={201: s.RequestFiledSerializer},
    )
    def post(self, request, slug: str):
        kind, _request_type = _kind_or_404(slug)
        data = _parse(s.KindConfirmSerializer, request)
        pending = kind_pending_from_token(data["draft"], kind=kind, customer=request.customer)
        filed = kind_pending_file(
            kind=kind, customer=request.customer, pending=pending, code=data["otp"], now=clock.now(), actor=request.user
        )
        body = _filed_body(filed, str(FILED_MESSAGE) % {"number": filed.number})
        return Response(s.RequestFiledSerializer(body).data, status=status.HTTP_201_CREATED)


# --- « Suivi des demandes » -------------------------------------------------------------------------------


class RequestListView(CustomerGenericView):
    """The customer's requests, newest first (two queries per page)."""

    serializer_class = s.RequestSummarySerializer

    @extend_schema(
        tags=TAGS, operation_id="requests_list", request=None, responses={200: s.RequestSummarySerializer(many=True)}
    )
    def get(self, request):
        page = self.paginate_queryset(customer_requests(request.customer.pk))
        return self.get_paginated_response(s.RequestSummarySerializer([request_body(r) for r in page], many=True).data)


def _detail_body(service_request: ServiceRequest) -> dict:
    t = request_tracking(service_request)
    life = t["lifecycle"]
    return {
        **request_body(service_request),
        "steps": [{"name": gettext(step.name), "done": step.done, "current": step.current} for step in t["steps"]],
        "events": [
            {
                "at": e.at,
                "kind": e.kind,
                "kind_label": e.get_kind_display(),
                "actor_kind": e.actor_kind,
                "message": e.message,
                "phase": gettext(e.to_phase.name) if e.to_phase_id else "",
            }
            for e in t["events"]
        ],
        "attachments": [
            {
                "id": a.pk,
                "label": gettext(a.label),
                "original_name": a.original_name,
                "content_type": a.content_type,
                "size": a.size,
                "uploaded_at": a.uploaded_at,
            }
            for a in t["attachments"]
        ],
        "complement": t["complement"],
        "summary": _rows(t["summary"]),
        "receipt_available": t["receipt_available"],
        "actions": {
            "answer_complement": service_request.status == ServiceRequest.Status.COMPLEMENT_DEMANDE,
            "cancel": t["can_cancel"],
            "call": life["can_call"],
            "sign": life["can_sign"],
            "pay_fees": life["can_pay"],
            "accept_quote": t["accept_quote"],
            "pay_works": t["works_payable"],
            "final_index": bool(t["final_index_dossiers"]),
        },
        "contracts": [_contract_body(c, life["contracts_downloadable"]) for c in life["contracts"]],
        "fee_bill": _bill_body(service_request.fee_bill if service_request.fee_bill_id else None),
        "final_index_dossiers": t["final_index_dossiers"],
    }


class RequestDetailView(CustomerAPIView):
    @extend_schema(
        tags=TAGS, operation_id="requests_retrieve", request=None, responses={200: s.RequestDetailSerializer}
    )
    def get(self, request, number: str):
        return Response(s.RequestDetailSerializer(_detail_body(_own_request(request, number))).data)


class RequestReceiptView(CustomerAPIView):
    @extend_schema(tags=TAGS, operation_id="requests_receipt_pdf", request=None, responses=PDF)
    def get(self, request, number: str):
        service_request = _own_request(request, number)
        if service_request.receipt is None:
            raise Http404
        return private_file_response(
            service_request.receipt.file, as_attachment=True, download_name=f"recu-{service_request.number}.pdf"
        )


ATTACHMENT_TYPES = ("application/pdf", "image/jpeg", "image/png", "image/webp", "image/heic", "application/zip")


class RequestAttachmentView(CustomerAPIView):
    """One of the customer's own attachments (the ``attachments`` of the tracking), as stored."""

    @extend_schema(
        tags=TAGS,
        operation_id="requests_attachment",
        request=None,
        responses={
            **{(200, media): OpenApiTypes.BINARY for media in ATTACHMENT_TYPES},
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
        },
    )
    def get(self, request, pk: int):
        attachment = customer_attachment(request.customer.pk, pk)
        if attachment is None:
            raise Http404
        return private_file_response(attachment.file, download_name=attachment.original_name or None)


class RequestComplementView(CustomerAPIView):
    """« Répondre » to a complement request: a message and/or a file (PDF, image or archive, 2 Mo)."""

    parser_classes = MULTIPART

    @extend_schema(
        tags=TAGS,
        operation_id="requests_complement_answer",
        request={"multipart/form-data": s.ComplementAnswerSerializer, "application/json": s.ComplementAnswerSerializer},
        responses={200: s.RequestDetailSerializer},
    )
    def post(self, request, number: str):
        service_request = _own_request(request, number)
        data = _parse(s.ComplementAnswerSerializer, request)
        upload = data.get("file")
        try:
            request_answer_complement(
                request_id=service_request.pk,
                user=request.user,
                text=data.get("text") or "",
                file=upload,
                now=clock.now(),
            )
        except UploadRefused as exc:
            raise exceptions.ValidationError({"file": [exc.message]}) from exc
        return Response(s.RequestDetailSerializer(_detail_body(_own_request(request, number))).data)


class RequestCancelView(CustomerAPIView):
    @extend_schema(tags=TAGS, operation_id="requests_cancel", request=None, responses={200: s.RequestDetailSerializer})
    def post(self, request, number: str):
        service_request = _own_request(request, number)
        request_cancel(request_id=service_request.pk, user=request.user, now=clock.now())
        return Response(s.RequestDetailSerializer(_detail_body(_own_request(request, number))).data)


class RequestFinalIndexView(CustomerAPIView):
    """A termination waiting for « Communiquer l'index final de votre compteur »: the index and a
    photo of the dial (the checks of « Relève de mon index »); an implausible index is refused with
    « reading_needs_confirmation » until posted again with ``confirm``."""

    parser_classes = MULTIPART

    @extend_schema(
        tags=TAGS,
        operation_id="requests_final_index",
        request={"multipart/form-data": s.FinalIndexSerializer},
        responses={200: s.RequestDetailSerializer},
    )
    def post(self, request, number: str):
        service_request = _own_request(request, number)
        data = _parse(s.FinalIndexSerializer, request)
        try:
            termination_final_reading_submit(
                request_id=service_request.pk,
                customer_id=request.customer.pk,
                user=request.user,
                dossier_number=data["dossier"],
                index=data["index"],
                photo=data["photo"],
                now=clock.now(),
                confirmed=bool(data.get("confirm")),
            )
        except UploadRefused as exc:
            raise exceptions.ValidationError({"photo": [exc.message]}) from exc
        except (IndexBelowPrevious, InvalidValue) as exc:
            raise exceptions.ValidationError({"index": [exc.message]}) from exc
        except ReadingNeedsConfirmation:
            raise
        return Response(s.RequestDetailSerializer(_detail_body(_own_request(request, number))).data)


class RequestPayView(CustomerAPIView):
    """« Payer les frais » (subscription, after the signature) or « Payer les travaux » (connection,
    after the quote): the CMI order and what opens CMI's page (as POST /payments/orders/), then poll
    GET /payments/orders/{oid}/. The conditions must be accepted, as on the portal."""

    @extend_schema(
        tags=TAGS,
        operation_id="requests_pay",
        request=s.RequestPaySerializer,
        responses={201: payment_views.s.CheckoutAnswerSerializer},
    )
    def post(self, request, number: str):
        service_request = _own_request(request, number)
        data = _parse(s.RequestPaySerializer, request)
        _form_valid(ConditionsForm({"conditions": "on" if data["conditions"] else ""}))
        email = data.get("email") or customer_email(request.customer) or request.user.email or ""
        try:
            order = request_payment_start(
                request_id=service_request.pk, customer=request.customer, email=email, now=clock.now()
            )
        except lifecycle.RequestNotFound as exc:
            raise Http404 from exc
        return payment_views.checkout_answer(request, order, status_code=status.HTTP_201_CREATED)


# --- the subscription's call and contracts ----------------------------------------------------------------


class RequestCallView(CustomerAPIView):
    """« Appeler »: an agent calls the customer back to check their identity before the signature."""

    @extend_schema(tags=TAGS, operation_id="requests_call", request=None, responses={200: s.MessageSerializer})
    def post(self, request, number: str):
        service_request = _own_request(request, number)
        try:
            lifecycle.call_request_create(request_id=service_request.pk, customer=request.customer, now=clock.now())
        except lifecycle.RequestNotFound as exc:
            raise Http404 from exc
        body = {
            "message": gettext(
                "Votre demande d'appel est enregistrée : un conseiller de la RAK va vous appeler pour vérifier "
                "votre identité."
            ),
            "request": request_body(_own_request(request, number)),
        }
        return Response(s.MessageSerializer(body).data)


def _own_contract(request, pk: int) -> Contract:
    return get_object_or_404(
        Contract.objects.select_related("request__fee_bill", "document"), pk=pk, request__customer=request.customer
    )


class ContractSignView(CustomerAPIView):
    """Sign a contract with the signature drawn in the app (PNG data URL, checked like the portal's
    canvas); the last one issues the fees invoice (then « pay_fees »)."""

    @extend_schema(
        tags=TAGS,
        operation_id="contracts_sign",
        request=s.ContractSignSerializer,
        responses={200: s.ContractSignedSerializer},
    )
    def post(self, request, pk: int):
        contract = _own_contract(request, pk)
        data = _parse(s.ContractSignSerializer, request)
        try:
            signed = lifecycle.contract_sign(
                contract_id=contract.pk,
                customer=request.customer,
                signature_data_url=data["signature"],
                ip=client_ip(request),
                now=clock.now(),
            )
        except lifecycle.RequestNotFound as exc:
            raise Http404 from exc
        service_request = _own_request(request, contract.request.number)
        if service_request.expected_action == ServiceRequest.Action.PAY:
            message = gettext("Votre contrat est signé. Il vous reste à payer vos frais d'abonnement.")
        else:
            message = gettext("Contrat %(service)s signé.") % {"service": signed.get_service_display().lower()}
        body = {
            "contract": _contract_body(signed, lifecycle.contracts_downloadable(service_request)),
            "request": request_body(service_request),
            "message": message,
        }
        return Response(s.ContractSignedSerializer(body).data)


class ContractPdfView(CustomerAPIView):
    @extend_schema(tags=TAGS, operation_id="contracts_pdf", request=None, responses=PDF)
    def get(self, request, pk: int):
        contract = _own_contract(request, pk)
        if contract.document is None or not lifecycle.contracts_downloadable(contract.request):
            raise Http404
        return private_file_response(
            contract.document.file,
            as_attachment=True,
            download_name=f"contrat-{contract.request.number}-{contract.service.lower()}.pdf",
        )


# --- « Mes devis » ----------------------------------------------------------------------------------------


def _quote_body(quote: Quote) -> dict:
    today = timezone.localdate(clock.now())
    expired = quote.status == Quote.Status.VALIDE and quote.valid_until is not None and quote.valid_until < today
    bill = quote.request.fee_bill if quote.request.fee_bill_id else None
    works = bill if quote.status == Quote.Status.ACCEPTE and bill is not None and bill.kind == "WORKS" else None
    return {
        "id": quote.pk,
        "number": quote.number,
        "request_number": quote.request.number,
        "status": quote.status,
        "status_label": quote.get_status_display(),
        "amount_ht": quote.amount_ht,
        "amount_tva": quote.amount_tva,
        "amount_ttc": quote.amount_ttc,
        "valid_until": quote.valid_until,
        "issued_at": quote.issued_at,
        "accepted_at": quote.accepted_at,
        "expired": expired,
        "can_accept": quote.status == Quote.Status.VALIDE and not expired,
        "pdf_available": quote.status in (Quote.Status.VALIDE, Quote.Status.ACCEPTE) and quote.document_id is not None,
        "lines": [
            {k: str(line.get(k, "")) for k in ("label", "quantity", "unit_price", "amount")}
            for line in quote.lines or []
        ],
        "works_bill": _bill_body(works),
    }


def _quotes(customer):
    return (
        Quote.objects.filter(request__customer=customer)
        .exclude(status=Quote.Status.EN_PREPARATION)
        .select_related("request", "request__fee_bill")
        .order_by("-issued_at", "-id")
    )


class QuoteListView(CustomerGenericView):
    serializer_class = s.QuoteSerializer

    @extend_schema(tags=TAGS, operation_id="quotes_list", request=None, responses={200: s.QuoteSerializer(many=True)})
    def get(self, request):
        page = self.paginate_queryset(_quotes(request.customer))
        return self.get_paginated_response(s.QuoteSerializer([_quote_body(q) for q in page], many=True).data)


class QuoteDetailView(CustomerAPIView):
    @extend_schema(tags=TAGS, operation_id="quotes_retrieve", request=None, responses={200: s.QuoteSerializer})
    def get(self, request, pk: int):
        return Response(s.QuoteSerializer(_quote_body(get_object_or_404(_quotes(request.customer), pk=pk))).data)


class QuotePdfView(CustomerAPIView):
    @extend_schema(tags=TAGS, operation_id="quotes_pdf", request=None, responses=PDF)
    def get(self, request, pk: int):
        quote = get_object_or_404(_quotes(request.customer).select_related("document"), pk=pk)
        if quote.status not in (Quote.Status.VALIDE, Quote.Status.ACCEPTE) or quote.document is None:
            raise Http404
        return private_file_response(quote.document.file, as_attachment=True, download_name=f"devis-{quote.number}.pdf")


class QuoteAcceptView(CustomerAPIView):
    """Accept a valid quote: the works invoice is issued (« pay_works » on the request)."""

    @extend_schema(tags=TAGS, operation_id="quotes_accept", request=None, responses={200: s.QuoteAcceptedSerializer})
    def post(self, request, pk: int):
        quote = get_object_or_404(_quotes(request.customer), pk=pk)
        quote_accept(quote_id=quote.pk, customer=request.customer, now=clock.now(), actor=request.user)
        quote = _quotes(request.customer).get(pk=pk)
        bill = quote.request.fee_bill
        message = gettext(
            "Vous avez accepté le devis %(quote)s. Payez la facture des travaux n° %(bill)s (%(amount)s DH) "
            "en ligne ou en agence : les travaux seront programmés dès son paiement."
        ) % {"quote": quote.number, "bill": bill.number if bill else "", "amount": bill.total_ttc if bill else ""}
        return Response(s.QuoteAcceptedSerializer({"quote": _quote_body(quote), "message": message}).data)


# --- attestations ---------------------------------------------------------------------------------------


def _attestation_body(request_obj: ServiceRequest, document, data: AttestationData) -> dict:
    from rak_base.documents import reference_display

    valid = data.attestation_type in AttestationType.values
    return {
        "number": request_obj.number,
        "attestation_type": data.attestation_type,
        "type_label": data.type_label if valid else "",
        "dossier_number": data.dossier_number,
        "reference": reference_display(document.reference) if document is not None else "",
        "filed_at": request_obj.filed_at,
        "pdf_available": document is not None,
    }


class AttestationListView(CustomerGenericView):
    """« Demande d'attestations »: the customer's attestations (GET) and « Générer » (POST)."""

    serializer_class = s.AttestationSerializer
    pagination_class = None

    @extend_schema(
        tags=TAGS, operation_id="attestations_list", request=None, responses={200: s.AttestationSerializer(many=True)}
    )
    def get(self, request):
        rows = customer_attestations(request.customer.pk)
        return Response(
            s.AttestationSerializer([_attestation_body(r.request, r.document, r.data) for r in rows], many=True).data
        )

    @extend_schema(
        tags=TAGS,
        operation_id="attestations_generate",
        request=s.AttestationGenerateSerializer,
        responses={201: s.AttestationSerializer},
    )
    def post(self, request):
        data = _parse(s.AttestationGenerateSerializer, request)
        generated = attestation_generate(
            customer=request.customer,
            attestation_type=data["attestation_type"],
            dossier_number=data["dossier_number"],
            now=clock.now(),
            actor=request.user,
        )
        body = _attestation_body(
            generated.request, generated.document, AttestationData.from_json(generated.request.data)
        )
        return Response(s.AttestationSerializer(body).data, status=status.HTTP_201_CREATED)


class AttestationPdfView(CustomerAPIView):
    @extend_schema(tags=TAGS, operation_id="attestations_pdf", request=None, responses=PDF)
    def get(self, request, number: str):
        document = customer_attestation_document(request.customer.pk, number)
        if document is None:
            raise Http404
        return private_file_response(document.file, download_name=f"attestation-{number}.pdf")
