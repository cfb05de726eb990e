"""Filing a request (« valider » of the public forms, or a customer's own request).

``request_file`` asks the type's module (``rak_requests.kinds``) to check what is filed
(``filing_check``, under the customer's row lock) and stores its typed data (``data_class``),
numbers the request from a per-type, per-year sequence (``AB2026-000001``), links the dossiers and
premises the data names, starts its first phase with that phase's SLA and expected action, records
the FILED event, joins the attachments (already validated by content and size, see ``staging``),
renders and registers the receipt PDF (document registry, kind REQUEST_RECEIPT, with its QR code),
queues the SMS « de prise en charge » and the e-mail « accusé de réception » (unless the type
answers at once, ``acknowledges_filing``), then runs the type's ``on_filed`` — one transaction.

``request_submit`` is what the public pages call: for a new person it first creates the prospect
customer with a code client and the portal account whose password goes by SMS
(``rak_customer.services.prospect_create_with_account``), then files.

Staging: files uploaded at step 3 wait under ``staging/<token>/`` of the private storage
(``STORAGES["default"]``: ``MEDIA_ROOT`` or the S3 bucket, so that « valider » may reach another
web host than step 3; random names) until « valider »; ``staging_purge`` removes what was left
behind by abandoned forms.
"""

from __future__ import annotations

import shutil
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rak_base.documents import document_reference_new, document_register, reference_display, verification_url
from rak_base.errors import RakError
from rak_base.models import Document
from rak_base.sequences import sequence_next
from rak_base.uploads import ValidatedUpload
from rak_billing.pdf import qr_data_uri
from rak_customer.language import customer_language
from rak_customer.models import Customer, PortalAccount
from rak_customer.services import PasswordDelivery, prospect_create_with_account
from rak_requests.engine import Notice, notify_customer, request_kind
from rak_requests.models import Attachment, RequestEvent, RequestType, ServiceRequest

STAGING_DIR = "staging"
STAGING_MAX_AGE = timedelta(hours=24)


class FilingError(RakError):
    default_message = gettext_lazy("Votre demande n'a pas pu être enregistrée, veuillez réessayer.")


class MissingDocuments(FilingError):
    pass


class TermsRequired(FilingError):
    default_message = gettext_lazy(
        "Vous devez accepter les conditions générales et donner votre accord au traitement de vos "
        "données personnelles (loi 09-08)."
    )


# --- staging of uploads between the steps ------------------------------------------------------


def _staging_folder(token: str) -> str:
    return f"{STAGING_DIR}/{token}"


def _local_path(name: str) -> Path | None:
    """The file system path of a storage name (FileSystemStorage), None on an object storage."""
    try:
        return Path(default_storage.path(name))
    except NotImplementedError:
        return None


def staging_token_new() -> str:
    return uuid.uuid4().hex


def staging_store(*, token: str, document_code: str, upload: ValidatedUpload, original_name: str) -> dict:
    """Keep a validated upload until « valider »: returns what the session remembers of it."""
    if not token.isalnum():
        raise FilingError()
    upload.file.seek(0)
    saved = default_storage.save(f"{_staging_folder(token)}/{upload.stored_name()}", File(upload.file))
    upload.file.seek(0)
    name = saved.rsplit("/", 1)[-1]
    return {
        "code": document_code,
        "stored": name,
        "original": Path(original_name or name).name[:200],
        "mime": upload.mime,
        "size": upload.size,
        "sha256": upload.sha256,
    }


def staging_read(*, token: str, stored: str) -> bytes:
    expired = FilingError(_("Une pièce jointe a expiré : veuillez la joindre à nouveau."))
    if not token.isalnum() or not stored or "/" in stored or "\\" in stored or stored.startswith("."):
        raise expired
    try:
        with default_storage.open(f"{_staging_folder(token)}/{stored}", "rb") as handle:
            return handle.read()
    except (FileNotFoundError, OSError) as exc:
        raise expired from exc


def _folder_delete(folder: str) -> None:
    try:
        _dirs, files = default_storage.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        files = []
    for name in files:
        default_storage.delete(f"{folder}/{name}")
    local = _local_path(folder)
    if local is not None:
        shutil.rmtree(local, ignore_errors=True)


def staging_discard(*, token: str) -> None:
    if token and token.isalnum():
        _folder_delete(_staging_folder(token))


def _folder_age_stamp(folder: str, files: list[str]) -> float:
    """When the folder last changed: its newest file (an object storage has no folders), or the
    directory itself on the file system."""
    local = _local_path(folder)
    if local is not None:
        return local.stat().st_mtime
    return max((default_storage.get_modified_time(f"{folder}/{name}").timestamp() for name in files), default=0.0)


