"""Writes of rak_customer: portal accounts, passwords, contacts, change requests, contact form,
dossiers edited in the back office (the service field kept to facturation and superviseur)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, gettext_lazy

from rak_base import clock
from rak_base.errors import RakError
from rak_base.models import Message, OneTimeCode
from rak_base.otp import otp_send, otp_verify
from rak_base.outbox import event_key, message_queue_bell, message_queue_email, message_queue_sms
from rak_base.phones import phone_last_digits, phone_normalize
from rak_base.sequences import sequence_next
from rak_base.throttle import throttle_hit
from rak_customer.devices import PASSWORD_CHANGED, PASSWORD_RESET_USED, device_revoke_all
from rak_customer.language import customer_language, customer_language_code
from rak_customer.models import ChangeRequest, Contact, ContactMessage, Customer, Dossier, PortalAccount, Service
from rak_customer.selectors import customer_by_identity, customer_email, customer_sms_phone
from rak_customer.validators import identity_normalize

User = get_user_model()

CUSTOMER_CODE_SEQUENCE = "customer_code"
CUSTOMER_CODE_START = 100_000_001
PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
PASSWORD_MESSAGES_PER_HOUR = 3
EMAIL_CONFIRM_SALT = "rak.email-confirm"
EMAIL_CONFIRM_MAX_AGE = timedelta(days=2)


# --- errors ---------------------------------------------------------------------------------


class AccountError(RakError):
    default_message = gettext_lazy("Une erreur s'est produite, veuillez réessayer.")


class TooManyEmailConfirmations(AccountError):
    code = "throttled"
    http_status = 429
    default_message = gettext_lazy(
        "Trop de liens de confirmation envoyés. Par sécurité, veuillez réessayer dans une heure."
    )


class TooManyPasswordChecks(AccountError):
    code = "throttled"
    http_status = 429
    default_message = gettext_lazy(
        "Trop de tentatives de changement de mot de passe. Par sécurité, veuillez réessayer dans une heure, "
        "ou utilisez « Mot de passe oublié »."
    )


# « Changer mon mot de passe » checks the current password: a stolen session or device token must
# not let anyone guess it without limit (django-axes counts logins only). The confirmation e-mail
# goes to any address typed: one account must not flood a stranger's inbox from the agency.
PASSWORD_CHECKS_PER_HOUR = 10
EMAIL_CONFIRMATIONS_PER_ACCOUNT_HOURLY = 5
EMAIL_CONFIRMATIONS_PER_ADDRESS_HOURLY = 3


def account_password_check_allow(*, user, now: datetime) -> None:
    """Count one « current password » check for ``user``; TooManyPasswordChecks past the limit."""
    if not throttle_hit(
        key=f"password-check:{user.pk}", limit=PASSWORD_CHECKS_PER_HOUR, window=timedelta(hours=1), now=now
    ):
        raise TooManyPasswordChecks()


class AccountAlreadyExists(AccountError):
    default_message = gettext_lazy(
        "Un compte existe déjà pour ce CIN/ICE. Connectez-vous avec votre code client, "
        "ou utilisez « Mot de passe oublié » pour recevoir un nouveau mot de passe."
    )


class CustomerCodeMismatch(AccountError):
    default_message = gettext_lazy(
        "Le code client ne correspond pas à ce CIN/ICE. Votre code client est indiqué sur vos factures RAK."
    )


class TermsNotAccepted(AccountError):
    default_message = gettext_lazy(
        "Vous devez accepter les conditions d'utilisation et donner votre accord au traitement "
        "de vos données personnelles (loi 09-08)."
    )


class ResetIdentityMismatch(AccountError):
    default_message = gettext_lazy(
        "Code client ou CIN/ICE incorrect. Votre code client est indiqué sur vos factures RAK."
    )


class NoContactChannel(AccountError):
    default_message = gettext_lazy(
        "Aucun numéro de téléphone ni adresse e-mail n'est enregistré pour ce client. "
        "Veuillez contacter la RAK (Contactez-nous, CRC ou relationclient@rak.ma)."
    )


class TooManyPasswordMessages(AccountError):
    default_message = gettext_lazy(
        "Un mot de passe vous a déjà été envoyé plusieurs fois. Veuillez réessayer dans une heure."
    )


class PasswordAlreadyChanged(AccountError):
    default_message = gettext_lazy("Votre mot de passe a déjà été changé.")


class EmailConfirmInvalid(AccountError):
    default_message = gettext_lazy(
        "Ce lien de confirmation est invalide ou a expiré. Demandez un nouveau lien depuis votre profil."
    )


class IdentityAlreadyUsed(AccountError):
    default_message = gettext_lazy(
        "Ce CIN/ICE est déjà enregistré chez la RAK : utilisez « Créer mon compte » en tant que client."
    )


class PhoneAlreadyUsed(AccountError):
    def __init__(self, message: str | None = None, **params: object) -> None:
        super().__init__(
            message
            or gettext(
                "Ce numéro de téléphone est déjà associé à un autre compte de l'agence en ligne : un numéro "
                "ne peut servir qu'à un seul compte. Indiquez un autre numéro, ou contactez la RAK (CRC ou agence)."
            ),
            **params,
        )


# --- helpers ----------------------------------------------------------------------------------


def password_generate(length: int = 10) -> str:
    """A readable random password (no 0/O, 1/l/I) with at least one digit and one letter."""
    while True:
        password = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            return password


def customer_code_next() -> str:
    return str(sequence_next(name=CUSTOMER_CODE_SEQUENCE, start=CUSTOMER_CODE_START))


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:2]}{'•' * max(len(local) - 2, 1)}@{domain}"


def _check_password_rate(*, recipient: str, now: datetime) -> None:
    sent = Message.objects.filter(
        recipient=recipient, kind="password", created_at__gte=now - timedelta(hours=1)
    ).count()
    if sent >= PASSWORD_MESSAGES_PER_HOUR:
        raise TooManyPasswordMessages()


@dataclass(frozen=True)
class PasswordDelivery:
    """Where a generated password went: shown to the user as « ...les deux derniers chiffres »."""

    channel: str  # "SMS" or "EMAIL"
    hint: str  # last two digits of the phone, or the masked e-mail

    @property
    def message(self) -> str:
        if self.channel == "SMS":
            return gettext("Votre mot de passe vous a été envoyé par SMS au numéro se terminant par %(hint)s.") % {
                "hint": self.hint
            }
        return gettext("Votre mot de passe vous a été envoyé par e-mail à l'adresse %(hint)s.") % {"hint": self.hint}


def _send_password(
    *, customer: Customer, user, password: str, now: datetime, phone: str | None = None
) -> PasswordDelivery:
    """The password goes by SMS (else e-mail), written in the customer's language."""
    with customer_language(customer):
        text = gettext(
            "RAK agence en ligne : votre code client est %(code)s et votre mot de passe %(password)s. "
            "Il vous sera demandé de le changer à la première connexion."
        ) % {"code": customer.code, "password": password}
        subject = gettext("Votre mot de passe RAK agence en ligne")
    phone = phone or customer_sms_phone(customer)
    if phone:
        _check_password_rate(recipient=phone, now=now)
        message_queue_sms(to=phone, body=text, user=user, kind="password", sensitive=True)
        return PasswordDelivery("SMS", phone_last_digits(phone))
    email = customer_email(customer)
    if email:
        _check_password_rate(recipient=email, now=now)
        message_queue_email(
            to=email,
            subject=subject,
            body=text,
            user=user,
            kind="password",
            sensitive=True,
        )
        return PasswordDelivery("EMAIL", mask_email(email))
    raise NoContactChannel()


