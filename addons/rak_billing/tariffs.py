"""Tariffs: load from the database what the pure engine (``rak_billing.engine``) needs.

Reads
- ``schedule_for(service=, category=, on_date=)`` -> ``(TariffSchedule row, engine.Schedule)``:
  the schedule valid on that date (``valid_from <= date < valid_to``), 3 queries.
- ``vat_rate_for(service=, category=, on_date=)`` -> ``Decimal``: the latest rate valid on that
  date; a rate for the category wins over the service-wide one (category left blank). 1 query.
- ``tariff_book(on_date)`` -> ``TariffBook``: every schedule and VAT rate valid on that date in
  4 queries whatever their number, for billing runs; ``book.lookup(service, category)`` gives a
  ``Tariff`` (schedule id, engine schedule, VAT rate, content fingerprint) and
  ``book.compute(service, category, consumption=, days=)`` memoises the engine's result by
  ``(schedule_id, vat_rate, consumption, days)``: a run over 400,000 dossiers computes each
  distinct consumption once.
- ``simulate(service=, category=, consumption=, days=, on_date=)``: the public simulator and the
  back office preview; water comes with its sanitation, as on a real bill.

Write
- ``tariff_schedule_check_overlap(...)``: two schedules of one service and category must not
  overlap in time; refused with a French message (the admin form calls it too).
- ``tariff_schedule_save(schedule=, tranches=)``: a new version comes with at least one tranche
  (``TariffWithoutTranches``); a version already used by a bill keeps what the bills were computed
  with (``TariffVersionInUse``): only its name, its source and a later end date change — a new
  price is a new version.
"""

from __future__ import annotations

import datetime
import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext, gettext_lazy

from rak_base.errors import RakError
from rak_billing import engine, line_labels
from rak_billing.models import VAT_OTHER, Bill, TariffCharge, TariffSchedule, TariffTranche, VatRate
from rak_customer.models import Dossier, Service

ZERO = Decimal("0")

# How the consumption lines of each service are labelled on a bill.
ENERGY_LABELS: dict[str, str] = {
    Service.ELECTRICITE: "Électricité",
    Service.EAU: "Eau potable",
    Service.ASSAINISSEMENT: "Assainissement",
}
UNITS: dict[str, str] = {Service.ELECTRICITE: "kWh", Service.EAU: "m³", Service.ASSAINISSEMENT: "m³"}
# Sanitation is billed on the water consumption, on the same bill.
BILLED_WITH: dict[str, tuple[str, ...]] = {Service.EAU: (Service.ASSAINISSEMENT,)}
# What the public simulator loads: the services a customer picks and those billed with them.
SIMULATED_SERVICES = (Service.ELECTRICITE, Service.EAU, Service.ASSAINISSEMENT)


class TariffNotFound(RakError):
    default_message = gettext_lazy(
        "Aucun barème tarifaire n'est en vigueur pour ce métier et cette catégorie à cette date."
    )


class TariffOverlap(RakError):
    default_message = gettext_lazy(
        "Deux barèmes d'un même métier et d'une même catégorie ne peuvent pas se chevaucher."
    )


class TariffWithoutTranches(RakError):
    default_message = gettext_lazy("Un barème doit comporter au moins une tranche de prix.")


class TariffVersionInUse(RakError):
    default_message = gettext_lazy("Ce barème est déjà utilisé par des factures : créez une nouvelle version.")


def tranches_required_message() -> str:
    return gettext("Un barème doit comporter au moins une tranche de prix : ajoutez-en une avant d'enregistrer.")


def version_in_use_message(last: datetime.date) -> str:
    return gettext(
        "Ce barème est déjà utilisé par des factures (périodes facturées jusqu'à %(last)s) : ses prix, ses règles "
        "et ses dates de validité ne se modifient plus. Fixez sa date de fin (exclue) après cette période et créez "
        "une nouvelle version à partir de cette date."
    ) % {"last": last.strftime("%m/%Y")}


