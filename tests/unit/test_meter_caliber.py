"""rak_customer.validators.meter_caliber_normalize: the caliber of a meter as a technician types
it, checked against the sizes the utility installs, stored in one form the database checks too."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rak_customer.validators import (
    ELECTRICITY_AMPERES,
    ELECTRICITY_CALIBER_REGEX,
    WATER_CALIBER_REGEX,
    WATER_CALIBERS_MM,
    InvalidCaliber,
    meter_caliber_normalize,
)


@pytest.mark.parametrize(
    ("raw", "stored"),
    [("15", "15 mm"), ("15mm", "15 mm"), (" 20 MM ", "20 mm"), ("DN 40", "40 mm"), ("100 mm", "100 mm")],
)
def test_water_diameters(raw, stored):
    assert meter_caliber_normalize(service="EAU", raw=raw) == stored


@pytest.mark.parametrize("raw", ["", "17 mm", "0", "150 mm", "15 A", "quinze", "6 kVA"])
def test_water_caliber_refused_in_french(raw):
    with pytest.raises(InvalidCaliber) as error:
        meter_caliber_normalize(service="EAU", raw=raw)
    assert "Calibre d'un compteur d'eau invalide" in error.value.message
    assert "15, 20, 25, 30, 40, 50, 65, 80, 100 mm" in error.value.message


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("10 A", "10 A"),
        ("30a", "30 A"),
        ("10 A mono", "10 A monophasé"),
        ("15 A triphasé", "15 A triphasé"),
        ("60 ampères tri", "60 A triphasé"),
        ("6 kVA", "6 kVA"),
        ("4,5 kva", "4,5 kVA"),
        ("12.0 KVA", "12 kVA"),
    ],
)
def test_electricity_amperage_phases_or_power(raw, stored):
    assert meter_caliber_normalize(service="ELECTRICITE", raw=raw) == stored


@pytest.mark.parametrize("raw", ["", "7 A", "10 A quadri", "0 kVA", "300 kVA", "15 mm", "beaucoup"])
def test_electricity_caliber_refused_in_french(raw):
    with pytest.raises(InvalidCaliber) as error:
        meter_caliber_normalize(service="ELECTRICITE", raw=raw)
    assert "Calibre d'un compteur électrique invalide" in error.value.message


def test_sanitation_has_no_meter():
    with pytest.raises(InvalidCaliber):
        meter_caliber_normalize(service="ASSAINISSEMENT", raw="15 mm")


@given(st.sampled_from(WATER_CALIBERS_MM), st.sampled_from(["", " ", "mm", " mm", " MM"]))
def test_every_stored_water_caliber_passes_the_database_check(size, suffix):
    stored = meter_caliber_normalize(service="EAU", raw=f"{size}{suffix}")
    assert re.fullmatch(WATER_CALIBER_REGEX, stored)
    assert meter_caliber_normalize(service="EAU", raw=stored) == stored  # idempotent


@given(
    st.one_of(
        st.tuples(st.sampled_from(ELECTRICITY_AMPERES), st.sampled_from(["", " mono", " tri", " monophasé"])).map(
            lambda t: f"{t[0]} A{t[1]}"
        ),
        st.decimals(min_value="0.1", max_value="250", places=1).map(lambda d: f"{d} kVA"),
    )
)
def test_every_stored_electricity_caliber_passes_the_database_check(raw):
    stored = meter_caliber_normalize(service="ELECTRICITE", raw=raw)
    assert re.fullmatch(ELECTRICITY_CALIBER_REGEX, stored)
    assert meter_caliber_normalize(service="ELECTRICITE", raw=stored) == stored