def _adopt_page_language(customer: Customer) -> None:
    """An account opened on the portal by a customer whose language was never chosen (French by
    default): the language the visitor reads the page in, when it is not French, becomes the
    customer's. A language already on the record (chosen on the portal or set at the counter) is kept."""
    active = translation.get_language()
    if not customer.language and active in Customer.Language.values and active != settings.LANGUAGE_CODE:
        customer_language_set(customer=customer, language=active)


def _create_account(*, customer: Customer, origin: str, now: datetime, accepted: bool) -> tuple[PortalAccount, str]:
    _adopt_page_language(customer)
    password = password_generate()
    email = customer_email(customer) or ""
    user = User(
        username=customer.code,
        role=User.Role.CUSTOMER,
        email=email,
        first_name=customer.first_name[:150],
        last_name=(customer.last_name or customer.company_name)[:150],
        must_change_password=True,
    )
    user.set_password(password)
    user.save()
    account = PortalAccount.objects.create(
        user=user,
        customer=customer,
        origin=origin,
        terms_accepted_at=now if accepted else None,
        data_processing_accepted_at=now if accepted else None,
    )
    return account, password


def _require_acceptance(accept_terms: bool, accept_data_processing: bool) -> None:
    if not (accept_terms and accept_data_processing):
        raise TermsNotAccepted()


# --- account creation (« Créer mon compte ») --------------------------------------------------


@dataclass(frozen=True)
class RegistrationStart:
    """Outcome of the first step of « Créer mon compte »."""

    outcome: str  # "CREATED" | "NEEDS_OTP" | "UNKNOWN"
    identity: str
    phone: str
    delivery: PasswordDelivery | None = None


