"""rak_customer.validators: CIN and ICE as a customer types them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rak_customer.validators import InvalidIdentity, cin_normalize, ice_normalize, identity_normalize

ice_bodies = st.integers(min_value=0, max_value=10**13 - 1).map(lambda n: f"{n:013d}")


def ice_check_digits(body: str) -> str:
    """The two digits that make the 15-digit ICE a multiple of 97 (the rule stdnum.ma.ice checks;
    python-stdnum has no calc_check_digits for the ICE, and ISO 7064's mod 97-10 aims at 1, not 0)."""
    return f"{-int(body) * 100 % 97:02d}"


def valid_ice(body: str) -> str:
    return body + ice_check_digits(body)


# --- CIN ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("AB123456", "AB123456"),
        ("ab123456", "AB123456"),
        (" g 12345 ", "G12345"),
        ("BK-123.456", "BK123456"),
        ("A/0012345", "A0012345"),  # leading zeros are kept as typed
    ],
)
def test_cin_is_normalised(raw, expected):
    assert cin_normalize(raw) == expected


@pytest.mark.parametrize("raw", ["123456", "ABC12345", "AB", "A123456789", "AB12C45", "É12345"])
def test_malformed_cin_is_refused_with_an_example(raw):
    with pytest.raises(InvalidIdentity, match=r"ex\. AB123456"):
        cin_normalize(raw)


@pytest.mark.parametrize("raw", ["", "   ", None])
def test_empty_cin_asks_for_it(raw):
    with pytest.raises(InvalidIdentity, match="Veuillez saisir votre numéro de CIN"):
        cin_normalize(raw)


@given(
    letters=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", min_size=1, max_size=2),
    digits=st.text(alphabet="0123456789", min_size=1, max_size=8),
    separator=st.sampled_from(["", " ", "-", ".", "/"]),
)
def test_cin_normalisation_is_idempotent(letters, digits, separator):
    once = cin_normalize(f"{letters}{separator}{digits}")
    assert once == (letters + digits).upper()
    assert cin_normalize(once) == once


# --- ICE ----------------------------------------------------------------------------------------


def test_published_ice_example_and_generated_one():
    assert ice_normalize("00 21 36 09 30 00 040") == "002136093000040"
    assert valid_ice("0015611910000") == "001561191000066"
    ice = valid_ice("0015372810000")
    assert ice_normalize(ice) == ice
    assert ice_normalize(f"{ice[:3]} {ice[3:9]}-{ice[9:]}") == ice


def test_ice_with_wrong_check_digits_is_refused():
    ice = valid_ice("0015372810000")
    wrong = ice[:13] + f"{(int(ice[13:]) + 1) % 97:02d}"
    with pytest.raises(InvalidIdentity, match="clé de contrôle"):
        ice_normalize(wrong)


@pytest.mark.parametrize("raw", ["12345678901234", "1234567890123456", "1"])
def test_ice_of_wrong_length_is_refused(raw):
    with pytest.raises(InvalidIdentity, match="15 chiffres"):
        ice_normalize(raw)


def test_ice_with_letters_is_refused():
    with pytest.raises(InvalidIdentity, match="que des chiffres"):
        ice_normalize("00153728100A0XY")


def test_empty_ice_asks_for_it():
    with pytest.raises(InvalidIdentity, match="Veuillez saisir votre numéro ICE"):
        ice_normalize("  ")


@given(ice_bodies)
def test_any_generated_ice_validates(body):
    ice = valid_ice(body)
    assert ice_normalize(ice) == ice
    assert ice_normalize(ice_normalize(ice)) == ice


@given(ice_bodies, st.integers(min_value=1, max_value=96))
def test_any_other_check_digits_are_refused(body, shift):
    good = int(ice_check_digits(body))
    bad = f"{(good + shift) % 97:02d}"
    with pytest.raises(InvalidIdentity):
        ice_normalize(body + bad)


@given(ice_bodies, st.integers(min_value=0, max_value=12), st.integers(min_value=1, max_value=9))
def test_a_single_mistyped_digit_is_caught(body, position, delta):
    ice = valid_ice(body)
    digit = (int(ice[position]) + delta) % 10
    with pytest.raises(InvalidIdentity, match="clé de contrôle"):
        ice_normalize(ice[:position] + str(digit) + ice[position + 1 :])


# --- one field for both -------------------------------------------------------------------------


def test_identity_field_tells_ice_from_cin():
    ice = valid_ice("0000000001000")
    assert identity_normalize(ice) == ("ICE", ice)
    assert identity_normalize(" ab-123456 ") == ("CIN", "AB123456")


def test_identity_field_refuses_empty_and_bad_ice():
    with pytest.raises(InvalidIdentity, match="CIN ou votre ICE"):
        identity_normalize("")
    with pytest.raises(InvalidIdentity, match="15 chiffres"):
        identity_normalize("123456")
