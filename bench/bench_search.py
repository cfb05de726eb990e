"""Back-office customer search on a populated database (run after demo_data).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rak_search \\
        .venv/bin/python manage.py migrate && .venv/bin/python manage.py demo_data --customers 200000 --no-logins
    DATABASE_URL=... .venv/bin/python bench/bench_search.py

Prints a Markdown table: term kind, term, rows, mean time of the first page (50 rows, 5 runs).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "addons")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from rak_customer.models import Contact, Customer  # noqa: E402
from rak_customer.selectors import customer_search_filter  # noqa: E402


def main() -> None:
    customer = Customer.objects.filter(last_name__contains=" ").order_by("code")[500]
    phone = Contact.objects.filter(customer=customer, kind="PHONE").first().value
    terms = {
        "code client": customer.code,
        "CIN/ICE": customer.cin or customer.ice,
        "téléphone E.164": phone,
        "téléphone 06…": "0" + phone[4:],
        "nom": customer.last_name,
        "prénom + nom": f"{customer.first_name} {customer.last_name}",
        "nom + prénom": f"{customer.last_name} {customer.first_name}",
        "raison sociale (mot)": "SEBOU",
    }
    print(f"customers: {Customer.objects.count()}")
    print("| recherche | terme | lignes | temps moyen (50 premières) |\n|---|---|---|---|")
    for label, term in terms.items():

        def run(term=term) -> int:
            return len(list(Customer.objects.filter(customer_search_filter(term)).order_by("code")[:50]))

        run()
        started = time.perf_counter()
        for _ in range(5):
            rows = run()
        print(f"| {label} | `{term}` | {rows} | {(time.perf_counter() - started) / 5 * 1000:.2f} ms |")


if __name__ == "__main__":
    main()
