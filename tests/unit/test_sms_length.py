"""SMS length as an operator bills it (rak_base.sms_length): GSM-7 160 / 153 per part, UCS-2 70 / 67
as soon as one character is outside the GSM alphabet (French ê, ç, « »...)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rak_base.sms_length import GSM7_BASIC, sms_length


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", "GSM-7", 0, 0),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("é è ù à É Ç", "GSM-7", 11, 1),  # the accents GSM-7 has
        ("€" * 80, "GSM-7", 160, 1),  # extension table: two places each
        ("€" * 81, "GSM-7", 162, 2),
        ("ê" + "a" * 69, "UCS-2", 70, 1),
        ("ç" + "a" * 70, "UCS-2", 71, 2),
        ("«" + "a" * 133, "UCS-2", 134, 2),
        ("«" + "a" * 134, "UCS-2", 135, 3),
        ("😀", "UCS-2", 2, 1),  # outside the BMP: a surrogate pair
    ],
)
def test_length_and_parts(text, encoding, units, segments):
    length = sms_length(text)
    assert (length.encoding, length.units, length.segments) == (encoding, units, segments)


def test_the_characters_that_force_ucs2_are_named_once_in_order():
    assert sms_length("Réclamation reçue « n° 12 » : ça marche").non_gsm == ("ç", "«", "°", "»")


def test_room_per_part():
    assert sms_length("a" * 10).per_segment == 160
    assert sms_length("a" * 200).per_segment == 153
    assert sms_length("ê" * 10).per_segment == 70
    assert sms_length("ê" * 100).per_segment == 67


@given(st.text(alphabet=sorted(GSM7_BASIC), max_size=800))
def test_gsm_text_parts_hold_the_text(text):
    length = sms_length(text)
    assert length.encoding == "GSM-7" and length.units == len(text)
    assert length.segments * length.per_segment >= length.units
    assert length.segments == 0 or (length.segments - 1) * 153 < length.units
