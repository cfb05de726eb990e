"""Which bills an amount pays: the one allocation rule of the ledger, pure (no database).

Every path that spreads money over bills uses ``allocate``: a payment at the counter or by card
(``payment_record``, the bills the payer chose first), a network payments file
(``payments_record_bulk``, the bill a row names first), the customer's credit applied to new bills
(``ledger_apply_credit``) and a credit note (the credited bill first).

Rule: the named bills first (in the order of their due date), then the other open bills, oldest
due date first (then issue date, then id: the same input always gives the same allocations). A
bill never receives more than it still owes, and the allocations never add up to more than the
amount; what is left is the customer's credit. A bill whose outstanding reaches zero (or was
already zero) is settled.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class OpenBill:
    """An open bill as the rule sees it: what it still owes and when it is due."""

    bill_id: int
    outstanding: Decimal
    due_date: datetime.date
    issue_date: datetime.date | None = None


@dataclass(frozen=True)
class Allocation:
    bill_id: int
    amount: Decimal


@dataclass(frozen=True)
class AllocationPlan:
    allocations: tuple[Allocation, ...]
    settled: tuple[int, ...]  # bills whose outstanding is zero afterwards, in allocation order
    remaining: Decimal  # what is left of the amount (the customer's credit)

    @property
    def allocated(self) -> Decimal:
        return sum((a.amount for a in self.allocations), ZERO)


def _order_key(bill: OpenBill) -> tuple:
    return (bill.due_date, bill.issue_date or datetime.date.min, bill.bill_id)


def allocate(amount: Decimal, open_bills: Iterable[OpenBill], named: Iterable[int] = ()) -> AllocationPlan:
    """Spread ``amount`` over ``open_bills``: the bills of ``named`` first, then the others,
    oldest due date first. Bills of ``named`` that are not open are ignored."""
    named_ids = set(named)
    bills = sorted(open_bills, key=lambda b: (b.bill_id not in named_ids, *_order_key(b)))
    remaining = max(amount, ZERO)
    allocations: list[Allocation] = []
    settled: list[int] = []
    for bill in bills:
        if bill.outstanding <= ZERO:
            settled.append(bill.bill_id)  # owes nothing: settle it, take nothing
            continue
        if remaining <= ZERO:
            continue
        part = min(bill.outstanding, remaining)
        allocations.append(Allocation(bill.bill_id, part))
        remaining -= part
        if part == bill.outstanding:
            settled.append(bill.bill_id)
    return AllocationPlan(tuple(allocations), tuple(settled), remaining)
