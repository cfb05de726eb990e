"""The accounts of a terminated dossier (« résiliation », seed « Mes remboursements »: « au moment de
la résiliation, les factures de votre dernière consommation sont déduites de votre dépôt de
garantie »).

Services (keyword-only, atomic; rak_requests' termination type calls them, never the tables):

- ``final_reading_record``: the final index of a dossier's meter — the technician's reading entered
  by staff (source AGENT, a date) or the customer's own (source SELF, today, with a photo checked by
  content and size, an implausible index confirmed first, as « Relève de mon index »). Checked
  against the dossier's last accepted reading (never below it, never dated before it), saved
  ACCEPTED, and kept on the dossier's ``DossierClosing`` (one per dossier) until the closing.
- ``final_bill_issue``: the consumption bill from the index of the dossier's last bill (or its last
  accepted reading) to the final index, over the days between them, priced by the tariff engine
  with the schedule and VAT in force on the final reading's date — the same computation as a
  billing run's bill (``rak_billing.engine.compute``). Sanitation is billed on the water meter of
  the premises. Nothing left to bill (final index dated on the last billed one): no bill.
- ``deposit_release``: the dossier's deposit (``Dossier.deposit_amount``) given back as a credit
  note « Restitution du dépôt de garantie » (no VAT, a ledger credit), set against the dossier's
  open bills first, then the customer's other open bills; what is left is the customer's credit
  (refundable: « Mes remboursements »). Once per dossier (``DossierClosing.deposit_note``, unique).
- ``dossier_accounts_close``: final bill, the customer's existing credit, then the deposit, and the
  balance of the termination recorded (``DossierClosing``); idempotent — a second call returns the
  first closing and changes nothing. Billing runs never bill a closed dossier again
  (``billing.billable_dossiers``).

Direct debit (« Prélèvement bancaire ») at a termination: the closing first revokes the dossier's
active mandate (``direct_debit.mandate_revoke``, reason « Résiliation du dossier … (demande RS…) »),
the dossier back to « Normal ». Its final bill is then treated like every other bill of the
dossier: the deposit is set against it (oldest due date first); what remains is owed and paid like
a normal bill (counter, online, network) — never exported to the bank, since the monthly export
only takes dossiers with an active mandate that are not terminated. A bill the bank was already
asked for (an order SENT) is paid by that order: the deposit does not pay it a second time and goes
to the other bills or the customer's refundable credit; if the bank later rejects that order, the
reversal re-opens the bill and the customer's credit left (the deposit) pays it first
(``ledger.payment_reverse``), so only what is really unpaid is due again.

Read: ``customer_terminations(customer_id)`` — per terminated dossier the request number, the end
date, the final bill, the deposit and the balance (débiteur / créditeur), for « Mes résiliations ».
Lock order, as every money path: customer row → dossier → bills.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rak_base.errors import RakError
from rak_base.money import round_money
from rak_base.uploads import IMAGE_KINDS, UploadMissing, kinds_label, upload_validate
from rak_billing import engine
from rak_billing.direct_debit import mandate_revoke
from rak_billing.direct_debit_models import Mandate
from rak_billing.ledger import (
    DEFAULT_DUE_DAYS,
    ZERO,
    UnableToIssueBill,
    _allocate,
    _announce_settled,
    _apply_credit,
    _lock_customer,
    bill_numbers_reserve,
    bills_open,
    bills_with_outstanding,
)
from rak_billing.models import Bill, BillLine, DossierClosing, LedgerEntry, MeterReading
from rak_billing.provisions import provision_release, provisions_apply
from rak_billing.readings import rules
from rak_billing.readings.errors import (
    PHOTO_REQUIRED,
    IndexBelowPrevious,
    InvalidValue,
    ReadingError,
    ReadingNeedsConfirmation,
)
from rak_billing.readings.selectors import REAL_SOURCES, accepted_baselines
from rak_billing.tariffs import schedule_for, vat_rate_for
from rak_customer.models import Dossier, Service

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

SERVICE_WORDS: dict[str, StrOrPromise] = {
    Service.EAU: gettext_lazy("eau"),
    Service.ELECTRICITE: gettext_lazy("électricité"),
    Service.ASSAINISSEMENT: gettext_lazy("assainissement"),
}


class ClosingError(RakError):
    default_message = gettext_lazy("La clôture du dossier n'est pas possible.")


class FinalReadingRefused(ReadingError):
    default_message = gettext_lazy("L'index final ne peut pas être enregistré.")


def _photo_validate(photo):
    return upload_validate(
        photo,
        kinds=IMAGE_KINDS,
        max_bytes=settings.UPLOAD_MAX_BYTES,
        missing_message=PHOTO_REQUIRED,
        wrong_kind_message=_("%(required)s Le fichier joint n'est pas une photo (%(kinds)s).")
        % {"required": PHOTO_REQUIRED, "kinds": kinds_label(IMAGE_KINDS)},
    )


def _dossier_locked(dossier_id: int, *, customer_id: int | None = None) -> Dossier:
    queryset = Dossier.objects.select_for_update(of=("self",)).select_related("premises")
    if customer_id is not None:
        queryset = queryset.filter(customer_id=customer_id)
    dossier = queryset.filter(pk=dossier_id).first()
    if dossier is None:
        raise ClosingError(_("Dossier introuvable."))
    return dossier


# --- the final reading ---------------------------------------------------------------------------


@transaction.atomic
def final_reading_record(
    *,
    dossier_id: int,
    index,
    now: datetime.datetime,
    reference: str,
    source: str = MeterReading.Source.AGENT,
    reading_date: datetime.date | None = None,
    photo=None,
    user=None,
    customer_id: int | None = None,
    confirmed: bool = True,
    note: str = "",
) -> MeterReading:
    """Record the final index of a dossier being terminated (request ``reference``). ``source``
    SELF: the customer's own reading (``customer_id`` must own the dossier), dated today, with a
    photo; an implausible index needs ``confirmed``. AGENT: the technician's reading entered by staff
    on ``reading_date`` (today by default, never in the future). Raises ``FinalReadingRefused``,
    ``IndexBelowPrevious``, ``InvalidValue``, ``ReadingNeedsConfirmation`` or ``UploadRefused``."""
    today = timezone.localdate(now)
    dossier = _dossier_locked(dossier_id, customer_id=customer_id)
    if dossier.status == Dossier.Status.TERMINATED:
        raise FinalReadingRefused(_("Le dossier %(number)s est déjà résilié.") % {"number": dossier.number})
    if dossier.meter_id is None:
        raise FinalReadingRefused(
            _("Le dossier %(number)s n'a pas de compteur : aucun index final n'est à relever.")
            % {"number": dossier.number}
        )
    closing = DossierClosing.objects.select_for_update().filter(dossier=dossier).first()
    if closing is not None and closing.closed_at is not None:
        raise FinalReadingRefused(_("Le dossier %(number)s est déjà clôturé.") % {"number": dossier.number})
    self_reading = source == MeterReading.Source.SELF
    if self_reading:
        reading_date = today
        if photo is None:
            raise UploadMissing(PHOTO_REQUIRED)
    reading_date = reading_date or today
    if reading_date > today:
        raise InvalidValue(_("La date de la relève finale ne peut pas être dans le futur."))
    if reading_date < dossier.start_date:
        raise InvalidValue(
            _("La date de la relève finale ne peut pas précéder le début du dossier (%(date)s).")
            % {"date": rules.fmt_date(dossier.start_date)}
        )
    validated = _photo_validate(photo) if photo is not None else None
    index = rules.parse_index(index)
    later = (
        MeterReading.objects.filter(
            dossier_id=dossier.pk,
            status=MeterReading.Status.ACCEPTED,
            source__in=REAL_SOURCES,
            reading_date__gt=reading_date,
        )
        .order_by("-reading_date")
        .first()
    )
    if later is not None:
        raise FinalReadingRefused(
            _("La relève finale ne peut pas être datée avant le dernier relevé du dossier (%(date)s, index %(index)s).")
            % {"date": rules.fmt_date(later.reading_date), "index": rules.fmt_quantity(later.index)}
        )
    same_day = MeterReading.objects.filter(dossier_id=dossier.pk, reading_date=reading_date).exclude(
        status=MeterReading.Status.REJECTED
    )
    existing = same_day.first()
    if existing is not None:
        if existing.index != index or existing.status != MeterReading.Status.ACCEPTED:
            raise FinalReadingRefused(
                _("Un relevé est déjà enregistré le %(date)s pour ce dossier (index %(index)s).")
                % {"date": rules.fmt_date(reading_date), "index": rules.fmt_quantity(existing.index)}
            )
        reading = existing  # the same index read the same day (the technician's round): it is the final one
    else:
        baselines, _latest = accepted_baselines([dossier.pk], before=reading_date)
        base = baselines.get(dossier.pk, rules.Baseline())
        checked = rules.reading_check(index=index, reading_date=reading_date, base=base)
        billed = (
            Bill.objects.filter(dossier=dossier, kind=Bill.Kind.CONSUMPTION, estimated=False)
            .order_by("-period_start")
            .values_list("current_index", flat=True)
            .first()
        )
        if billed is not None and index < billed:  # an estimated bill's index may be above the real one
            raise IndexBelowPrevious(
                _("L'index saisi est inférieur au dernier index facturé (%(index)s).")
                % {"index": rules.fmt_quantity(billed)},
                previous=billed,
            )
        if (
            self_reading
            and not confirmed
            and rules.self_reading_implausible(checked, reading_date=reading_date, previous_date=base.previous_date)
        ):
            unit = rules.unit(dossier.service)
            raise ReadingNeedsConfirmation(
                _(
                    "Vérifiez l'index saisi : %(index)s donne une consommation de %(consumption)s %(unit)s depuis "
                    "le dernier relevé. S'il est exact, cochez « Je confirme cet index » et envoyez-le de nouveau."
                )
                % {
                    "index": rules.fmt_quantity(index),
                    "consumption": rules.fmt_quantity(checked.consumption),
                    "unit": unit,
                }
            )
        reading = MeterReading(
            dossier=dossier,
            meter_id=dossier.meter_id,
            reading_date=reading_date,
            index=index,
            previous_index=checked.previous_index,
            consumption=checked.consumption,
            source=MeterReading.Source.SELF if self_reading else MeterReading.Source.AGENT,
            status=MeterReading.Status.ACCEPTED,
            note=(
                _("Relève finale (résiliation %(reference)s)") % {"reference": reference}
                + (f" — {note.strip()}" if note and note.strip() else "")
            )[:2000],
            created_by=user,
        )
        if validated is not None:
            reading.photo.save(validated.stored_name(), File(validated.file), save=False)
        reading._history_user = user
        reading.save()
    if closing is None:
        DossierClosing.objects.create(
            dossier=dossier, customer_id=dossier.customer_id, reference=reference, final_reading=reading
        )
    else:  # an earlier termination of this dossier that did not go through: this request's reading
        closing.reference = reference
        closing.final_reading = reading
        closing.save(update_fields=["reference", "final_reading"])
    return reading


def final_readings(dossier_ids: list[int]) -> dict[int, MeterReading]:
    """dossier id -> the final reading recorded for its termination (one query)."""
    rows = DossierClosing.objects.filter(dossier_id__in=dossier_ids, final_reading__isnull=False).select_related(
        "final_reading"
    )
    return {row.dossier_id: row.final_reading for row in rows if row.final_reading is not None}


# --- the final bill ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Start:
    index: Decimal
    date: datetime.date


def _meter_dossier(dossier: Dossier) -> Dossier | None:
    """The dossier whose meter bills ``dossier``: itself, or for sanitation the water dossier of the
    same premises (the customer's own first, active first — as a billing run picks it)."""
    if dossier.service != Service.ASSAINISSEMENT:
        return dossier if dossier.meter_id is not None else None
    candidates = list(Dossier.objects.filter(premises_id=dossier.premises_id, service=Service.EAU, meter__isnull=False))
    if not candidates:
        return None
    return max(
        candidates,
        key=lambda d: (d.customer_id == dossier.customer_id, d.status == Dossier.Status.ACTIVE, d.pk),
    )


def _start_of_final_period(dossier: Dossier, source: Dossier, final: MeterReading) -> _Start:
    """The index (and its date) the final bill starts from: the dossier's last consumption bill's,
    else the source meter's last accepted reading before the final one, else the dossier's start."""
    previous = (
        Bill.objects.filter(dossier=dossier, kind=Bill.Kind.CONSUMPTION)
        .select_related("reading")
        .order_by("-period_start")
        .first()
    )
    if previous is not None and previous.current_index is not None:
        if previous.reading is not None:
            when = previous.reading.reading_date
        elif previous.period_end is not None:
            when = previous.period_end - datetime.timedelta(days=1)
        else:  # a consumption bill always has its period (billing run, final bill)
            raise RuntimeError(f"consumption bill {previous.pk} without a period")
        return _Start(previous.current_index, when)
    earlier = (
        MeterReading.objects.filter(
            dossier=source,
            status=MeterReading.Status.ACCEPTED,
            source__in=REAL_SOURCES,
            reading_date__lt=final.reading_date,
        )
        .order_by("-reading_date")
        .first()
    )
    if earlier is not None:
        return _Start(earlier.index, earlier.reading_date)
    if final.previous_index is not None:
        return _Start(final.previous_index, dossier.start_date)
    return _Start(Decimal("0"), dossier.start_date)


def _final_reading_of(dossier: Dossier) -> MeterReading | None:
    source = _meter_dossier(dossier)
    if source is None:
        return None
    if source.pk == dossier.pk:
        closing = DossierClosing.objects.filter(dossier=dossier).select_related("final_reading").first()
        if closing is not None and closing.final_reading is not None:
            return closing.final_reading
    return (
        MeterReading.objects.filter(dossier=source, status=MeterReading.Status.ACCEPTED, source__in=REAL_SOURCES)
        .order_by("-reading_date", "-id")
        .first()
    )


@transaction.atomic
def final_bill_issue(*, dossier_id: int, now: datetime.datetime, reading: MeterReading | None = None) -> Bill | None:
    """Issue the final consumption bill of a dossier up to its final reading (``reading``, else the
    one recorded for its termination; sanitation: the water meter's last reading). Returns None
    when there is nothing left to bill (no meter, or the final index is dated on the last billed
    one). Raises ``TariffNotFound`` (no schedule or VAT in force) or ``UnableToIssueBill``."""
    dossier = Dossier.objects.select_related("premises").get(pk=dossier_id)
    _lock_customer(dossier.customer_id)
    dossier = _dossier_locked(dossier_id)
    closing = DossierClosing.objects.select_for_update().filter(dossier=dossier).first()
    if closing is not None and closing.final_bill_id is not None:
        return closing.final_bill  # issued already: never twice
    source = _meter_dossier(dossier)
    final = reading or _final_reading_of(dossier)
    if source is None or final is None:
        return None
    start = _start_of_final_period(dossier, source, final)
    if final.reading_date <= start.date:
        return None  # everything up to the final index is billed already
    consumption = max(final.index - start.index, Decimal("0"))
    days = (final.reading_date - start.date).days
    period_start = start.date + datetime.timedelta(days=1)
    period_end = final.reading_date + datetime.timedelta(days=1)
    if Bill.objects.filter(dossier=dossier, kind=Bill.Kind.CONSUMPTION, period_start=period_start).exists():
        raise UnableToIssueBill(
            _("Une facture de consommation du dossier %(number)s commence déjà le %(date)s.")
            % {"number": dossier.number, "date": rules.fmt_date(period_start)}
        )
    _row, schedule = schedule_for(service=dossier.service, category=dossier.tariff_category, on_date=final.reading_date)
    rate = vat_rate_for(service=dossier.service, category=dossier.tariff_category, on_date=final.reading_date)
    computation = engine.compute(schedule, vat_rate=rate, consumption=consumption, days=days)
    issue_date = timezone.localdate(now)
    (number,) = bill_numbers_reserve(year=issue_date.year, count=1)
    bill = Bill.objects.create(
        number=number,
        kind=Bill.Kind.CONSUMPTION,
        customer_id=dossier.customer_id,
        dossier=dossier,
        period_start=period_start,
        period_end=period_end,
        reading=final,
        previous_index=start.index,
        current_index=max(final.index, start.index),
        consumption=consumption,
        estimated=False,
        issue_date=issue_date,
        due_date=issue_date + datetime.timedelta(days=DEFAULT_DUE_DAYS),
        total_ht=computation.total_ht,
        total_tva=computation.total_tva,
        total_ttc=computation.total_ttc,
        tranche_notice=computation.notice[:255],
        settled_at=now if computation.total_ttc <= ZERO else None,
    )
    BillLine.objects.bulk_create(
        BillLine(
            bill=bill,
            position=position,
            kind=line.kind,
            label=line.label[:160],
            quantity=line.quantity,
            unit_price=line.unit_price,
            amount_ht=line.amount_ht,
            vat_rate=line.vat_rate,
            amount_tva=line.amount_tva,
            amount_ttc=line.amount_ttc,
        )
        for position, line in enumerate(computation.lines, start=1)
    )
    LedgerEntry.objects.create(
        customer_id=dossier.customer_id,
        dossier=dossier,
        kind=LedgerEntry.Kind.BILL,
        entry_date=issue_date,
        amount=bill.total_ttc,
        bill=bill,
        label=(
            _("Facture de clôture %(number)s — %(service)s")
            % {"number": number, "service": SERVICE_WORDS.get(dossier.service, dossier.service)}
        )[:160],
    )
    if closing is not None:
        closing.final_bill = bill
        closing.save(update_fields=["final_bill"])
    return bill


# --- the deposit ---------------------------------------------------------------------------------


def deposit_label(dossier: Dossier) -> str:
    return _("Restitution du dépôt de garantie — dossier %(number)s") % {"number": dossier.number}


@transaction.atomic
def deposit_release(*, dossier_id: int, now: datetime.datetime) -> Bill | None:
    """Give the dossier's deposit back as a credit (a credit note « Restitution du dépôt de garantie »,
    no VAT), set against the dossier's open bills first, then the customer's other open bills.
    Once per dossier: a second call returns the first credit note. None when the deposit is zero."""
    dossier = Dossier.objects.only("customer_id").get(pk=dossier_id)
    _lock_customer(dossier.customer_id)
    dossier = _dossier_locked(dossier_id)
    closing, _created = DossierClosing.objects.select_for_update().get_or_create(
        dossier=dossier, defaults={"customer_id": dossier.customer_id}
    )
    if closing.deposit_note_id is not None:
        return closing.deposit_note
    amount = round_money(dossier.deposit_amount or ZERO)
    closing.deposit_amount = amount
    if amount <= ZERO:
        closing.save(update_fields=["deposit_amount"])
        return None
    issue_date = timezone.localdate(now)
    (number,) = bill_numbers_reserve(year=issue_date.year, count=1)
    label = deposit_label(dossier)
    note = Bill.objects.create(
        number=number,
        kind=Bill.Kind.CREDIT_NOTE,
        customer_id=dossier.customer_id,
        dossier=dossier,
        issue_date=issue_date,
        due_date=issue_date,
        total_ht=amount,
        total_tva=ZERO,
        total_ttc=amount,
        settled_at=now,
    )
    BillLine.objects.create(
        bill=note,
        position=1,
        kind=BillLine.Kind.OTHER,
        label=label[:160],
        quantity=Decimal("1"),
        unit_price=amount,
        amount_ht=amount,
        vat_rate=ZERO,
        amount_tva=ZERO,
        amount_ttc=amount,
    )
    LedgerEntry.objects.create(
        customer_id=dossier.customer_id,
        dossier=dossier,
        kind=LedgerEntry.Kind.CREDIT,
        entry_date=issue_date,
        amount=-amount,
        bill=note,
        label=label[:160],
    )
    closing.deposit_note = note
    closing.save(update_fields=["deposit_amount", "deposit_note"])
    named = list(bills_open(dossier.customer_id).filter(dossier=dossier).values_list("pk", flat=True))
    _rest, settled = _allocate(customer_id=dossier.customer_id, amount=amount, at=now, credit_note=note, named=named)
    _announce_settled(customer_id=dossier.customer_id, bill_ids=settled)
    return note


# --- the closing ---------------------------------------------------------------------------------


def _dossier_dues(dossier: Dossier) -> Decimal:
    total = ZERO
    for bill in bills_with_outstanding(bills_open(dossier.customer_id).filter(dossier=dossier)):
        total += round_money(bill.total_ttc - bill.paid)
    return total


@transaction.atomic
def dossier_accounts_close(
    *, dossier_id: int, reference: str, now: datetime.datetime, end_date: datetime.date | None = None
) -> DossierClosing:
    """Close the accounts of a dossier being terminated (request ``reference``): its final bill,
    the customer's existing credit applied, its deposit released against its last bills, and the
    balance recorded (dues − deposit: positive, the customer owes it; negative, the RAK does).
    ``end_date``: the dossier's own final reading's date by default (the closing day without a meter
    of its own — sanitation, whose bill uses the water meter's last reading). Idempotent: a
    closed dossier's closing is returned unchanged."""
    dossier = Dossier.objects.only("customer_id").get(pk=dossier_id)
    _lock_customer(dossier.customer_id)
    dossier = _dossier_locked(dossier_id)
    closing, _created = DossierClosing.objects.select_for_update().get_or_create(
        dossier=dossier, defaults={"customer_id": dossier.customer_id, "reference": reference}
    )
    if closing.closed_at is not None:
        return closing
    _mandates_revoke(dossier, reference=reference, now=now)
    final = _final_reading_of(dossier)
    bill = final_bill_issue(dossier_id=dossier.pk, now=now, reading=final)
    _rest, settled = _apply_credit(dossier.customer_id, at=now)  # what the customer had in credit first
    _announce_settled(customer_id=dossier.customer_id, bill_ids=settled)
    if dossier.billing_mode == Dossier.BillingMode.ADVANCE:  # « carte congé »: the provision pays first
        _provision_settle(dossier, reference=reference, now=now)
    dues = _dossier_dues(dossier)
    deposit_release(dossier_id=dossier.pk, now=now)
    closing.refresh_from_db()
    closing.reference = reference or closing.reference
    closing.final_bill = bill
    closing.dues_amount = dues
    closing.balance = dues - closing.deposit_amount
    if end_date is None:  # the dossier's own final reading; sanitation (no meter of its own): the closing day
        own = final if final is not None and final.dossier_id == dossier.pk else None
        end_date = own.reading_date if own is not None else timezone.localdate(now)
    closing.end_date = max(end_date, dossier.start_date)
    closing.closed_at = now
    closing.save()
    return closing


def _mandates_revoke(dossier: Dossier, *, reference: str, now: datetime.datetime) -> None:
    """A dossier billed by direct debit: its active mandate is revoked before its last bills are
    made (« Résiliation du dossier … (demande RS…) »), so no monthly export asks the bank for a bill
    after the end; the dossier goes back to « Normal » and what its deposit does not cover is paid
    like any other bill (counter, online, network)."""
    reason = _("Résiliation du dossier %(number)s (demande %(reference)s)") % {
        "number": dossier.number,
        "reference": reference or "—",
    }
    for mandate_id in Mandate.objects.filter(dossier_id=dossier.pk, status=Mandate.Status.ACTIVE).values_list(
        "pk", flat=True
    ):
        mandate_revoke(mandate_id=mandate_id, by=None, reason=reason, now=now)


def _provision_settle(dossier: Dossier, *, reference: str, now: datetime.datetime) -> None:
    """The last bills of a dossier billed by advance are deducted from the provision; when no
    other dossier of the customer is billed by advance any more, what is left of the provision is
    given back as credit (refundable) — ``rak_billing.provisions``."""
    others = (
        Dossier.objects.filter(customer_id=dossier.customer_id, billing_mode=Dossier.BillingMode.ADVANCE)
        .exclude(pk=dossier.pk)
        .exclude(status=Dossier.Status.TERMINATED)
    )
    if others.exists():
        provisions_apply(customer_ids=[dossier.customer_id], at=now)
    else:
        provision_release(customer_id=dossier.customer_id, at=now, reason=reference or _("résiliation"))


# --- reads ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TerminationRow:
    """One line of « Mes résiliations »."""

    dossier_number: str
    service_label: str
    reference: str
    end_date: datetime.date | None
    closed_at: datetime.datetime | None
    final_bill: Bill | None
    deposit_amount: Decimal
    dues_amount: Decimal
    balance: Decimal  # > 0: the customer owes it (débiteur); < 0: the RAK owes it (créditeur)

    @property
    def is_debit(self) -> bool:
        return self.balance > ZERO

    @property
    def is_credit(self) -> bool:
        return self.balance < ZERO

    @property
    def balance_abs(self) -> Decimal:
        return abs(self.balance)

    @property
    def balance_label(self) -> str:
        if self.balance > ZERO:
            return _("Débiteur")
        if self.balance < ZERO:
            return _("Créditeur")
        return _("Soldé")


def customer_terminations(customer_id: int) -> list[TerminationRow]:
    """« Mes résiliations »: the customer's closed dossiers, latest first — request number, end
    date, final bill, deposit, balance (one query)."""
    rows = (
        DossierClosing.objects.filter(customer_id=customer_id, closed_at__isnull=False)
        .select_related("dossier", "final_bill")
        .order_by("-closed_at", "-id")
    )
    return [
        TerminationRow(
            dossier_number=row.dossier.number,
            service_label=str(row.dossier.get_service_display()),
            reference=row.reference,
            end_date=row.end_date,
            closed_at=row.closed_at,
            final_bill=row.final_bill,
            deposit_amount=row.deposit_amount,
            dues_amount=row.dues_amount,
            balance=row.balance,
        )
        for row in rows
    ]


def dossier_closings(dossier_ids: list[int]) -> dict[int, DossierClosing]:
    """dossier id -> its closing (final reading, final bill, deposit, balance), one query."""
    rows = DossierClosing.objects.filter(dossier_id__in=dossier_ids).select_related(
        "final_reading", "final_bill", "deposit_note", "dossier"
    )
    return {row.dossier_id: row for row in rows}
