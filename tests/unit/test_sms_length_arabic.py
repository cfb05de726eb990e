"""Arabic SMS are counted as operators bill them (issue 12): one Arabic letter makes the whole text
UCS-2 — 70 characters in one SMS, 67 per part once split — whatever else it holds (« DH », digits,
Latin codes, the GSM-7 extension characters that would count twice in GSM-7)."""

from __future__ import annotations

import pytest

from rak_base.sms_length import sms_length

# a real sentence (15 letters and spaces) repeated to the length wanted
ARABIC = "فاتورتك متوفرة "


def arabic(length: int) -> str:
    text = (ARABIC * (length // len(ARABIC) + 1))[:length]
    assert len(text) == length
    return text


@pytest.mark.parametrize(
    ("length", "segments"),
    [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)],
)
def test_arabic_segments_at_the_limits(length, segments):
    result = sms_length(arabic(length))
    assert result.encoding == "UCS-2"
    assert result.units == length
    assert result.segments == segments


def test_per_segment_room_for_arabic():
    assert sms_length(arabic(70)).per_segment == 70
    assert sms_length(arabic(71)).per_segment == 67


def test_a_real_arabic_bill_sms_with_dirhams_and_a_latin_code():
    text = "RAK: فاتورتك F2026-00012345 بمبلغ 1 070,50 درهم متوفرة. تاريخ الاستحقاق 14/04/2026."
    result = sms_length(text)
    assert result.encoding == "UCS-2" and result.units == len(text) and result.segments == 2
    assert "ف" in result.non_gsm  # the back office can show which characters made it UCS-2


def test_mixed_arabic_and_french_dh_is_ucs2_counted_per_code_unit():
    text = "المبلغ: 250,00 DH"
    result = sms_length(text)
    assert result.encoding == "UCS-2" and result.units == 17 and result.segments == 1
    # the same amount in French stays GSM-7 (160 a part)
    assert sms_length("Montant : 250,00 DH").encoding == "GSM-7"


def test_gsm_extension_characters_count_once_in_an_arabic_text():
    # « € » and « [ ] » take two places in GSM-7, one UTF-16 unit in UCS-2
    text = arabic(66) + "€[]"
    result = sms_length(text)
    assert result.encoding == "UCS-2" and result.units == 69 and result.segments == 1


def test_arabic_diacritics_and_emoji_are_code_units():
    assert sms_length("شُكْرًا").units == 7  # the harakat are characters of their own
    assert sms_length(arabic(69) + "😀").units == 71  # outside the BMP: two units -> two SMS
    assert sms_length(arabic(69) + "😀").segments == 2


def test_an_arabic_sms_costs_more_than_the_same_notice_in_french():
    french = "RAK : votre facture F2026-00012345 de 1 070,50 DH est disponible. Echeance le 14/04/2026."
    arabic_notice = "RAK: فاتورتك F2026-00012345 بمبلغ 1 070,50 درهم متوفرة. تاريخ الاستحقاق 14/04/2026."
    assert sms_length(french).segments == 1 and sms_length(arabic_notice).segments == 2
