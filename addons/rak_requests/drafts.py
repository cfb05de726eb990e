"""The staged draft of the public 4-step requests (« Demande d'abonnement », « Demande de
branchement »): what the portal's wizard kept in its view and the API's app needs too.

A draft is a plain JSON-able dict (``person``, ``identity_checked``, ``otp_phone``,
``phone_verified``, ``info``, ``info_initial``, ``files`` with the staging ``token``,
``files_done``). The services below change it in place; the caller keeps it:

- the portal in the visitor's session (``rak_request_<kind>``), as before;
- the API in a signed token (``draft_token`` / ``draft_from_token``: ``django.core.signing``, a salt,
  the staging's maximum age) returned to the app and posted back with the next step. The token
  names the request type and the customer it was started for: a token of another type or another
  customer is refused (``DraftInvalid``), and a verified phone cannot be forged.

Steps: 1 ``draft_person_set`` (identity counted once per draft, a known CIN/ICE is asked to log
in), ``draft_otp_send`` / ``draft_otp_verify`` (skipped by a logged-in customer); 2
``draft_info_set``; 3 ``draft_files_stage`` (each file checked by content and size against the
type's documents, kept in the staging area); 4 ``draft_submit`` (one filing, then the staging
discarded). ``draft_step`` says which step the draft may be at.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from django.core import signing
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from rak_base.errors import RakError
from rak_base.models import OneTimeCode
from rak_base.otp import otp_send, otp_verify
from rak_customer.models import Customer
from rak_customer.selectors import customer_by_identity
from rak_requests.filing import STAGING_MAX_AGE, Filing, request_submit, staging_store, staging_token_new
from rak_requests.models import RequestType
from rak_requests.uploads import document_upload_hints, request_upload_validate

DRAFT_SALT = "rak_requests.drafts"
OTP_PURPOSE = OneTimeCode.Purpose.REQUEST
#: the wizard's request types (URL part -> RequestType code)
WIZARD_KINDS = {"abonnement": RequestType.Code.SUBSCRIPTION, "branchement": RequestType.Code.CONNECTION}


class DraftError(RakError):
    default_message = _("Votre demande n'a pas pu être enregistrée, veuillez réessayer.")


class DraftInvalid(DraftError):
    code = "draft_invalid"
    default_message = _("Votre demande en cours a expiré ou n'est plus valable : veuillez la recommencer.")


class ServiceUnavailable(DraftError):
    code = "service_unavailable"
    http_status = 404
    default_message = _("Ce service n'est pas disponible pour le moment.")


class IdentityKnown(DraftError):
    code = "identity_known"
    default_message = _(
        "Ce CIN/ICE existe déjà chez la RAK : veuillez vous connecter pour déposer votre demande. Si vous n'avez "
        "pas votre code client et votre mot de passe, utilisez « Créer mon compte »."
    )


class IdentityChecksExceeded(DraftError):
    code = "throttled"
    http_status = 429


class OtpMissing(DraftError):
    code = "otp_required"
    default_message = _(
        "Vérifiez votre numéro de téléphone : cliquez sur « vérifier » puis saisissez le code reçu par SMS."
    )


class PhoneNotVerified(DraftError):
    code = "phone_not_verified"
    default_message = _("Vérifiez d'abord votre numéro de téléphone avec le code reçu par SMS.")


class DraftIncomplete(DraftError):
    code = "draft_incomplete"
    default_message = _("Complétez d'abord les étapes précédentes de votre demande.")


class DocumentsRefused(DraftError):
    """Step 3 refused: ``errors`` maps each document code to its French message."""

    code = "documents_invalid"
    default_message = _("Certaines pièces jointes sont manquantes ou refusées.")

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__()
        self.errors = errors


# --- the request type and the draft's token -------------------------------------------------------------


def wizard_request_type(kind: str) -> RequestType:
    """The active request type of a wizard's URL part (« abonnement », « branchement »)."""
    code = WIZARD_KINDS.get(kind)
    request_type = RequestType.objects.filter(code=code, is_active=True).first() if code else None
    if request_type is None:
        raise ServiceUnavailable()
    return request_type


def draft_new(*, kind: str, customer: Customer | None) -> dict:
    return {"kind": kind, "customer": customer.pk if customer is not None else None}


def draft_token(state: dict) -> str:
    """The draft as a signed token (the API's app posts it back with the next step)."""
    return signing.dumps(state, salt=DRAFT_SALT, compress=True)


def draft_from_token(token: str, *, kind: str, customer: Customer | None) -> dict:
    """The draft of a token made by ``draft_token`` for this type and this customer (None: a visitor
    not logged in); expired, altered or someone else's: ``DraftInvalid``."""
    try:
        state = signing.loads(token or "", salt=DRAFT_SALT, max_age=STAGING_MAX_AGE)
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise DraftInvalid() from exc
    if not isinstance(state, dict) or state.get("kind") != kind:
        raise DraftInvalid()
    if state.get("customer") != (customer.pk if customer is not None else None):
        raise DraftInvalid()
    return state


def draft_step(state: dict, *, customer: Customer | None, step: int) -> int:
    """The step the draft may be at when ``step`` is asked (an earlier one while a step is missing)."""
    if step > 1 and customer is None and not state.get("phone_verified"):
        return 1
    if step > 2 and "info" not in state:
        return 2
    if step > 3 and not state.get("files_done"):
        return 3
    return step


