"""The tariff engine (rak_billing.engine), a pure function: properties checked with hypothesis and
the worked examples of the published electricity prices (arrêté 2451-14).

What a customer would notice: a bigger consumption never costs less as long as the same rule
applies (progressive up to 150 kWh a month, selective above); crossing 150 kWh switches the whole
consumption to the selective price, and the bill says so; a reading taken late (60 days instead of
30) bills the same as two months; every amount is in centimes and the totals add up."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rak_billing import engine
from rak_billing.engine import Charge, Schedule, Tranche

CENT = D("0.01")
TPPAN_RULES = {"exempt_up_to": D("50"), "monthly_cap": D("100")}  # loi de finances 8-96, art. 16

ELECTRICITY = Schedule(
    combination=engine.SWITCH,
    switch_threshold=D("150"),
    prices_include_tax=True,
    unit="kWh",
    energy_label="Électricité",
    tranches=(
        Tranche(D("0"), D("100"), D("0.9010"), engine.PROGRESSIVE),
        Tranche(D("100"), D("150"), D("1.0732"), engine.PROGRESSIVE),
        Tranche(D("150"), D("210"), D("1.0732"), engine.SELECTIVE),
        Tranche(D("210"), D("310"), D("1.1676"), engine.SELECTIVE),
        Tranche(D("310"), D("510"), D("1.3817"), engine.SELECTIVE),
        Tranche(D("510"), None, D("1.5958"), engine.SELECTIVE),
    ),
    charges=(
        Charge("Location du compteur", engine.FIXED_MONTHLY, D("3.00")),
        Charge("Entretien", engine.FIXED_MONTHLY, D("2.60")),
        *(
            Charge("TPPAN", engine.PER_UNIT, price, taxable=False, lower=lower, upper=upper, **TPPAN_RULES)
            for price, lower, upper in (
                (D("0.10"), None, D("100")),
                (D("0.15"), D("100"), D("200")),
                (D("0.20"), D("200"), None),
            )
        ),
    ),
)
ENERGY_ONLY = Schedule(
    combination=ELECTRICITY.combination,
    switch_threshold=ELECTRICITY.switch_threshold,
    prices_include_tax=True,
    unit="kWh",
    tranches=ELECTRICITY.tranches,
)
WATER = Schedule(
    combination=engine.PROGRESSIVE,
    prices_include_tax=False,
    unit="m³",
    energy_label="Eau potable",
    tranches=(
        Tranche(D("0"), D("6"), D("2.37")),
        Tranche(D("6"), D("12"), D("7.39")),
        Tranche(D("12"), D("20"), D("7.39")),
        Tranche(D("20"), D("35"), D("10.98")),
        Tranche(D("35"), None, D("11.03")),
    ),
    charges=(Charge("Redevance fixe", engine.FIXED_MONTHLY, D("6.00")),),
)

VAT_RATES = st.sampled_from([D("0.14"), D("0.16"), D("0.18"), D("0.20")])
KWH = st.decimals(min_value=0, max_value=3000, places=3, allow_nan=False, allow_infinity=False)
DAYS = st.integers(min_value=1, max_value=120)


def energy_ttc(computation: engine.Computation) -> D:
    return sum((line.amount_ttc for line in computation.lines if line.kind == "TRANCHE"), D("0"))


def energy_ht(computation: engine.Computation) -> D:
    return sum((line.amount_ht for line in computation.lines if line.kind == "TRANCHE"), D("0"))


# --- worked examples ------------------------------------------------------------------------------


@pytest.mark.parametrize(("kwh", "expected"), [(120, "111.56"), (150, "143.76"), (151, "162.05")])
@pytest.mark.parametrize("vat", ["0.14", "0.16", "0.18", "0.20"])
def test_worked_examples_at_the_published_prices(kwh, expected, vat):
    result = engine.compute(ELECTRICITY, vat_rate=D(vat), consumption=D(kwh), days=30)
    assert energy_ttc(result) == D(expected)  # TTC prices: the same whatever the VAT rate


def test_worked_example_lines():
    result = engine.compute(ENERGY_ONLY, vat_rate=D("0.20"), consumption=D("120"), days=30)
    assert [(line.quantity, line.amount_ttc) for line in result.lines] == [
        (D("100"), D("90.10")),
        (D("20"), D("21.46")),
    ]
    assert result.total_ttc == D("111.56")
    assert result.total_ht == D("92.96")  # 75.08 + 17.88: HT = TTC / 1.20 per line, rounded


def test_banded_levy_tppan():
    """TPPAN (loi de finances 8-96): 0.10 DH/kWh to 100 kWh, 0.15 from 101 to 200, 0.20 above."""

    def tppan(kwh: int, days: int = 30) -> D:
        result = engine.compute(ELECTRICITY, vat_rate=D("0.20"), consumption=D(kwh), days=days)
        return sum((line.amount_ttc for line in result.lines if line.label.startswith("TPPAN")), D("0"))

    assert tppan(50) == D("0")  # <= 50 kWh a month: exempt
    assert tppan(51) == D("5.10")
    assert tppan(80) == D("8.00")
    assert tppan(150) == D("17.50")
    assert tppan(300) == D("45.00")
    assert tppan(600, days=60) == D("90.00")  # bands prorated like tranches
    assert tppan(575) == D("100.00")
    assert tppan(600) == D("100.00")  # 10 + 15 + 80 = 105, capped at 100 DH a month
    assert tppan(1200, days=60) == D("200.00")  # the cap is prorated too
    assert tppan(90, days=60) == D("0")  # 45 kWh a month: exempt
    capped = engine.compute(ELECTRICITY, vat_rate=D("0.2"), consumption=D(600), days=30)
    assert [(line.label, line.amount_ttc) for line in capped.lines if "plafond" in line.label] == [
        ("TPPAN — plafond de 100 DH par mois", D("-5.00"))
    ]
    levies = [line for line in engine.compute(ELECTRICITY, vat_rate=D("0.2"), consumption=D(80), days=30).lines]
    assert [line.label for line in levies if line.kind == "LEVY"] == ["TPPAN (0 à 100 kWh)"]
    assert all(line.amount_tva == 0 for line in levies if line.kind == "LEVY")


# --- properties -----------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(a=KWH, b=KWH, days=DAYS, vat=VAT_RATES)
def test_total_never_decreases_within_a_mode(a, b, days, vat):
    low, high = sorted((a, b))
    months = D(days) / 30
    threshold = ELECTRICITY.switch_threshold
    # same rule on both sides of the comparison: both progressive or both selective
    assume((high / months <= threshold) or (low / months > threshold))
    first = engine.compute(ELECTRICITY, vat_rate=vat, consumption=low, days=days)
    second = engine.compute(ELECTRICITY, vat_rate=vat, consumption=high, days=days)
    assert energy_ttc(first) <= energy_ttc(second)
    assert first.total_ttc <= second.total_ttc


@settings(max_examples=200, deadline=None)
@given(a=st.decimals(min_value=0, max_value=500, places=3), b=st.decimals(min_value=0, max_value=500, places=3))
def test_progressive_water_never_decreases(a, b):
    low, high = sorted((a, b))
    first = engine.compute(WATER, vat_rate=D("0.07"), consumption=low, days=30)
    second = engine.compute(WATER, vat_rate=D("0.07"), consumption=high, days=30)
    assert first.total_ttc <= second.total_ttc


@settings(max_examples=200, deadline=None)
@given(monthly=st.decimals(min_value=0, max_value=3000, places=2), days=DAYS, vat=VAT_RATES)
def test_switch_at_150_kwh_a_month(monthly, days, vat):
    consumption = (monthly * days / 30).quantize(D("0.001"))
    result = engine.compute(ELECTRICITY, vat_rate=vat, consumption=consumption, days=days)
    tranche_lines = [line for line in result.lines if line.kind == "TRANCHE"]
    if result.monthly_consumption <= 150 and consumption * 30 / days <= 150:
        # progressive: at most the two tranches 0-100 and 101-150, each at its own price
        assert len(tranche_lines) <= 2
        assert all(line.unit_price in (D("0.9010"), D("1.0732")) for line in tranche_lines)
        assert "a dépassé 150" not in result.notice
    else:
        # selective: the whole consumption at the price of the tranche reached, and the bill says so
        assert len(tranche_lines) == 1
        assert tranche_lines[0].quantity == consumption
        assert "a dépassé 150 kWh" in result.notice


def test_crossing_150_kwh_bills_everything_at_the_selective_price():
    at_150 = engine.compute(ELECTRICITY, vat_rate=D("0.20"), consumption=D("150"), days=30)
    at_151 = engine.compute(ELECTRICITY, vat_rate=D("0.20"), consumption=D("151"), days=30)
    assert energy_ttc(at_151) - energy_ttc(at_150) == D("18.29")  # 1 kWh more costs 18.29 DH
    assert at_150.notice.startswith("Vous avez dépassé la tranche 0 à 100 kWh")
    assert "toute votre consommation est facturée au prix de la tranche atteinte (151 à 210 kWh)" in at_151.notice
    # the same 151 kWh read after 31 days is 146 kWh a month: progressive, no switch
    late = engine.compute(ELECTRICITY, vat_rate=D("0.20"), consumption=D("151"), days=31)
    assert late.monthly_consumption < 150
    assert len([line for line in late.lines if line.kind == "TRANCHE"]) == 2


@settings(max_examples=300, deadline=None)
@given(consumption=KWH, factor=st.sampled_from([2, 3, 4]), vat=VAT_RATES)
def test_proration_scales_the_bounds(consumption, factor, vat):
    """``factor × c`` over ``factor × 30`` days bills the energy as ``factor ×`` (c over 30 days),
    within a centime per line."""
    one = engine.compute(ELECTRICITY, vat_rate=vat, consumption=consumption, days=30)
    many = engine.compute(ELECTRICITY, vat_rate=vat, consumption=consumption * factor, days=30 * factor)
    assert many.monthly_consumption == one.monthly_consumption
    assert many.tranche_reached == one.tranche_reached
    lines = len([line for line in many.lines if line.kind == "TRANCHE"])
    assert abs(energy_ttc(many) - factor * energy_ttc(one)) <= CENT * lines * factor
    fixed_one = [line.amount_ttc for line in one.lines if line.kind == "FIXED"]
    fixed_many = [line.amount_ttc for line in many.lines if line.kind == "FIXED"]
    assert fixed_many == [amount * factor for amount in fixed_one]


@settings(max_examples=300, deadline=None)
@given(
    consumption=KWH,
    days=DAYS,
    vat=VAT_RATES,
    schedule=st.sampled_from([ELECTRICITY, WATER]),
)
def test_rounding_lines_in_centimes_and_totals_are_sums(consumption, days, vat, schedule):
    result = engine.compute(schedule, vat_rate=vat, consumption=consumption, days=days)
    for line in result.lines:
        for amount in (line.amount_ht, line.amount_tva, line.amount_ttc):
            assert amount.as_tuple().exponent == -2, (line, amount)
            assert amount >= 0 or "plafond" in line.label  # a cap is a deduction
        assert line.amount_ht + line.amount_tva == line.amount_ttc
    assert result.total_ht == sum(line.amount_ht for line in result.lines)
    assert result.total_tva == sum(line.amount_tva for line in result.lines)
    assert result.total_ttc == sum(line.amount_ttc for line in result.lines)
    assert result.total_ht + result.total_tva == result.total_ttc


@settings(max_examples=200, deadline=None)
@given(consumption=KWH, days=DAYS, vat=VAT_RATES)
def test_ttc_prices_give_the_published_ttc_whatever_the_vat(consumption, days, vat):
    """TTC-priced lines: the customer pays quantity × published price, rounded; only the split
    between HT and TVA moves with the rate."""
    result = engine.compute(ELECTRICITY, vat_rate=vat, consumption=consumption, days=days)
    reference = engine.compute(ELECTRICITY, vat_rate=D("0.14"), consumption=consumption, days=days)
    assert energy_ttc(result) == energy_ttc(reference)
    for line in result.lines:
        assert line.amount_ttc == engine.money(line.quantity * line.unit_price)
    if vat > D("0.14") and energy_ttc(result) > 1:
        assert energy_ht(result) < energy_ht(reference)


@settings(max_examples=100, deadline=None)
@given(
    consumption=st.decimals(min_value=0, max_value=500, places=3), vat=st.sampled_from([D("0"), D("0.07"), D("0.10")])
)
def test_ht_prices_add_vat_on_top(consumption, vat):
    result = engine.compute(WATER, vat_rate=vat, consumption=consumption, days=30)
    for line in result.lines:
        assert line.amount_tva == engine.money(line.amount_ht * vat)


def test_water_notice_names_the_cheaper_tranche_left():
    """7-12 and 13-20 m³ share a price: at 15 m³ the bill names the social tranche left behind."""
    result = engine.compute(WATER, vat_rate=D("0"), consumption=D("15"), days=30)
    assert result.notice.startswith("Vous avez dépassé la tranche 0 à 6 m³")
    assert engine.compute(WATER, vat_rate=D("0"), consumption=D("6"), days=30).notice == ""


@pytest.mark.parametrize(("consumption", "days"), [(D("-1"), 30), (D("10"), 0), (D("10"), -5)])
def test_impossible_input_is_refused(consumption, days):
    with pytest.raises(engine.EngineError):
        engine.compute(ELECTRICITY, vat_rate=D("0.2"), consumption=consumption, days=days)
