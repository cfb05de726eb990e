"""rak_base.phones: numbers as people type them, stored as E.164."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rak_base.phones import InvalidPhone, NotAMobile, phone_display, phone_last_digits, phone_normalize


@pytest.mark.parametrize(
    "raw",
    [
        "0612345678",
        "06 12 34 56 78",
        "06-12-34-56-78",
        "+212612345678",
        "+212 6 12 34 56 78",
        "00212612345678",
        " 0612345678 ",
        "+212 0612345678",
    ],
)
def test_mobile_forms_give_e164(raw):
    assert phone_normalize(raw, mobile=True) == "+212612345678"


def test_07_mobiles_are_mobiles():
    assert phone_normalize("0712345678", mobile=True) == "+212712345678"


def test_landline_is_accepted_when_any_number_will_do():
    assert phone_normalize("0537123456") == "+212537123456"


@pytest.mark.parametrize("raw", ["0537123456", "+212537123456", "0522000000"])
def test_landline_is_refused_where_a_mobile_is_needed(raw):
    with pytest.raises(NotAMobile, match="mobile est nécessaire pour recevoir les SMS"):
        phone_normalize(raw, mobile=True)


@pytest.mark.parametrize("raw", ["abc", "0612", "0612345678901", "06123456789", "12"])
def test_garbage_is_refused(raw):
    with pytest.raises(InvalidPhone, match="Numéro de téléphone invalide"):
        phone_normalize(raw, mobile=True)


@pytest.mark.parametrize("raw", ["", "   ", None])
def test_empty_asks_for_a_number(raw):
    with pytest.raises(InvalidPhone, match="Veuillez saisir un numéro"):
        phone_normalize(raw)


def test_not_a_mobile_is_not_an_invalid_phone():
    # The portal shows a different message for each: the number exists but cannot receive SMS.
    with pytest.raises(NotAMobile) as excinfo:
        phone_normalize("0537123456", mobile=True)
    assert not isinstance(excinfo.value, InvalidPhone)


def test_display_and_last_digits():
    assert phone_display("+212612345678").replace(" ", "").replace("-", "") == "0612345678"
    assert phone_last_digits("+212612345678") == "78"
    assert phone_last_digits("+212612345678", 4) == "5678"


mobile_subscribers = st.tuples(st.sampled_from("67"), st.integers(min_value=10_000_000, max_value=99_999_999))


@given(mobile_subscribers, st.sampled_from(["0{}", "+212{}", "00212{}", "+212 {}"]))
def test_every_typed_form_of_a_mobile_normalises_to_the_same_e164(subscriber, form):
    prefix, rest = subscriber
    national = f"{prefix}{rest}"
    try:
        expected = phone_normalize(f"0{national}")
    except InvalidPhone:
        return  # a range the numbering plan does not allocate
    assert expected == f"+212{national}"
    assert phone_normalize(form.format(national)) == expected
    # Idempotent: the stored form goes through again unchanged.
    assert phone_normalize(expected) == expected
