"""The monthly direct-debit export (« Exporter les prélèvements du mois »,
``rak_billing.direct_debit.debits_export``) for a realistic batch: N dossiers billed by direct
debit with an active mandate (several banks), one open bill each, a few customers holding an
older credit (its remainder pays first), then the export timed: the orders, their DIRECT_DEBIT
payments with the ledger entries and allocations, the bills settled, one file per bank.

    .venv/bin/python bench/bench_direct_debit.py                    # 2,000 and 10,000 bills
    .venv/bin/python bench/bench_direct_debit.py --bills 60000      # a month of 400,000 customers
    .venv/bin/python bench/bench_direct_debit.py --record           # and adds the rows to docs/BENCHMARKS.md

The script drops and recreates the database ``rak_bench_dd`` (``--database-url`` to change it),
migrates it, writes the rows with bulk inserts (untimed), then for each size runs one export over
that size's fresh bills and checks the result (one order and one payment per bill, every bill
settled, the files' totals). The bank files are written to a temporary directory. Timings are
measured here, never asserted by tests.
"""

from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "addons")]

from bench.common import environment, machine, recreate_database  # noqa: E402

MARKER = "<!-- bench_direct_debit: new rows above this line -->"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/rak_bench_dd")
    parser.add_argument("--bills", type=int, nargs="+", default=[2000, 10000], help="bills per export")
    parser.add_argument("--record", action="store_true", help="add the rows to docs/BENCHMARKS.md")
    return parser.parse_args()


def population(size: int, *, batch: int, now: datetime.datetime) -> None:
    """``size`` customers, each with a premises, a dossier billed by direct debit (an active mandate,
    one of the known banks) and one open bill of February; one customer in 50 also holds an older
    payment remainder (credit) of 10 DH. Bulk inserts, untimed."""
    from rak_base.rib import BANKS, rib_key
    from rak_billing.direct_debit_models import Mandate
    from rak_billing.models import Bill, LedgerEntry, Payment
    from rak_customer.models import Customer, Dossier, Premises

    prefix = f"{batch}"
    customers = Customer.objects.bulk_create(
        (
            Customer(code=f"{prefix}{i:08d}", cin=f"BD{batch}{i:08d}", last_name=f"Bench{i}", first_name="Client")
            for i in range(size)
        ),
        batch_size=2000,
    )
    premises = Premises.objects.bulk_create(
        (
            Premises(reference=f"P{prefix}{i:08d}", address=f"{i % 200 + 1} rue Ibn Sina", district="Maamora")
            for i in range(size)
        ),
        batch_size=2000,
    )
    dossiers = Dossier.objects.bulk_create(
        (
            Dossier(
                number=f"EA{prefix}{i:08d}",
                customer=customer,
                premises=place,
                service="EAU",
                start_date=datetime.date(2020, 1, 1),
                billing_mode=Dossier.BillingMode.DIRECT_DEBIT,
                deposit_amount=Decimal("250.00"),
            )
            for i, (customer, place) in enumerate(zip(customers, premises, strict=True))
        ),
        batch_size=2000,
    )
    banks = sorted(BANKS)
    mandates = []
    for i, dossier in enumerate(dossiers):
        digits = banks[i % len(banks)] + "780" + f"{batch * 10**9 + i:016d}"
        number = digits + rib_key(digits)
        mandates.append(
            Mandate(
                reference=f"MDTB{prefix}{i:08d}",
                dossier=dossier,
                rib=number,
                bank_code=number[:3],
                bank_name=BANKS[number[:3]],
                signed_date=datetime.date(2025, 12, 1),
                created_at=now,
            )
        )
    Mandate.objects.bulk_create(mandates, batch_size=2000)
    bills = Bill.objects.bulk_create(
        (
            Bill(
                number=f"B{prefix}{i:08d}",
                kind=Bill.Kind.CONSUMPTION,
                customer=dossier.customer,
                dossier=dossier,
                period_start=datetime.date(2026, 2, 1),
                period_end=datetime.date(2026, 3, 1),
                issue_date=datetime.date(2026, 3, 1),
                due_date=datetime.date(2026, 3, 16),
                total_ht=Decimal("100.00") + i % 97,
                total_tva=Decimal("7.00"),
                total_ttc=Decimal("107.00") + i % 97,
            )
            for i, dossier in enumerate(dossiers)
        ),
        batch_size=2000,
    )
    LedgerEntry.objects.bulk_create(
        (
            LedgerEntry(
                customer_id=bill.customer_id,
                dossier_id=bill.dossier_id,
                kind=LedgerEntry.Kind.BILL,
                entry_date=bill.issue_date,
                amount=bill.total_ttc,
                bill=bill,
                label=bill.number,
            )
            for bill in bills
        ),
        batch_size=2000,
    )
    credits = Payment.objects.bulk_create(
        Payment(
            customer=customer,
            amount=Decimal("10.00"),
            method=Payment.Method.CASH,
            paid_at=now - datetime.timedelta(days=60),
            reference=f"AV{prefix}{i:08d}",
        )
        for i, customer in enumerate(customers)
        if i % 50 == 0
    )
    LedgerEntry.objects.bulk_create(
        LedgerEntry(
            customer_id=p.customer_id,
            kind=LedgerEntry.Kind.PAYMENT,
            entry_date=p.paid_at.date(),
            amount=-p.amount,
            payment=p,
            label=p.reference,
        )
        for p in credits
    )


