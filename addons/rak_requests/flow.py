"""The generic flow of the simple request types: what the portal page « /espace/services/<slug>/ »
and the counter filing of the back office share.

- ``KindSubmission``: one post of a kind's form (``kind.customer_form``) and of one file per
  ``RequiredDocument`` row of its type. Every file is checked by content and size
  (``document_check``, the one request upload check) and kept in the staging area
  (``rak_requests.filing.staging_store``) as soon as it is accepted, so that an error elsewhere on
  the page never makes the customer choose the file again; a required document neither posted nor
  staged is refused next to its field. The kind's ``filing_check`` runs before anything is sent
  (no OTP for a request that would be refused).
- ``kind_request_file``: filing a kind's typed data with the staged files (one service call: the
  kind's checks under the customer's lock, ``request_file``, the dossiers and premises of the
  data, ``on_filed``; channel WEB from the portal, AGENCY at the counter with the agent as actor).
- ``kind_requests``: the customer's requests of one type, for the list below the form.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django import forms
from django.core import signing
from django.db import transaction
from django.db.models import QuerySet
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from rak_base.errors import RakError
from rak_base.models import OneTimeCode
from rak_base.otp import otp_send, otp_verify
from rak_base.uploads import ValidatedUpload
from rak_customer.models import Customer
from rak_customer.selectors import customer_email, customer_sms_phone
from rak_requests.filing import (
    STAGING_MAX_AGE,
    FiledAttachment,
    request_file,
    staging_discard,
    staging_read,
    staging_store,
    staging_token_new,
)
from rak_requests.kinds.base import RequestData, RequestKind
from rak_requests.models import RequestEvent, RequestType, RequiredDocument, ServiceRequest
from rak_requests.uploads import document_help_text, document_upload_hints, request_upload_validate

DOCUMENT_REQUIRED = _("Cette pièce est obligatoire.")


class KindUnavailable(RakError):
    default_message = _("Ce service n'est pas disponible pour le moment.")


class ContactMissing(RakError):
    code = "contact_missing"
    default_message = _(
        "Dans l'absence de votre N° de téléphone ou d'adresse mail, Veuillez les renseigner avant de soumettre "
        "votre demande"
    )


class PendingInvalid(RakError):
    code = "draft_invalid"
    default_message = _("Votre demande en cours a expiré ou n'est plus valable : veuillez la recommencer.")


class IdentityNotChecked(RakError):
    default_message = _("Cochez « Pièce d'identité vérifiée au guichet » après avoir vérifié la pièce d'identité.")


# --- the one upload check of a required document ----------------------------------------------------


def document_check(document: RequiredDocument, file) -> ValidatedUpload:
    """A file posted for ``document``: the requests' one upload check (``rak_requests.uploads``:
    the document's formats and maximum size, by content). Raises ``UploadRefused`` (French)."""
    return request_upload_validate(file, document=document)


def document_accept(document: RequiredDocument) -> str:
    """The ``accept=`` attribute of the file input (a hint for the picker; the content is checked)."""
    return document_upload_hints(document)["accept"]


# --- one post of the form and its documents ---------------------------------------------------------


@dataclass
class DocumentRow:
    document: RequiredDocument
    accept: str
    help: str
    staged: dict | None
    error: str = ""

    @property
    def field_name(self) -> str:
        return f"doc_{self.document.code}"


def kind_has_customer_form(kind: RequestKind, *, counter: bool = False) -> bool:
    """Whether the kind is served by the generic flow: it defines ``customer_form`` and, on the
    portal, has no page of its own (``portal_url_name``); the counter takes every kind with a form."""
    has_form = type(kind).customer_form is not RequestKind.customer_form
    return has_form and (counter or not kind.portal_url_name)


def kind_request_type(kind: RequestKind) -> RequestType:
    request_type = RequestType.objects.filter(code=kind.code, is_active=True).first()
    if request_type is None:
        raise KindUnavailable()
    return request_type


