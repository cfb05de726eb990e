"""Amounts in the three languages (issue 12): French unchanged, Arabic and English through Django's
formats and the catalogue's unit, amounts in words as each language writes them."""

from decimal import Decimal

import pytest
from django.utils import translation

from rak_base.money import amount_in_words, fr_number, money_format


def test_french_format_unchanged_whatever_the_active_language_says_when_given():
    assert money_format(Decimal("1070")) == "1\u202f070,00\u00a0DH"
    assert money_format(Decimal("1070"), language="fr") == "1\u202f070,00\u00a0DH"
    with translation.override("ar"):
        assert money_format(Decimal("1070"), language="fr") == "1\u202f070,00\u00a0DH"
    with translation.override("fr"):
        assert money_format("1234567.5", plain_space=True) == "1 234 567,50 DH"
    assert fr_number(Decimal("1070.5"), 2) == "1\u202f070,50"


def test_english_separators_and_unit():
    with translation.override("en"):
        text = money_format(Decimal("1070.5"))
        assert text.startswith("1,070.50\u00a0")
        assert money_format("1234567.5", plain_space=True).startswith("1,234,567.50 ")
        assert money_format(Decimal("5"), currency="") == "5.00"


def test_arabic_separators():
    with translation.override("ar"):
        text = money_format(Decimal("1070.5"))
        assert text.startswith("1070,50\u00a0")
        assert money_format(Decimal("5"), currency="MAD") == "5,00\u00a0MAD"


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("1070.50", "mille soixante-dix dirhams et cinquante centimes"),
        ("1", "un dirham"),
        ("2000000", "deux millions de dirhams"),
        ("0.01", "zéro dirham et un centime"),
        ("-5", "moins cinq dirhams"),
    ],
)
def test_words_french_unchanged(value, words):
    assert amount_in_words(Decimal(value)) == words
    assert amount_in_words(Decimal(value), "fr") == words
    with translation.override("ar"):
        assert amount_in_words(Decimal(value), language="fr") == words


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("1070.50", "one thousand and seventy dirhams and fifty centimes"),
        ("1.01", "one dirham and one centime"),
        ("2", "two dirhams"),
        ("-3", "minus three dirhams"),
    ],
)
def test_words_english(value, words):
    assert amount_in_words(Decimal(value), "en") == words
    with translation.override("en"):
        assert amount_in_words(Decimal(value)) == words


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("1", "درهم واحد"),
        ("2", "درهمان"),
        ("3", "ثلاثة دراهم"),
        ("10", "عشرة دراهم"),
        ("11", "أحد عشر درهما"),
        ("99", "تسعة وتسعون درهما"),
        ("100", "مائة درهم"),
        ("1070.50", "ألف وسبعون درهما وخمسون سنتيما"),
        ("5.01", "خمسة دراهم وسنتيم واحد"),
        ("5.02", "خمسة دراهم وسنتيمان"),
        ("5.07", "خمسة دراهم وسبعة سنتيمات"),
        ("0.25", "صفر درهم وخمسة وعشرون سنتيما"),
    ],
)
def test_words_arabic_counted_noun(value, words):
    assert amount_in_words(Decimal(value), "ar") == words
    with translation.override("ar"):
        assert amount_in_words(Decimal(value)) == words


def test_unknown_language_falls_back_to_french():
    assert amount_in_words(Decimal("2"), "de") == "deux dirhams"