def account_register_start(
    *, identity: str, phone: str, accept_terms: bool, accept_data_processing: bool, now: datetime
) -> RegistrationStart:
    """CIN/ICE + phone + the conditions d'utilisation and loi 09-08 acceptances (refused without
    them, before any look-up). Known customer with this phone: account created (acceptances
    recorded), password by SMS. Known customer, other phone: an OTP goes to the new phone (next
    step). Unknown: prospect form."""
    _require_acceptance(accept_terms, accept_data_processing)
    kind, identity_value = identity_normalize(identity)
    phone_e164 = phone_normalize(phone, mobile=True)
    with transaction.atomic():
        customer = customer_by_identity(identity_value)
        if customer is None:
            return RegistrationStart("UNKNOWN", identity_value, phone_e164)
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        if PortalAccount.objects.filter(customer=customer).exists():
            raise AccountAlreadyExists()
        if customer.contacts.filter(kind=Contact.Kind.PHONE, value=phone_e164).exists():
            account, password = _create_account(
                customer=customer, origin=PortalAccount.Origin.KNOWN_PHONE, now=now, accepted=True
            )
            delivery = _send_password(
                customer=customer, user=account.user, password=password, now=now, phone=phone_e164
            )
            return RegistrationStart("CREATED", identity_value, phone_e164, delivery)
        _check_phone_free(customer=customer, phone=phone_e164)
    otp_send(phone=phone_e164, purpose=OneTimeCode.Purpose.ACCOUNT_CREATE, now=now)
    return RegistrationStart("NEEDS_OTP", identity_value, phone_e164)


# The step between « Créer mon compte »'s first form and the next one (the OTP, or the prospect's
# details): the portal keeps it in the session, the mobile API hands this signed token to the app,
# which posts it back with the next step (nothing stored server-side; expires with REGISTRATION_MAX_AGE).
REGISTRATION_SALT = "rak.registration"
REGISTRATION_MAX_AGE = timedelta(minutes=30)


class RegistrationExpired(AccountError):
    code = "registration_expired"
    default_message = gettext_lazy("Votre demande a expiré : veuillez recommencer la création de votre compte.")


def registration_token(start: RegistrationStart) -> str:
    """The signed step of a registration that needs a next step (NEEDS_OTP, UNKNOWN)."""
    return signing.dumps({"i": start.identity, "p": start.phone, "o": start.outcome}, salt=REGISTRATION_SALT)


def registration_from_token(token: str, *, outcome: str) -> RegistrationStart:
    """The registration step a token carries; RegistrationExpired when it is forged, too old or
    for another step."""
    try:
        data = signing.loads(token or "", salt=REGISTRATION_SALT, max_age=REGISTRATION_MAX_AGE)
    except signing.BadSignature as exc:
        raise RegistrationExpired() from exc
    if not isinstance(data, dict) or data.get("o") != outcome:
        raise RegistrationExpired()
    return RegistrationStart(outcome, str(data.get("i", "")), str(data.get("p", "")))


def account_register_resend_otp(*, phone: str, now: datetime) -> None:
    otp_send(phone=phone_normalize(phone, mobile=True), purpose=OneTimeCode.Purpose.ACCOUNT_CREATE, now=now)


def account_register_new_phone(
    *,
    identity: str,
    phone: str,
    customer_code: str,
    otp_code: str,
    accept_terms: bool,
    accept_data_processing: bool,
    now: datetime,
) -> PasswordDelivery:
    """Known customer, phone not on record: code client + OTP on the new phone + acceptances."""
    _require_acceptance(accept_terms, accept_data_processing)
    _, identity_value = identity_normalize(identity)
    phone_e164 = phone_normalize(phone, mobile=True)
    customer = customer_by_identity(identity_value)
    if customer is None or customer.code != (customer_code or "").strip():
        raise CustomerCodeMismatch()
    otp_verify(phone=phone_e164, purpose=OneTimeCode.Purpose.ACCOUNT_CREATE, code=otp_code, now=now)
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        if PortalAccount.objects.filter(customer=customer).exists():
            raise AccountAlreadyExists()
        old_phone = customer_sms_phone(customer)
        _set_sms_phone(customer=customer, phone=phone_e164, now=now)
        account, password = _create_account(
            customer=customer, origin=PortalAccount.Origin.NEW_PHONE, now=now, accepted=True
        )
        delivery = _send_password(customer=customer, user=account.user, password=password, now=now, phone=phone_e164)
        if old_phone != phone_e164:
            _notify_sms_phone_moved(customer=customer, user=account.user, old_phone=old_phone, new_phone=phone_e164)
        return delivery


def _notify_sms_phone_moved(*, customer: Customer, user, old_phone: str | None, new_phone: str) -> None:
    """« Créer mon compte » on a new phone moved the customer's SMS number: the number it left and
    the customer's e-mail are told at once, with how to report it if it was not them."""
    with customer_language(customer):
        _notify_sms_phone_moved_compose(customer=customer, user=user, old_phone=old_phone, new_phone=new_phone)


