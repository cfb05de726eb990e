"""The one allocation rule (``rak_billing.allocation.allocate``), as properties: it never gives a
bill more than it owes nor more than the amount in all, it pays the named bills first and then
the oldest due date first, it pays as much as it can, and the same input (in any order) gives the
same allocations."""

from __future__ import annotations

import datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from rak_billing.allocation import ZERO, OpenBill, allocate

CENTS = st.integers(min_value=0, max_value=500_000).map(lambda c: Decimal(c).scaleb(-2))
DAY0 = datetime.date(2026, 1, 1)


@st.composite
def scenarios(draw):
    count = draw(st.integers(min_value=0, max_value=12))
    bills = [
        OpenBill(
            bill_id=bill_id,
            outstanding=draw(CENTS),
            due_date=DAY0 + datetime.timedelta(days=draw(st.integers(min_value=0, max_value=90))),
            issue_date=DAY0 - datetime.timedelta(days=draw(st.integers(min_value=0, max_value=30))),
        )
        for bill_id in draw(
            st.lists(st.integers(min_value=1, max_value=10_000), min_size=count, max_size=count, unique=True)
        )
    ]
    known = [b.bill_id for b in bills]
    named = draw(st.lists(st.sampled_from(known), unique=True, max_size=3)) if known else []
    named += draw(st.lists(st.integers(min_value=20_000, max_value=20_010), max_size=1))  # not open: ignored
    amount = draw(CENTS)
    return amount, bills, named


def _order(bill: OpenBill) -> tuple:
    return (bill.due_date, bill.issue_date, bill.bill_id)


@given(scenarios())
def test_never_over_allocates_a_bill_or_the_amount(scenario):
    amount, bills, named = scenario
    plan = allocate(amount, bills, named)
    owed = {b.bill_id: b.outstanding for b in bills}
    given_to: dict[int, Decimal] = {}
    for part in plan.allocations:
        assert part.amount > ZERO
        given_to[part.bill_id] = given_to.get(part.bill_id, ZERO) + part.amount
    assert all(total <= owed[bill_id] for bill_id, total in given_to.items())
    assert len(given_to) == len(plan.allocations)  # one allocation per bill
    assert plan.allocated + plan.remaining == amount
    assert plan.remaining >= ZERO
    # as much as it can: all the amount, or every bill paid in full
    assert plan.allocated == min(amount, sum(owed.values(), ZERO))


@given(scenarios())
def test_named_bills_first_then_oldest_due_first(scenario):
    amount, bills, named = scenario
    plan = allocate(amount, bills, named)
    paid = {part.bill_id: part.amount for part in plan.allocations}
    by_id = {b.bill_id: b for b in bills}

    def full(bill: OpenBill) -> bool:
        return paid.get(bill.bill_id, ZERO) == bill.outstanding

    named_bills = [b for b in bills if b.bill_id in named]
    others = sorted((b for b in bills if b.bill_id not in named), key=_order)
    if any(paid.get(b.bill_id) for b in others):
        assert all(full(b) for b in named_bills)  # another bill got money: the named ones are paid
    for later_index, later in enumerate(others):
        if paid.get(later.bill_id):
            assert all(full(earlier) for earlier in others[:later_index])  # older ones paid first
    settled = set(plan.settled)
    assert settled == {b.bill_id for b in bills if full(b)}  # settled = owes nothing now
    assert all(bill_id in by_id for bill_id in paid)


@given(scenarios(), st.randoms(use_true_random=False))
def test_deterministic_whatever_the_input_order(scenario, random):
    amount, bills, named = scenario
    shuffled, shuffled_named = list(bills), list(named)
    random.shuffle(shuffled)
    random.shuffle(shuffled_named)
    assert allocate(amount, shuffled, shuffled_named) == allocate(amount, bills, named)


def test_a_named_bill_is_paid_before_an_older_one():
    old = OpenBill(1, Decimal("100.00"), datetime.date(2026, 1, 15))
    named = OpenBill(2, Decimal("63.02"), datetime.date(2026, 3, 14))
    plan = allocate(Decimal("63.02"), [old, named], [2])
    assert [(a.bill_id, a.amount) for a in plan.allocations] == [(2, Decimal("63.02"))]
    assert plan.settled == (2,) and plan.remaining == ZERO
    plan = allocate(Decimal("63.02"), [old, named])  # nobody named: the oldest due date
    assert [(a.bill_id, a.amount) for a in plan.allocations] == [(1, Decimal("63.02"))]
    assert plan.settled == ()
