"""Pure parts of bills and documents: bill numbers, reference codes, masked names, the PDF's
consumption chart, the « facture disponible » texts."""

from __future__ import annotations

import datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from rak_base.documents import (
    ALPHABET,
    REFERENCE_LENGTH,
    mask_name,
    reference_display,
    reference_is_well_formed,
    reference_normalize,
)
from rak_billing.billing import _copy_text, month_after, month_start
from rak_billing.ledger import bill_number, bill_sequence_name
from rak_billing.notifications import bill_available_texts
from rak_billing.pdf import ChartBar, consumption_chart_svg


def test_bill_number_has_the_year_and_eight_digits():
    assert bill_number(2026, 1) == "F2026-00000001"
    assert bill_number(2026, 12_345_678) == "F2026-12345678"
    assert bill_sequence_name(2026) == "bill-2026"
    assert len(bill_number(2026, 99_999_999)) <= 20  # fits Bill.number


@given(st.integers(min_value=1, max_value=99_999_998))
def test_bill_numbers_sort_in_issue_order(value):
    assert bill_number(2026, value) < bill_number(2026, value + 1)


@given(st.text(alphabet=ALPHABET, min_size=REFERENCE_LENGTH, max_size=REFERENCE_LENGTH))
def test_a_reference_survives_display_and_careless_typing(reference):
    shown = reference_display(reference)
    assert shown.count("-") == 2
    assert reference_normalize(shown.lower()) == reference
    assert reference_normalize(" " + shown.replace("-", " ") + " ") == reference
    assert reference_is_well_formed(reference)


def test_ambiguous_letters_are_read_as_digits_and_bad_codes_refused():
    assert reference_normalize("oil-OIL") == "011011"
    assert not reference_is_well_formed("ABCU12345678")  # U is not in the alphabet
    assert not reference_is_well_formed("ABC")


def test_masked_names_keep_initials_only():
    assert mask_name("Fatima Zahra El Idrissi") == "Fa**** Za*** E* Id*****"
    assert mask_name("Pharmacie Sebou SARL") == "Ph******* Se*** SA**"
    assert "Idrissi" not in mask_name("Idrissi")


def test_months():
    assert month_start(datetime.date(2026, 2, 17)) == datetime.date(2026, 2, 1)
    assert month_after(datetime.date(2026, 12, 1)) == datetime.date(2027, 1, 1)
    assert month_after(datetime.date(2026, 1, 31)) == datetime.date(2026, 2, 1)


def test_copy_text_escapes_what_copy_would_misread():
    assert _copy_text(None) == "\\N"
    assert _copy_text(True) == "t"
    assert _copy_text("a\tb\\c\nd") == "a\\tb\\\\c\\nd"
    assert _copy_text(Decimal("1.50")) == "1.50"


def test_chart_draws_one_bar_per_month_highest_full_height():
    bars = [ChartBar(f"m{i} 26", Decimal(value)) for i, value in enumerate((10, 20, 40))]
    svg = consumption_chart_svg(bars, unit="m³", width=300, height=124)
    heights = [float(part.split('height="')[1].split('"')[0]) for part in svg.split("<rect ")[2:]]
    assert len(heights) == 3 and heights[2] == max(heights) and abs(heights[0] * 4 - heights[2]) < 0.5
    assert consumption_chart_svg([ChartBar("a 26", Decimal(0))], unit="kWh").count('height="0.0"') == 1


def test_bill_available_texts_in_french_singular_and_plural():
    sms, subject, body = bill_available_texts(
        month="mars 2026", count=1, total=Decimal("1234.5"), due="18/04/2026", estimated=False
    )
    assert sms.startswith("RAK : Votre facture de mars 2026 est disponible : 1 234,50 DH à régler avant le 18/04/2026")
    assert len(sms) <= 160
    sms, subject, body = bill_available_texts(
        month="mars 2026", count=3, total=Decimal("10"), due="18/04/2026", estimated=True
    )
    assert "Vos 3 factures de mars 2026 (consommation estimée) sont disponibles" in sms
    assert subject == "Vos 3 factures RAK de mars 2026 sont disponibles"