class KindSubmission:
    """The kind's form and its documents, bound to a post (or not). ``staging`` is the caller's
    session dict (``{"token": ..., "files": {code: staged}}``), updated in place."""

    def __init__(
        self,
        *,
        kind: RequestKind,
        request_type: RequestType,
        customer: Customer,
        staging: dict,
        data=None,
        files=None,
        initial: dict | None = None,
    ) -> None:
        self.kind = kind
        self.request_type = request_type
        self.customer = customer
        self.staging = staging
        self.bound = data is not None
        self.files = files or {}
        form = kind.customer_form(customer=customer, data=data, files=files)
        if form is None:
            raise KindUnavailable()
        if initial and not self.bound:
            form.initial.update(initial)
        self.form: forms.Form = form
        self.documents = list(request_type.documents.order_by("position", "id"))
        self.rows = [
            DocumentRow(
                document=document,
                accept=document_accept(document),
                help=document_help_text(document),
                staged=self.staged.get(document.code),
            )
            for document in self.documents
        ]
        self.typed_data: RequestData | None = None

    @property
    def valid_data(self) -> RequestData:
        """``typed_data`` once ``is_valid`` returned True."""
        if self.typed_data is None:
            raise RuntimeError("KindSubmission.valid_data read before is_valid() returned True")
        return self.typed_data

    @property
    def staged(self) -> dict:
        return self.staging.setdefault("files", {})

    @property
    def token(self) -> str:
        return self.staging.setdefault("token", staging_token_new())

    @property
    def has_errors(self) -> bool:
        return bool(self.form.errors) or any(row.error for row in self.rows)

    def _stage_documents(self) -> None:
        for row in self.rows:
            upload = self.files.get(row.field_name)
            if upload is None:
                continue
            try:
                validated = document_check(row.document, upload)
            except RakError as exc:
                row.error = exc.message
                continue
            self.staged[row.document.code] = staging_store(
                token=self.token, document_code=row.document.code, upload=validated, original_name=upload.name
            )
            row.staged = self.staged[row.document.code]
        for row in self.rows:
            if row.document.required and row.document.code not in self.staged and not row.error:
                row.error = str(DOCUMENT_REQUIRED)

    def is_valid(self, *, now: datetime) -> bool:
        """Stage the accepted files (whatever else is wrong), validate the form, build the typed
        data and run the kind's filing checks."""
        if not self.bound:
            return False
        self._stage_documents()
        if not self.form.is_valid():
            return False
        try:
            data = self.kind.data_from_form(customer=self.customer, cleaned=self.form.cleaned_data)
            self.kind.filing_check(customer=self.customer, data=data, now=now)
        except RakError as exc:
            self.form.add_error(None, exc.message)
            return False
        if any(row.error for row in self.rows):
            return False
        self.typed_data = data
        return True


def form_initial(form: forms.Form, saved: dict) -> dict:
    """Initial values from a post kept in the session (``{name: [values]}``): the form comes back
    as the customer left it after a detour (contact details, OTP step)."""
    initial = {}
    for name, field in form.fields.items():
        if name not in saved:
            continue
        values = saved[name]
        multiple = isinstance(field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField)
        initial[name] = values if multiple else (values[0] if values else "")
    return initial


# --- filing ----------------------------------------------------------------------------------------


def _attachments(request_type: RequestType, staged: dict, token: str) -> list[FiledAttachment]:
    labels = {document.code: document.label for document in request_type.documents.all()}
    return [
        FiledAttachment(
            document_code=item["code"],
            label=labels[item["code"]],
            original_name=item["original"],
            content=staging_read(token=token, stored=item["stored"]),
            mime=item["mime"],
            sha256=item["sha256"],
            extension=item["stored"].rsplit(".", 1)[-1],
        )
        for item in staged.values()
        if item.get("code") in labels
    ]


