"""« Publier » an outage notice (``rak_requests.outages.outage_notice_publish``) for a district of
20,000 customers: the customers concerned computed set-based (one INSERT … SELECT), one SMS per
customer queued in the outbox (one UPDATE … RETURNING, then ``message_queue_bulk``).

    .venv/bin/python bench/bench_outage_publish.py                       # 20,000 customers
    .venv/bin/python bench/bench_outage_publish.py --customers 5000 50000

The population of each size (bulk inserts, untimed) lives in its own district: every customer has a
water dossier there, one in 5 a second one (counted once), one in 20 opted out of the SMS, one in 25
has no SMS number; one customer in 10 of another district (not concerned). The script drops and
recreates the database ``rak_bench_outage`` (``--database-url`` to change it), migrates it, then
times the publication and checks it (recipients, one SMS each, nothing sent by a second « Publier »).
Timings are measured here, never asserted by tests.
"""

from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "addons")]

from bench.common import environment, machine, recreate_database  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/rak_bench_outage")
    parser.add_argument("--customers", type=int, nargs="+", default=[20000], help="customers of the district")
    return parser.parse_args()


def population(size: int, *, batch: int, district: str) -> dict[str, int]:
    """``size`` customers of ``district`` (+ 10 % elsewhere); returns what the publication must find."""
    from rak_customer.models import Contact, Customer, Dossier, Premises

    prefix = f"{batch}"
    others = size // 10
    total = size + others
    customers = Customer.objects.bulk_create(
        (
            Customer(
                code=f"{prefix}{i:08d}",
                cin=f"BO{batch}{i:08d}",
                last_name=f"Bench{i}",
                first_name="Client",
                sms_service_notices=i % 20 != 0,
            )
            for i in range(total)
        ),
        batch_size=2000,
    )
    Contact.objects.bulk_create(
        (
            Contact(customer=c, kind=Contact.Kind.PHONE, value=f"+2126{batch}{i:07d}", is_sms=True)
            for i, c in enumerate(customers)
            if i % 25 != 0
        ),
        batch_size=2000,
    )
    premises = Premises.objects.bulk_create(
        (
            Premises(
                reference=f"P{prefix}{i:08d}",
                address=f"{i % 200 + 1} rue Ibn Sina",
                district=district if i < size else f"{district} Ouest",
            )
            for i in range(total)
        ),
        batch_size=2000,
    )
    dossiers = []
    for i, (customer, place) in enumerate(zip(customers, premises, strict=True)):
        dossiers.append(
            Dossier(
                number=f"EA{prefix}{i:08d}",
                customer=customer,
                premises=place,
                service="EAU",
                start_date=datetime.date(2020, 1, 1),
            )
        )
        if i % 5 == 0:
            dossiers.append(
                Dossier(
                    number=f"EB{prefix}{i:08d}",
                    customer=customer,
                    premises=place,
                    service="EAU",
                    start_date=datetime.date(2020, 1, 1),
                )
            )
    Dossier.objects.bulk_create(dossiers, batch_size=2000)
    sms = sum(1 for i in range(size) if i % 20 != 0 and i % 25 != 0)
    return {"recipients": size, "sms": sms}


class Counter:
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
    from django.contrib.auth import get_user_model
    from django.db import connection

    from rak_base.models import Message
    from rak_requests import outages

    User = get_user_model()  # noqa: N806
    agent = User.objects.create(username="bench-technique", role=User.Role.STAFF, is_staff=True)
    pg = connection.cursor().connection.info.server_version
    database = f"PostgreSQL {pg // 10000}.{pg % 100}"
    for batch, size in enumerate(args.customers, start=1):
        district = f"Quartier {batch}"
        print(f"==> {size} customers in « {district} » (bulk set-up)", file=sys.stderr)
        expected = population(size, batch=batch, district=district)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        now = datetime.datetime.now(tz=datetime.UTC)
        notice = outages.outage_notice_create(
            data=outages.OutageNoticeData(
                kind="PLANNED",
                service="EAU",
                starts_at=now + datetime.timedelta(days=2),
                expected_end_at=now + datetime.timedelta(days=2, hours=6),
                reason="Raccordement sur la conduite principale",
                districts=(district,),
            ),
            user=agent,
            now=now,
        )
        started = time.perf_counter()
        preview = outages.outage_notice_preview(notice, now=now)
        preview_seconds = time.perf_counter() - started
        counted = Counter()
        started = time.perf_counter()
        with connection.execute_wrapper(counted):
            result = outages.outage_notice_publish(notice_id=notice.pk, user=agent, now=now)
        seconds = time.perf_counter() - started
        assert (preview.customers, preview.sms) == (expected["recipients"], expected["sms"]), preview
        assert (result.recipients, result.sms) == (expected["recipients"], expected["sms"]), result
        assert Message.objects.filter(kind=f"outage:{notice.pk}:notice").count() == expected["sms"]
        try:
            outages.outage_notice_publish(notice_id=notice.pk, user=agent, now=now)
        except outages.OutageNoticeAlreadyPublished:
            pass
        assert Message.objects.filter(kind=f"outage:{notice.pk}:notice").count() == expected["sms"]
        print(
            f"| {now.date().isoformat()} | {size:,} customers | {result.sms:,} SMS | preview {preview_seconds:.2f} s | "
            f"publish {seconds:.2f} s | {counted.statements:,} statements | {database} | {machine()} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
