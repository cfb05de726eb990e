"""The dossiers a billing run cannot bill, listed up front instead of skipped silently.

``billing_run_unbillable(period_start=, round_code=)`` reads, for the month and round of a run,
the billable dossiers (``billing.billable_dossiers``) not billed yet for that month that the run
will leave out, each with its reason:

- ``NO_TARIFF``: no schedule (or no VAT rate) in force on the first day of the month for its
  service and tariff category;
- ``NO_METER``: a water or electricity dossier without a meter, or a sanitation dossier whose
  premises has no water dossier with a meter (sanitation is billed on the water meter);
- ``READING_HELD``: its reading of the month (or the water reading a sanitation dossier is billed
  on) is held for review or contested — billed once the reading is decided.

A dossier is listed once, under the first reason that applies in this order. Also counted: the
dossiers to bill, those already billed for the month, and those without a reading in the month
(billed on an estimate). A fixed number of queries whatever the number of dossiers; the rows are
capped (``limit``), the counts are exact. The run keeps the report (``BillingRun.unbillable``)
and the back office shows it before the run is launched, with the full list as CSV.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from rak_billing.models import Bill, MeterReading
from rak_customer.models import Dossier, Service

NO_TARIFF, NO_METER, READING_HELD = "NO_TARIFF", "NO_METER", "READING_HELD"
REASONS = {
    NO_TARIFF: _("Aucun barème en vigueur pour ce métier et cette catégorie"),
    NO_METER: _("Sans compteur (ou assainissement sans dossier d'eau équipé d'un compteur)"),
    READING_HELD: _("Relevé du mois en attente de vérification (anormal ou contesté)"),
}
METERED = (Service.EAU, Service.ELECTRICITE)
BLOCKING = (MeterReading.Status.HELD, MeterReading.Status.CONTESTED)
ROWS_KEPT = 1000


@dataclass
class UnbillableReport:
    period_start: datetime.date
    round_code: str
    to_bill: int = 0
    already_billed: int = 0
    without_reading: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    rows: list[dict] = field(default_factory=list)
    missing_tariffs: list[tuple[str, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def as_json(self) -> dict:
        return {
            "period_start": self.period_start.isoformat(),
            "round_code": self.round_code,
            "to_bill": self.to_bill,
            "already_billed": self.already_billed,
            "without_reading": self.without_reading,
            "counts": self.counts,
            "total": self.total,
            "rows": self.rows,
            "truncated": len(self.rows) < self.total,
            "missing_tariffs": [list(pair) for pair in self.missing_tariffs],
        }


def _unbilled(period_start: datetime.date, round_code: str) -> QuerySet:
    from rak_billing.billing import billable_dossiers, month_after

    billed = Bill.objects.filter(dossier_id=OuterRef("pk"), kind=Bill.Kind.CONSUMPTION, period_start=period_start)
    return billable_dossiers(period_start, month_after(period_start), round_code).filter(~Exists(billed))


def unbillable_querysets(period_start: datetime.date, round_code: str = "") -> tuple[dict[str, QuerySet], list]:
    """reason -> the dossiers (not billed yet for the month) the run will leave out for it, each
    dossier under one reason only; and the (service, category) pairs without a tariff."""
    from rak_billing.billing import month_after
    from rak_billing.tariffs import tariff_book

    period_end = month_after(period_start)
    unbilled = _unbilled(period_start, round_code)
    book = tariff_book(period_start)
    pairs = unbilled.values_list("service", "tariff_category").distinct()
    missing = sorted((service, category) for service, category in pairs if not book.has(service, category))
    no_tariff = Q(pk__in=[])
    for service, category in missing:
        no_tariff |= Q(service=service, tariff_category=category)
    water_with_meter = Dossier.objects.filter(premises_id=OuterRef("premises_id"), service=Service.EAU).filter(
        meter__isnull=False
    )
    no_meter = Q(service__in=METERED, meter__isnull=True) | (
        Q(service=Service.ASSAINISSEMENT) & ~Exists(water_with_meter)
    )
    held_own = MeterReading.objects.filter(
        dossier_id=OuterRef("pk"), status__in=BLOCKING, reading_date__gte=period_start, reading_date__lt=period_end
    )
    held_water = MeterReading.objects.filter(
        dossier__premises_id=OuterRef("premises_id"),
        dossier__service=Service.EAU,
        status__in=BLOCKING,
        reading_date__gte=period_start,
        reading_date__lt=period_end,
    )
    held = (Q(service__in=METERED) & Exists(held_own)) | (Q(service=Service.ASSAINISSEMENT) & Exists(held_water))
    querysets = {
        NO_TARIFF: unbilled.filter(no_tariff),
        NO_METER: unbilled.exclude(no_tariff).filter(no_meter),
        READING_HELD: unbilled.exclude(no_tariff).exclude(no_meter).filter(held),
    }
    return querysets, missing


def unbillable_rows(querysets: dict[str, QuerySet], limit: int | None = ROWS_KEPT) -> list[dict]:
    """The listed dossiers, reason by reason, as plain rows (CSV, JSON, the back-office table)."""
    rows: list[dict] = []
    for reason, queryset in querysets.items():
        if limit is not None and len(rows) >= limit:
            break
        values = queryset.order_by("pk").values_list(
            "pk", "number", "customer__code", "service", "tariff_category", "premises__round_code"
        )
        if limit is not None:
            values = values[: limit - len(rows)]
        rows.extend(
            {
                "dossier_id": pk,
                "dossier": number,
                "customer": code,
                "service": service,
                "category": category,
                "round": round_code,
                "reason": reason,
            }
            for pk, number, code, service, category, round_code in values
        )
    return rows


def billing_run_unbillable(
    *, period_start: datetime.date, round_code: str = "", limit: int | None = ROWS_KEPT
) -> UnbillableReport:
    """What a run of ``period_start``'s month (and ``round_code``) will not bill, and why."""
    from rak_billing.billing import billable_dossiers, month_after, month_start

    period_start = month_start(period_start)
    period_end = month_after(period_start)
    round_code = (round_code or "").strip().upper()
    querysets, missing = unbillable_querysets(period_start, round_code)
    report = UnbillableReport(period_start=period_start, round_code=round_code, missing_tariffs=missing)
    report.counts = {reason: queryset.count() for reason, queryset in querysets.items()}
    report.rows = unbillable_rows(querysets, limit)
    unbilled = _unbilled(period_start, round_code)
    report.to_bill = unbilled.count() - report.total
    report.already_billed = billable_dossiers(period_start, period_end, round_code).count() - unbilled.count()
    read_in_month = MeterReading.objects.filter(
        dossier_id=OuterRef("pk"),
        status=MeterReading.Status.ACCEPTED,
        reading_date__gte=period_start,
        reading_date__lt=period_end,
    ).exclude(source=MeterReading.Source.ESTIMATED)
    report.without_reading = (
        unbilled.filter(service__in=METERED, meter__isnull=False)
        .exclude(pk__in=querysets[NO_TARIFF].values("pk"))
        .exclude(pk__in=querysets[READING_HELD].values("pk"))
        .filter(~Exists(read_in_month))
        .count()
    )
    return report
