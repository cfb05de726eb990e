"""Complaint services: every write of a complaint, under a row lock, with its thread entry.

- ``complaint_file``: « Envoyer votre demande » (public or logged in, from a bill, an incident, the
  counter); numbers the complaint, computes its deadlines, sends the SMS « de prise en charge ».
- Customer side: ``complaint_customer_add`` (information or a file while open),
  ``complaint_reopen`` (within ``COMPLAINT_REOPEN_DAYS`` of closure), ``complaint_rate``.
- Staff side: ``complaint_reply`` (to the customer, SMS / e-mail / bell, optionally asking for
  information), ``complaint_note`` (internal), ``complaint_assign`` / ``complaint_take``,
  ``complaint_close`` (a result, sent by SMS), ``complaint_action_record`` (a resolving action
  recorded in the thread), ``complaint_from_contact_message`` (« Contactez-nous » → complaint).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.files import File
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from rak_base.api import phone_normalize, sequence_next
from rak_base.throttle import throttle_hit
from rak_base.uploads import ValidatedUpload
from rak_customer.models import ContactMessage, Customer, Dossier
from rak_customer.selectors import customer_portal_user
from rak_requests.complaint_models import Complaint, ComplaintCategory, ComplaintEntry, OutageNotice
from rak_requests.complaints import notify
from rak_requests.complaints.categories import category_name
from rak_requests.complaints.errors import (
    ComplaintAlreadyRated,
    ComplaintClosed,
    ComplaintError,
    ComplaintMessageRequired,
    ComplaintNotClosed,
    ComplaintRatingInvalid,
    ComplaintRefused,
    ComplaintReopenExpired,
    ComplaintResultRequired,
    ComplaintStale,
    ComplaintThrottled,
)
from rak_requests.complaints.sla import complaint_deadlines

Entry = ComplaintEntry
CHANNELS = ("SMS", "EMAIL", "BELL")
# the same complaint sent again within this time (a double click on « Envoyer votre demande »,
# « Renvoyer » after a slow page, the browser's back button) is the first one, not a new one
DUPLICATE_WINDOW = timedelta(minutes=15)
FILING_LOCK_CLASS = 0x524543  # "REC": first key of the advisory lock that serialises one phone's filings


@dataclass(frozen=True)
class ComplaintFiling:
    """What « Envoyer une réclamation » (or an incident report, or the counter) gives."""

    category: ComplaintCategory
    name: str
    phone: str
    message: str
    subject: str = ""
    email: str = ""
    customer_code: str = ""
    reference: str = ""  # a dossier or bill number typed on the public form
    dossier_id: int | None = None
    bill_id: int | None = None
    reading_id: int | None = None
    premises_id: int | None = None
    address: str = ""
    district: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    outage_notice_id: int | None = None
    source: str = Complaint.Source.FORM
    channel: str = Complaint.Channel.WEB
    upload: ValidatedUpload | None = None
    upload_name: str = ""


# --- helpers ---------------------------------------------------------------------------------------


def complaint_number_next(*, now: datetime) -> str:
    year = timezone.localtime(now).year
    return f"REC{year}-{sequence_next(name=f'complaint:{year}', start=1):06d}"


def _entry(complaint: Complaint, *, kind: str, actor_kind: str, now: datetime, actor=None, body: str = "", **extra):
    upload: ValidatedUpload | None = extra.pop("upload", None)
    upload_name: str = extra.pop("upload_name", "")
    entry = ComplaintEntry(
        complaint=complaint, at=now, kind=kind, actor_kind=actor_kind, actor=actor, body=body, **extra
    )
    if upload is not None:
        entry.file.save(upload.stored_name(), File(upload.file), save=False)
        entry.file_name = (upload_name or entry.file.name or "")[-255:]
        entry.file_type = upload.mime
        entry.file_size = upload.size
    entry.save()
    return entry


def _account_user(customer: Customer | None, user=None):
    """The portal account a complaint's customer hears through (bell, « Mes réclamations »): the
    customer's own login when they filed it, else their account's user; none without a customer."""
    if customer is None:
        return None
    if user is not None and not getattr(user, "is_staff", False):
        return user
    return customer_portal_user(customer.pk)


def _locked(complaint_id: int, *, expected_updated_at: datetime | None = None) -> Complaint:
    complaint = (
        Complaint.objects.select_for_update(of=("self",)).select_related("category", "user").get(pk=complaint_id)
    )
    if expected_updated_at is not None and complaint.updated_at != expected_updated_at:
        raise ComplaintStale()
    return complaint


def _touch(complaint: Complaint, now: datetime, *fields: str) -> None:
    complaint.updated_at = now
    complaint.save(update_fields=[*fields, "updated_at"])


def _text(value: str, *, required_error: type[ComplaintError] = ComplaintMessageRequired) -> str:
    value = (value or "").strip()
    if not value:
        raise required_error()
    return value


def _customer_by_code_and_phone(code: str, phone: str) -> Customer | None:
    """The customer a public form designates: the code client given AND the phone given is one of
    theirs (a code alone would let anybody read the thread of somebody else's complaint). No match
    links nothing and says nothing (no enumeration of codes); staff see the code typed."""
    code = code.strip().upper()
    if not code or not phone:
        return None
    return Customer.objects.filter(code=code, contacts__kind="PHONE", contacts__value=phone).first()


def _one_line(value: str) -> str:
    """A one-line field (name, subject) as one line: a line break typed into a hand-made request
    would otherwise reach e-mail subjects and SMS."""
    return " ".join((value or "").split())


def _filing_lock(key: str) -> None:
    """Filings from one phone (or one customer) wait for each other until the transaction ends, so
    that a double click's two requests see each other (``_duplicate_of``)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [FILING_LOCK_CLASS, key])


def _duplicate_of(*, filing: ComplaintFiling, category: ComplaintCategory, message: str, phone: str, customer, now):
    """The complaint this filing repeats: same phone (or customer), category, message and bill,
    filed less than ``DUPLICATE_WINDOW`` ago (index complaint_phone_recent / complaint_customer_recent)."""
    same_bill = Q(bill_id=filing.bill_id) if filing.bill_id is not None else Q(bill__isnull=True)
    same = Complaint.objects.filter(same_bill, category=category, message=message, filed_at__gte=now - DUPLICATE_WINDOW)
    if phone:
        same = same.filter(phone=phone)
    elif customer is not None:
        same = same.filter(customer=customer)
    else:
        return None
    return same.order_by("-filed_at", "-id").first()


def _filing_throttle(*, phone: str, ip: str, now: datetime, public: bool) -> None:
    if phone and not throttle_hit(
        key=f"complaint:phone:{phone}", limit=settings.COMPLAINT_PER_PHONE_DAILY, window=timedelta(days=1), now=now
    ):
        raise ComplaintThrottled()
    if (
        public
        and ip
        and not throttle_hit(
            key=f"complaint:ip:{ip}", limit=settings.COMPLAINT_PER_IP_HOURLY, window=timedelta(hours=1), now=now
        )
    ):
        raise ComplaintThrottled()


def _position(latitude, longitude) -> tuple[Decimal | None, Decimal | None]:
    """The browser's position, both coordinates or none, rounded to the column's 6 decimals (about
    10 cm); out of range → refused (a hand-made request), never a database error."""
    if latitude is None or longitude is None or latitude == "" or longitude == "":
        return None, None
    try:
        lat = Decimal(str(latitude)).quantize(Decimal("0.000001"))
        lon = Decimal(str(longitude)).quantize(Decimal("0.000001"))
    except (ArithmeticError, ValueError):
        raise ComplaintRefused(_("La position transmise par le navigateur est invalide."), field="address") from None
    if not (lat.is_finite() and lon.is_finite() and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise ComplaintRefused(_("La position transmise par le navigateur est invalide."), field="address")
    return lat, lon


# --- filing ----------------------------------------------------------------------------------------


@transaction.atomic
def complaint_file(
    *,
    filing: ComplaintFiling,
    now: datetime,
    customer: Customer | None = None,
    user=None,
    staff_user=None,
    ip: str = "",
    deduplicate: bool = False,
    language: str | None = None,
) -> Complaint:
    """File a complaint. ``customer``/``user``: the logged-in customer (their dossier, bill and
    reading must be theirs); ``staff_user``: filed at the counter or by phone for the customer.
    ``language``: the language of the page it was filed on (default: the active one), kept with
    the complaint for what is sent to a complainant who is not a known customer (a customer hears
    in their account's language: ``notify.complaint_language``).
    ``deduplicate`` (the forms): the same complaint sent again within ``DUPLICATE_WINDOW`` — same
    phone (or customer), category, bill and message: a double click on « Envoyer votre demande »,
    « Renvoyer » after a slow page — is the first one, returned as is (no second SMS)."""
    category = ComplaintCategory.objects.filter(pk=filing.category.pk, is_active=True).first()
    if category is None:
        raise ComplaintRefused(_("Choisissez une catégorie de réclamation."), field="category")
    message = _text(filing.message)
    name = _text(_one_line(filing.name), required_error=ComplaintRefused)
    phone = phone_normalize(filing.phone) if filing.phone else ""
    public = customer is None and staff_user is None
    if public and not phone:
        raise ComplaintRefused(
            _("Indiquez votre numéro de téléphone : le SMS de prise en charge y sera envoyé."), field="phone"
        )
    if staff_user is None:  # at the counter or on the phone, the agent is the filter
        _filing_throttle(phone=phone, ip=ip, now=now, public=public)
    if deduplicate and (phone or customer is not None):  # after the throttles: a robot's repeats count
        _filing_lock(phone or (f"customer:{customer.pk}" if customer is not None else ""))
        duplicate = _duplicate_of(
            filing=filing, category=category, message=message, phone=phone, customer=customer, now=now
        )
        if duplicate is not None:
            return duplicate  # already filed, its SMS already sent: the same number again, nothing more

    if customer is None:
        customer = _customer_by_code_and_phone(filing.customer_code, phone)
    dossier = bill = reading = premises = None
    if filing.dossier_id or filing.bill_id or filing.reading_id or filing.premises_id:
        if customer is None:
            raise ComplaintRefused(_("Connectez-vous pour désigner un dossier ou une facture."), field="dossier")
        if filing.dossier_id:
            dossier = Dossier.objects.select_related("premises").filter(pk=filing.dossier_id, customer=customer).first()
            if dossier is None:
                raise ComplaintRefused(_("Ce dossier ne fait pas partie de vos abonnements."), field="dossier")
        if filing.bill_id:
            from rak_billing.models import Bill

            bill = Bill.objects.filter(pk=filing.bill_id, customer=customer).first()
            if bill is None:
                raise ComplaintRefused(_("Cette facture ne fait pas partie de vos factures."), field="bill")
            if dossier is None and bill.dossier_id:
                dossier = Dossier.objects.select_related("premises").get(pk=bill.dossier_id)
        if filing.reading_id:
            from rak_billing.models import MeterReading

            reading = MeterReading.objects.filter(pk=filing.reading_id, dossier__customer=customer).first()
            if reading is None:
                raise ComplaintRefused(_("Ce relevé ne concerne pas vos abonnements."), field="bill")
            if dossier is None:
                dossier = Dossier.objects.select_related("premises").get(pk=reading.dossier_id)
        if filing.premises_id:
            from rak_customer.models import Premises

            premises = Premises.objects.filter(pk=filing.premises_id, dossiers__customer=customer).distinct().first()
            if premises is None:
                raise ComplaintRefused(_("Ce local ne fait pas partie de vos abonnements."), field="premises")
    if premises is None and dossier is not None:
        premises = dossier.premises
    address = _one_line(filing.address) or (premises.address if premises else "")
    district = _one_line(filing.district) or (premises.district if premises else "")
    latitude, longitude = _position(filing.latitude, filing.longitude)
    if filing.source == Complaint.Source.INCIDENT and not (address or latitude is not None):
        raise ComplaintRefused(_("Indiquez l'adresse du problème ou autorisez la localisation."), field="address")
    notice = None
    if filing.outage_notice_id:
        notice = OutageNotice.objects.filter(pk=filing.outage_notice_id, status=OutageNotice.Status.PUBLISHED).first()

    first_due, due = complaint_deadlines(category, now)
    filed_in = (language or translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]
    complaint = Complaint.objects.create(
        number=complaint_number_next(now=now),
        category=category,
        status=Complaint.Status.NEW,
        channel=filing.channel,
        source=filing.source,
        customer=customer,
        user=_account_user(customer, user),
        customer_code_given=filing.customer_code.strip().upper()[:20],
        reference_given=filing.reference.strip()[:40],
        name=name[:120],
        email=filing.email.strip().lower(),
        phone=phone,
        subject=(_one_line(filing.subject) or category_name(category))[:160],  # in the complainant's language
        message=message,
        dossier=dossier,
        bill=bill,
        reading=reading,
        premises=premises,
        address=address[:255],
        district=district[:80],
        latitude=latitude,
        longitude=longitude,
        outage_notice=notice,
        agency=customer.agency if customer is not None else None,
        filed_at=now,
        first_answer_due_at=first_due,
        due_at=due,
        updated_at=now,
    )
    _entry(
        complaint,
        kind=Entry.Kind.FILED,
        actor_kind=Entry.Actor.STAFF if staff_user else Entry.Actor.CUSTOMER,
        actor=staff_user or (user if customer is not None else None),
        now=now,
        body=message,
        upload=filing.upload,
        upload_name=filing.upload_name,
        data={"channel": filing.channel, "source": filing.source, notify.LANGUAGE_KEY: filed_in},
    )
    notify.complaint_filed_notify(complaint, language=filed_in if customer is None else None)
    return complaint


# --- the customer ----------------------------------------------------------------------------------

REPEAT_WINDOW = timedelta(minutes=2)


def _repeat_of(complaint: Complaint, *, kind: str, user, body: str, now: datetime) -> ComplaintEntry | None:
    """The customer's own last entry, of this kind and text, a moment ago: the same form sent twice
    (a double click, « Renvoyer » after a slow page) — done once, and the second post is told so."""
    last = complaint.entries.order_by("-at", "-id").first()
    if (
        last is not None
        and last.kind == kind
        and last.actor_id == getattr(user, "pk", None)
        and last.body == body
        and now - last.at <= REPEAT_WINDOW
    ):
        return last
    return None


def _own_locked(complaint_id: int, customer: Customer) -> Complaint:
    complaint = _locked(complaint_id)
    if complaint.customer_id != customer.pk:
        raise Complaint.DoesNotExist  # the portal turns it into a 404, as for an unknown number
    return complaint


@transaction.atomic
def complaint_customer_add(
    *,
    complaint_id: int,
    customer: Customer,
    user,
    body: str,
    now: datetime,
    upload: ValidatedUpload | None = None,
    upload_name: str = "",
) -> ComplaintEntry:
    """« Ajouter une information » while the complaint is open (text, a file, or both)."""
    complaint = _own_locked(complaint_id, customer)
    if not complaint.is_open:
        raise ComplaintClosed()
    body = (body or "").strip()
    if not body and upload is None:
        raise ComplaintMessageRequired(_("Écrivez votre message ou joignez un fichier."))
    repeat = _repeat_of(complaint, kind=Entry.Kind.CUSTOMER_MESSAGE, user=user, body=body, now=now)
    if repeat is not None and (
        (upload is None and not repeat.file)
        or (upload is not None and repeat.file_size == upload.size and repeat.file_type == upload.mime)
    ):
        return repeat
    entry = _entry(
        complaint,
        kind=Entry.Kind.CUSTOMER_MESSAGE,
        actor_kind=Entry.Actor.CUSTOMER,
        actor=user,
        now=now,
        body=body,
        upload=upload,
        upload_name=upload_name,
    )
    fields = []
    if complaint.status == Complaint.Status.WAITING_CUSTOMER:
        complaint.status = Complaint.Status.IN_PROGRESS
        fields.append("status")
    _touch(complaint, now, *fields)
    # the agent in charge is told; an unassigned complaint is in the queue, seen by all
    notify.complaint_customer_message_notify(
        complaint, text=body, users=[complaint.assigned_to] if complaint.assigned_to_id else []
    )
    return entry


@transaction.atomic
def complaint_reopen(*, complaint_id: int, customer: Customer, user, reason: str, now: datetime) -> Complaint:
    complaint = _own_locked(complaint_id, customer)
    reason = (reason or "").strip()
    if complaint.is_open and _repeat_of(complaint, kind=Entry.Kind.REOPENED, user=user, body=reason, now=now):
        return complaint  # « Rouvrir » sent twice: reopened once
    if complaint.is_open or complaint.closed_at is None:  # closing sets closed_at
        raise ComplaintNotClosed()
    if now > complaint.closed_at + timedelta(days=settings.COMPLAINT_REOPEN_DAYS):
        raise ComplaintReopenExpired(
            _(
                "Le délai de %(days)d jours pour rouvrir cette réclamation est dépassé : "
                "déposez une nouvelle réclamation."
            )
            % {"days": settings.COMPLAINT_REOPEN_DAYS}
        )
    reason = _text(reason, required_error=ComplaintMessageRequired)
    first_due, due = complaint_deadlines(complaint.category, now)
    complaint.status = Complaint.Status.IN_PROGRESS
    complaint.reopen_count += 1
    complaint.first_answer_due_at, complaint.due_at = first_due, due
    complaint.escalated_at = None
    complaint.closed_at = None
    complaint.closed_by = None
    complaint.rating = None
    complaint.rating_comment = ""
    complaint.rated_at = None
    _touch(
        complaint,
        now,
        "status",
        "reopen_count",
        "first_answer_due_at",
        "due_at",
        "escalated_at",
        "closed_at",
        "closed_by",
        "rating",
        "rating_comment",
        "rated_at",
    )
    _entry(complaint, kind=Entry.Kind.REOPENED, actor_kind=Entry.Actor.CUSTOMER, actor=user, now=now, body=reason)
    notify.complaint_reopened_notify(complaint, reason=reason)  # its agent, else everyone who handles complaints
    return complaint


@transaction.atomic
def complaint_rate(
    *, complaint_id: int, customer: Customer, user, rating: int, comment: str = "", now: datetime
) -> Complaint:
    complaint = _own_locked(complaint_id, customer)
    if complaint.is_open:
        raise ComplaintNotClosed(_("Vous pourrez noter la réponse une fois la réclamation clôturée."))
    if complaint.rating is not None:
        if str(complaint.rating) == str(rating) and _repeat_of(
            complaint, kind=Entry.Kind.RATED, user=user, body=(comment or "").strip()[:500], now=now
        ):
            return complaint  # the same rating sent twice: recorded once
        raise ComplaintAlreadyRated()
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        raise ComplaintRatingInvalid() from None
    if not 1 <= rating <= 5:
        raise ComplaintRatingInvalid()
    complaint.rating = rating
    complaint.rating_comment = (comment or "").strip()[:500]
    complaint.rated_at = now
    _touch(complaint, now, "rating", "rating_comment", "rated_at")
    _entry(
        complaint,
        kind=Entry.Kind.RATED,
        actor_kind=Entry.Actor.CUSTOMER,
        actor=user,
        now=now,
        body=complaint.rating_comment,
        data={"rating": rating},
    )
    return complaint


# --- the staff -------------------------------------------------------------------------------------


def _answered(complaint: Complaint, now: datetime, fields: list[str], staff_user) -> None:
    if complaint.first_answered_at is None:
        complaint.first_answered_at = now
        fields.append("first_answered_at")
    if complaint.status == Complaint.Status.NEW:
        complaint.status = Complaint.Status.IN_PROGRESS
        fields.append("status")
    if complaint.assigned_to_id is None and staff_user is not None:
        complaint.assigned_to = staff_user
        fields.append("assigned_to")


@transaction.atomic
def complaint_reply(
    *,
    complaint_id: int,
    staff_user,
    body: str,
    channels: list[str] | tuple[str, ...] = CHANNELS,
    asks_information: bool = False,
    now: datetime,
    expected_updated_at: datetime | None = None,
) -> ComplaintEntry:
    """A reply to the customer, sent on ``channels`` (those the complaint can receive). With
    ``asks_information`` the complaint waits for the customer's answer (« En attente de votre réponse »)."""
    complaint = _locked(complaint_id, expected_updated_at=expected_updated_at)
    if not complaint.is_open:
        raise ComplaintClosed()
    body = _text(body)
    channels = [c for c in channels if c in CHANNELS]
    fields: list[str] = []
    _answered(complaint, now, fields, staff_user)
    if asks_information:
        complaint.status = Complaint.Status.WAITING_CUSTOMER
        fields.append("status")
    _touch(complaint, now, *dict.fromkeys(fields))
    used = notify.complaint_reply_notify(complaint, text=body, channels=channels, asks_information=asks_information)
    return _entry(
        complaint,
        kind=Entry.Kind.INFO_REQUEST if asks_information else Entry.Kind.REPLY,
        actor_kind=Entry.Actor.STAFF,
        actor=staff_user,
        now=now,
        body=body,
        channels=used,
    )


@transaction.atomic
def complaint_note(*, complaint_id: int, staff_user, body: str, now: datetime) -> ComplaintEntry:
    complaint = _locked(complaint_id)
    body = _text(body)
    _touch(complaint, now)
    return _entry(
        complaint,
        kind=Entry.Kind.NOTE,
        actor_kind=Entry.Actor.STAFF,
        actor=staff_user,
        now=now,
        body=body,
        internal=True,
    )


@transaction.atomic
def complaint_assign(*, complaint_id: int, staff_user, assignee, now: datetime) -> Complaint:
    """Give the complaint to ``assignee`` (a staff member; None: back to the queue)."""
    complaint = _locked(complaint_id)
    if not complaint.is_open:
        raise ComplaintClosed()
    if assignee is not None and not (assignee.is_active and assignee.is_staff):
        raise ComplaintError(_("Choisissez un agent actif du back office."))
    if complaint.assigned_to_id == (assignee.pk if assignee else None):
        return complaint
    complaint.assigned_to = assignee
    fields = ["assigned_to"]
    if assignee is not None and complaint.status == Complaint.Status.NEW:
        complaint.status = Complaint.Status.IN_PROGRESS
        fields.append("status")
    _touch(complaint, now, *fields)
    who = (assignee.get_full_name() or assignee.username) if assignee else _("la file d'attente")
    _entry(
        complaint,
        kind=Entry.Kind.ASSIGNED,
        actor_kind=Entry.Actor.STAFF,
        actor=staff_user,
        now=now,
        body=_("Réclamation confiée à %(who)s.") % {"who": who},
        internal=True,
        data={"assignee_id": assignee.pk if assignee else None},
    )
    if assignee is not None and assignee != staff_user:
        notify.complaint_assigned_notify(complaint, assignee=assignee)
    return complaint


def complaint_take(*, complaint_id: int, staff_user, now: datetime) -> Complaint:
    """« Prendre en charge »: assign it to oneself."""
    return complaint_assign(complaint_id=complaint_id, staff_user=staff_user, assignee=staff_user, now=now)


@transaction.atomic
def complaint_close(
    *, complaint_id: int, staff_user, result: str, now: datetime, expected_updated_at: datetime | None = None
) -> Complaint:
    """Close with a result text, sent to the customer by SMS (and e-mail and bell)."""
    complaint = _locked(complaint_id, expected_updated_at=expected_updated_at)
    if not complaint.is_open:
        raise ComplaintClosed(_("Cette réclamation est déjà clôturée."))
    result = _text(result, required_error=ComplaintResultRequired)
    fields: list[str] = []
    _answered(complaint, now, fields, staff_user)
    complaint.status = Complaint.Status.CLOSED
    complaint.result = result
    complaint.closed_at = now
    complaint.closed_by = staff_user
    _touch(complaint, now, *dict.fromkeys([*fields, "status", "result", "closed_at", "closed_by"]))
    used = notify.complaint_closed_notify(complaint)
    _entry(
        complaint,
        kind=Entry.Kind.CLOSED,
        actor_kind=Entry.Actor.STAFF,
        actor=staff_user,
        now=now,
        body=result,
        channels=used,
    )
    return complaint


@transaction.atomic
def complaint_action_record(
    *, complaint_id: int, staff_user, body: str, now: datetime, data: dict | None = None, internal: bool = False
) -> ComplaintEntry:
    """A resolving action (credit note, reading sent to review, intervention order…) written into
    the thread by the service that did it, in the same transaction. An action the customer sees
    (a credit note, an intervention ordered) by an agent is an answer: it meets the first-answer
    deadline like a reply."""
    complaint = _locked(complaint_id)
    fields: list[str] = []
    if complaint.is_open and not internal and staff_user is not None:
        _answered(complaint, now, fields, staff_user)
    elif complaint.is_open and complaint.status == Complaint.Status.NEW:
        complaint.status = Complaint.Status.IN_PROGRESS
        fields.append("status")
    _touch(complaint, now, *dict.fromkeys(fields))
    return _entry(
        complaint,
        kind=Entry.Kind.ACTION,
        actor_kind=Entry.Actor.STAFF if staff_user else Entry.Actor.SYSTEM,
        actor=staff_user,
        now=now,
        body=body,
        internal=internal,
        data=data or {},
    )


@transaction.atomic
def complaint_from_contact_message(
    *, message_id: int, staff_user, category: ComplaintCategory, now: datetime
) -> Complaint:
    """« Transformer en réclamation »: the « Contactez-nous » message becomes a complaint (its text,
    its sender, the customer when known), and the message is marked handled with its number."""
    message = ContactMessage.objects.select_for_update().get(pk=message_id)
    existing = Complaint.objects.filter(contact_message=message).first()
    if existing is not None:
        return existing  # a double click, or two agents at once: one complaint
    if message.status == ContactMessage.Status.HANDLED:
        raise ComplaintError(_("Ce message a déjà été traité."))
    first_due, due = complaint_deadlines(category, now)
    customer = message.customer
    complaint = Complaint.objects.create(
        number=complaint_number_next(now=now),
        category=category,
        channel=Complaint.Channel.CONTACT,
        source=Complaint.Source.FORM,
        customer=customer,
        name=_one_line(message.name)[:120],
        email=message.email,
        phone=message.phone,
        subject=_one_line(message.subject)[:160],
        message=message.body,
        contact_message=message,
        user=_account_user(customer),
        agency=customer.agency if customer else None,
        filed_at=message.created_at,
        first_answer_due_at=first_due,
        due_at=due,
        updated_at=now,
    )
    _entry(
        complaint,
        kind=Entry.Kind.FILED,
        actor_kind=Entry.Actor.CUSTOMER,
        now=message.created_at,
        body=message.body,
        data={
            "channel": Complaint.Channel.CONTACT,
            "contact_message_id": message.pk,
            # the sender wrote on a page we do not know the language of: the language they wrote in
            notify.LANGUAGE_KEY: notify.written_language(message.body) or settings.LANGUAGE_CODE,
        },
    )
    _entry(
        complaint,
        kind=Entry.Kind.NOTE,
        actor_kind=Entry.Actor.STAFF,
        actor=staff_user,
        now=now,
        internal=True,
        body=_("Créée à partir du message « Contactez-nous » du %(date)s.")
        % {"date": date_format(timezone.localtime(message.created_at), "d/m/Y H:i")},
    )
    message.status = ContactMessage.Status.HANDLED
    message.staff_note = _("Transformé en réclamation %(number)s.") % {"number": complaint.number}
    message.handled_by = staff_user
    message.handled_at = now
    message.save(update_fields=["status", "staff_note", "handled_by", "handled_at"])
    notify.complaint_filed_notify(complaint)
    return complaint


__all__ = [
    "ComplaintFiling",
    "complaint_action_record",
    "complaint_assign",
    "complaint_close",
    "complaint_customer_add",
    "complaint_file",
    "complaint_from_contact_message",
    "complaint_note",
    "complaint_rate",
    "complaint_reopen",
    "complaint_reply",
    "complaint_take",
]