def _fmt_date(value: datetime.date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else "…"


def _service_label(service: str, category: str) -> str:
    return f"{Service(service).label} / {Dossier.TariffCategory(category).label}"


# --- building the engine's schedule --------------------------------------------------------------


def engine_schedule(
    row: TariffSchedule, tranches: Iterable[TariffTranche], charges: Iterable[TariffCharge]
) -> engine.Schedule:
    """The engine's immutable view of a schedule row and its tranches and charges."""
    return engine.Schedule(
        combination=row.combination,
        tranches=tuple(
            engine.Tranche(lower=t.lower_bound, upper=t.upper_bound, price=t.unit_price, mode=t.mode)
            for t in sorted(tranches, key=lambda t: (t.mode, t.lower_bound, t.position))
        ),
        charges=tuple(
            engine.Charge(
                label=c.label,
                kind=c.kind,
                amount=c.amount,
                taxable=c.taxable,
                vat_rate=c.vat_rate_override,
                lower=c.lower_bound,
                upper=c.upper_bound,
                exempt_up_to=c.exempt_up_to,
                monthly_cap=c.monthly_cap,
            )
            for c in sorted(charges, key=lambda c: (c.position, c.pk or 0))
        ),
        prices_include_tax=row.prices_include_tax,
        switch_threshold=row.switch_threshold,
        unit=UNITS.get(row.service, row.unit),
        energy_label=ENERGY_LABELS.get(row.service, "Consommation"),
    )


def schedule_fingerprint(schedule: engine.Schedule) -> str:
    """A stable digest of what a schedule bills (prices, bounds, charges, rules): equal
    fingerprints bill identically, so a cache shared across runs or processes can key on it
    instead of a row id that an edit would leave unchanged."""
    digest = hashlib.sha256(repr(schedule).encode()).hexdigest()
    return digest[:16]


def _valid_on(on_date: datetime.date) -> Q:
    return Q(valid_from__lte=on_date) & (Q(valid_to__isnull=True) | Q(valid_to__gt=on_date))


# --- single look-ups -------------------------------------------------------------------------------


def schedule_for(*, service: str, category: str, on_date: datetime.date) -> tuple[TariffSchedule, engine.Schedule]:
    """The schedule of ``service``/``category`` valid on ``on_date``, as a row and as the engine's
    schedule. Raises ``TariffNotFound``."""
    row = (
        TariffSchedule.objects.filter(_valid_on(on_date), service=service, category=category)
        .prefetch_related("tranches", "charges")
        .order_by("-valid_from")
        .first()
    )
    if row is None:
        raise TariffNotFound(
            gettext("Aucun barème n'est en vigueur le %(date)s pour %(service)s.")
            % {"date": _fmt_date(on_date), "service": _service_label(service, category)}
        )
    return row, engine_schedule(row, row.tranches.all(), row.charges.all())


def _pick_vat(rows: Iterable[tuple[str, datetime.date, Decimal]], category: str) -> Decimal | None:
    """Among (category, valid_from, rate) rows already valid, the latest for the category, else
    the latest service-wide one."""
    best: dict[str, tuple[datetime.date, Decimal]] = {}
    for row_category, valid_from, rate in rows:
        if row_category not in (category, ""):
            continue
        if row_category not in best or valid_from > best[row_category][0]:
            best[row_category] = (valid_from, rate)
    chosen = best.get(category) or best.get("")
    return None if chosen is None else chosen[1]


def vat_rate_for(*, service: str, category: str, on_date: datetime.date) -> Decimal:
    """The VAT rate of ``service`` for ``category`` on ``on_date``: the category's own rate when
    one is in force, else the service-wide rate. Raises ``TariffNotFound``."""
    rows = VatRate.objects.filter(
        Q(category=category) | Q(category=""), service=service, valid_from__lte=on_date
    ).values_list("category", "valid_from", "rate")
    rate = _pick_vat(rows, category)
    if rate is None:
        raise TariffNotFound(
            gettext("Aucun taux de TVA n'est défini le %(date)s pour %(service)s.")
            % {"date": _fmt_date(on_date), "service": _service_label(service, category)}
        )
    return rate


def vat_rate_in_force(*, service: str, on_date: datetime.date) -> Decimal | None:
    """The rate of the VAT table's service-wide line (no category) for ``service`` in force on
    ``on_date``; None when the table has none."""
    return (
        VatRate.objects.filter(service=service, category="", valid_from__lte=on_date)
        .order_by("-valid_from")
        .values_list("rate", flat=True)
        .first()
    )


def vat_rate_other(*, on_date: datetime.date) -> Decimal:
    """The VAT rate of the invoices that are not consumption (fees, works, subscription fees,
    quotes) on ``on_date``: the table's ``FRAIS`` line in force then. Raises ``TariffNotFound``."""
    rate = vat_rate_in_force(service=VAT_OTHER, on_date=on_date)
    if rate is None:
        raise TariffNotFound(
            gettext("Aucun taux de TVA « frais et travaux » n'est défini le %(date)s (menu Taux de TVA).")
            % {"date": _fmt_date(on_date)}
        )
    return rate


# --- the book a billing run works from -------------------------------------------------------------


@dataclass(frozen=True)
class Tariff:
    """Everything the engine needs for one service and category on one date."""

    schedule_id: int
    schedule: engine.Schedule = field(compare=False)
    vat_rate: Decimal
    fingerprint: str
    name: str = field(default="", compare=False)
    valid_from: datetime.date | None = field(default=None, compare=False)

    def __iter__(self):
        """``schedule_id, schedule, vat_rate = book.lookup(service, category)``."""
        return iter((self.schedule_id, self.schedule, self.vat_rate))

    def key(self, consumption: Decimal, days: int) -> tuple:
        """Memoisation key of an engine result: ``(schedule_id, vat_rate, consumption, days)``.
        Decimals that are equal hash equal (``Decimal('150') == Decimal('150.000')``)."""
        return (self.schedule_id, self.vat_rate, consumption, days)

    def compute(self, *, consumption: Decimal, days: int) -> engine.Computation:
        return engine.compute(self.schedule, vat_rate=self.vat_rate, consumption=consumption, days=days)


@dataclass
class TariffBook:
    """The schedules and VAT rates valid on ``on_date``, loaded in a fixed number of queries.

    ``compute`` memoises engine results for the life of the book (one billing run): keys are
    ``Tariff.key`` values, so two dossiers with the same consumption over the same number of
    days under the same schedule and rate share one computation."""

    on_date: datetime.date
    tariffs: dict[tuple[str, str], Tariff]
    vat_rates: dict[str, list[tuple[str, datetime.date, Decimal]]]
    _memo: dict[tuple, engine.Computation] = field(default_factory=dict, repr=False)
    hits: int = 0
    misses: int = 0

    def lookup(self, service: str, category: str) -> Tariff:
        try:
            return self.tariffs[(service, category)]
        except KeyError:
            raise TariffNotFound(
                gettext("Aucun barème n'est en vigueur le %(date)s pour %(service)s.")
                % {"date": _fmt_date(self.on_date), "service": _service_label(service, category)}
            ) from None

    def has(self, service: str, category: str) -> bool:
        return (service, category) in self.tariffs

    def compute(self, service: str, category: str, *, consumption: Decimal, days: int) -> engine.Computation:
        tariff = self.lookup(service, category)
        key = tariff.key(consumption, days)
        result = self._memo.get(key)
        if result is None:
            self.misses += 1
            result = self._memo[key] = tariff.compute(consumption=consumption, days=days)
        else:
            self.hits += 1
        return result

    def categories(self, service: str) -> list[str]:
        return sorted(category for (svc, category) in self.tariffs if svc == service)


def tariff_book(on_date: datetime.date, *, services: Iterable[str] | None = None) -> TariffBook:
    """Every schedule valid on ``on_date`` with its tranches and charges, and the VAT rates in
    force, in 4 queries. A schedule without a VAT rate for its category is left out (looking it
    up raises ``TariffNotFound`` with the reason)."""
    schedules = TariffSchedule.objects.filter(_valid_on(on_date))
    vats = VatRate.objects.filter(valid_from__lte=on_date)
    if services is not None:
        services = list(services)
        schedules = schedules.filter(service__in=services)
        vats = vats.filter(service__in=services)
    rows = list(schedules.order_by("service", "category", "-valid_from"))
    ids = [row.pk for row in rows]
    tranches: dict[int, list[TariffTranche]] = defaultdict(list)
    for tranche in TariffTranche.objects.filter(schedule_id__in=ids):
        tranches[tranche.schedule_id].append(tranche)
    charges: dict[int, list[TariffCharge]] = defaultdict(list)
    for charge in TariffCharge.objects.filter(schedule_id__in=ids):
        charges[charge.schedule_id].append(charge)
    vat_rates: dict[str, list[tuple[str, datetime.date, Decimal]]] = defaultdict(list)
    for service, category, valid_from, rate in vats.values_list("service", "category", "valid_from", "rate"):
        vat_rates[service].append((category, valid_from, rate))
    tariffs: dict[tuple[str, str], Tariff] = {}
    for row in rows:
        key = (row.service, row.category)
        if key in tariffs:  # overlapping schedules are refused on save; keep the latest anyway
            continue
        vat_rate = _pick_vat(vat_rates.get(row.service, ()), row.category)
        if vat_rate is None:
            continue
        schedule = engine_schedule(row, tranches[row.pk], charges[row.pk])
        tariffs[key] = Tariff(
            schedule_id=row.pk,
            schedule=schedule,
            vat_rate=vat_rate,
            fingerprint=schedule_fingerprint(schedule),
            name=row.name,
            valid_from=row.valid_from,
        )
    return TariffBook(on_date=on_date, tariffs=tariffs, vat_rates=dict(vat_rates))


# --- simulation (public simulator, back-office preview) --------------------------------------------


@dataclass(frozen=True)
class SimulatedPart:
    service: str
    title: str
    schedule_name: str
    vat_rate: Decimal
    computation: engine.Computation
    # Above a switch threshold: (threshold, TTC this part would cost at the threshold)
    at_threshold: tuple[Decimal, Decimal] | None = None


@dataclass(frozen=True)
class Simulation:
    service: str
    category: str
    consumption: Decimal
    days: int
    on_date: datetime.date
    parts: tuple[SimulatedPart, ...]
    total_ht: Decimal
    total_tva: Decimal
    total_ttc: Decimal

    @property
    def main(self) -> SimulatedPart:
        return self.parts[0]

    @property
    def notices(self) -> list[str]:
        """The tranche notices, once each; those of a service billed with the main one (sanitation
        with water) are prefixed with its name."""
        seen: set[str] = set()
        notices = []
        for index, part in enumerate(self.parts):
            text = part.computation.notice
            if not text or text in seen:
                continue
            seen.add(text)
            text = line_labels.tranche_notice(text)  # stored French, shown in the page's language
            if index:
                text = gettext("%(service)s : %(notice)s") % {
                    "service": gettext(part.title),
                    "notice": f"{text[0].lower()}{text[1:]}",
                }
            notices.append(text)
        return notices

    @property
    def unit(self) -> str:
        return UNITS.get(self.service, "")

    @property
    def monthly_consumption(self) -> Decimal:
        return self.main.computation.monthly_consumption


def simulate(
    *,
    service: str,
    category: str,
    consumption: Decimal,
    days: int,
    on_date: datetime.date,
    book: TariffBook | None = None,
) -> Simulation:
    """The bill the engine would produce for ``consumption`` over ``days`` days on ``on_date``:
    the service's lines, then those of the services billed with it (sanitation with water).
    Raises ``TariffNotFound`` or ``engine.EngineError``."""
    book = book or tariff_book(on_date, services=(service, *BILLED_WITH.get(service, ())))
    parts = []
    for part_service in (service, *BILLED_WITH.get(service, ())):
        if part_service != service and not book.has(part_service, category):
            continue  # no sanitation schedule for this category: water alone
        tariff = book.lookup(part_service, category)
        computation = book.compute(part_service, category, consumption=consumption, days=days)
        at_threshold = None
        threshold = tariff.schedule.switch_threshold
        # (tariff_switch_threshold: a SWITCH schedule has its threshold; the engine refuses one without)
        if (
            tariff.schedule.combination == engine.SWITCH
            and threshold is not None
            and computation.monthly_consumption > threshold
        ):
            at_limit = (threshold * computation.months).quantize(engine.QTY)
            at_threshold = (threshold, book.compute(part_service, category, consumption=at_limit, days=days).total_ttc)
        parts.append(
            SimulatedPart(
                service=part_service,
                title=ENERGY_LABELS[part_service],
                schedule_name=tariff.name,
                vat_rate=tariff.vat_rate,
                computation=computation,
                at_threshold=at_threshold,
            )
        )
    return Simulation(
        service=service,
        category=category,
        consumption=consumption,
        days=days,
        on_date=on_date,
        parts=tuple(parts),
        total_ht=sum((p.computation.total_ht for p in parts), ZERO),
        total_tva=sum((p.computation.total_tva for p in parts), ZERO),
        total_ttc=sum((p.computation.total_ttc for p in parts), ZERO),
    )


def simulator_categories(on_date: datetime.date) -> dict[str, list[str]]:
    """For each service a customer can simulate (water, electricity), the categories that have a
    schedule and a VAT rate on ``on_date``."""
    book = tariff_book(on_date, services=(Service.EAU, Service.ELECTRICITE))
    return {service: book.categories(service) for service in (Service.ELECTRICITE, Service.EAU)}


# --- writes ------------------------------------------------------------------------------------------


def overlapping_schedules(
    *,
    service: str,
    category: str,
    valid_from: datetime.date,
    valid_to: datetime.date | None,
    exclude_pk: int | None = None,
):
    """Schedules of the same service and category whose ``[valid_from, valid_to)`` meets the
    given one (an open end runs forever)."""
    rows = TariffSchedule.objects.filter(service=service, category=category).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gt=valid_from)
    )
    if valid_to is not None:
        rows = rows.filter(valid_from__lt=valid_to)
    if exclude_pk is not None:
        rows = rows.exclude(pk=exclude_pk)
    return rows.order_by("valid_from")