def staging_purge(*, max_age: timedelta = STAGING_MAX_AGE) -> int:
    """Remove staged uploads older than ``max_age`` (abandoned forms); returns how many folders."""
    try:
        tokens, _files = default_storage.listdir(STAGING_DIR)
    except (FileNotFoundError, NotADirectoryError):
        return 0
    limit = time.time() - max_age.total_seconds()
    removed = 0
    for token in tokens:
        folder = _staging_folder(token)
        try:
            _dirs, files = default_storage.listdir(folder)
            if _folder_age_stamp(folder, files) >= limit:
                continue
        except FileNotFoundError:
            continue
        _folder_delete(folder)
        removed += 1
    return removed


# --- filing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FiledAttachment:
    document_code: str
    label: str
    original_name: str
    content: bytes
    mime: str
    sha256: str
    extension: str


@dataclass(frozen=True)
class Filing:
    request: ServiceRequest
    customer: Customer
    created_customer: bool = False
    delivery: PasswordDelivery | None = None
    extra: dict = field(default_factory=dict)


def request_number_next(*, request_type: RequestType, now: datetime) -> str:
    year = timezone.localtime(now).year
    value = sequence_next(name=f"request:{request_type.number_prefix}:{year}", start=1)
    return f"{request_type.number_prefix}{year}-{value:06d}"


def _check_documents(request_type: RequestType, attachments: list[FiledAttachment]) -> None:
    given = {a.document_code for a in attachments}
    missing = [_(d.label) for d in request_type.documents.all() if d.required and d.code not in given]
    if missing:
        raise MissingDocuments(_("Veuillez joindre : %(documents)s.") % {"documents": " ; ".join(missing)})


def _filed_message(channel: str) -> str:
    """The FILED event's line, stored in French (the source language) whatever the language the
    customer files in: the history translates it for whoever reads it (« Demande déposée sur
    l'agence en ligne. » was stored in Arabic when filed from the Arabic portal, and then read in
    Arabic by the back office and on the French portal)."""
    with translation.override("fr"):
        if channel == ServiceRequest.Channel.WEB:
            return str(_("Demande déposée sur l'agence en ligne."))
        return str(_("Demande déposée au guichet."))


@transaction.atomic
def request_file(
    *,
    request_type: RequestType,
    customer: Customer,
    data,
    attachments: list[FiledAttachment],
    now: datetime,
    actor=None,
    channel: str = ServiceRequest.Channel.WEB,
) -> ServiceRequest:
    """File a request (``data``: the type's ``RequestData``, or a dict read through its
    ``data_class``): the type's checks (``filing_check``, under the customer's row lock), number,
    first phase and its SLA, typed data, dossiers and premises the data names, FILED event,
    attachments, receipt PDF, SMS and e-mail acknowledgements (outbox), then the type's
    ``on_filed`` effects — one transaction. Raises MissingDocuments or the type's refusal."""
    from rak_requests.kinds.base import RequestData  # the kinds' modules build on this one

    kind = request_kind(ServiceRequest(request_type=request_type))
    typed = data if isinstance(data, RequestData) else kind.data_class.from_json(data)
    Customer.objects.select_for_update().filter(pk=customer.pk).values_list("pk", flat=True).get()
    kind.filing_check(customer=customer, data=typed, now=now)
    _check_documents(request_type, attachments)
    first_phase = request_type.phases.order_by("position").first()
    request = ServiceRequest(
        number=request_number_next(request_type=request_type, now=now),
        request_type=request_type,
        customer=customer,
        phase=first_phase,
        status=ServiceRequest.Status.EN_COURS,
        data=typed.to_json(),
        channel=channel,
        filed_at=now,
        phase_started_at=now if first_phase else None,
        phase_due_at=now + timedelta(days=first_phase.sla_days) if first_phase else None,
        premises=kind.premises_from_data(customer=customer, data=typed),
    )
    request.expected_action = kind.phase_rule(first_phase.code if first_phase else None).entry_action
    request.save()
    dossiers = list(kind.dossiers_from_data(customer=customer, data=typed))
    if dossiers:
        request.dossiers.set(dossiers)
    by_staff = channel == ServiceRequest.Channel.AGENCY and actor is not None and getattr(actor, "is_staff", False)
    event = RequestEvent.objects.create(
        request=request,
        at=now,
        kind=RequestEvent.Kind.FILED,
        actor_kind=RequestEvent.Actor.STAFF if by_staff else RequestEvent.Actor.CUSTOMER,
        actor=actor,
        to_phase=first_phase,
        message=_filed_message(channel),
    )
    for item in attachments:
        attachment = Attachment(
            request=request,
            document_code=item.document_code,
            label=item.label,
            original_name=item.original_name,
            content_type=item.mime,
            size=len(item.content),
            sha256=item.sha256,
            uploaded_by=actor,
            uploaded_at=now,
            event=event,
        )
        attachment.file.save(f"{uuid.uuid4().hex}.{item.extension}", ContentFile(item.content), save=False)
        attachment.save()
    if kind.acknowledges_filing:  # False: answered at once by its own document (attestation)
        with customer_language(request.customer):  # a request filed at the counter too
            request.receipt = receipt_register(request=request, now=now)
        request.save(update_fields=["receipt"])
        notify_customer(
            request=request,
            notice=Notice(
                subject=gettext_lazy("Accusé de réception"),
                text=lambda: (
                    _(
                        "Votre %(type)s a bien été reçue et prise en charge. "
                        "Vous recevrez un SMS après le traitement de votre demande."
                    )
                    % {"type": _(request_type.name).lower()}
                ),
            ),
        )
    kind.on_filed(request=request, now=now)
    return request