def _notify_sms_phone_moved_compose(*, customer: Customer, user, old_phone: str | None, new_phone: str) -> None:
    event = event_key()
    params = {"code": customer.code, "new": phone_last_digits(new_phone)}
    if old_phone:
        message_queue_sms(
            to=old_phone,
            user=user,
            kind="security",
            event=event,
            body=gettext(
                "RAK : un compte agence en ligne vient d'être créé pour le client %(code)s et ses SMS iront "
                "désormais au numéro se terminant par %(new)s. Si ce n'est pas vous, signalez-le sans attendre "
                "au CRC de la RAK ou dans votre agence."
            )
            % params,
        )
    email = customer_email(customer)
    if email:
        if old_phone:
            change = gettext(
                "le numéro qui reçoit vos SMS (se terminant par %(old)s) a été remplacé par le numéro se "
                "terminant par %(new)s."
            ) % {**params, "old": phone_last_digits(old_phone)}
        else:
            change = gettext("vos SMS iront désormais au numéro se terminant par %(new)s.") % params
        message_queue_email(
            to=email,
            user=user,
            kind="security",
            event=event,
            subject=gettext("Votre numéro de téléphone a été modifié — RAK agence en ligne"),
            body=gettext(
                "Bonjour,\n\nUn compte agence en ligne vient d'être créé pour votre code client %(code)s, "
                "avec un nouveau numéro de téléphone vérifié par code SMS : %(change)s\n\n"
                "Si vous n'êtes pas à l'origine de cette démarche, signalez-le sans attendre : appelez le CRC "
                "de la RAK, rendez-vous dans votre agence ou écrivez à relationclient@rak.ma. Un conseiller "
                "rétablira votre numéro.\n\nRAK — agence en ligne"
            )
            % {**params, "change": change},
        )


def account_register_prospect(
    *,
    identity: str,
    phone: str,
    civility: str,
    first_name: str,
    last_name: str,
    company_name: str,
    email: str,
    kind: str,
    accept_terms: bool,
    accept_data_processing: bool,
    now: datetime,
) -> tuple[Customer, PasswordDelivery]:
    """Unknown person: a prospect customer with a code client and an account; the password goes
    by SMS to the phone given, which proves the phone on first login."""
    _require_acceptance(accept_terms, accept_data_processing)
    customer, _account, delivery = prospect_create_with_account(
        identity=identity,
        phone=phone,
        civility=civility,
        first_name=first_name,
        last_name=last_name,
        company_name=company_name,
        email=email,
        kind=kind,
        origin=PortalAccount.Origin.PROSPECT,
        now=now,
    )
    return customer, delivery


@transaction.atomic
def prospect_create_with_account(
    *,
    identity: str,
    phone: str,
    civility: str,
    first_name: str,
    last_name: str,
    company_name: str,
    email: str,
    kind: str,
    origin: str,
    now: datetime,
) -> tuple[Customer, PortalAccount, PasswordDelivery]:
    """A new person (the caller has their acceptances): a prospect customer with a code client,
    their SMS phone and e-mail, and a portal account whose password goes by SMS to that phone.
    Used by « Créer mon compte » and by the public requests (abonnement, branchement)."""
    id_kind, identity_value = identity_normalize(identity)
    phone_e164 = phone_normalize(phone, mobile=True)
    if customer_by_identity(identity_value) is not None:
        raise IdentityAlreadyUsed()
    if id_kind == "ICE" and kind == Customer.Kind.PARTICULIER:
        kind = Customer.Kind.ENTREPRISE
    customer = Customer.objects.create(
        code=customer_code_next(),
        kind=kind,
        status=Customer.Status.PROSPECT,
        cin=identity_value if id_kind == "CIN" else "",
        ice=identity_value if id_kind == "ICE" else "",
        civility=civility,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        company_name=company_name.strip(),
    )
    Contact.objects.create(customer=customer, kind=Contact.Kind.PHONE, value=phone_e164, is_sms=True)
    if email:
        Contact.objects.create(
            customer=customer, kind=Contact.Kind.EMAIL, value=email.strip().lower(), is_primary_email=True
        )
    account, password = _create_account(customer=customer, origin=origin, now=now, accepted=True)
    delivery = _send_password(customer=customer, user=account.user, password=password, now=now, phone=phone_e164)
    return customer, account, delivery


# --- passwords --------------------------------------------------------------------------------