def tariff_schedule_check_overlap(
    *,
    service: str,
    category: str,
    valid_from: datetime.date,
    valid_to: datetime.date | None,
    exclude_pk: int | None = None,
    lock: bool = False,
) -> None:
    """Refuse a validity period that overlaps another schedule of the same service and category.
    ``lock=True`` (inside a transaction) locks the rows of that service and category first so two
    concurrent saves cannot both pass."""
    if valid_to is not None and valid_to <= valid_from:
        raise TariffOverlap(gettext("La date de fin de validité doit être postérieure à la date de début."))
    if lock:
        list(TariffSchedule.objects.select_for_update().filter(service=service, category=category).values_list("pk"))
    other = overlapping_schedules(
        service=service, category=category, valid_from=valid_from, valid_to=valid_to, exclude_pk=exclude_pk
    ).first()
    if other is not None:
        raise TariffOverlap(
            gettext(
                "Ce barème chevauche « %(name)s » (du %(start)s au %(end)s) pour %(service)s. Deux barèmes d'un "
                "même métier et d'une même catégorie ne peuvent pas se chevaucher : fixez la date de fin de "
                "l'ancien barème (exclue) au premier jour du nouveau."
            )
            % {
                "name": other.name,
                "start": _fmt_date(other.valid_from),
                "end": _fmt_date(other.valid_to) if other.valid_to else gettext("sans date de fin"),
                "service": _service_label(service, category),
            }
        )


