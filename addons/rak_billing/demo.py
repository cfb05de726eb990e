"""Demo bills: for the demo population, a reading history (``readings_generate_history`` of the
readings addon), then one billing run per month — the same set-based runs as in production — and
payments so that balances vary: most customers pay each bill a couple of weeks after it is issued,
some stopped paying a few months ago (impayés), a few pay irregularly or in part, a few never.

Deterministic for a given seed and date. A few meters are « not read » some months (their reading is
removed before billing) so that estimated bills appear, regularised by the next reading.
"""

from __future__ import annotations

import datetime
import random
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from rak_base.errors import RakError
from rak_billing.billing import billing_run_create, billing_run_process, month_after, month_start
from rak_billing.ledger import PaymentRow, payments_record_bulk
from rak_billing.models import Bill, BillingRun, MeterReading, Payment
from rak_billing.notifications import billing_run_finalize
from rak_billing.readings import readings_generate_history
from rak_customer.models import Customer, Dossier
from rak_customer.services import CUSTOMER_CODE_START

UNREAD_ONE_IN = 29  # about 3 % of the monthly readings are « not read »
DUE_DAYS = 15
ISSUE_DAY = 3


class DemoBillingRefused(RakError):
    default_message = "Les factures de démonstration ne peuvent pas être générées dans cette base."


@dataclass(frozen=True)
class DemoBillingResult:
    readings: int
    runs: int
    bills: int
    payments: int
    unread: int


def _months(as_of: datetime.date, count: int) -> list[datetime.date]:
    """The ``count`` whole months before ``as_of``'s month, oldest first."""
    periods = []
    start = month_start(as_of)
    for _ in range(count):
        start = month_start(start - datetime.timedelta(days=1))
        periods.append(start)
    return sorted(periods)


@transaction.atomic
def _remove_some_readings(periods: list[datetime.date], seed: int) -> int:
    """« Not read this month »: drop about one reading in ``UNREAD_ONE_IN`` of the billed months
    (never the first reading of a dossier, never the demo customer's)."""
    first, last = periods[0], month_after(periods[-1])
    demo_dossiers = Dossier.objects.filter(customer__code=str(_demo_code()))
    readings = (
        MeterReading.objects.filter(source=MeterReading.Source.AGENT, reading_date__gte=first, reading_date__lt=last)
        .filter(previous_index__isnull=False)
        .exclude(dossier__in=demo_dossiers)
        .values_list("pk", "dossier_id", "reading_date")
    )
    doomed = [
        pk
        for pk, dossier_id, day in readings.iterator(chunk_size=20000)
        if (dossier_id * 7919 + day.year * 12 + day.month + seed) % UNREAD_ONE_IN == 0
    ]
    for start in range(0, len(doomed), 5000):
        MeterReading.objects.filter(pk__in=doomed[start : start + 5000]).delete()
    return len(doomed)


def _demo_code() -> int:
    return CUSTOMER_CODE_START


def _profile(customer_id: int, seed: int) -> str:
    """How a customer pays: « good » (each bill), « late » (stopped 1-3 months ago), « erratic »
    (every other month, sometimes in part), « never »."""
    draw = random.Random(f"{seed}:pay:{customer_id}").random()  # noqa: S311 - demo data
    if draw < 0.62:
        return "good"
    if draw < 0.84:
        return "late"
    if draw < 0.95:
        return "erratic"
    return "never"


METHODS = (
    (Payment.Method.CASH, 35),
    (Payment.Method.CARD_CMI, 30),
    (Payment.Method.AGENT_NETWORK, 25),
    (Payment.Method.TRANSFER, 10),
)


