"""Outage and works notices (« avis de coupure et de travaux », issue 11).

Staff (« technique ») write a draft — a planned or unplanned cut of water or electricity, or works
(sanitation: works only) — for some districts (« quartiers ») and/or reading rounds (« tournées »),
with its start, expected end and reason; the back office previews the customers concerned, then
« Publier »:

- the customers concerned are computed SET-BASED, in one ``INSERT … SELECT``: the distinct
  customers with an ACTIVE dossier of the notice's service whose premises are in one of its
  districts or rounds (``OutageNoticeRecipient``, unique per notice and customer);
- one SMS per customer (never one per dossier) to the customer's SMS number (the contact flagged
  ``is_sms``, as ``rak_customer.selectors.customer_sms_phone``), skipped when the customer opted
  out (``Customer.sms_service_notices``): one ``UPDATE … RETURNING`` flags ``sms_queued`` and
  gives the numbers, then ``message_queue_bulk`` writes the outbox rows (one event key);
- a second « Publier » (a double click) is refused under the notice's row lock and, even if it
  were not, the unique constraint and the ``sms_queued`` flag would send nothing more.

Then « Mettre à jour la fin prévue » (an SMS « mise à jour » to those who were told, once per
change: the same end twice is refused), « Rétablissement constaté » (optional SMS « rétabli »),
« Annuler » (a reason; an SMS to those who were told). Every change is under ``select_for_update``
and leaves a history row (``OutageNotice.history``, with the reason of the change).

Decisions:
- a PLANNED cut whose start is already past cannot be published as such: it is happening, so it
  is an unplanned cut (or the start is wrong) — the agent corrects it; an unplanned cut or works
  may have started already; any notice whose expected end is past is refused (it would tell
  nobody anything useful);
- a notice is « current » while published, not declared restored, and its expected end is less
  than ``OVERRUN_GRACE`` ago (cuts overrun; the home page keeps saying so for a while); upcoming
  planned cuts are listed too (that is what announcing them is for);
- the dashboard shows a customer the notices they were told about and those that cover one of
  their active dossiers' premises now (a dossier opened after publication), and a notice restored
  less than ``RESTORED_SHOWN`` ago as « rétabli »;
- SMS wording comes from the message templates (``outage.notice``, ``outage.updated``,
  ``outage.ended``, ``outage.cancelled``, editable by staff); the values put in them are
  shortened (districts list abbreviated, reason cut) and written in the GSM alphabet (« â » → « a »)
  so that the SMS stays within two parts;
- each customer gets the SMS in their own language (``Customer.language``, issue 12), still
  set-based: the recipients come back with their language, the text is composed once per language
  (at most three) and the outbox rows are written in one bulk insert. An Arabic SMS is UCS-2 (67
  characters a part when split): the shortening steps go further (``SMS_ATTEMPTS``) and the
  placeholders' examples (``SMS_EXAMPLE_*``, what the back office counts a wording with) are the
  lengths every wording is guaranteed to fit at — so the Arabic default fits in two SMS too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import BooleanField, Exists, OuterRef, Q, Subquery
from django.db.models.expressions import RawSQL
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext, pgettext
from django.utils.translation import gettext_lazy as _

from rak_base.api import message_renderer, message_template_register
from rak_base.errors import RakError
from rak_base.models import Message
from rak_base.outbox import event_key, message_queue_bulk
from rak_base.sequences import sequence_next
from rak_base.sms_length import gsm_transliterate, sms_length
from rak_billing.models import ReadingRound
from rak_customer.models import Contact, Customer, Dossier, PortalAccount, Premises, Service
from rak_requests.complaint_models import OutageNotice, OutageNoticeRecipient

OVERRUN_GRACE = timedelta(hours=6)
RESTORED_SHOWN = timedelta(hours=24)
DUPLICATE_MARGIN = timedelta(hours=1)  # a cut reported just before the planned start is the same cut
MAX_DURATION = timedelta(days=60)
MAX_ADVANCE = timedelta(days=90)  # published further ahead, it is a year typed wrong (the SMS has no year)
PLANNED_NOTICE_HOURS = 48  # a planned cut is announced at least this long before (a warning only)
SMS_DISTRICTS_MAX = 60
SMS_REASON_MAX = 60
MAX_SMS_SEGMENTS = 2
# the placeholders' examples (what the back office counts a wording with): the lengths of a step of
# SMS_ATTEMPTS, so that a wording that fits in two SMS with them fits at that step at the latest, in
# any language — Arabic (UCS-2, 67 characters a part) included
SMS_EXAMPLE_DISTRICTS = 24
SMS_EXAMPLE_REASON = 16
# (reason, districts) lengths tried in turn until the SMS fits in MAX_SMS_SEGMENTS: French and English
# (GSM-7) fit at the first steps, Arabic at the third or fourth
SMS_ATTEMPTS = (
    (SMS_REASON_MAX, SMS_DISTRICTS_MAX),
    (SMS_REASON_MAX, 30),
    (20, 30),
    (SMS_EXAMPLE_REASON, SMS_EXAMPLE_DISTRICTS),
    (12, 12),
    (12, 0),
)
DRAFT_REPEAT_WINDOW = timedelta(minutes=2)  # the same draft saved twice by one agent within it: one draft
DRAFT_LOCK_CLASS = 0x415643  # "AVC": first key of the advisory lock that serialises one agent's new drafts

Kind = OutageNotice.Kind
Status = OutageNotice.Status

# --- refusals ----------------------------------------------------------------------------------------


class OutageNoticeError(RakError):
    default_message = _("Cette action n'est pas possible sur cet avis de coupure.")


class OutageNoticeInvalid(OutageNoticeError):
    """The notice as typed cannot be saved or published (the message says why)."""


class OutageNoticeNotDraft(OutageNoticeError):
    default_message = _("Cet avis n'est plus un brouillon : il ne peut plus être modifié ainsi.")


class OutageNoticeAlreadyPublished(OutageNoticeError):
    default_message = _("Cet avis est déjà publié : rien n'a été renvoyé.")


class OutageNoticeNotPublished(OutageNoticeError):
    default_message = _("Cet avis n'est pas publié.")


class OutageNoticeEnded(OutageNoticeError):
    default_message = _("Le rétablissement de cet avis est déjà constaté.")


class OutageNoticeCancelled(OutageNoticeError):
    default_message = _("Cet avis est annulé.")


# --- message templates ---------------------------------------------------------------------------------

_EXAMPLE_WHAT = "coupure d'eau programmée"  # i18n: not for customers (a typical value)
_PLACEHOLDERS = {
    "number": (_("numéro de l'avis"), "AVC2026-00012"),
    "what": (_("nature de l'avis (coupure d'eau programmée…)"), _EXAMPLE_WHAT),
    "districts": (_("quartiers et tournées (abrégés)"), "X" * SMS_EXAMPLE_DISTRICTS),
    "start": (_("début (jj/mm hh:mm)"), "05/12 09h00"),
    "end": (_("fin prévue (jj/mm hh:mm)"), "05/12 14h00"),
}
TEMPLATES = {
    "outage.notice": (
        _("Avis de coupure ou de travaux publié"),
        {**_PLACEHOLDERS, "reason": (_("motif (abrégé)"), "X" * SMS_EXAMPLE_REASON)},
        _(
            "RAK : {what} du {start} au {end} (fin prévue), {districts}. Motif : {reason}. "
            "Avis {number} sur l'agence en ligne."
        ),
        ("what", "start"),
    ),
    "outage.updated": (
        _("Avis de coupure : fin prévue modifiée"),
        _PLACEHOLDERS,
        _("RAK : {what}, {districts} : la fin est maintenant prévue le {end}. Avis {number} sur l'agence en ligne."),
        ("end",),
    ),
    "outage.ended": (
        _("Avis de coupure : service rétabli"),
        _PLACEHOLDERS,
        _("RAK : {what}, {districts} : le service est rétabli. Merci de votre patience. Avis {number}."),
        (),
    ),
    "outage.cancelled": (
        _("Avis de coupure annulé"),
        {**_PLACEHOLDERS, "reason": (_("motif de l'annulation (abrégé)"), "X" * SMS_EXAMPLE_REASON)},
        _("RAK : annulation de l'avis {number} ({what} du {start}, {districts}) : {reason}."),
        ("number",),
    ),
}


def register() -> None:
    """Registrations of the outage notices (their SMS templates), called from RakRequestsConfig.ready."""
    for code, (label, placeholders, body, required) in TEMPLATES.items():
        message_template_register(
            code,
            label=label,
            placeholders=placeholders,
            defaults={Message.Channel.SMS: ("", body)},
            required=required,
        )


def _sms_text(code: str, context: dict, *, language: str) -> str:
    """The SMS of ``code`` in ``language`` with ``context``: staff's wording (message templates) or
    the default."""
    try:
        return message_renderer(code=code, channel=Message.Channel.SMS, language=language)(context)[1]
    except RakError:  # not registered (a test that reset the registry): the code's wording
        pass
    with translation.override(language):
        return str(TEMPLATES[code][2]).format_map(_Missing(context))


class _Missing(dict):
    def __missing__(self, key: str) -> str:
        return ""


def _segments(text: str) -> int:
    return sms_length(text).segments


# --- texts -----------------------------------------------------------------------------------------


def _cut(value: str, limit: int) -> str:
    value = " ".join((value or "").split())
    return value if len(value) <= limit else value[: limit - 1].rstrip(" ,.;:") + "…"


def outage_what(notice: OutageNotice) -> str:
    """« coupure d'eau programmée », « travaux sur le réseau d'assainissement »…"""
    if notice.kind == Kind.WORKS:
        words: dict[str, str] = {
            Service.EAU: gettext("travaux sur le réseau d'eau"),
            Service.ELECTRICITE: gettext("travaux sur le réseau d'électricité"),
            Service.ASSAINISSEMENT: gettext("travaux sur le réseau d'assainissement"),
        }
        return words.get(notice.service, gettext("travaux"))
    cut = gettext("coupure d'eau") if notice.service == Service.EAU else gettext("coupure d'électricité")
    if notice.kind == Kind.PLANNED:
        return gettext("%(cut)s programmée") % {"cut": cut}
    return gettext("%(cut)s imprévue") % {"cut": cut}


def outage_area_text(notice: OutageNotice, *, limit: int | None = None) -> str:
    """« Maamora, Saknia, tournée K01 », abbreviated to ``limit`` characters (« … et 3 autres »)."""
    items = [*notice.districts, *(gettext("tournée %(code)s") % {"code": c} for c in notice.round_codes)]
    text = ", ".join(items)
    if limit is None or len(text) <= limit:
        return text
    for keep in range(len(items) - 1, 0, -1):
        rest = len(items) - keep
        tail = ngettext(" et %(n)d autre", " et %(n)d autres", rest) % {"n": rest}
        text = ", ".join(items[:keep]) + tail
        if len(text) <= limit:
            return text
    return ngettext("%(n)d secteur", "%(n)d secteurs", len(items)) % {"n": len(items)}


def _short_datetime(value: datetime) -> str:
    return date_format(timezone.localtime(value), pgettext("date and time in an outage SMS", r"d/m H\hi"))


def _sms_context(notice: OutageNotice, *, reason: str = "", districts_limit: int = SMS_DISTRICTS_MAX) -> dict:
    return {
        "number": notice.number,
        "what": gsm_transliterate(outage_what(notice)),
        "districts": gsm_transliterate(outage_area_text(notice, limit=districts_limit)),
        "start": _short_datetime(notice.starts_at),
        "end": _short_datetime(notice.expected_end_at),
        "reason": gsm_transliterate(_cut(reason, SMS_REASON_MAX)),
    }


def outage_sms_text(
    notice: OutageNotice, code: str = "outage.notice", *, reason: str | None = None, language: str | None = None
) -> str:
    """The SMS ``code`` of ``notice`` in ``language`` (default: the site's, French; the same for
    every recipient of that language), kept within two SMS: the districts list is shortened, then
    the reason, when the wording would be longer (``SMS_ATTEMPTS``)."""
    reason = notice.reason if reason is None else reason
    language = language or settings.LANGUAGE_CODE
    text = ""
    with translation.override(language):  # « coupure d'eau programmée », « et 3 autres », the dates
        for reason_limit, districts_limit in SMS_ATTEMPTS:
            context = _sms_context(notice, reason=_cut(reason, reason_limit), districts_limit=districts_limit)
            text = _sms_text(code, context, language=language)
            if _segments(text) <= MAX_SMS_SEGMENTS:
                return text
    return text


# --- areas ---------------------------------------------------------------------------------------------


def outage_districts() -> list[str]:
    """The districts (« quartiers ») the premises are in: what a notice may name."""
    return list(
        Premises.objects.exclude(district="").order_by("district").values_list("district", flat=True).distinct()
    )


def outage_rounds() -> list[tuple[str, str]]:
    """The reading rounds (code, name)."""
    return list(ReadingRound.objects.order_by("code").values_list("code", "name"))


@dataclass(frozen=True)
class OutageNoticeData:
    """What the agent types (the draft's form)."""

    kind: str
    service: str
    starts_at: datetime
    expected_end_at: datetime
    reason: str
    districts: tuple[str, ...] = ()
    round_codes: tuple[str, ...] = ()
    details: str = ""


def _clean(data: OutageNoticeData) -> OutageNoticeData:
    if data.kind not in Kind.values:
        raise OutageNoticeInvalid(_("Choisissez la nature de l'avis (coupure programmée, imprévue ou travaux)."))
    if data.service not in Service.values:
        raise OutageNoticeInvalid(_("Choisissez le métier concerné (eau, électricité ou assainissement)."))
    if data.service == Service.ASSAINISSEMENT and data.kind != Kind.WORKS:
        raise OutageNoticeInvalid(
            _("L'assainissement n'est pas coupé : pour ce métier, l'avis est un avis de « Travaux ».")
        )
    if data.starts_at is None or data.expected_end_at is None:
        raise OutageNoticeInvalid(_("Indiquez le début et la fin prévue."))
    if data.expected_end_at <= data.starts_at:
        raise OutageNoticeInvalid(_("La fin prévue doit être postérieure au début."))
    if data.expected_end_at - data.starts_at > MAX_DURATION:
        raise OutageNoticeInvalid(
            _("La durée prévue dépasse %(days)d jours : vérifiez les dates (publiez un nouvel avis ensuite).")
            % {"days": MAX_DURATION.days}
        )
    reason = " ".join((data.reason or "").split())
    if not reason:
        raise OutageNoticeInvalid(_("Indiquez le motif (il figure dans le SMS et sur l'agence en ligne)."))
    if len(reason) > 255:
        raise OutageNoticeInvalid(_("Le motif fait plus de 255 caractères : détaillez plutôt dans les informations."))
    details = (data.details or "").strip()
    if len(details) > 2000:
        raise OutageNoticeInvalid(_("Les informations pour les clients font plus de 2 000 caractères."))
    districts = tuple(dict.fromkeys(d.strip() for d in data.districts if d and d.strip()))
    round_codes = tuple(dict.fromkeys(c.strip().upper() for c in data.round_codes if c and c.strip()))
    if districts:
        known = set(Premises.objects.filter(district__in=districts).values_list("district", flat=True).distinct())
        unknown = [d for d in districts if d not in known]
        if unknown:
            raise OutageNoticeInvalid(
                _("Quartier inconnu : %(names)s. Choisissez parmi les quartiers des locaux.")
                % {"names": ", ".join(unknown)}
            )
    if round_codes:
        known = set(ReadingRound.objects.filter(code__in=round_codes).values_list("code", flat=True))
        unknown = [c for c in round_codes if c not in known]
        if unknown:
            raise OutageNoticeInvalid(_("Tournée de relève inconnue : %(codes)s.") % {"codes": ", ".join(unknown)})
    return OutageNoticeData(
        kind=data.kind,
        service=data.service,
        starts_at=data.starts_at,
        expected_end_at=data.expected_end_at,
        reason=reason,
        districts=tuple(sorted(districts)),
        round_codes=tuple(sorted(round_codes)),
        details=details,
    )


def _locked(notice_id: int) -> OutageNotice:
    return OutageNotice.objects.select_for_update().get(pk=notice_id)


def _save(notice: OutageNotice, *, user, reason: str, fields: list[str] | None = None) -> None:
    notice._history_user = user if getattr(user, "pk", None) else None
    notice._change_reason = reason[:100]
    if fields is None:
        notice.save()
    else:
        notice.save(update_fields=fields)


def outage_number_next(*, now: datetime) -> str:
    year = timezone.localtime(now).year
    return f"AVC{year}-{sequence_next(name=f'outage:{year}', start=1):05d}"


# --- drafts -------------------------------------------------------------------------------------------


def _draft_repeated(data: OutageNoticeData, *, creator, now: datetime) -> OutageNotice | None:
    """The same agent's draft with the same contents saved a moment ago (a double click on
    « Enregistrer le brouillon », or the two requests reaching two workers): that one, not a second
    draft that could be published too (two SMS per customer for one cut). The agent's creations
    wait for each other (advisory lock) so that the second sees the first."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [DRAFT_LOCK_CLASS, creator.pk])
    return (
        OutageNotice.objects.filter(
            status=Status.DRAFT,
            created_by=creator,
            created_at__gte=now - DRAFT_REPEAT_WINDOW,
            kind=data.kind,
            service=data.service,
            districts=list(data.districts),
            round_codes=list(data.round_codes),
            starts_at=data.starts_at,
            expected_end_at=data.expected_end_at,
            reason=data.reason,
            details=data.details,
        )
        .order_by("-pk")
        .first()
    )


@transaction.atomic
def outage_notice_create(*, data: OutageNoticeData, user, now: datetime) -> OutageNotice:
    """A new draft (« Brouillon »): nothing is shown or sent before « Publier ». The same draft
    sent twice by the same agent within ``DRAFT_REPEAT_WINDOW`` is the first one, returned."""
    data = _clean(data)
    if getattr(user, "pk", None):
        repeated = _draft_repeated(data, creator=user, now=now)
        if repeated is not None:
            return repeated
    notice = OutageNotice(
        number=outage_number_next(now=now),
        kind=data.kind,
        service=data.service,
        districts=list(data.districts),
        round_codes=list(data.round_codes),
        starts_at=data.starts_at,
        expected_end_at=data.expected_end_at,
        reason=data.reason,
        details=data.details,
        created_at=now,
        created_by=user if getattr(user, "pk", None) else None,
    )
    _save(notice, user=user, reason=gettext("Brouillon créé"))
    return notice


@transaction.atomic
def outage_notice_edit(*, notice_id: int, data: OutageNoticeData, user, now: datetime) -> OutageNotice:
    """Change a draft (a published notice changes through « Mettre à jour la fin prévue »)."""
    notice = _locked(notice_id)
    if notice.status != Status.DRAFT:
        raise OutageNoticeNotDraft()
    data = _clean(data)
    notice.kind, notice.service = data.kind, data.service
    notice.districts, notice.round_codes = list(data.districts), list(data.round_codes)
    notice.starts_at, notice.expected_end_at = data.starts_at, data.expected_end_at
    notice.reason, notice.details = data.reason, data.details
    _save(notice, user=user, reason=gettext("Brouillon modifié"))
    return notice


# --- the customers concerned (set-based) --------------------------------------------------------------


def _concerned_sql(notice: OutageNotice) -> tuple[str, list]:
    """SELECT DISTINCT customer_id of the customers with an ACTIVE dossier of the notice's service
    whose premises are in one of its districts or rounds (indexes: premises.district,
    premises.round_code, dossier.premises_id)."""
    dossier, premises = Dossier._meta.db_table, Premises._meta.db_table
    sql = (
        f'SELECT DISTINCT d.customer_id FROM "{dossier}" d JOIN "{premises}" p ON p.id = d.premises_id '  # noqa: S608 - table names from the models
        "WHERE d.status = %s AND d.service = %s AND (p.district = ANY(%s) OR p.round_code = ANY(%s))"
    )
    return sql, [Dossier.Status.ACTIVE, notice.service, list(notice.districts), list(notice.round_codes)]


@dataclass(frozen=True)
class OutagePreview:
    """What « Publier » would do: the customers concerned, how many get the SMS, why not the others."""

    customers: int
    sms: int
    opted_out: int
    no_phone: int
    sms_text: str
    sms_segments: int
    warnings: list[str] = field(default_factory=list)


def outage_notice_preview(notice: OutageNotice, *, now: datetime) -> OutagePreview:
    """Counted in one query, before « Publier » (nothing written)."""
    concerned, params = _concerned_sql(notice)
    customer, contact = Customer._meta.db_table, Contact._meta.db_table
    sql = (
        f"SELECT count(*), "  # noqa: S608 - table names from the models
        "count(*) FILTER (WHERE c.sms_service_notices AND k.id IS NOT NULL), "
        "count(*) FILTER (WHERE NOT c.sms_service_notices), "
        "count(*) FILTER (WHERE c.sms_service_notices AND k.id IS NULL) "
        f'FROM ({concerned}) x JOIN "{customer}" c ON c.id = x.customer_id '
        f'LEFT JOIN "{contact}" k ON k.customer_id = c.id AND k.kind = %s AND k.is_sms'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, Contact.Kind.PHONE])
        customers, sms, opted_out, no_phone = cursor.fetchone()
    text = outage_sms_text(notice)
    return OutagePreview(
        customers=customers,
        sms=sms,
        opted_out=opted_out,
        no_phone=no_phone,
        sms_text=text,
        sms_segments=_segments(text),
        warnings=outage_notice_warnings(notice, now=now),
    )


def outage_notice_warnings(notice: OutageNotice, *, now: datetime) -> list[str]:
    """What the agent should know before « Publier » (not refusals)."""
    warnings = []
    if not notice.districts and not notice.round_codes:
        warnings.append(gettext("Aucun quartier ni tournée : l'avis ne peut pas être publié."))
    if notice.kind == Kind.PLANNED and now < notice.starts_at < now + timedelta(hours=PLANNED_NOTICE_HOURS):
        warnings.append(
            gettext("La coupure commence dans moins de %(hours)d heures : les clients seront prévenus tard.")
            % {"hours": PLANNED_NOTICE_HOURS}
        )
    try:
        _publishable(notice, now=now)
    except OutageNoticeError as exc:
        if exc.message not in warnings:
            warnings.append(exc.message)
    return warnings


def _publishable(notice: OutageNotice, *, now: datetime) -> None:
    if not notice.districts and not notice.round_codes:
        raise OutageNoticeInvalid(_("Indiquez au moins un quartier ou une tournée de relève."))
    if notice.expected_end_at <= now:
        raise OutageNoticeInvalid(
            _("La fin prévue est déjà passée : corrigez-la (un avis terminé n'informerait personne).")
        )
    if notice.starts_at > now + MAX_ADVANCE:
        raise OutageNoticeInvalid(
            _(
                "Le début est dans plus de %(days)d jours : vérifiez l'année (le SMS n'indique que le jour et "
                "le mois ; un avis se publie quelques jours avant la coupure)."
            )
            % {"days": MAX_ADVANCE.days}
        )
    if notice.kind == Kind.PLANNED and notice.starts_at <= now:
        raise OutageNoticeInvalid(
            _(
                "Le début de cette coupure programmée est déjà passé : si elle a commencé, publiez-la comme "
                "« Coupure imprévue » ; sinon corrigez le début."
            )
        )


def _recipients_insert(notice: OutageNotice) -> int:
    """One INSERT … SELECT of the customers concerned; those already there are left alone."""
    concerned, params = _concerned_sql(notice)
    table = OutageNoticeRecipient._meta.db_table
    sql = (
        f'INSERT INTO "{table}" (notice_id, customer_id, sms_queued) '  # noqa: S608 - table names from the models
        f"SELECT %s, x.customer_id, FALSE FROM ({concerned}) x "
        "ON CONFLICT (notice_id, customer_id) DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [notice.pk, *params])
        return cursor.rowcount


def _first_sms_recipients(notice: OutageNotice) -> list[tuple[str, int | None, str]]:
    """Flag ``sms_queued`` on the recipients not told yet who accept the SMS and have an SMS number
    (one per customer: ``contact_one_sms_number``), and return (phone, portal user id, language) —
    one ``UPDATE … RETURNING``, so a recipient is flagged exactly when an SMS is queued for them."""
    recipient, customer, contact = (
        OutageNoticeRecipient._meta.db_table,
        Customer._meta.db_table,
        Contact._meta.db_table,
    )
    account = PortalAccount._meta.db_table
    sql = (
        f'UPDATE "{recipient}" r SET sms_queued = TRUE '  # noqa: S608 - table names from the models
        f'FROM "{customer}" c, "{contact}" k '
        "WHERE r.notice_id = %s AND NOT r.sms_queued AND c.id = r.customer_id AND c.sms_service_notices "
        "AND k.customer_id = r.customer_id AND k.kind = %s AND k.is_sms "
        f'RETURNING k.value, (SELECT a.user_id FROM "{account}" a WHERE a.customer_id = r.customer_id), c.language'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [notice.pk, Contact.Kind.PHONE])
        return cursor.fetchall()


def _told_recipients(notice: OutageNotice) -> list[tuple[str, int | None, str]]:
    """(phone, portal user id, language) of the customers who got the notice's SMS and still accept
    them (one query; their SMS number and language today)."""
    phone = Contact.objects.filter(customer_id=OuterRef("customer_id"), kind=Contact.Kind.PHONE, is_sms=True)
    account = PortalAccount.objects.filter(customer_id=OuterRef("customer_id"))
    rows = (
        OutageNoticeRecipient.objects.filter(notice=notice, sms_queued=True, customer__sms_service_notices=True)
        .annotate(phone=Subquery(phone.values("value")[:1]), account_user=Subquery(account.values("user_id")[:1]))
        .filter(phone__isnull=False)
        .values_list("phone", "account_user", "customer__language")
    )
    return list(rows)


def _language(code: str | None) -> str:
    return code if code in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def _queue(
    notice: OutageNotice,
    rows: list[tuple[str, int | None, str]],
    *,
    code: str,
    step: str,
    reason: str | None = None,
) -> int:
    """One SMS ``code`` per row, each in its customer's language: the text composed once per
    language, the outbox rows written in one bulk insert under one event."""
    if not rows:
        return 0
    event = event_key()
    kind = f"outage:{notice.pk}:{step}"[:40]
    bodies: dict[str, str] = {}
    messages = []
    for phone, user_id, language in rows:
        language = _language(language)
        if language not in bodies:
            bodies[language] = outage_sms_text(notice, code, reason=reason, language=language)
        messages.append(
            Message(
                channel=Message.Channel.SMS,
                recipient=phone,
                user_id=user_id,
                kind=kind,
                body=bodies[language],
                event=event,
            )
        )
    return message_queue_bulk(messages)


# --- publication and after ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutagePublished:
    notice: OutageNotice
    recipients: int
    sms: int


@transaction.atomic
def outage_notice_publish(*, notice_id: int, user, now: datetime) -> OutagePublished:
    """« Publier »: the notice shows on the portal, its customers are recorded and told by SMS once."""
    notice = _locked(notice_id)
    if notice.status == Status.PUBLISHED:
        raise OutageNoticeAlreadyPublished()
    if notice.status == Status.CANCELLED:
        raise OutageNoticeCancelled()
    _publishable(notice, now=now)
    _recipients_insert(notice)
    sms = _queue(notice, _first_sms_recipients(notice), code="outage.notice", step="notice")
    notice.status = Status.PUBLISHED
    notice.published_at, notice.published_by = now, user if getattr(user, "pk", None) else None
    notice.recipients_count = OutageNoticeRecipient.objects.filter(notice=notice).count()
    notice.sms_count += sms
    _save(
        notice,
        user=user,
        reason=gettext("Publié : %(customers)d clients, %(sms)d SMS")
        % {"customers": notice.recipients_count, "sms": sms},
    )
    return OutagePublished(notice=notice, recipients=notice.recipients_count, sms=sms)


def _published(notice_id: int) -> OutageNotice:
    notice = _locked(notice_id)
    if notice.status == Status.CANCELLED:
        raise OutageNoticeCancelled()
    if notice.status != Status.PUBLISHED:
        raise OutageNoticeNotPublished()
    if notice.ended_at is not None:
        raise OutageNoticeEnded()
    return notice


@transaction.atomic
def outage_notice_update(
    *, notice_id: int, expected_end_at: datetime, user, now: datetime, details: str | None = None, notify: bool = True
) -> int:
    """« Mettre à jour la fin prévue »: the new end on the portal, and (``notify``) one SMS « mise à
    jour » to each customer who got the notice's SMS. The same end again (a double click) sends
    nothing: refused, unless only the information for the customers changed (saved, no SMS).
    Returns the number of SMS queued."""
    notice = _published(notice_id)
    if expected_end_at is None:
        raise OutageNoticeInvalid(_("Indiquez la nouvelle fin prévue."))
    details = None if details is None else details.strip()
    if details is not None and len(details) > 2000:
        raise OutageNoticeInvalid(_("Les informations pour les clients font plus de 2 000 caractères."))
    # None: the information for the customers is kept as it is
    new_details = notice.details if details is None else details
    details_changed = new_details != notice.details
    if expected_end_at == notice.expected_end_at:
        if not details_changed:
            raise OutageNoticeInvalid(_("La fin prévue est déjà celle-ci : rien n'a été envoyé."))
        notice.details = new_details
        _save(notice, user=user, reason=gettext("Informations modifiées"), fields=["details"])
        return 0
    if expected_end_at <= notice.starts_at:
        raise OutageNoticeInvalid(_("La fin prévue doit être postérieure au début."))
    if expected_end_at <= now:
        raise OutageNoticeInvalid(
            _(
                "La nouvelle fin prévue est déjà passée : si le service est rétabli, "
                "utilisez « Rétablissement constaté »."
            )
        )
    if expected_end_at - notice.starts_at > MAX_DURATION:
        raise OutageNoticeInvalid(
            _("La durée prévue dépasse %(days)d jours : vérifiez la date.") % {"days": MAX_DURATION.days}
        )
    fields = ["expected_end_at", "sms_count"]
    notice.expected_end_at = expected_end_at
    if details_changed:
        notice.details = new_details
        fields.append("details")
    sms = _queue(notice, _told_recipients(notice), code="outage.updated", step="updated") if notify else 0
    notice.sms_count += sms
    _save(
        notice,
        user=user,
        reason=gettext("Fin prévue : %(end)s, %(sms)d SMS") % {"end": _short_datetime(expected_end_at), "sms": sms},
        fields=fields,
    )
    return sms


@transaction.atomic
def outage_notice_end(
    *, notice_id: int, user, now: datetime, ended_at: datetime | None = None, notify: bool = False
) -> int:
    """« Rétablissement constaté »: the notice leaves the current ones (shown « rétabli » to its
    customers for a day); optionally one SMS « rétabli ». Returns the number of SMS queued."""
    notice = _published(notice_id)
    ended_at = ended_at or now
    if ended_at > now:
        raise OutageNoticeInvalid(_("Le rétablissement ne peut pas être constaté dans le futur."))
    if ended_at < notice.starts_at:
        raise OutageNoticeInvalid(
            _("Le rétablissement est antérieur au début de l'avis : si rien n'a eu lieu, annulez l'avis.")
        )
    notice.ended_at = ended_at
    sms = _queue(notice, _told_recipients(notice), code="outage.ended", step="ended") if notify else 0
    notice.sms_count += sms
    _save(
        notice,
        user=user,
        reason=gettext("Rétablissement constaté, %(sms)d SMS") % {"sms": sms},
        fields=["ended_at", "sms_count"],
    )
    return sms


@transaction.atomic
def outage_notice_cancel(*, notice_id: int, reason: str, user, now: datetime) -> int:
    """« Annuler » (with a reason): a draft is simply cancelled; a published notice leaves the
    portal and the customers who got its SMS get one saying it is cancelled. Returns the SMS queued."""
    notice = _locked(notice_id)
    if notice.status == Status.CANCELLED:
        raise OutageNoticeCancelled()
    if notice.ended_at is not None:
        raise OutageNoticeEnded(_("Le rétablissement de cet avis est déjà constaté : il ne peut plus être annulé."))
    reason = " ".join((reason or "").split())
    if not reason:
        raise OutageNoticeInvalid(_("Indiquez le motif de l'annulation."))
    if len(reason) > 255:
        raise OutageNoticeInvalid(_("Le motif de l'annulation fait plus de 255 caractères."))
    sms = 0
    if notice.status == Status.PUBLISHED:
        sms = _queue(notice, _told_recipients(notice), code="outage.cancelled", step="cancelled", reason=reason)
    notice.status = Status.CANCELLED
    notice.cancelled_at = now
    notice.cancel_reason = reason
    notice.sms_count += sms
    _save(
        notice,
        user=user,
        reason=gettext("Annulé, %(sms)d SMS") % {"sms": sms},
        fields=["status", "cancelled_at", "cancel_reason", "sms_count"],
    )
    return sms


# --- selectors -----------------------------------------------------------------------------------------

# the state of a notice as the portal and the API name it (``outage_notice_state``)
OUTAGE_STATE_LABELS = {
    "upcoming": _("À venir"),
    "in_progress": _("En cours"),
    "overrun": _("En cours (fin prévue dépassée)"),
    "restored": _("Rétabli"),
}


def _current_q(now: datetime) -> Q:
    return Q(status=Status.PUBLISHED, ended_at__isnull=True, expected_end_at__gt=now - OVERRUN_GRACE)


def outage_notices_current(*, now: datetime):
    """The published notices not restored whose expected end is not long past: those in progress
    first (by start), then the upcoming ones (home page, « Coupures et travaux en cours »)."""
    return OutageNotice.objects.filter(_current_q(now)).order_by("starts_at", "pk")


def outage_notice_current_for(
    *, service: str, district: str = "", round_code: str = "", now: datetime
) -> OutageNotice | None:
    """The published notice covering that place now (for « Signaler une coupure »: show it instead
    of filing a duplicate). A notice of works counts for its service too (works cut the supply)."""
    district, round_code = (district or "").strip(), (round_code or "").strip().upper()
    if not (district or round_code) or not service:
        return None
    area = Q()
    if district:
        area |= Q(districts__contains=[district])
    if round_code:
        area |= Q(round_codes__contains=[round_code])
    return (
        OutageNotice.objects.filter(_current_q(now), area, service=service, starts_at__lte=now + DUPLICATE_MARGIN)
        .order_by("-starts_at", "-pk")
        .first()
    )


def customer_outage_notices(customer: Customer, *, now: datetime) -> list[OutageNotice]:
    """The notices of this customer's dashboard: current ones they were told about or that cover one
    of their active dossiers' premises now (same service: a dossier opened after publication), and
    those restored less than a day ago. One query whatever the number of dossiers and notices."""
    notice, dossier, premises = OutageNotice._meta.db_table, Dossier._meta.db_table, Premises._meta.db_table
    covers = RawSQL(  # noqa: S611 - table names from the models, values as parameters
        f'EXISTS (SELECT 1 FROM "{dossier}" d JOIN "{premises}" p ON p.id = d.premises_id '  # noqa: S608 - model tables
        f'WHERE d.customer_id = %s AND d.status = %s AND d.service = "{notice}"."service" '
        f'AND (p.district = ANY("{notice}"."districts") OR p.round_code = ANY("{notice}"."round_codes")))',
        [customer.pk, Dossier.Status.ACTIVE],
        output_field=BooleanField(),
    )
    told = Exists(OutageNoticeRecipient.objects.filter(notice=OuterRef("pk"), customer=customer))
    shown = _current_q(now) | Q(status=Status.PUBLISHED, ended_at__gt=now - RESTORED_SHOWN)
    return list(
        OutageNotice.objects.filter(shown)
        .alias(told=told, covers=covers)
        .filter(Q(told=True) | Q(covers=True))
        .order_by("ended_at", "starts_at", "pk")
    )


def outage_notice_public(number: str) -> OutageNotice | None:
    """A notice of the public page: published (current, restored or past), never a draft or a
    cancelled one."""
    return OutageNotice.objects.filter(number=number, status=Status.PUBLISHED).first()


def outage_notice_state(notice: OutageNotice, *, now: datetime) -> str:
    """« upcoming », « in_progress », « overrun » (expected end past, not restored), « restored »,
    « draft », « cancelled » — for the labels of the portal and the back office."""
    if notice.status == Status.DRAFT:
        return "draft"
    if notice.status == Status.CANCELLED:
        return "cancelled"
    if notice.ended_at is not None:
        return "restored"
    if notice.starts_at > now:
        return "upcoming"
    if notice.expected_end_at <= now:
        return "overrun"
    return "in_progress"