# What a bill was computed with: changing any of these on a used version would make its bills
# disagree with the version they name. The name and the source are descriptive, the end date may
# move as long as every billed period stays inside.
PRICING_FIELDS = ("service", "category", "valid_from", "unit", "prices_include_tax", "combination", "switch_threshold")


def schedule_last_billed_period(schedule: TariffSchedule) -> datetime.date | None:
    """The month of the last billing period computed with this version — the consumption bills of
    its service and category whose period starts in its validity (the date a billing run picks the
    version with) — or None when no bill used it. Month-by-month EXISTS probes (a few ms each on
    the (dossier, period) index) instead of an aggregate over millions of bills."""
    from django.db.models import Max

    from rak_billing.billing import month_after, month_start
    from rak_billing.models import BillingRun

    bills = Bill.objects.filter(
        kind=Bill.Kind.CONSUMPTION,
        dossier__service=schedule.service,
        dossier__tariff_category=schedule.category,
        period_start__gte=schedule.valid_from,
    )
    if schedule.valid_to is not None:
        bills = bills.filter(period_start__lt=schedule.valid_to)
    if not bills.exists():
        return None
    first_month = month_start(schedule.valid_from)
    month = BillingRun.objects.aggregate(last=Max("period_start"))["last"] or first_month
    month = max(month_start(month), first_month)
    if schedule.valid_to is not None:
        month = min(month, month_start(schedule.valid_to - datetime.timedelta(days=1)))
    while bills.filter(period_start__gte=month_after(month)).exists():  # bills later than the last run
        month = month_after(month)
    while month >= first_month:
        if bills.filter(period_start__gte=month, period_start__lt=month_after(month)).exists():
            return month
        month = month_start(month - datetime.timedelta(days=1))
    return first_month