def password_reset(*, customer_code: str, identity: str, now: datetime) -> PasswordDelivery:
    """« Mot de passe oublié »: code client + CIN/ICE -> a new password by SMS (e-mail when no
    phone). Creates the account when the customer has none yet (first connection)."""
    _, identity_value = identity_normalize(identity)
    with transaction.atomic():
        customer = Customer.objects.select_for_update().filter(code=(customer_code or "").strip()).first()
        if customer is None or identity_value not in (customer.cin, customer.ice):
            raise ResetIdentityMismatch()
        account = PortalAccount.objects.select_related("user").filter(customer=customer).first()
        if account is None:
            account, password = _create_account(
                customer=customer, origin=PortalAccount.Origin.PASSWORD_RESET, now=now, accepted=False
            )
            user = account.user
        else:
            # the current password keeps working until the new one is used (PortalBackend)
            user = account.user
            password = password_generate()
            account.pending_password = make_password(password)
            account.pending_password_at = now
            account.save(update_fields=["pending_password", "pending_password_at"])
        return _send_password(customer=customer, user=user, password=password, now=now)


@transaction.atomic
def account_pending_password_use(*, account: PortalAccount, password_hash: str, now: datetime | None = None):
    """First login with the password « Mot de passe oublié » sent: it becomes the password (to be
    changed at once) and the former one stops working. ``password_hash`` is the pending hash the
    caller checked; None when another request used or replaced it meanwhile."""
    locked = PortalAccount.objects.select_for_update().select_related("user").get(pk=account.pk)
    if not locked.pending_password or locked.pending_password != password_hash:
        return None
    user = locked.user
    user.password = locked.pending_password
    user.must_change_password = True
    user.save(update_fields=["password", "must_change_password"])
    # the former password stops working: so do the devices signed in with it
    device_revoke_all(user=user, by=None, reason=PASSWORD_RESET_USED, now=now or clock.now())
    locked.pending_password = ""
    locked.pending_password_at = None
    locked.save(update_fields=["pending_password", "pending_password_at"])
    return user


@transaction.atomic
def account_needs_acceptance(user) -> bool:
    """An account created without the conditions d'utilisation / loi 09-08 acceptances (by
    « Mot de passe oublié » or by the staff): they are asked at its first login."""
    return (
        PortalAccount.objects.filter(user=user)
        .filter(Q(terms_accepted_at__isnull=True) | Q(data_processing_accepted_at__isnull=True))
        .exists()
    )


def account_acceptances_record(*, user, accept_terms: bool, accept_data_processing: bool, now: datetime) -> None:
    """Both acceptances given at first login (refused without them); the first dates are kept."""
    _require_acceptance(accept_terms, accept_data_processing)
    accounts = PortalAccount.objects.filter(user=user)
    accounts.filter(terms_accepted_at__isnull=True).update(terms_accepted_at=now)
    accounts.filter(data_processing_accepted_at__isnull=True).update(data_processing_accepted_at=now)


@transaction.atomic
def account_first_password_set(
    *,
    user,
    new_password: str,
    now: datetime,
    accept_terms: bool = False,
    accept_data_processing: bool = False,
    keep_device_id: int | None = None,
) -> None:
    """First login with a password received by SMS or e-mail (seed 002): the acceptances an
    account opened without them must give (TermsNotAccepted otherwise), then the new password.
    PasswordAlreadyChanged when there is no received password to replace."""
    if not user.must_change_password:
        raise PasswordAlreadyChanged()
    if account_needs_acceptance(user):
        account_acceptances_record(
            user=user, accept_terms=accept_terms, accept_data_processing=accept_data_processing, now=now
        )
    account_password_change(user=user, new_password=new_password, now=now, keep_device_id=keep_device_id)


def account_password_change(*, user, new_password: str, now: datetime, keep_device_id: int | None = None) -> None:
    """Set a password the user chose (validated by the form); clears the forced change. Every
    device signed in to the mobile API is signed out but ``keep_device_id`` (the device that made
    the change through the API; the portal keeps none)."""
    device_revoke_all(user=user, by=user, reason=PASSWORD_CHANGED, now=now, except_device_id=keep_device_id)
    user.set_password(new_password)
    user.must_change_password = False
    user.password_changed_at = now
    user.save(update_fields=["password", "must_change_password", "password_changed_at"])
    PortalAccount.objects.filter(user=user).exclude(pending_password="").update(
        pending_password="", pending_password_at=None
    )
    # the customer's own request: the page's language is the account's (set at login, kept by the switch)
    message_queue_bell(
        user=user,
        subject=gettext("Mot de passe modifié"),
        body=gettext(
            "Le mot de passe de votre compte a été modifié. Si ce n'est pas vous, contactez immédiatement la RAK."
        ),
        kind="security",
    )


# --- contacts (profile) -----------------------------------------------------------------------


def _check_phone_free(*, customer: Customer, phone: str) -> None:
    """A phone verified by OTP is a login identifier: it may belong to one customer only."""
    taken = Contact.objects.filter(kind=Contact.Kind.PHONE, value=phone, verified_at__isnull=False)
    if taken.exclude(customer=customer).exists():
        raise PhoneAlreadyUsed()