def kind_request_file(
    *,
    kind: RequestKind,
    customer: Customer,
    data: RequestData,
    staged: dict,
    staging_token: str,
    now: datetime,
    actor,
    channel: str = ServiceRequest.Channel.WEB,
    identity_checked: bool = False,
) -> ServiceRequest:
    """File a request of a kind with the staged files: ``request_file`` runs the kind's checks
    under the customer's lock, numbers it, sets its dossiers and premises, joins the files, queues
    the acknowledgements and calls ``on_filed``. At the counter (AGENCY) the agent is the actor and
    « Pièce d'identité vérifiée au guichet » is recorded in the history."""
    request_type = kind_request_type(kind)
    if channel == ServiceRequest.Channel.AGENCY and not identity_checked:
        raise IdentityNotChecked()
    with transaction.atomic():
        request = request_file(
            request_type=request_type,
            customer=customer,
            data=data,
            attachments=_attachments(request_type, staged, staging_token),
            now=now,
            actor=actor,
            channel=channel,
        )
        if channel == ServiceRequest.Channel.AGENCY:
            with translation.override("fr"):  # stored in French, translated when shown (filing._filed_message)
                checked = gettext("Pièce d'identité vérifiée au guichet.")
            RequestEvent.objects.create(
                request=request,
                at=now,
                kind=RequestEvent.Kind.IDENTITY_CHECKED,
                actor_kind=RequestEvent.Actor.STAFF,
                actor=actor,
                message=checked,
            )
    staging_discard(token=staging_token)
    return request


def kind_requests(*, customer_id: int, request_type: RequestType) -> QuerySet[ServiceRequest]:
    """The customer's requests of one type, newest first, with their dossiers (two queries)."""
    return (
        ServiceRequest.objects.filter(customer_id=customer_id, request_type=request_type)
        .select_related("phase")
        .prefetch_related("dossiers")
        .order_by("-filed_at", "-id")
    )


# --- the OTP step of a kind that asks one (``requires_otp``) ---------------------------------------

OTP_PURPOSE = OneTimeCode.Purpose.REQUEST
PENDING_SALT = "rak_requests.flow.pending"


def kind_contact_missing(customer: Customer) -> bool:
    """The profile lacks the SMS phone or the e-mail (a ``requires_contact`` kind is refused then)."""
    return not (customer_sms_phone(customer) and customer_email(customer))


def kind_otp_send(*, customer: Customer, user, now: datetime, sms_allow) -> str:
    """The code of a kind that asks one, by SMS to the customer's phone (``sms_allow`` first: the
    portal's SMS throttle). Returns the phone; no phone: ``ContactMissing``."""
    phone = customer_sms_phone(customer)
    if not phone:
        raise ContactMissing()
    sms_allow()
    otp_send(phone=phone, purpose=OTP_PURPOSE, now=now, user=user)
    return phone


def kind_otp_verify(*, customer: Customer, code: str, now: datetime) -> None:
    otp_verify(phone=customer_sms_phone(customer) or "", purpose=OTP_PURPOSE, code=code, now=now)


def kind_pending_token(*, kind: RequestKind, customer: Customer, data: RequestData, staging: dict) -> str:
    """A submission waiting for its OTP, as a signed token (the API's app posts it back with the
    code): the kind, the customer, the typed data and the staged files."""
    state = {
        "kind": kind.slug,
        "customer": customer.pk,
        "data": data.to_json(),
        "files": staging.get("files", {}),
        "token": staging.get("token", ""),
    }
    return signing.dumps(state, salt=PENDING_SALT, compress=True)


def kind_pending_from_token(token: str, *, kind: RequestKind, customer: Customer) -> dict:
    try:
        state = signing.loads(token or "", salt=PENDING_SALT, max_age=STAGING_MAX_AGE)
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise PendingInvalid() from exc
    if not isinstance(state, dict) or state.get("kind") != kind.slug or state.get("customer") != customer.pk:
        raise PendingInvalid()
    return state


def kind_pending_file(*, kind: RequestKind, customer: Customer, pending: dict, code: str, now: datetime, actor):
    """The code received by SMS, then the filing of the pending submission."""
    kind_otp_verify(customer=customer, code=code, now=now)
    return kind_request_file(
        kind=kind,
        customer=customer,
        data=kind.data_class.from_json(pending.get("data") or {}),
        staged=pending.get("files") or {},
        staging_token=pending.get("token") or "",
        now=now,
        actor=actor,
    )
