"""The online-service fee (« Frais du service en ligne », seed 001 step 3): a pure function.

Percentage mode: fee = amount × percent / 100, rounded half-up to the centime; then its VAT =
fee × VAT rate, rounded half-up. With 1 % and 10 % VAT (the demo default) this gives the seed's
figures: 218,83 -> 2,19 + 0,22 = 2,41 DH and 113,02 -> 1,13 + 0,11 = 1,24 DH. Fixed mode: the
fixed amount (excluding tax) plus its VAT. None: nothing (since 2024 the utility bears the cost).
"""

from __future__ import annotations

from decimal import Decimal

from rak_base.money import round_money

ZERO = Decimal("0.00")
NONE, FIXED, PERCENT = "NONE", "FIXED", "PERCENT"


def fee_compute(
    amount: Decimal, *, mode: str, fixed: Decimal = ZERO, percent: Decimal = ZERO, vat_rate: Decimal = ZERO
) -> tuple[Decimal, Decimal]:
    """``(fee excluding tax, VAT on the fee)`` for paying ``amount`` online."""
    amount = round_money(amount)
    if mode == NONE or amount <= ZERO:
        return ZERO, ZERO
    if mode == FIXED:
        fee = round_money(fixed)
    elif mode == PERCENT:
        fee = round_money(amount * Decimal(percent) / Decimal(100))
    else:
        raise ValueError(f"unknown fee mode {mode!r}")
    return fee, round_money(fee * Decimal(vat_rate))
