"""rak_base.money: one rounding rule (half-up to the centime) and amounts in French words."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from num2words import num2words

from rak_base.money import CENTIME, amount_in_words, round_money

amounts = st.decimals(min_value=Decimal("0"), max_value=Decimal("99999999.999"), places=3, allow_nan=False)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0.005", "0.01"),
        ("0.015", "0.02"),
        ("2.675", "2.68"),  # a float would give 2.67: amounts are Decimal or str, never float
        ("1.994", "1.99"),
        ("1.995", "2.00"),
        ("-2.345", "-2.35"),  # half away from zero, like the receipts
        (10, "10.00"),
        ("123.4", "123.40"),
    ],
)
def test_round_half_up_to_the_centime(raw, expected):
    result = round_money(raw)
    assert result == Decimal(expected)
    assert str(result) == expected


@given(amounts)
def test_rounding_is_to_the_nearest_centime_and_idempotent(value):
    rounded = round_money(value)
    assert rounded.as_tuple().exponent == -2
    assert abs(rounded - value) <= Decimal("0.005")
    assert round_money(rounded) == rounded


@given(st.integers(min_value=0, max_value=10**9))
def test_exact_half_centime_always_goes_up(cents):
    value = Decimal(cents) * CENTIME + Decimal("0.005")
    assert round_money(value) == Decimal(cents + 1) * CENTIME


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("123.45", "cent vingt-trois dirhams et quarante-cinq centimes"),
        ("1", "un dirham"),
        ("1.01", "un dirham et un centime"),
        ("2.50", "deux dirhams et cinquante centimes"),
        ("80", "quatre-vingts dirhams"),
        ("71.80", "soixante et onze dirhams et quatre-vingts centimes"),
        ("0", "zéro dirham"),
        ("1.995", "deux dirhams"),  # words are written for the rounded amount
    ],
)
def test_amount_in_words(value, words):
    assert amount_in_words(Decimal(value)) == words


def test_amount_in_words_million_takes_de():
    assert amount_in_words(Decimal("1000000")) == "un million de dirhams"
    assert amount_in_words(Decimal("2000000.50")) == "deux millions de dirhams et cinquante centimes"
    assert amount_in_words(Decimal("1200000")) == "un million deux cent mille dirhams"


@given(st.integers(min_value=2, max_value=999_999), st.integers(min_value=0, max_value=99))
def test_words_name_dirhams_then_centimes(dirhams, centimes):
    words = amount_in_words(Decimal(dirhams) + Decimal(centimes) * CENTIME)
    assert words.startswith(f"{num2words(dirhams, lang='fr')} dirhams")
    if centimes:
        assert words.endswith(f" et {num2words(centimes, lang='fr')} centime{'s' if centimes > 1 else ''}")
    else:
        assert "centime" not in words


def test_money_refuses_floats_and_words_handle_negatives():
    with pytest.raises(TypeError):
        round_money(2.675)
    assert amount_in_words(Decimal("-2.35")) == "moins deux dirhams et trente-cinq centimes"
