"""« Factures à imprimer »: what the print run sends to the printer — the bills of a billing run
(or issued in a period) of the customers who have NOT chosen « facture électronique »
(``Customer.e_invoice_since`` empty, read at the time of the export: rak_customer.efacture), each
with the postal address of its dossier's premises, in delivery order (round, district, address).
"""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet

from rak_billing.models import Bill


@dataclass(frozen=True)
class PrintRunCounts:
    to_print: int
    electronic: int


def _scope(*, run_id: int | None, period_start: datetime.date | None, period_end: datetime.date | None):
    bills = Bill.objects.all()
    if run_id is not None:
        return bills.filter(run_id=run_id)
    if period_start is None or period_end is None:
        raise ValueError("run_id or period_start and period_end")  # i18n: not for customers (a programming error)
    return bills.filter(issue_date__gte=period_start, issue_date__lt=period_end)


def bills_to_print(
    *, run_id: int | None = None, period_start: datetime.date | None = None, period_end: datetime.date | None = None
) -> QuerySet[Bill]:
    """The bills to print: those of the run (or issued in ``[period_start, period_end)``) whose
    customer receives paper bills, in delivery order, with what the envelope needs (one query)."""
    return (
        _scope(run_id=run_id, period_start=period_start, period_end=period_end)
        .filter(customer__e_invoice_since__isnull=True)
        .select_related("customer", "dossier__premises")
        .order_by(
            "dossier__premises__round_code",
            "dossier__premises__district",
            "dossier__premises__address",
            "number",
        )
    )


def print_run_counts(
    *, run_id: int | None = None, period_start: datetime.date | None = None, period_end: datetime.date | None = None
) -> PrintRunCounts:
    row = _scope(run_id=run_id, period_start=period_start, period_end=period_end).aggregate(
        to_print=Count("id", filter=Q(customer__e_invoice_since__isnull=True)),
        electronic=Count("id", filter=Q(customer__e_invoice_since__isnull=False)),
    )
    return PrintRunCounts(**row)


@dataclass(frozen=True)
class PrintLine:
    bill_number: str
    customer_code: str
    name: str
    address: str
    postal_code: str
    city: str
    district: str
    round_code: str
    issue_date: datetime.date
    total_ttc: Decimal


def print_line(bill: Bill) -> PrintLine:
    premises = bill.dossier.premises if bill.dossier is not None else None
    return PrintLine(
        bill_number=bill.number,
        customer_code=bill.customer.code,
        name=bill.customer.display_name,
        address=premises.address if premises else "",
        postal_code=premises.postal_code if premises else "",
        city=premises.city if premises else "",
        district=premises.district if premises else "",
        round_code=premises.round_code if premises else "",
        issue_date=bill.issue_date,
        total_ttc=bill.total_ttc,
    )


PRINT_HEADER = [
    "N° facture",
    "Code client",
    "Nom",
    "Adresse",
    "Code postal",
    "Ville",
    "Quartier",
    "Tournée",
    "Date d'émission",
    "Montant TTC",
]  # i18n: not for customers (the printer's file, in French)


def print_run_csv(bills) -> str:
    """The printer's file: « ; »-separated, UTF-8 with its BOM (Excel), amounts with a comma."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";")
    writer.writerow(PRINT_HEADER)
    for bill in bills.iterator(chunk_size=2000) if isinstance(bills, QuerySet) else bills:
        line = print_line(bill)
        writer.writerow(
            [
                line.bill_number,
                line.customer_code,
                line.name,
                line.address,
                line.postal_code,
                line.city,
                line.district,
                line.round_code,
                line.issue_date.strftime("%d/%m/%Y"),
                f"{line.total_ttc:.2f}".replace(".", ","),
            ]
        )
    return out.getvalue()