def receipt_register(*, request: ServiceRequest, now: datetime) -> Document:
    """Render the receipt (« reçu ») and register it: number, code client, information entered."""
    from rak_base.pdf import pdf_render

    reference = document_reference_new()
    url = verification_url(reference)
    html = render_to_string(
        "rak_requests/pdf/request_receipt.html",
        {
            "request": request,
            "customer": request.customer,
            "summary": request_summary(request),
            "documents": list(request.attachments.order_by("id")),
            "reference": reference_display(reference),
            "qr_uri": qr_data_uri(url),
            "verification_url": url,
            "filed_at": timezone.localtime(request.filed_at),
            "now": timezone.localtime(now),
        },
    )
    pdf = pdf_render(html)
    account = PortalAccount.objects.filter(customer_id=request.customer_id).select_related("user").first()
    return document_register(
        kind=Document.Kind.REQUEST_RECEIPT,
        title=_("Reçu de la demande %(number)s") % {"number": request.number},
        owner=account.user if account else None,
        owner_label=request.customer.display_name,
        subject=request,
        pdf_bytes=pdf,
        reference=reference,
    )


HIDDEN_KEYS = {"phone", "email"}  # shown with the applicant, not with the request


def request_summary(request_or_data, *, request_type: RequestType | None = None) -> list[tuple[str, str]]:
    """(label, value) rows of a request's data, in the words of its type's module
    (``RequestKind.summary``: French labels, chosen options' labels). ``request_or_data``: a
    request, or the data entered so far with its ``request_type`` (a form's review step). Data of
    a type that has no module yet is shown as entered."""
    request: ServiceRequest | None
    if isinstance(request_or_data, ServiceRequest):
        request = request_or_data
    else:
        request = ServiceRequest(request_type=request_type, data=request_or_data) if request_type else None
    if request is not None:
        kind = request_kind(request)
        if kind.code:
            return kind.summary(request.data or {})
    data = request.data if request is not None else request_or_data
    return [
        (str(key).replace("_", " ").capitalize(), _summary_value(value))
        for key, value in (data or {}).items()
        if key not in HIDDEN_KEYS and not key.endswith(("_label", "_labels")) and value not in (None, "")
    ]


def _summary_value(value) -> str:
    """A value as words: lists joined with commas, mappings as « clé : valeur », booleans Oui/Non
    (never a Python or JSON literal on a page)."""
    if isinstance(value, bool):
        return _("Oui") if value else _("Non")
    if isinstance(value, dict):
        return ", ".join(f"{str(k).replace('_', ' ')} : {_summary_value(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_summary_value(v) for v in value)
    return str(value)


def request_submit(
    *,
    request_type: RequestType,
    customer: Customer | None,
    person: dict | None,
    data: dict,
    staged: list[dict],
    staging_token: str,
    accept_terms: bool,
    accept_data_processing: bool,
    now: datetime,
    actor=None,
) -> Filing:
    """« valider » of the public forms: checks the acceptances, creates the prospect customer and
    their account for a new person (``person``: civility, names, identity, phone, e-mail, kind),
    files the request with the staged attachments, then discards the staging area."""
    if not (accept_terms and accept_data_processing):
        raise TermsRequired()
    labels = {d.code: d.label for d in request_type.documents.all()}
    attachments = []
    for item in staged:
        if item["code"] not in labels:
            continue
        attachments.append(
            FiledAttachment(
                document_code=item["code"],
                label=labels[item["code"]],
                original_name=item["original"],
                content=staging_read(token=staging_token, stored=item["stored"]),
                mime=item["mime"],
                sha256=item["sha256"],
                extension=item["stored"].rsplit(".", 1)[-1],
            )
        )
    delivery = None
    with transaction.atomic():
        created = customer is None
        if customer is None:
            if person is None:
                raise TypeError("request_submit: a new customer needs their ``person``")
            customer, account, delivery = prospect_create_with_account(
                identity=person["identity"],
                phone=person["phone"],
                civility=person.get("civility", ""),
                first_name=person.get("first_name", ""),
                last_name=person.get("last_name", ""),
                company_name=person.get("company_name", ""),
                email=person.get("email", ""),
                kind=person.get("kind") or Customer.Kind.PARTICULIER,
                origin=PortalAccount.Origin.PROSPECT,
                now=now,
            )
            actor = account.user
        request = request_file(
            request_type=request_type, customer=customer, data=data, attachments=attachments, now=now, actor=actor
        )
    staging_discard(token=staging_token)
    return Filing(request=request, customer=customer, created_customer=created, delivery=delivery)
