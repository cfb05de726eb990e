"""The online-service fee (« Frais du service en ligne ») in the books.

A card payment through CMI takes the bills plus the fee and its VAT. The whole amount is one
payment (what the gateway settles); the fee and its VAT are an invoice of kind ONLINE_FEE —
HT and TVA exactly as charged, the VAT rate the order was priced with (``vat_rate_online_fee``:
the VAT table's versioned « FRAIS_EN_LIGNE » line on the order's date) — that the fee part of the
same payment settles at once:

    fee_bill = online_fee_invoice_issue(customer=, fee_ht=, fee_vat=, vat_rate=, issue_date=, label=)
    payment_record(customer=, amount=bills + fee, ..., bills=[*bills, fee_bill])

In the CMI callback the invoice is issued with ``number_later=True``: it gets a provisional,
unique number (``P-…``) and its gap-free number is reserved by ``online_fee_invoice_number`` as the
transaction's last write, so the year's bill-number row is locked from there to the COMMIT only
(every other callback and every billing-run chunk of the year waits on that row). The reservation
is in the same transaction: a callback that rolls back consumes no number.

The invoice is debited on the ledger but, unlike ``bill_issue_other``, the customer's credit is
not applied to it: the card paid it, so it never consumes a credit nor leaves one behind.
"""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

from django.db import connection, transaction
from django.utils.translation import gettext_lazy

from rak_base.errors import RakError
from rak_base.money import round_money
from rak_billing.ledger import bill_numbers_reserve
from rak_billing.models import VAT_ONLINE_FEE, Bill, BillLine, LedgerEntry
from rak_billing.tariffs import vat_rate_in_force
from rak_customer.models import Customer

ZERO = Decimal("0.00")
PROVISIONAL_PREFIX = "P-"  # a fee invoice's number until ``online_fee_invoice_number`` (never committed)


def vat_rate_online_fee(*, on_date: datetime.date) -> Decimal | None:
    """The VAT rate of the online-service fee on ``on_date``: the VAT table's « Frais du service en
    ligne » line in force then (versioned like every VAT rate), None when the table has none."""
    return vat_rate_in_force(service=VAT_ONLINE_FEE, on_date=on_date)


class OnlineFeeRefused(RakError):
    default_message = gettext_lazy("Les frais du service en ligne ne peuvent pas être facturés.")


@transaction.atomic
def online_fee_invoice_issue(
    *,
    customer: Customer,
    fee_ht: Decimal,
    fee_vat: Decimal,
    vat_rate: Decimal,
    issue_date: datetime.date,
    label: str,
    number_later: bool = False,
) -> Bill:
    """Issue the ONLINE_FEE invoice of a card payment (open; the caller settles it with the
    payment that carries the fee, in the same transaction). ``number_later``: a provisional number
    now; the caller calls ``online_fee_invoice_number`` as its transaction's last write."""
    fee_ht, fee_vat = round_money(fee_ht), round_money(fee_vat)
    if fee_ht < ZERO or fee_vat < ZERO or fee_ht + fee_vat <= ZERO:
        raise OnlineFeeRefused()
    # the customer's row lock, as every ledger write (rak_billing.ledger._lock_customer)
    list(Customer.objects.select_for_update().filter(pk=customer.pk).values_list("pk"))
    if number_later:
        if not connection.in_atomic_block:
            raise RuntimeError("number_later: the caller's transaction must give the number before it commits")
        number = f"{PROVISIONAL_PREFIX}{uuid.uuid4().hex[:18]}"
    else:
        (number,) = bill_numbers_reserve(year=issue_date.year, count=1)
    bill = Bill.objects.create(
        number=number,
        kind=Bill.Kind.ONLINE_FEE,
        customer=customer,
        issue_date=issue_date,
        due_date=issue_date,
        total_ht=fee_ht,
        total_tva=fee_vat,
        total_ttc=fee_ht + fee_vat,
    )
    BillLine.objects.create(
        bill=bill,
        position=1,
        kind=BillLine.Kind.OTHER,
        label=label[:160],
        quantity=Decimal("1"),
        unit_price=fee_ht,
        amount_ht=fee_ht,
        vat_rate=vat_rate,
        amount_tva=fee_vat,
        amount_ttc=fee_ht + fee_vat,
    )
    LedgerEntry.objects.create(
        customer=customer,
        kind=LedgerEntry.Kind.BILL,
        entry_date=issue_date,
        amount=bill.total_ttc,
        bill=bill,
        label=_ledger_label(bill),
    )
    return bill


def _ledger_label(bill: Bill) -> str:
    return f"{bill.get_kind_display()} {bill.number}"[:160]


def online_fee_invoice_number(*, bill: Bill) -> str:
    """Give a fee invoice issued with ``number_later`` its gap-free number of its issue year, and
    its ledger debit the label with it; return the number. To be the caller's transaction's last
    write: from the reservation to the COMMIT the year's bill-number row is locked. Three
    statements: the sequence's ``UPDATE … RETURNING``, the bill's number (the trigger
    ``rak_billing_bill_number_update`` moves it in ``rak_billing_billnumber``), the ledger label."""
    if not bill.number.startswith(PROVISIONAL_PREFIX):
        return bill.number
    if not connection.in_atomic_block:
        raise RuntimeError("online_fee_invoice_number: inside the transaction that issued the invoice")
    (number,) = bill_numbers_reserve(year=bill.issue_date.year, count=1)
    Bill.objects.filter(pk=bill.pk).update(number=number)
    bill.number = number
    LedgerEntry.objects.filter(bill_id=bill.pk, kind=LedgerEntry.Kind.BILL).update(label=_ledger_label(bill))
    return number