def _mark_phone_verified(*, contact: Contact, now: datetime, fields: list[str]) -> None:
    contact.verified_at = now
    try:
        with transaction.atomic():  # savepoint: a concurrent claim loses on contact_verified_phone_unique
            contact.save(update_fields=[*fields, "verified_at"])
    except IntegrityError as exc:
        raise PhoneAlreadyUsed() from exc


def _set_sms_phone(*, customer: Customer, phone: str, now: datetime) -> Contact:
    """The verified phone becomes the SMS number (and login identifier); the number it replaces
    is no longer verified, so it stops being a login identifier (operators recycle numbers)."""
    _check_phone_free(customer=customer, phone=phone)
    customer.contacts.filter(is_sms=True).exclude(kind=Contact.Kind.PHONE, value=phone).update(
        is_sms=False, verified_at=None
    )
    contact, _ = Contact.objects.get_or_create(customer=customer, kind=Contact.Kind.PHONE, value=phone)
    contact.is_sms = True
    _mark_phone_verified(contact=contact, now=now, fields=["is_sms"])
    return contact


def profile_phone_change_start(*, customer: Customer, user, phone: str, now: datetime) -> str:
    """Send an OTP to the new number; returns its E.164 form for the confirmation step."""
    phone_e164 = phone_normalize(phone, mobile=True)
    _check_phone_free(customer=customer, phone=phone_e164)
    otp_send(
        phone=phone_e164,
        purpose=OneTimeCode.Purpose.PHONE_CHANGE,
        now=now,
        user=user,
        language=customer_language_code(customer),
    )
    return phone_e164


# The phone change between its two steps: the portal keeps the new number in the session, the
# mobile API in this signed token (bound to the account and the customer), posted back with the OTP.
PHONE_CHANGE_SALT = "rak.phone-change"
PHONE_CHANGE_MAX_AGE = timedelta(minutes=30)


class PhoneChangeExpired(AccountError):
    code = "phone_change_expired"
    default_message = gettext_lazy(
        "Votre demande de changement de numéro a expiré : saisissez à nouveau votre nouveau numéro de téléphone."
    )


def phone_change_token(*, customer: Customer, user, phone: str) -> str:
    return signing.dumps({"u": user.pk, "c": customer.pk, "p": phone}, salt=PHONE_CHANGE_SALT)


def phone_change_from_token(token: str, *, customer: Customer, user) -> str:
    """The new number a phone-change token carries, for this account and customer only."""
    try:
        data = signing.loads(token or "", salt=PHONE_CHANGE_SALT, max_age=PHONE_CHANGE_MAX_AGE)
    except signing.BadSignature as exc:
        raise PhoneChangeExpired() from exc
    if not isinstance(data, dict) or data.get("u") != user.pk or data.get("c") != customer.pk or not data.get("p"):
        raise PhoneChangeExpired()
    return str(data["p"])


def profile_phone_change_confirm(*, customer: Customer, user, phone: str, otp_code: str, now: datetime) -> Contact:
    phone_e164 = phone_normalize(phone, mobile=True)
    otp_verify(phone=phone_e164, purpose=OneTimeCode.Purpose.PHONE_CHANGE, code=otp_code, now=now)
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        old = customer_sms_phone(customer)
        contact = _set_sms_phone(customer=customer, phone=phone_e164, now=now)
        event = event_key()
        with customer_language(customer):
            if old and old != phone_e164:
                message_queue_sms(
                    to=old,
                    user=user,
                    kind="security",
                    event=event,
                    body=gettext(
                        "RAK : le numéro de téléphone de votre compte agence en ligne a été modifié. "
                        "Si ce n'est pas vous, contactez la RAK."
                    ),
                )
            message_queue_bell(
                user=user,
                subject=gettext("Numéro de téléphone modifié"),
                body=gettext("Votre numéro de téléphone pour les SMS est désormais celui se terminant par %(digits)s.")
                % {"digits": phone_last_digits(phone_e164)},
                kind="security",
                event=event,
            )
        return contact


def profile_phone_confirm_start(*, customer: Customer, user, now: datetime) -> str:
    phone = customer_sms_phone(customer)
    if not phone:
        raise NoContactChannel(gettext("Aucun numéro de téléphone n'est enregistré : ajoutez-en un."))
    _check_phone_free(customer=customer, phone=phone)
    otp_send(
        phone=phone,
        purpose=OneTimeCode.Purpose.PHONE_CONFIRM,
        now=now,
        user=user,
        language=customer_language_code(customer),
    )
    return phone


