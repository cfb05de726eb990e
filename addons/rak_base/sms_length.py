"""How many SMS a text costs: GSM-7 (160 characters, 153 per part when split) unless one character is
outside the GSM 03.38 alphabet, then UCS-2 (70, 67 per part). Pure functions, no database.

French accents matter here: é è ù à É Ç are GSM-7, but ê â î ô û ë ï ç (lower case) and the
guillemets « » are not — one of them turns the whole SMS into UCS-2 and halves its length. The
back office shows which characters did it (``non_gsm``). The extension table (``^ { } [ ] ~ | € \\``)
is GSM-7 but each of its characters takes two places. ``gsm_transliterate`` writes a value (a
district, a reason) with plain letters where they do, so that it keeps the SMS in GSM-7.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

GSM7_BASIC = frozenset(  # i18n: not for customers (the GSM 03.38 alphabet)
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


@dataclass(frozen=True)
class SmsLength:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7, extension characters count 2) or UTF-16 code units (UCS-2)
    segments: int  # SMS billed by the operator (0 for an empty text)
    non_gsm: tuple[str, ...]  # the characters that forced UCS-2, in order of appearance, once each

    @property
    def per_segment(self) -> int:
        """Room in each part at this length (one SMS: 160 / 70; split: 153 / 67)."""
        if self.encoding == "GSM-7":
            return GSM7_SINGLE if self.segments <= 1 else GSM7_PART
        return UCS2_SINGLE if self.segments <= 1 else UCS2_PART


def _segments(units: int, single: int, part: int) -> int:
    if units == 0:
        return 0
    if units <= single:
        return 1
    return -(-units // part)


def sms_length(text: str) -> SmsLength:
    """Encoding, length and number of SMS of ``text`` as an operator counts them."""
    non_gsm: list[str] = []
    septets = 0
    for char in text:
        if char in GSM7_BASIC:
            septets += 1
        elif char in GSM7_EXTENSION:
            septets += 2
        elif char not in non_gsm:
            non_gsm.append(char)
    if not non_gsm:
        return SmsLength("GSM-7", septets, _segments(septets, GSM7_SINGLE, GSM7_PART), ())
    units = len(text.encode("utf-16-le")) // 2  # characters outside the BMP (emoji) take two
    return SmsLength("UCS-2", units, _segments(units, UCS2_SINGLE, UCS2_PART), tuple(non_gsm))


# --- writing a value in GSM-7 where a plain letter does -------------------------------------------

_GSM_KEEP = set("éèùìòàÉÇäöñüÄÖÑÜ")
_GSM_REPLACE = {"«": '"', "»": '"', "’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-", "\u00a0": " "}


def gsm_transliterate(value: str) -> str:
    """``value`` written with the GSM-7 alphabet where a plain letter does (« â » → « a », « ç » →
    « c », guillemets → quotes): one such character would make the whole SMS UCS-2, half as long."""
    out = []
    for char in value:
        if char in _GSM_KEEP or ord(char) < 128:
            out.append(char)
        elif char in _GSM_REPLACE:
            out.append(_GSM_REPLACE[char])
        else:
            base = unicodedata.normalize("NFKD", char)
            stripped = "".join(c for c in base if not unicodedata.combining(c))
            out.append(stripped if stripped and all(ord(c) < 128 for c in stripped) else char)
    return "".join(out)