def tariff_schedule_check_editable(*, schedule: TariffSchedule, lines_changed: bool = False) -> None:
    """Refuse a change of a version already used by a bill (``TariffVersionInUse``): its tranches
    or charges (``lines_changed``), a pricing field, or an end date that would leave a billed
    period outside. A new schedule is always editable."""
    if schedule.pk is None:
        return
    stored = TariffSchedule.objects.filter(pk=schedule.pk).first()
    if stored is None:
        return
    last = schedule_last_billed_period(stored)
    if last is None:
        return
    changed = lines_changed or any(getattr(schedule, name) != getattr(stored, name) for name in PRICING_FIELDS)
    if not changed and schedule.valid_to is not None and schedule.valid_to <= last:
        changed = True
    if changed:
        raise TariffVersionInUse(version_in_use_message(last))


@transaction.atomic
def tariff_schedule_save(
    *, schedule: TariffSchedule, tranches: Iterable[TariffTranche] | None = None
) -> TariffSchedule:
    """Save a schedule after checking, under a lock, that it overlaps no other one of its
    service and category; a new one must come with its ``tranches`` (saved with it), an existing
    one already used by a bill only takes a new name, source or later end date."""
    tranches = list(tranches or ())
    if schedule.pk is not None:
        TariffSchedule.objects.select_for_update().filter(pk=schedule.pk).first()
        tariff_schedule_check_editable(schedule=schedule, lines_changed=bool(tranches))
    tariff_schedule_check_overlap(
        service=schedule.service,
        category=schedule.category,
        valid_from=schedule.valid_from,
        valid_to=schedule.valid_to,
        exclude_pk=schedule.pk,
        lock=True,
    )
    if schedule.pk is None and not tranches:
        raise TariffWithoutTranches(tranches_required_message())
    schedule.save()
    for position, tranche in enumerate(tranches, start=1):
        tranche.schedule = schedule
        tranche.position = tranche.position or position
        tranche.save()
    return schedule