def profile_phone_confirm(*, customer: Customer, otp_code: str, now: datetime) -> Contact:
    phone = customer_sms_phone(customer)
    if not phone:
        raise NoContactChannel(gettext("Aucun numéro de téléphone n'est enregistré : ajoutez-en un."))
    _check_phone_free(customer=customer, phone=phone)
    otp_verify(phone=phone, purpose=OneTimeCode.Purpose.PHONE_CONFIRM, code=otp_code, now=now)
    contact = customer.contacts.get(kind=Contact.Kind.PHONE, value=phone)
    _mark_phone_verified(contact=contact, now=now, fields=[])
    return contact


@transaction.atomic
def profile_email_confirm_send(*, customer: Customer, user, email: str, now: datetime) -> Contact:
    """Record the e-mail (as the primary one) and send a signed confirmation link (throttled per
    account and per address: TooManyEmailConfirmations)."""
    email = (email or "").strip().lower()
    hour = timedelta(hours=1)
    if not (
        throttle_hit(
            key=f"email-confirm:user:{user.pk}", limit=EMAIL_CONFIRMATIONS_PER_ACCOUNT_HOURLY, window=hour, now=now
        )
        and throttle_hit(
            key=f"email-confirm:to:{email}", limit=EMAIL_CONFIRMATIONS_PER_ADDRESS_HOURLY, window=hour, now=now
        )
    ):
        raise TooManyEmailConfirmations()
    contact, _ = Contact.objects.get_or_create(customer=customer, kind=Contact.Kind.EMAIL, value=email)
    if not contact.is_primary_email:
        customer.contacts.filter(is_primary_email=True).update(is_primary_email=False)
        contact.is_primary_email = True
        contact.save(update_fields=["is_primary_email"])
    token = signing.TimestampSigner(salt=EMAIL_CONFIRM_SALT).sign_object({"c": contact.pk, "e": email})
    link = settings.SITE_URL + reverse("portal:email_confirm", args=[token])
    with customer_language(customer):
        message_queue_email(
            to=email,
            user=user,
            kind="email_confirm",
            subject=gettext("Confirmez votre adresse e-mail — RAK agence en ligne"),
            body=gettext(
                "Bonjour,\n\nPour confirmer votre adresse e-mail sur l'agence en ligne de la RAK, ouvrez ce lien "
                "(valable 48 heures) :\n%(link)s\n\n"
                "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message."
            )
            % {"link": link},
        )
    if user.email != email:
        user.email = email
        user.save(update_fields=["email"])
    return contact


@transaction.atomic
def profile_email_confirm(*, token: str, now: datetime) -> Contact:
    try:
        data = signing.TimestampSigner(salt=EMAIL_CONFIRM_SALT).unsign_object(token, max_age=EMAIL_CONFIRM_MAX_AGE)
    except signing.BadSignature as exc:
        raise EmailConfirmInvalid() from exc
    contact = Contact.objects.select_for_update().filter(pk=data.get("c"), value=data.get("e")).first()
    if contact is None:
        raise EmailConfirmInvalid()
    if contact.verified_at is None:
        contact.verified_at = now
        contact.save(update_fields=["verified_at"])
    return contact


# --- change requests and contact form ---------------------------------------------------------


@transaction.atomic
def change_request_create(
    *, customer: Customer, user, field: str, requested_value: str, reason: str = ""
) -> ChangeRequest:
    requested_value = requested_value.strip()
    if field == ChangeRequest.Field.IDENTITY:
        _, requested_value = identity_normalize(requested_value)
        current = customer.identity
    else:
        current = customer.display_name
    if not requested_value:
        raise AccountError(gettext("Veuillez indiquer la nouvelle valeur."))
    if ChangeRequest.objects.filter(customer=customer, field=field, status=ChangeRequest.Status.PENDING).exists():
        raise AccountError(gettext("Une demande de modification de cette information est déjà en cours de traitement."))
    request = ChangeRequest.objects.create(
        customer=customer, field=field, current_value=current, requested_value=requested_value, reason=reason.strip()
    )
    with customer_language(customer):
        message_queue_bell(
            user=user,
            subject=gettext("Demande de modification enregistrée"),
            body=gettext("Votre demande de modification (%(field)s) a été transmise à nos services.")
            % {"field": request.get_field_display()},
            kind="change_request",
        )
    return request