def draft_next_step(state: dict, *, customer: Customer | None) -> int:
    return draft_step(state, customer=customer, step=4)


# --- step 1: the person and their phone ------------------------------------------------------------------


def draft_person_set(
    *, state: dict, person: dict, identity_allowed: Callable[[str], bool], refused_message: str
) -> None:
    """The person's details (a ``PersonForm``'s cleaned data without the code). Each CIN/ICE is
    counted once per draft by ``identity_allowed`` (the portal's identity-check throttle): refused,
    ``IdentityChecksExceeded``; a CIN/ICE the RAK knows: ``IdentityKnown`` (log in instead). A new
    phone number must be verified again."""
    identity = person["identity"]
    if state.get("identity_checked") != identity:
        if not identity_allowed(identity):
            raise IdentityChecksExceeded(refused_message)
        state["identity_checked"] = identity
    if customer_by_identity(identity) is not None:
        raise IdentityKnown()
    if state.get("phone_verified") != person["phone"]:
        state.pop("phone_verified", None)
    state["person"] = person


def draft_otp_send(*, state: dict, now: datetime, sms_allow: Callable[[], None]) -> str:
    """« vérifier » / « renvoyer »: a code by SMS to the draft's phone (``sms_allow`` first: the
    portal's SMS throttle). Returns the phone."""
    person = state.get("person")
    if not person:
        raise DraftIncomplete()
    sms_allow()
    otp_send(phone=person["phone"], purpose=OTP_PURPOSE, now=now)
    state["otp_phone"] = person["phone"]
    return person["phone"]


def draft_otp_verify(*, state: dict, code: str, now: datetime) -> None:
    """The code received by SMS: the draft's phone is verified (nothing to do when it already is)."""
    person = state.get("person")
    if not person:
        raise DraftIncomplete()
    phone = person["phone"]
    if state.get("phone_verified") == phone:
        return
    if not code or state.get("otp_phone") != phone:
        raise OtpMissing()
    otp_verify(phone=phone, purpose=OTP_PURPOSE, code=code, now=now)
    state["phone_verified"] = phone


# --- step 2: the request's information -------------------------------------------------------------------


def draft_info_set(*, state: dict, customer: Customer | None, info: dict, initial: dict | None = None) -> None:
    """The request's information (the info form's ``to_data()``); ``initial``: the form's values
    to show again on « précédent »."""
    if draft_step(state, customer=customer, step=2) < 2:
        raise PhoneNotVerified()
    state["info"] = info
    if initial is not None:
        state["info_initial"] = initial


# --- step 3: the documents -------------------------------------------------------------------------------


def draft_files_stage(
    *, state: dict, request_type: RequestType, files: Mapping, finish: bool = True, field: str = "doc_{code}"
) -> dict[str, str]:
    """Check each posted file (``files[field.format(code=...)]``) by content and size against its
    document and keep it in the staging area; with ``finish``, a required document neither posted
    nor staged is an error. Returns the errors (document code -> message) and marks the draft's
    documents done when there are none and ``finish``."""
    staged = state.setdefault("files", {})
    token = state.setdefault("token", staging_token_new())
    errors: dict[str, str] = {}
    documents = list(request_type.documents.order_by("position", "id"))
    for doc in documents:
        upload = files.get(field.format(code=doc.code))
        if upload is None:
            continue
        try:
            validated = request_upload_validate(upload, document=doc)
        except RakError as exc:
            errors[doc.code] = exc.message
            continue
        staged[doc.code] = staging_store(
            token=token, document_code=doc.code, upload=validated, original_name=upload.name
        )
    if finish:
        for doc in documents:
            if doc.required and doc.code not in staged and doc.code not in errors:
                errors[doc.code] = gettext("Cette pièce est obligatoire.")
        state["files_done"] = not errors
    return errors


def draft_documents(state: dict, request_type: RequestType, errors: dict | None = None) -> list[dict]:
    """The type's documents with what the draft holds for each (and its error, if any)."""
    staged = state.get("files", {})
    rows = []
    for doc in request_type.documents.order_by("position", "id"):
        hints = document_upload_hints(doc)
        rows.append(
            {
                "doc": doc,
                "formats": hints["formats"],
                "max_size": hints["max_size"],
                "accept": hints["accept"],
                "staged": staged.get(doc.code),
                "error": (errors or {}).get(doc.code),
            }
        )
    return rows


# --- step 4: filing --------------------------------------------------------------------------------------


def draft_submit(
    *,
    state: dict,
    request_type: RequestType,
    customer: Customer | None,
    contact: dict | None,
    accept_terms: bool,
    accept_data_processing: bool,
    now: datetime,
    actor=None,
) -> Filing:
    """« valider »: files the draft (a new person becomes a prospect customer with an account),
    then discards the staging area. ``contact``: the logged-in customer's phone and e-mail."""
    if draft_step(state, customer=customer, step=4) < 4:
        raise DraftIncomplete()
    person = contact if customer is not None else state.get("person") or {}
    data = {**state["info"], "phone": (person or {}).get("phone", ""), "email": (person or {}).get("email", "")}
    return request_submit(
        request_type=request_type,
        customer=customer,
        person=None if customer is not None else state["person"],
        data=data,
        staged=list(state.get("files", {}).values()),
        staging_token=state.get("token", ""),
        accept_terms=accept_terms,
        accept_data_processing=accept_data_processing,
        now=now,
        actor=actor if customer is not None else None,
    )