class Counter:
    """A ``connection.execute_wrapper`` counting the SQL statements sent."""

    def __init__(self) -> None:
        self.statements = 0

    def __call__(self, execute, sql, params, many, context):
        self.statements += 1
        return execute(sql, params, many, context)


def main() -> None:
    args = parse_args()
    env = environment(args.database_url)
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    print(f"==> recreating {args.database_url}", file=sys.stderr)
    recreate_database(args.database_url)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)  # noqa: S603

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection

    from rak_billing.direct_debit import debits_export
    from rak_billing.direct_debit_models import DebitOrder
    from rak_billing.models import Bill, Payment

    User = get_user_model()  # noqa: N806

    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="rak-bench-dd-")
    agent = User.objects.create(username="bench-recouvrement", role=User.Role.STAFF, is_staff=True)
    pg = connection.cursor().connection.info.server_version
    database = f"PostgreSQL {pg // 10000}.{pg % 100}"
    today = datetime.datetime.now(tz=datetime.UTC).date().isoformat()
    rows = []
    for batch, size in enumerate(args.bills, start=1):
        now = datetime.datetime(2026, 3, 28, 9, 0, tzinfo=datetime.UTC) + datetime.timedelta(minutes=batch)
        print(f"==> {size} dossiers billed by direct debit (bulk set-up)", file=sys.stderr)
        population(size, batch=batch, now=now)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        counted = Counter()
        started = time.perf_counter()
        with connection.execute_wrapper(counted):
            result = debits_export(period=datetime.date(2026, 3, 1), by=agent, now=now)
        seconds = time.perf_counter() - started
        statements = counted.statements
        exported = DebitOrder.objects.filter(batch__in=result.batches)
        assert result.orders == size == exported.count(), (result.orders, size)
        assert Payment.objects.filter(method=Payment.Method.DIRECT_DEBIT, debit_order__in=exported).count() == size
        assert not Bill.objects.filter(number__startswith=f"B{batch}", settled_at__isnull=True).exists()
        again = debits_export(period=datetime.date(2026, 3, 1), by=agent, now=now)
        assert again.orders == 0  # idempotent: a second export finds nothing
        row = (
            f"| {today} | {size:,} | {len(result.batches)} | {seconds:.1f} s | {size / seconds:,.0f} | "
            f"{statements:,} | {database} | {machine()} |"
        )
        print(row, flush=True)
        rows.append(row)
    if args.record:
        path = ROOT / "docs" / "BENCHMARKS.md"
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace(MARKER, "\n".join(rows) + f"\n{MARKER}"), encoding="utf-8")
        print(f"==> recorded in {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