@transaction.atomic
def change_request_decide(*, request_id: int, staff_user, accept: bool, note: str, now: datetime) -> ChangeRequest:
    """Staff accept (the change is applied to the customer record, with history) or reject."""
    request = ChangeRequest.objects.select_for_update().select_related("customer").get(pk=request_id)
    if request.status != ChangeRequest.Status.PENDING:
        raise AccountError(gettext("Cette demande a déjà été traitée."))
    customer = Customer.objects.select_for_update().get(pk=request.customer_id)
    if accept:
        if request.field == ChangeRequest.Field.IDENTITY:
            kind, value = identity_normalize(request.requested_value)
            other = Customer.objects.filter(**({"ice": value} if kind == "ICE" else {"cin": value})).exclude(
                pk=customer.pk
            )
            if other.exists():
                raise AccountError(gettext("Ce CIN/ICE appartient déjà à un autre client."))
            if kind == "ICE":
                customer.ice = value
            else:
                customer.cin = value
        elif customer.company_name:
            customer.company_name = request.requested_value
        else:
            first, _, last = request.requested_value.partition(" ")
            customer.first_name, customer.last_name = (first, last) if last else (customer.first_name, first)
        customer.save()
    request.status = ChangeRequest.Status.ACCEPTED if accept else ChangeRequest.Status.REJECTED
    request.staff_note = note
    request.handled_by = staff_user
    request.handled_at = now
    request.save(update_fields=["status", "staff_note", "handled_by", "handled_at"])
    account = PortalAccount.objects.filter(customer=customer).select_related("user").first()
    if account:
        with customer_language(customer):  # a staff action: the customer's language, not the agent's
            params = {"field": request.get_field_display()}
            if accept:
                subject = gettext("Demande de modification acceptée")
                body = gettext("Votre demande de modification (%(field)s) a été acceptée.") % params
            else:
                subject = gettext("Demande de modification refusée")
                body = gettext("Votre demande de modification (%(field)s) a été refusée.") % params
        message_queue_bell(
            user=account.user,
            subject=subject,
            body=f"{body} {note}".strip(),
            kind="change_request",
        )
    return request


@transaction.atomic
def contact_message_create(
    *, name: str, email: str, phone: str, subject: str, body: str, customer: Customer | None
) -> ContactMessage:
    if phone:
        phone = phone_normalize(phone)
    return ContactMessage.objects.create(
        name=name.strip(),
        email=email.strip().lower(),
        phone=phone,
        subject=subject.strip(),
        body=body.strip(),
        customer=customer,
    )


@transaction.atomic
def contact_message_handle(*, message_id: int, staff_user, note: str, now: datetime) -> ContactMessage:
    message = ContactMessage.objects.select_for_update().get(pk=message_id)
    message.status = ContactMessage.Status.HANDLED
    message.staff_note = note
    message.handled_by = staff_user
    message.handled_at = now
    message.save(update_fields=["status", "staff_note", "handled_by", "handled_at"])
    return message


# --- dossiers (back office) ----------------------------------------------------------------------

DOSSIER_SERVICE_PERMISSION = "rak_customer.change_dossier_service"


class DossierServiceLocked(RakError):
    default_message = gettext_lazy(
        "Le métier d'un dossier ne peut être modifié que par la facturation ou un superviseur."
    )


@transaction.atomic
def dossier_save(*, dossier: Dossier, staff_user) -> Dossier:
    """Save a dossier edited in the back office. Its service (métier) decides what it is billed
    and on which meter: only staff with ``change_dossier_service`` (facturation, superviseur)
    change it; anyone else gets ``DossierServiceLocked`` and nothing is written."""
    if dossier.pk is not None:
        stored = Dossier.objects.select_for_update().filter(pk=dossier.pk).values_list("service", flat=True).first()
        if stored is not None and stored != dossier.service and not staff_user.has_perm(DOSSIER_SERVICE_PERMISSION):
            raise DossierServiceLocked(
                gettext(
                    "Le métier d'un dossier ne peut être modifié que par la facturation ou un superviseur "
                    "(dossier %(number)s : %(service)s)."
                )
                % {"number": dossier.number, "service": Service(stored).label}
            )
    dossier.save()
    return dossier


# --- notice preferences (issue 11) -------------------------------------------------------------------


@transaction.atomic
def customer_notice_preferences_set(*, customer_id: int, sms_service_notices: bool, user, now: datetime) -> Customer:
    """The customer's choice « Recevoir par SMS les avis de coupure et de travaux » (profile page, or
    staff at the counter). Kept in the customer's history with who and when; the notices themselves
    stay on the customer's dashboard whatever the choice."""
    customer = Customer.objects.select_for_update().get(pk=customer_id)
    if customer.sms_service_notices == sms_service_notices:
        return customer
    customer.sms_service_notices = sms_service_notices
    customer._history_user = user
    customer._history_date = now
    customer._change_reason = (
        gettext("Avis de coupure par SMS : acceptés")
        if sms_service_notices
        else gettext("Avis de coupure par SMS : refusés")
    )
    customer.save(update_fields=["sms_service_notices"])
    return customer


def customer_language_set(*, customer: Customer, language: str) -> bool:
    """The customer's language (pages, SMS, e-mails, documents sent later); True when it changed."""
    if language not in Customer.Language.values:
        raise RakError(gettext("Cette langue n'est pas proposée."))
    updated = Customer.objects.filter(pk=customer.pk).exclude(language=language).update(language=language)
    customer.language = language
    return bool(updated)