def _payments(*, now: datetime.datetime, seed: int, only_periods: set[datetime.date] | None = None) -> int:
    """Pay the consumption bills per customer and month according to each customer's profile."""
    by_customer: dict[int, dict[datetime.date, list[tuple]]] = defaultdict(lambda: defaultdict(list))
    bills = Bill.objects.filter(kind=Bill.Kind.CONSUMPTION).values_list(
        "customer_id", "period_start", "issue_date", "total_ttc"
    )
    for customer_id, period, issue, total in bills.iterator(chunk_size=20000):
        # a consumption bill always has its period (the None check is for the type checker)
        if period is not None and (only_periods is None or period in only_periods):
            by_customer[customer_id][period].append((issue, total))
    direct_debit = set(
        Dossier.objects.filter(billing_mode=Dossier.BillingMode.DIRECT_DEBIT).values_list("customer_id", flat=True)
    )
    customers = Customer.objects.in_bulk(list(by_customer))
    demo_code = str(_demo_code())
    rows: list[PaymentRow] = []
    for customer_id, months in sorted(by_customer.items()):
        customer = customers[customer_id]
        rng = random.Random(f"{seed}:payments:{customer_id}")  # noqa: S311 - demo data
        profile = "late" if customer.code == demo_code else _profile(customer_id, seed)
        stop = rng.randint(1, 3)
        periods = sorted(months)
        for rank, period in enumerate(periods):
            remaining_months = len(periods) - rank
            if profile == "never":
                break
            if profile == "late" and remaining_months <= stop:
                break
            if profile == "erratic" and rank % 2:
                continue
            issue = min(issue for issue, _ in months[period])
            total = sum((amount for _, amount in months[period]), Decimal("0"))
            if profile == "erratic" and rng.random() < 0.5:
                total = (total * Decimal("0.5")).quantize(Decimal("0.01"))
            paid_at = timezone.make_aware(
                datetime.datetime.combine(issue + datetime.timedelta(days=rng.randint(2, 20)), datetime.time(10, 30))
            )
            if paid_at > now or total <= 0:
                continue
            method = (
                Payment.Method.DIRECT_DEBIT
                if customer_id in direct_debit
                else rng.choices([m for m, _ in METHODS], weights=[w for _, w in METHODS])[0]
            )
            rows.append(
                PaymentRow(
                    customer_id=customer_id,
                    amount=total,
                    method=method,
                    paid_at=paid_at,
                    reference=f"DEMO-{period:%Y%m}",
                    external_id=f"demo:{customer_id}:{period:%Y-%m}",
                )
            )
    return payments_record_bulk(rows, now=now)


def demo_billing_generate(
    *, months: int = 12, as_of: datetime.date, now: datetime.datetime, seed: int = 2026, progress=None
) -> DemoBillingResult:
    """Readings, monthly runs and payments for the demo population. Months already billed (a run
    DONE for that period) are left as they are, so running it again adds nothing."""
    if getattr(settings, "RAK_MODE", "development") == "production":
        raise DemoBillingRefused("Refusé : le serveur est en mode production.")
    if months < 1:
        raise DemoBillingRefused("Le nombre de mois doit être positif.")
    readings = readings_generate_history(months=months, as_of=as_of, seed=seed, now=now)
    periods = _months(as_of, months)
    done = set(
        BillingRun.objects.filter(status=BillingRun.Status.DONE, round_code="").values_list("period_start", flat=True)
    )
    todo = [period for period in periods if period not in done]
    unread = _remove_some_readings(todo, seed) if readings and todo else 0
    bills = 0
    for index, period in enumerate(todo):
        issue = month_after(period) + datetime.timedelta(days=ISSUE_DAY - 1)
        run = billing_run_create(
            period_start=period, issue_date=issue, due_date=issue + datetime.timedelta(days=DUE_DAYS), enqueue=False
        )
        run = billing_run_process(run_id=run.pk)
        billing_run_finalize(run_id=run.pk, notify=index == len(todo) - 1)  # only the latest bills are announced
        bills += run.bills_created
        if progress:
            progress(period, run)
    payments = _payments(now=now, seed=seed, only_periods=set(todo)) if todo else 0
    from rak_billing.direct_debit import demo_mandates_create

    demo_mandates_create(now=now, seed=seed)  # the dossiers in « Prélèvement bancaire » get their mandate
    return DemoBillingResult(readings=readings, runs=len(todo), bills=bills, payments=payments, unread=unread)
