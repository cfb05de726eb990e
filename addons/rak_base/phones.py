"""Moroccan phone numbers through the phonenumbers library: parse, validate, store E.164."""

from __future__ import annotations

import phonenumbers
from django.utils.translation import gettext, gettext_lazy
from phonenumbers import PhoneNumberType

from rak_base.errors import RakError


class InvalidPhone(RakError):
    default_message = gettext_lazy("Numéro de téléphone invalide.")


class NotAMobile(RakError):
    default_message = gettext_lazy(
        "Ce numéro n'est pas un numéro de mobile : un mobile est nécessaire pour recevoir les SMS."
    )


def phone_normalize(raw: str, *, mobile: bool = False) -> str:
    """Return the E.164 form (``+212612345678``) of a number typed as 06..., +212..., 00212...

    Raises InvalidPhone or, when ``mobile`` is required, NotAMobile.
    """
    text = (raw or "").strip()
    if not text:
        raise InvalidPhone(gettext("Veuillez saisir un numéro de téléphone."))
    try:
        number = phonenumbers.parse(text, "MA")
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone() from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone()
    if mobile and phonenumbers.number_type(number) not in (
        PhoneNumberType.MOBILE,
        PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise NotAMobile()
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_is_mobile(e164: str) -> bool:
    """Whether the number can receive SMS (a mobile; a fixed line cannot)."""
    try:
        number = phonenumbers.parse(e164 or "", "MA")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(number) in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)


def phone_display(e164: str) -> str:
    """National display form: ``06 12 34 56 78`` style as phonenumbers formats it."""
    try:
        number = phonenumbers.parse(e164, "MA")
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def phone_last_digits(e164: str, count: int = 2) -> str:
    digits = "".join(ch for ch in e164 if ch.isdigit())
    return digits[-count:]
