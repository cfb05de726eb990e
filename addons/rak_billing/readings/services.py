"""Writes of the meter readings: the customer's self-reading, the contest of a held reading, the
staff review, and the estimate the billing run asks for.

Every transition happens under ``select_for_update()`` and is saved through the model (one
django-simple-history row each); the customer is told through the outbox (SMS + bell) in the same
transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_lazy

from rak_base.hooks import hook_fire
from rak_base.models import Message
from rak_base.outbox import event_key, message_queue_bell, message_queue_bulk, message_queue_sms
from rak_base.uploads import IMAGE_KINDS, UploadMissing, UploadRefused, kinds_label, upload_validate
from rak_billing.models import MeterReading, ReadingRound
from rak_billing.readings import rules
from rak_billing.readings.errors import (
    PHOTO_REQUIRED,
    ReadingAlreadyDone,
    ReadingNeedsConfirmation,
    ReadingNotContestable,
    ReadingNotCorrectable,
    ReadingNotFound,
    ReadingNotReviewable,
    ReadingUnavailable,
    ReadingWindowClosed,
    ReviewReasonRequired,
    ReviewRequestRefused,
)
from rak_billing.readings.selectors import (
    LIVE_STATUSES,
    REAL_SOURCES,
    SelfReadingState,
    accepted_baselines,
    chunked,
)
from rak_customer.api import customer_sms_phone
from rak_customer.language import customer_language
from rak_customer.models import Contact, Dossier, PortalAccount

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise
from typing import Any

PHOTO_WRONG_KIND = format_lazy(
    "{required} {wrong}",
    required=PHOTO_REQUIRED,
    wrong=format_lazy(
        gettext_lazy("Le fichier joint n'est pas une photo ({kinds})."), kinds=lazy(kinds_label, str)(IMAGE_KINDS)
    ),
)
# fired by ``reading_review`` in its transaction: ``reading_id=``, ``accepted=``, ``reason=``,
# ``billed_numbers=`` (the bills resting on it), ``staff_user=``, ``now=`` — a higher addon (the
# complaint that sent the reading to verification) records the decision (rak_requests subscribes)
HOOK_READING_REVIEWED = "billing.reading_reviewed"

CONTEST_PHOTO_REQUIRED = gettext_lazy("Joignez une photo de l'index de votre compteur pour contester ce relevé.")


def photo_validate(photo, *, missing_message: StrOrPromise = PHOTO_REQUIRED):
    """An index photo: JPEG, PNG, WebP or HEIC, checked by content, ≤ UPLOAD_MAX_BYTES (2 Mo)."""
    return upload_validate(
        photo,
        kinds=IMAGE_KINDS,
        max_bytes=settings.UPLOAD_MAX_BYTES,
        missing_message=missing_message,
        wrong_kind_message=PHOTO_WRONG_KIND,
    )


# --- notifications -------------------------------------------------------------------------------


def _sms_body(body: str) -> str:
    """« RAK : … », in the active language (the caller composes in the customer's)."""
    return gettext("RAK : %(body)s") % {"body": body}


def _notify(dossier: Dossier, *, subject: str, body: str, kind: str) -> None:
    """SMS to the customer's SMS number and a bell notification on their portal account (the
    texts composed in the customer's language by the caller, inside ``customer_language``)."""
    customer = dossier.customer
    phone = customer_sms_phone(customer)
    account = PortalAccount.objects.filter(customer_id=customer.pk).select_related("user").first()
    user = account.user if account is not None else None  # the SMS too: its notification preferences
    event = event_key() if phone and user is not None else ""  # one notice: the bell shows it once
    if phone:
        with customer_language(customer):
            sms = _sms_body(body)
        message_queue_sms(to=phone, body=sms, user=user, kind=kind, event=event)
    if user is not None:
        message_queue_bell(user=user, subject=subject, body=body, kind=kind, event=event)


def _held_body(*, number: str, service: str, reading: MeterReading) -> str:
    """The held reading's notice, in the active language (call it inside ``customer_language``)."""
    return gettext(
        "l'index %(index)s relevé le %(day)s sur votre dossier %(number)s donne une consommation inhabituelle "
        "(%(consumption)s %(unit)s). Il sera vérifié avant toute facturation. "
        "Si vous le contestez, envoyez une photo de votre compteur depuis « Historique des relevés » "
        "de l'agence en ligne."
    ) % {
        "index": rules.fmt_quantity(reading.index),
        "day": rules.fmt_date(reading.reading_date),
        "number": number,
        "consumption": rules.fmt_quantity(reading.consumption),
        "unit": rules.unit(service),
    }


def readings_notify_held(readings: list[MeterReading]) -> int:
    """Tell the customers of held readings (SMS + bell), set-based: three reads per slice of
    dossiers and one bulk insert into the outbox (``message_queue_bulk``), whatever the count."""
    dossier_ids = sorted({r.dossier_id for r in readings})
    dossiers: dict[int, tuple[str, str, int]] = {}
    languages: dict[int, str] = {}
    for chunk in chunked(dossier_ids):
        for pk, number, service, customer_id, language in Dossier.objects.filter(pk__in=chunk).values_list(
            "id", "number", "service", "customer_id", "customer__language"
        ):
            dossiers[pk] = (number, service, customer_id)
            languages[customer_id] = language
    customer_ids = sorted({customer_id for _, _, customer_id in dossiers.values()})
    phones: dict[int, str] = {}
    users: dict[int, int] = {}
    for chunk in chunked(customer_ids):
        phones.update(
            Contact.objects.filter(customer_id__in=chunk, kind=Contact.Kind.PHONE, is_sms=True).values_list(
                "customer_id", "value"
            )
        )
        users.update(PortalAccount.objects.filter(customer_id__in=chunk).values_list("customer_id", "user_id"))
    messages = []
    for reading in readings:
        number, service, customer_id = dossiers[reading.dossier_id]
        with customer_language(SimpleNamespace(language=languages[customer_id])):
            body = _held_body(number=number, service=service, reading=reading)
            sms = _sms_body(body)
            subject = gettext("Relevé en cours de vérification")
        user_id = users.get(customer_id)  # on the SMS too: the customer's notification preferences
        event = event_key() if customer_id in phones and user_id else ""
        if customer_id in phones:
            messages.append(
                Message(
                    channel=Message.Channel.SMS,
                    recipient=phones[customer_id],
                    user_id=user_id,
                    body=sms,
                    kind="reading_held",
                    event=event,
                )
            )
        if user_id:
            messages.append(
                Message(
                    channel=Message.Channel.BELL,
                    user_id=user_id,
                    subject=subject,
                    body=body,
                    kind="reading_held",
                    event=event,
                )
            )
    return message_queue_bulk(messages) if messages else 0


def reading_notify_held(reading: MeterReading) -> None:
    readings_notify_held([reading])


# --- self-reading --------------------------------------------------------------------------------


def _open_window(dossier: Dossier, today: date) -> rules.Window:
    reading_round = ReadingRound.objects.filter(code=dossier.premises.round_code).first()
    if dossier.status != Dossier.Status.ACTIVE or dossier.meter_id is None or reading_round is None:
        raise ReadingUnavailable()
    params: dict[str, Any] = {
        "start_day": reading_round.window_start_day,
        "days": reading_round.window_days,
        "today": today,
    }
    window = rules.window_open(**params)
    if window is None:
        upcoming = rules.window_next(**params)
        raise ReadingWindowClosed(
            gettext(
                "La relève de votre index n'est pas encore disponible pour ce dossier : elle sera ouverte "
                "%(window)s. Consultez la date de relève de votre index sur votre facture."
            )
            % {"window": upcoming.label()}
        )
    return window


def self_reading_check_available(*, dossier: Dossier, today: date) -> rules.Window:
    """The open window of a dossier, or ``ReadingWindowClosed`` / ``ReadingAlreadyDone``."""
    window = _open_window(dossier, today)
    taken = MeterReading.objects.filter(
        dossier_id=dossier.pk,
        reading_date__gte=window.start,
        reading_date__lt=window.end,
        status__in=LIVE_STATUSES,
        source__in=REAL_SOURCES,
    ).exists()
    if taken:
        raise ReadingAlreadyDone()
    return window


def self_reading_selected(states: list[SelfReadingState], *, dossier: Dossier, today: date) -> SelfReadingState:
    """The state of ``dossier`` among the customer's ``states`` (``self_reading_states``) when it
    may be read today; ``ReadingUnavailable`` (no meter to read), ``ReadingWindowClosed`` or
    ``ReadingAlreadyDone`` otherwise."""
    selected = next((s for s in states if s.dossier.pk == dossier.pk), None)
    if selected is None:
        raise ReadingUnavailable(gettext("Ce dossier n'a pas de compteur à relever."))
    self_reading_check_available(dossier=dossier, today=today)
    return selected


def self_reading_saved_message(reading: MeterReading, number: str, *, corrected: bool = False) -> str:
    """What the customer reads once their index is stored (or corrected), in the active language;
    a held reading says it will be verified before billing."""
    values = {"index": rules.fmt_quantity(reading.index), "number": number}
    if corrected:
        text = gettext("Votre index %(index)s a bien été corrigé pour le dossier %(number)s. Merci !") % values
    else:
        text = gettext("Votre index %(index)s a bien été enregistré pour le dossier %(number)s. Merci !") % values
    if reading.status == MeterReading.Status.HELD:
        text += " " + gettext(
            "La consommation calculée est inhabituelle : votre relevé sera vérifié par nos services avant facturation."
        )
    return text


@transaction.atomic
def reading_self_submit(
    *, customer_id: int, dossier_id: int, index, photo, user, now: datetime, confirmed: bool = False
) -> MeterReading:
    """The customer's own reading (« Relève de mon index »): only during the dossier's window,
    once per window, with a photo of the index; an implausible index (a typo) is refused with
    ``ReadingNeedsConfirmation`` until ``confirmed``; abnormal consumption is held for review and
    the customer told. Raises ``ReadingUnavailable`` (page message), ``UploadRefused`` (photo) or
    ``IndexBelowPrevious`` / ``InvalidValue`` / ``ReadingNeedsConfirmation`` (index)."""
    dossier = _own_dossier_locked(customer_id=customer_id, dossier_id=dossier_id)
    today = timezone.localdate(now)
    self_reading_check_available(dossier=dossier, today=today)
    if photo is None:
        raise UploadMissing(PHOTO_REQUIRED)
    return _self_reading_save(dossier=dossier, index=index, photo=photo, user=user, today=today, confirmed=confirmed)


def _own_dossier_locked(*, customer_id: int, dossier_id: int) -> Dossier:
    dossier = (
        Dossier.objects.select_for_update(of=("self",))
        .select_related("premises", "customer")
        .filter(pk=dossier_id, customer_id=customer_id)
        .first()
    )
    if dossier is None:
        raise ReadingNotFound(gettext("Dossier introuvable."))
    return dossier


def _self_reading_save(
    *, dossier: Dossier, index, photo, user, today: date, confirmed: bool, photo_name: str = ""
) -> MeterReading:
    """Check and store a self-reading dated ``today`` (the photo uploaded, or ``photo_name``: the
    photo of the reading it corrects)."""
    validated = photo_validate(photo) if photo is not None else None
    index = rules.parse_index(index)
    baselines, _ = accepted_baselines([dossier.pk], before=today)
    base = baselines.get(dossier.pk, rules.Baseline())
    checked = rules.reading_check(index=index, reading_date=today, base=base)
    if not confirmed and rules.self_reading_implausible(checked, reading_date=today, previous_date=base.previous_date):
        unit = rules.unit(dossier.service)
        values = {
            "index": rules.fmt_quantity(index),
            "consumption": rules.fmt_quantity(checked.consumption),
            "unit": unit,
        }
        if checked.expected is not None:
            values["usual"] = rules.fmt_quantity(checked.expected.quantize(Decimal(1)))
            message = gettext(
                "Vérifiez l'index saisi : %(index)s donne une consommation de %(consumption)s %(unit)s depuis le "
                "dernier relevé, pour %(usual)s %(unit)s habituellement. S'il est exact, cochez « Je confirme cet "
                "index » et envoyez-le de nouveau."
            )
        else:
            message = gettext(
                "Vérifiez l'index saisi : %(index)s donne une consommation de %(consumption)s %(unit)s depuis le "
                "dernier relevé. S'il est exact, cochez « Je confirme cet index » et envoyez-le de nouveau."
            )
        raise ReadingNeedsConfirmation(message % values)
    if MeterReading.objects.filter(dossier_id=dossier.pk, reading_date=today).exclude(status="REJECTED").exists():
        raise ReadingAlreadyDone()  # an estimate dated today
    meter_id = dossier.meter_id
    if meter_id is None:  # never: _open_window refused a dossier without a meter
        raise ReadingUnavailable()
    reading = MeterReading(
        dossier=dossier,
        meter_id=meter_id,
        reading_date=today,
        index=index,
        previous_index=checked.previous_index,
        consumption=checked.consumption,
        source=MeterReading.Source.SELF,
        status=MeterReading.Status.HELD if checked.abnormal else MeterReading.Status.ACCEPTED,
        created_by=user,
    )
    if validated is not None:
        reading.photo.save(validated.stored_name(), File(validated.file), save=False)
    else:
        reading.photo.name = photo_name
    reading._history_user = user
    reading.save()
    if checked.abnormal:
        reading_notify_held(reading)
    return reading


def _dossier_id_of(reading_id: int) -> int:
    return MeterReading.objects.filter(pk=reading_id).values_list("dossier_id", flat=True).first() or 0


CORRECTABLE_STATUSES = (MeterReading.Status.ACCEPTED, MeterReading.Status.HELD)


def _own_correctable_locked(*, customer_id: int, reading_id: int, today: date) -> MeterReading:
    """The customer's own self-reading, locked, if it may still be corrected: its window still
    open, neither reviewed by staff nor billed. ``ReadingNotFound`` for anyone else's reading."""
    reading = (
        MeterReading.objects.select_for_update(of=("self",))
        .select_related("dossier__premises")
        .filter(pk=reading_id, dossier__customer_id=customer_id)
        .first()
    )
    if reading is None:
        raise ReadingNotFound()
    if (
        reading.source != MeterReading.Source.SELF
        or reading.status not in CORRECTABLE_STATUSES
        or reading.reviewed_at is not None
        or reading.bills.exists()
    ):
        raise ReadingNotCorrectable()
    try:
        window = _open_window(reading.dossier, today)
    except ReadingUnavailable as exc:
        raise ReadingNotCorrectable() from exc
    if reading.reading_date not in window:
        raise ReadingNotCorrectable()
    return reading


def _withdraw(reading: MeterReading, *, user, note: str) -> None:
    """Take the reading out of use (never deleted): REJECTED with the reason, in its history."""
    reading.status = MeterReading.Status.REJECTED
    reading.review_note = note
    reading._history_user = user
    reading.save(update_fields=["status", "review_note"])


@transaction.atomic
def reading_self_cancel(*, customer_id: int, reading_id: int, user, now: datetime) -> MeterReading:
    """The customer withdraws their own self-reading while its window is open and before it is
    reviewed or billed; they may then read the meter again."""
    today = timezone.localdate(now)
    _own_dossier_locked(customer_id=customer_id, dossier_id=_dossier_id_of(reading_id))  # same lock order as submit
    reading = _own_correctable_locked(customer_id=customer_id, reading_id=reading_id, today=today)
    when = timezone.localtime(now).strftime("%d/%m/%Y à %H:%M")
    _withdraw(reading, user=user, note=f"Annulé par le client le {when}.")  # i18n: not for customers (history note)
    return reading


@transaction.atomic
def reading_self_correct(
    *, customer_id: int, reading_id: int, index, photo, user, now: datetime, confirmed: bool = False
) -> MeterReading:
    """The customer replaces their own self-reading (same conditions as ``reading_self_cancel``):
    the old one is withdrawn with the reason « corrigé par le client », the new one checked like
    any self-reading, dated today, with the new photo or the old one's."""
    today = timezone.localdate(now)
    dossier = _own_dossier_locked(customer_id=customer_id, dossier_id=_dossier_id_of(reading_id))
    old = _own_correctable_locked(customer_id=customer_id, reading_id=reading_id, today=today)
    when = timezone.localtime(now).strftime("%d/%m/%Y à %H:%M")
    _withdraw(old, user=user, note=f"Corrigé par le client le {when}.")  # i18n: not for customers (history note)
    return _self_reading_save(
        dossier=dossier,
        index=index,
        photo=photo,
        user=user,
        today=today,
        confirmed=confirmed,
        photo_name=old.photo.name or "",  # stored as "" either way
    )


# --- contest and review --------------------------------------------------------------------------


@transaction.atomic
def reading_contest(*, customer_id: int, reading_id: int, note: str, photo, user, now: datetime) -> MeterReading:
    """The customer contests a held reading with a photo of the index, before any bill uses it."""
    reading = (
        MeterReading.objects.select_for_update(of=("self",))
        .select_related("dossier")
        .filter(pk=reading_id, dossier__customer_id=customer_id)
        .first()
    )
    if reading is None:
        raise ReadingNotFound()
    if reading.status != MeterReading.Status.HELD:
        raise ReadingNotContestable()
    if reading.bills.exists():
        raise ReadingNotContestable(
            gettext("Une facture a déjà été émise sur ce relevé : adressez une réclamation à la RAK pour la contester.")
        )
    try:
        validated = photo_validate(photo, missing_message=CONTEST_PHOTO_REQUIRED)
    except UploadMissing as exc:
        raise UploadRefused(CONTEST_PHOTO_REQUIRED) from exc
    reading.status = MeterReading.Status.CONTESTED
    reading.contest_note = (note or "").strip()[:2000]
    reading.contest_photo.save(validated.stored_name(), File(validated.file), save=False)
    reading._history_user = user
    reading.save(update_fields=["status", "contest_note", "contest_photo"])
    return reading


@transaction.atomic
def reading_review_request(
    *, reading_id: int, staff_user, reason: str, now: datetime, reference: str = ""
) -> MeterReading:
    """Staff send a reading to verification (« Envoyer le relevé en vérification » on a complaint,
    ``reference``: its number): it enters the review queue, where the decision is taken with
    ``reading_review`` as for any held or contested reading.

    - Not billed yet (ACCEPTED or HELD): it becomes CONTESTED, so no billing run uses it before the
      decision (the dossier's period is held, like a reading the customer contested).
    - Already billed: its status is left as it is. The bill stands on it and a bill is never changed
      behind the customer's back: the verification is recorded (who, when, why) and puts it in the
      queue; if the index proves wrong, the reviewer rejects it (the bill still shows the reading it
      was made from) and the correction is an explicit credit note (« Émettre un avoir ») and a
      corrected reading, each visible in the ledger.
    - Refused: a rejected reading (no longer used), an estimate (there is no index to verify: send a
      technician to read the meter), a verification already pending."""
    reading = (
        MeterReading.objects.select_for_update(of=("self",)).select_related("dossier").filter(pk=reading_id).first()
    )
    if reading is None:
        raise ReadingNotFound()
    reason = (reason or "").strip()
    if not reason:
        raise ReviewRequestRefused(
            "Indiquez ce que le vérificateur doit contrôler (motif de la demande)."
        )  # i18n: not for customers
    if reading.status == MeterReading.Status.REJECTED:
        raise ReviewRequestRefused(
            "Ce relevé a été rejeté : il n'est plus utilisé pour la facturation."
        )  # i18n: not for customers
    if reading.source == MeterReading.Source.ESTIMATED:
        raise ReviewRequestRefused(
            "Ce relevé est une estimation, pas un index lu : demandez plutôt une vérification du compteur "
            "sur place (ordre d'intervention)."
        )  # i18n: not for customers
    if reading.review_requested_at is not None:
        when = timezone.localtime(reading.review_requested_at).strftime("%d/%m/%Y à %H:%M")
        raise ReviewRequestRefused(
            f"La vérification de ce relevé est déjà demandée (depuis le {when})."
        )  # i18n: not for customers
    billed = reading.bills.exists()
    fields = ["review_requested_at", "review_requested_by", "review_request_note"]
    if not billed and reading.status in (MeterReading.Status.ACCEPTED, MeterReading.Status.HELD):
        reading.status = MeterReading.Status.CONTESTED
        fields.append("status")
    reading.review_requested_at = now
    reading.review_requested_by = staff_user
    reading.review_request_note = (f"{reference} : {reason}" if reference else reason)[:2000]
    reading._history_user = staff_user
    reading.save(update_fields=fields)
    return reading


@transaction.atomic
def reading_review(*, reading_id: int, staff_user, accept: bool, reason: str = "", now: datetime) -> MeterReading:
    """Staff decision on a reading of the review queue (HELD, CONTESTED or sent to verification):
    ACCEPTED (billable) or REJECTED with a reason; the customer is told either way, and
    ``HOOK_READING_REVIEWED`` tells the complaint that asked for it. A billed reading keeps its
    bill: a rejection says the bill will be corrected (by a credit note, never silently)."""
    reading = (
        MeterReading.objects.select_for_update(of=("self",))
        .select_related("dossier__customer")
        .filter(pk=reading_id)
        .first()
    )
    if reading is None:
        raise ReadingNotFound()
    requested = reading.review_requested_at is not None
    if reading.status not in (MeterReading.Status.HELD, MeterReading.Status.CONTESTED) and not (
        requested and reading.status == MeterReading.Status.ACCEPTED
    ):
        raise ReadingNotReviewable()
    reason = (reason or "").strip()
    if not accept and not reason:
        raise ReviewReasonRequired()
    billed_numbers = list(reading.bills.order_by("issue_date", "id").values_list("number", flat=True))
    reading.status = MeterReading.Status.ACCEPTED if accept else MeterReading.Status.REJECTED
    reading.review_note = reason
    reading.reviewed_by = staff_user
    reading.reviewed_at = now
    reading.review_requested_at = None  # the verification asked is done (its history keeps it)
    reading._history_user = staff_user
    reading.save(update_fields=["status", "review_note", "reviewed_by", "reviewed_at", "review_requested_at"])
    dossier = reading.dossier
    when = rules.fmt_date(reading.reading_date)
    with customer_language(dossier.customer):  # a staff action: the customer's language, not the agent's
        values = {"day": when, "number": dossier.number}
        if accept:
            body = gettext("votre relevé du %(day)s (dossier %(number)s) a été vérifié et validé.") % values
            if reason:
                body += f" {reason}"
            subject = gettext("Relevé validé")
        else:
            body = gettext("votre relevé du %(day)s (dossier %(number)s) n'a pas été retenu : %(reason)s") % {
                **values,
                "reason": reason,
            }
            if billed_numbers:
                body += " " + gettext("La facture %(numbers)s établie sur ce relevé sera régularisée.") % {
                    "numbers": ", ".join(billed_numbers)
                }
            subject = gettext("Relevé rejeté")
    _notify(dossier, subject=subject, body=body, kind="reading_review")
    hook_fire(
        HOOK_READING_REVIEWED,
        reading_id=reading.pk,
        accepted=accept,
        reason=reason,
        billed_numbers=billed_numbers,
        staff_user=staff_user,
        now=now,
    )
    return reading


# --- estimation ---------------------------------------------------------------------------------


def readings_estimate(dossiers: Iterable[Dossier], period_end: date) -> dict[int, MeterReading]:
    """Estimated readings for many dossiers at once (one query per 20,000 dossiers): dossier id ->
    an **unsaved** ``MeterReading`` (source ESTIMATED, status ACCEPTED) dated the last day of the
    period (``period_end`` is exclusive), with ``previous_index``, ``consumption`` and a French
    ``note`` saying how it was estimated. Dossiers without a meter are left out. See
    ``reading_estimate``."""
    dossiers = [d for d in dossiers if d.meter_id is not None]
    reading_date = period_end - timedelta(days=1)
    baselines, _ = accepted_baselines([d.pk for d in dossiers], before=reading_date)
    estimates = {}
    for dossier in dossiers:
        result = rules.estimate(
            base=baselines.get(dossier.pk, rules.Baseline()),
            reading_date=reading_date,
            service=dossier.service,
            category=dossier.tariff_category,
            start_date=dossier.start_date,
        )
        meter_id = dossier.meter_id
        if meter_id is None:  # never: left out above
            continue
        estimates[dossier.pk] = MeterReading(
            dossier_id=dossier.pk,
            meter_id=meter_id,
            reading_date=reading_date,
            index=result.index,
            previous_index=result.previous_index,
            consumption=result.consumption,
            source=MeterReading.Source.ESTIMATED,
            status=MeterReading.Status.ACCEPTED,
            note=result.basis,
        )
    return estimates


def reading_estimate(dossier: Dossier, period_end: date) -> MeterReading | None:
    """The estimated reading of a dossier that has no reading in the period ending at
    ``period_end`` (exclusive) — what the billing run uses, marking the bill « estimée ».

    Index = the latest ACCEPTED agent/self reading before the period's last day + the dossier's
    average daily consumption (its last 12 accepted intervals) × the days since; without history,
    the default monthly consumption of its service and tariff category (``rules.DEFAULT_MONTHLY``)
    prorated. Whole units, half-up. Returns an **unsaved** ``MeterReading`` (source ESTIMATED,
    status ACCEPTED, dated ``period_end − 1 day``) — the caller saves it (or bulk-creates many
    from ``readings_estimate``) — or None when the dossier has no meter. Estimates never serve as
    the reference of later checks: the next real reading is compared to the last real one."""
    return readings_estimate([dossier], period_end).get(dossier.pk)


@transaction.atomic
def reading_installation_record(
    *, dossier: Dossier, meter, reading_date: date, index: Decimal, agent=None, note: str = ""
) -> MeterReading:
    """The index of a newly installed meter (« Enregistrer la pose »): the dossier's first reading,
    by the technician (source AGENT, accepted), the baseline of its first bill."""
    return MeterReading.objects.create(
        dossier=dossier,
        meter=meter,
        reading_date=reading_date,
        index=index,
        source=MeterReading.Source.AGENT,
        note=note or gettext("Index de pose du compteur"),
        created_by=agent,
    )
