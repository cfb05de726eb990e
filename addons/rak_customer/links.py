"""Several codes clients in one account (issue 13): a landlord, a family. The account's user links
another customer's code client by proving it, then acts for it in the portal (the header's switch)
and the API (header ``X-Customer-Code``): rak_customer.selectors.customer_acting_for.

The proof, in two steps:

1. ``customer_link_start``: the code client and its holder's CIN/ICE — the pair « Mot de passe
   oublié » asks, refused with the very same sentence when it does not match, so this page tells
   nothing more about who is a customer than that one does — then a code by SMS to the phone on
   file for that customer (rak_base.otp, its own purpose, its own wording telling the holder that
   the code gives another account access to their bills). Returns a signed token (no phone in it)
   that the portal keeps in the session and the API hands to the app.
2. ``customer_link_confirm``: the token and the code → an active ``CustomerLink``.

Throttles: each start counts against the account (``LINK_STARTS_PER_HOUR``); the views add the
portal's per-address/per-code identity budget (rak_portal.throttling.identity_check_allowed) and
the SMS limits (rak_base.sms_limits.sms_request_allow); rak_base.otp keeps its own (resend after
60 s, 5 codes per phone per hour, 5 wrong tries). At most ``MAX_LINKS`` active links per account.

Notifications: bell messages stay per user. What concerns a linked customer (bills, requests,
outages…) keeps going to that customer's own contacts and own portal account — the outbox is not
changed; the account that linked it reads that customer's pages by switching to its code. The
linked customer's own account (if any) gets a bell notice when its code is linked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core import signing
from django.db import transaction
from django.utils.translation import gettext, gettext_lazy

from rak_base.errors import RakError
from rak_base.models import OneTimeCode
from rak_base.otp import otp_send, otp_verify
from rak_base.outbox import message_queue_bell
from rak_base.phones import phone_last_digits
from rak_base.throttle import throttle_hit
from rak_customer.language import customer_language, customer_language_code
from rak_customer.link_models import CustomerLink
from rak_customer.models import Customer, PortalAccount
from rak_customer.selectors import customer_code_clean, customer_portal_user, customer_sms_phone
from rak_customer.validators import InvalidIdentity, identity_normalize

MAX_LINKS = 20
LINK_STARTS_PER_HOUR = 10
LINK_STARTS_WINDOW = timedelta(hours=1)
TOKEN_SALT = "rak.customer-link"  # noqa: S105  (a signing salt, not a secret)
TOKEN_MAX_AGE = timedelta(minutes=15)
# the OTP's purpose: its own, so that a code sent to link a customer proves nothing else (and the
# reverse); the choice is to be added to OneTimeCode.Purpose by rak_base's owner (no DB constraint)
OTP_PURPOSE = getattr(OneTimeCode.Purpose, "CUSTOMER_LINK", "CUSTOMER_LINK")


# --- errors ---------------------------------------------------------------------------------------


class CustomerLinkError(RakError):
    default_message = gettext_lazy("Ce code client ne peut pas être rattaché à votre compte.")


class LinkIdentityMismatch(CustomerLinkError):
    code = "link_identity_mismatch"
    # the very sentence of « Mot de passe oublié » (ResetIdentityMismatch): nothing more revealed
    default_message = gettext_lazy(
        "Code client ou CIN/ICE incorrect. Votre code client est indiqué sur vos factures RAK."
    )


class LinkNoSmsPhone(CustomerLinkError):
    code = "link_no_sms_phone"
    default_message = gettext_lazy(
        "Aucun numéro de téléphone pouvant recevoir un SMS n'est enregistré pour ce code client : le code de "
        "confirmation ne peut pas lui être envoyé. Rendez-vous dans une agence RAK avec une pièce d'identité "
        "pour faire enregistrer ce numéro."
    )


class LinkOwnCode(CustomerLinkError):
    code = "link_own_code"
    default_message = gettext_lazy("C'est le code client de votre propre compte : il est déjà dans votre liste.")


class LinkAlreadyLinked(CustomerLinkError):
    code = "link_already_linked"
    default_message = gettext_lazy("Ce code client est déjà rattaché à votre compte.")


class LinkTooMany(CustomerLinkError):
    code = "link_too_many"

    def __init__(self) -> None:
        super().__init__(
            gettext(
                "Vous avez déjà rattaché %(max)d codes clients, le nombre maximal. Retirez-en un pour en ajouter "
                "un autre, ou contactez la RAK."
            )
            % {"max": MAX_LINKS}
        )


class LinkTooManyAttempts(CustomerLinkError):
    code = "throttled"
    http_status = 429
    default_message = gettext_lazy(
        "Trop de demandes de rattachement de code client en une heure. Veuillez réessayer plus tard."
    )


class LinkRequestExpired(CustomerLinkError):
    code = "link_request_expired"
    default_message = gettext_lazy(
        "Cette demande de rattachement a expiré ou n'est plus valable : saisissez de nouveau le code client."
    )


class LinkNotFound(CustomerLinkError):
    code = "not_found"
    http_status = 404
    default_message = gettext_lazy("Ce code client n'est pas (ou plus) rattaché à votre compte.")


class LinkNoAccount(CustomerLinkError):
    code = "not_found"
    http_status = 404
    default_message = gettext_lazy("Aucun compte de l'agence en ligne n'est associé à cette connexion.")


# --- start ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkPending:
    """A started link: ``token`` is posted back with the code; ``phone_hint`` the last two digits
    of the number the code went to."""

    token: str
    customer_code: str
    phone_hint: str
    label: str
    expires_at: datetime


def _own_account(user) -> PortalAccount:
    account = PortalAccount.objects.select_related("customer").filter(user=user).first()
    if account is None or not getattr(user, "is_authenticated", False):
        raise LinkNoAccount()
    return account


def _refuse_obvious(*, user, own: Customer, code: str) -> None:
    """Refusals that reveal nothing about other customers (checked before any count)."""
    if code.upper() == own.code.upper():
        raise LinkOwnCode()
    active = CustomerLink.objects.filter(user=user, unlinked_at__isnull=True)
    if active.filter(customer__code=code).exists():
        raise LinkAlreadyLinked()
    if active.count() >= MAX_LINKS:
        raise LinkTooMany()


def _count_attempt(*, user, now: datetime) -> None:
    if not throttle_hit(
        key=f"customer-link:user:{user.pk}", limit=LINK_STARTS_PER_HOUR, window=LINK_STARTS_WINDOW, now=now
    ):
        raise LinkTooManyAttempts()


def _send_code(*, customer: Customer, phone: str, now: datetime) -> None:
    with customer_language(customer):
        text = gettext(
            "RAK : le code {code} permet de rattacher votre code client %(customer)s à un autre compte de "
            "l'agence en ligne, qui verra vos factures. Ne le donnez qu'à une personne de confiance."
        ) % {"customer": customer.code}
    otp_send(phone=phone, purpose=OTP_PURPOSE, now=now, text=text, language=customer_language_code(customer))


def _token(*, user, code: str, label: str) -> str:
    return signing.dumps({"u": user.pk, "c": code, "l": label}, salt=TOKEN_SALT, compress=True)


def _token_read(*, user, token: str) -> tuple[str, str]:
    try:
        data = signing.loads(str(token or ""), salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except (signing.BadSignature, ValueError, TypeError):
        raise LinkRequestExpired() from None
    if not isinstance(data, dict) or data.get("u") != user.pk or not customer_code_clean(data.get("c")):
        raise LinkRequestExpired()
    return str(data["c"]), str(data.get("l") or "")[:60]


def customer_link_precheck(*, user, customer_code: str) -> None:
    """The refusals a view can give before counting an identity check or an SMS (own code, already
    linked, too many links): they say nothing about other customers."""
    own = _own_account(user).customer
    code = customer_code_clean(customer_code)
    if code:
        _refuse_obvious(user=user, own=own, code=code)


def customer_link_start(*, user, customer_code: str, identity: str, label: str = "", now: datetime) -> LinkPending:
    """Step 1: code client + its holder's CIN/ICE → a code by SMS to that customer's phone on file.
    Raises the refusals above (and rak_base.otp's: too early, too many codes for this phone)."""
    own = _own_account(user).customer
    code = customer_code_clean(customer_code)
    label = (label or "").strip()[:60]
    if not code:
        raise LinkIdentityMismatch()
    _refuse_obvious(user=user, own=own, code=code)
    _count_attempt(user=user, now=now)
    try:
        _, identity_value = identity_normalize(identity)
    except InvalidIdentity:
        raise LinkIdentityMismatch() from None
    customer = Customer.objects.filter(code=code).first()
    if customer is None or identity_value not in (customer.cin, customer.ice):
        raise LinkIdentityMismatch()
    phone = customer_sms_phone(customer)
    if not phone:
        raise LinkNoSmsPhone()
    _send_code(customer=customer, phone=phone, now=now)
    return LinkPending(
        token=_token(user=user, code=code, label=label),
        customer_code=code,
        phone_hint=phone_last_digits(phone),
        label=label,
        expires_at=now + TOKEN_MAX_AGE,
    )


def customer_link_resend(*, user, token: str, now: datetime) -> LinkPending:
    """« Renvoyer le code »: a new code to the same phone (rak_base.otp: 60 s after the last one,
    failures carried over); counted like a start."""
    code, label = _token_read(user=user, token=token)
    own = _own_account(user).customer
    _refuse_obvious(user=user, own=own, code=code)
    _count_attempt(user=user, now=now)
    customer = Customer.objects.filter(code=code).first()
    if customer is None:
        raise LinkRequestExpired()
    phone = customer_sms_phone(customer)
    if not phone:
        raise LinkNoSmsPhone()
    _send_code(customer=customer, phone=phone, now=now)
    return LinkPending(
        token=_token(user=user, code=code, label=label),
        customer_code=code,
        phone_hint=phone_last_digits(phone),
        label=label,
        expires_at=now + TOKEN_MAX_AGE,
    )


def token_customer_code(*, user, token: str) -> str | None:
    """The code client a pending token is for (the portal's OTP step shows it), None if invalid."""
    try:
        return _token_read(user=user, token=token)[0]
    except LinkRequestExpired:
        return None


# --- confirm --------------------------------------------------------------------------------------


def _forget_links_note(user) -> None:
    try:
        del user._rak_has_customer_links  # noqa: SLF001  (customer_acting_for's per-request note)
    except AttributeError:
        pass


def customer_link_confirm(*, user, token: str, otp_code: str, now: datetime) -> CustomerLink:
    """Step 2: the code received by SMS → the link. The code is checked first, in its own
    transaction (a wrong code stays counted), then the link is written under the account's lock."""
    code, label = _token_read(user=user, token=token)
    customer = Customer.objects.filter(code=code).first()
    if customer is None:
        raise LinkRequestExpired()
    phone = customer_sms_phone(customer)
    if not phone:
        raise LinkNoSmsPhone()
    otp_verify(phone=phone, purpose=OTP_PURPOSE, code=otp_code, now=now)
    with transaction.atomic():
        account = PortalAccount.objects.select_for_update().select_related("customer").filter(user=user).first()
        if account is None:
            raise LinkNoAccount()
        _refuse_obvious(user=user, own=account.customer, code=code)
        link = CustomerLink.objects.create(user=user, customer=customer, label=label, proved_phone=phone, linked_at=now)
        _notify_holder(customer=customer, by=account.customer, event_user=user)
    _forget_links_note(user)
    return link


def _notify_holder(*, customer: Customer, by: Customer, event_user) -> None:
    """The linked customer's own portal account (if any) is told, in its language."""
    holder = customer_portal_user(customer.pk)
    if holder is None or holder.pk == event_user.pk:
        return
    with customer_language(customer):
        message_queue_bell(
            user=holder,
            subject=gettext("Votre code client a été rattaché à un autre compte"),
            body=gettext(
                "Votre code client %(code)s a été rattaché au compte de l'agence en ligne de %(name)s, avec le "
                "code reçu par SMS : ce compte peut désormais consulter vos factures et faire des démarches pour "
                "ce code client. Si vous n'êtes pas à l'origine de cette démarche, contactez la RAK (CRC, agence "
                "ou relationclient@rak.ma)."
            )
            % {"code": customer.code, "name": by.display_name},
            kind="security",
        )


# --- unlink, label --------------------------------------------------------------------------------


@transaction.atomic
def customer_link_unlink(*, link_id: int, by, now: datetime, user=None) -> CustomerLink:
    """End a link: by its account (``user`` given: only its own links) or by staff (``user``
    None). The account then acts for its own code client again (customer_acting_for)."""
    if not 0 < int(link_id) < 2**63:
        raise LinkNotFound()
    links = CustomerLink.objects.select_for_update().filter(pk=link_id, unlinked_at__isnull=True)
    if user is not None:
        links = links.filter(user=user)
    link = links.first()
    if link is None:
        raise LinkNotFound()
    link.unlinked_at = now
    link.unlinked_by = by
    link.save(update_fields=["unlinked_at", "unlinked_by"])
    if user is not None:
        _forget_links_note(user)
    return link


@transaction.atomic
def customer_link_label_set(*, link_id: int, user, label: str) -> CustomerLink:
    """Rename one of the account's links (« Appartement Mehdia »)."""
    if not 0 < int(link_id) < 2**63:
        raise LinkNotFound()
    link = CustomerLink.objects.select_for_update().filter(pk=link_id, user=user, unlinked_at__isnull=True).first()
    if link is None:
        raise LinkNotFound()
    link.label = (label or "").strip()[:60]
    link.save(update_fields=["label"])
    return link
