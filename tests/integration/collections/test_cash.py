"""Counter cash closing: the agent's day per method, counted amounts, explained differences, the
closed day locked; late payments and reversals after closing as adjustments of the next closing."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from rak_billing.api import payment_record, payment_reverse
from rak_collections.cash import CashClosingRefused, cash_closing_close, cash_day
from rak_collections.models import CashClosing, CounterPost
from tests.factories import AgencyFactory, CustomerFactory, staff_in

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 3, 2)


@pytest.fixture
def agent(db):
    user = staff_in("accueil", first_name="Karim", last_name="Bennani")
    CounterPost.objects.create(user=user, agency=AgencyFactory())
    return user


def at(now, hours: int, day: datetime.date = DAY) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hours), tzinfo=now.tzinfo)


def pay(agent, amount, method, paid_at, customer=None):
    return payment_record(
        customer=customer or CustomerFactory(),
        amount=Decimal(amount),
        method=method,
        paid_at=paid_at,
        received_by=agent,
        reason="avance",
    )


def test_the_day_per_method_and_a_closing_with_an_explained_difference(agent, now):
    pay(agent, "100.00", "CASH", at(now, 9))
    pay(agent, "250.50", "CASH", at(now, 11))
    pay(agent, "400.00", "CHEQUE", at(now, 12))
    pay(agent, "90.00", "CASH", at(now, 9, DAY - datetime.timedelta(days=1)))  # yesterday: not today's
    pay(staff_in("accueil"), "70.00", "CASH", at(now, 10))  # another agent's
    state = cash_day(agent=agent, day=DAY)
    lines = {line.method: line for line in state.lines}
    assert (lines["CASH"].payments_count, lines["CASH"].expected) == (2, Decimal("350.50"))
    assert (lines["CHEQUE"].payments_count, lines["CHEQUE"].expected) == (1, Decimal("400.00"))
    assert state.expected_total == Decimal("750.50")

    with pytest.raises(CashClosingRefused, match="expliquez"):
        cash_closing_close(agent=agent, day=DAY, counted={"CASH": "340,50", "CHEQUE": "400"}, by=agent, now=now)
    closing = cash_closing_close(
        agent=agent,
        day=DAY,
        counted={"CASH": "340,50", "CHEQUE": "400"},
        explanation="billet de 10 DH rendu en trop",
        by=agent,
        now=now,
    )
    assert closing.status == CashClosing.Status.CLOSED
    assert (closing.expected_total, closing.counted_total, closing.difference) == (
        Decimal("750.50"),
        Decimal("740.50"),
        Decimal("-10.00"),
    )
    assert {line.method: line.difference for line in closing.lines.all()} == {
        "CASH": Decimal("-10.00"),
        "CHEQUE": Decimal("0.00"),
    }
    assert closing.agency == agent.counter_post.agency
    with pytest.raises(CashClosingRefused, match="déjà été clôturée"):
        cash_closing_close(agent=agent, day=DAY, counted={"CASH": "350.50", "CHEQUE": "400"}, by=agent, now=now)


def test_no_difference_needs_no_explanation(agent, now):
    pay(agent, "100.00", "CASH", at(now, 9))
    closing = cash_closing_close(agent=agent, day=DAY, counted={"CASH": "100", "CHEQUE": "0"}, by=agent, now=now)
    assert closing.difference == 0 and closing.explanation == ""


def test_late_payment_and_reversal_after_closing_go_to_the_next_closing(agent, now):
    counted = pay(agent, "200.00", "CHEQUE", at(now, 9))
    pay(agent, "50.00", "CASH", at(now, 8))
    reversed_same_day = pay(agent, "30.00", "CASH", at(now, 9))
    payment_reverse(payment=reversed_same_day, reason="erreur de client", by=agent, at=at(now, 9))
    cash_closing_close(agent=agent, day=DAY, counted={"CASH": "50", "CHEQUE": "200"}, by=agent, now=at(now, 17))
    # after the closing: a payment of that day recorded late, and the cheque returned unpaid
    late = pay(agent, "80.00", "CASH", at(now, 16))
    payment_reverse(payment=counted, reason="chèque impayé", by=agent, at=at(now, 10, DAY + datetime.timedelta(days=1)))
    next_day = DAY + datetime.timedelta(days=1)
    pay(agent, "20.00", "CASH", at(now, 11, next_day))
    state = cash_day(agent=agent, day=next_day)
    lines = {line.method: line for line in state.lines}
    assert lines["CASH"].expected == Decimal("100.00")  # 20 of the day + 80 late
    assert lines["CHEQUE"].expected == Decimal("-200.00")  # the returned cheque
    assert {(a.payment.pk, a.amount) for a in state.adjustments} == {
        (late.pk, Decimal("80.00")),
        (counted.pk, Decimal("-200.00")),
    }
    closing = cash_closing_close(
        agent=agent,
        day=next_day,
        counted={"CASH": "100", "CHEQUE": "0"},
        explanation="chèque impayé rendu au client",
        by=agent,
        now=at(now, 18, next_day),
    )
    assert closing.expected_total == Decimal("-100.00")
    # nothing counted twice afterwards
    third = next_day + datetime.timedelta(days=1)
    assert cash_day(agent=agent, day=third).expected_total == 0


@pytest.mark.parametrize(
    ("counted", "message"),
    [
        ({"CASH": "-5", "CHEQUE": "0"}, "négatif"),
        ({"CASH": "abc", "CHEQUE": "0"}, "invalide"),
        ({"CASH": "NaN", "CHEQUE": "0"}, "invalide"),
        ({"CASH": "1e40", "CHEQUE": "0"}, "trop élevé"),
        ({"CHEQUE": "0"}, "0 s'il n'y a rien"),
        ({"CASH": "0", "CHEQUE": "0", "BITCOIN": "5"}, "inconnu"),
    ],
)
def test_hostile_counted_amounts(agent, now, counted, message):
    with pytest.raises(CashClosingRefused, match=message):
        cash_closing_close(agent=agent, day=DAY, counted=counted, explanation="x", by=agent, now=now)
    assert not CashClosing.objects.exists()


def test_refused_days_and_agents(agent, now):
    with pytest.raises(CashClosingRefused, match="à venir"):
        cash_closing_close(agent=agent, day=DAY + datetime.timedelta(days=1), counted={}, by=agent, now=now)
    with pytest.raises(CashClosingRefused, match="trop ancienne"):
        cash_closing_close(agent=agent, day=datetime.date(2020, 1, 1), counted={}, by=agent, now=now)
    nobody = staff_in("accueil")
    with pytest.raises(CashClosingRefused, match="poste de guichet"):
        cash_closing_close(agent=nobody, day=DAY, counted={"CASH": "0", "CHEQUE": "0"}, by=nobody, now=now)
