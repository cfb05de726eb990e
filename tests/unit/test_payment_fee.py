"""The online-service fee (rak_payment_cmi.fees): the seed's figures, fixed and none."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from rak_payment_cmi.fees import fee_compute

DEMO = {"mode": "PERCENT", "percent": Decimal("1"), "vat_rate": Decimal("0.10")}


def test_seed_figures_one_percent_plus_ten_percent_vat():
    assert fee_compute(Decimal("218.83"), **DEMO) == (Decimal("2.19"), Decimal("0.22"))  # 2,41 DH
    assert fee_compute(Decimal("113.02"), **DEMO) == (Decimal("1.13"), Decimal("0.11"))  # 1,24 DH
    assert sum(fee_compute(Decimal("218.83"), **DEMO)) + Decimal("218.83") == Decimal("221.24")
    assert sum(fee_compute(Decimal("113.02"), **DEMO)) + Decimal("113.02") == Decimal("114.26")


def test_half_up_on_the_fee_then_on_its_vat():
    assert fee_compute(Decimal("150.50"), **DEMO) == (Decimal("1.51"), Decimal("0.15"))  # 1.505 -> 1.51
    assert fee_compute(Decimal("50.00"), **DEMO) == (Decimal("0.50"), Decimal("0.05"))


def test_none_and_fixed():
    assert fee_compute(Decimal("218.83"), mode="NONE", percent=Decimal("1")) == (Decimal("0.00"), Decimal("0.00"))
    fixed = fee_compute(Decimal("218.83"), mode="FIXED", fixed=Decimal("3.00"), vat_rate=Decimal("0.10"))
    assert fixed == (Decimal("3.00"), Decimal("0.30"))


@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=2))
def test_fee_is_never_negative_and_has_two_decimals(amount):
    fee, vat = fee_compute(amount, **DEMO)
    assert fee >= 0 and vat >= 0
    assert fee == fee.quantize(Decimal("0.01")) and vat == vat.quantize(Decimal("0.01"))
