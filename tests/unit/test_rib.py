"""rak_base.rib: a Moroccan RIB as a customer types it."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from rak_base.rib import BANKS, InvalidRib, RibUnknownBank, RibWrongKey, RibWrongLength, rib_key, rib_validate

known_codes = st.sampled_from(sorted(BANKS))
tails = st.integers(min_value=0, max_value=10**19 - 1).map(lambda n: f"{n:019d}")


def with_key(first_22: str) -> str:
    return first_22 + f"{97 - (int(first_22) * 100) % 97:02d}"


@given(code=known_codes, tail=tails)
def test_any_22_digits_with_their_computed_key_is_valid(code: str, tail: str) -> None:
    number = with_key(code + tail)
    rib = rib_validate(number)
    assert rib.number == number
    assert rib.bank_code == code
    assert rib.bank_name == BANKS[code]
    assert rib.city_code == number[3:6]
    assert rib.account == number[6:22]
    assert rib.key == number[22:]
    # the whole RIB is a multiple of 97
    assert int(number) % 97 == 0


@given(code=known_codes, tail=tails, key=st.integers(min_value=0, max_value=99))
def test_any_other_key_is_refused(code: str, tail: str, key: int) -> None:
    first_22 = code + tail
    assume(f"{key:02d}" != rib_key(first_22))
    with pytest.raises(RibWrongKey) as refused:
        rib_validate(first_22 + f"{key:02d}")
    assert "clé RIB" in str(refused.value)


@given(code=known_codes, tail=tails)
def test_spaces_as_printed_on_a_rib_are_accepted(code: str, tail: str) -> None:
    number = with_key(code + tail)
    printed = f"{number[:3]} {number[3:6]} {number[6:22]} {number[22:]}"
    assert rib_validate(printed).number == number
    assert rib_validate(printed).formatted() == printed


@pytest.mark.parametrize("raw", ["", "   ", None])
def test_empty_asks_for_the_rib(raw: str | None) -> None:
    with pytest.raises(InvalidRib, match="Veuillez saisir votre N° de RIB"):
        rib_validate(raw)


@given(digits=st.text(alphabet="0123456789", min_size=1, max_size=40).filter(lambda s: len(s) != 24))
def test_anything_but_24_digits_is_refused_with_the_seed_rule(digits: str) -> None:
    with pytest.raises(RibWrongLength, match="Le RIB doit contenir 24 chiffres"):
        rib_validate(digits)


@pytest.mark.parametrize(
    "raw", ["00778000000000000000001A", "007-780-0000000000000000-12", "٠٠٧٧٨٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠١٢"]
)
def test_letters_dashes_and_non_latin_digits_are_refused(raw: str) -> None:
    with pytest.raises(RibWrongLength):
        rib_validate(raw)


def test_unknown_bank_code_is_refused() -> None:
    assert "999" not in BANKS
    with pytest.raises(RibUnknownBank, match="Banque inconnue"):
        rib_validate(with_key("999780" + "1" * 16))


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("007", "Attijariwafa bank"),
        ("011", "BMCE Bank of Africa"),
        ("013", "BMCI"),
        ("021", "Crédit du Maroc"),
        ("022", "Société Générale Maroc"),
        ("181", "Banque Populaire"),
        ("190", "Banque Populaire"),
        ("225", "Crédit Agricole du Maroc"),
        ("230", "CIH Bank"),
        ("350", "Al Barid Bank"),
    ],
)
def test_bank_read_from_the_code(code: str, name: str) -> None:
    assert rib_validate(with_key(code + "780" + "0" * 15 + "1")).bank_name == name


def test_messages_are_plain_strings() -> None:
    with pytest.raises(InvalidRib) as refused:
        rib_validate("123")
    assert isinstance(refused.value.message, str)
    assert str(refused.value) == "Le RIB doit contenir 24 chiffres."
