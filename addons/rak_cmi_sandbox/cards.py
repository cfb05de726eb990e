"""The simulator's test cards and what the « bank » answers for them (pure functions).

| card number          | outcome                                                      |
|----------------------|--------------------------------------------------------------|
| 4111 1111 1111 1111  | accepted (VISA): ProcReturnCode 00, Response Approved        |
| 5555 5555 5555 4444  | accepted (MASTERCARD)                                        |
| 4000 0000 0000 0002  | declined, insufficient funds: ProcReturnCode 51              |
| 4000 0000 0000 0069  | declined, expired card: ProcReturnCode 54                    |
| 4000 0000 0000 3063  | 3-D Secure failure: mdStatus 0, ProcReturnCode 99, Error     |
| any other valid card | declined, « do not honour »: ProcReturnCode 05               |

Any holder name, a future expiry date (MM/AA) and any 3-digit CVV. An expiry date in the past
is declined with 54 whatever the number.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class CardResult:
    outcome: str  # SandboxTransaction.Outcome value
    proc_return_code: str
    response: str  # Approved | Declined | Error
    md_status: str
    err_msg: str = ""
    md_error_msg: str = "Authenticated"


APPROVED = CardResult("APPROVED", "00", "Approved", "1")
TEST_CARDS: dict[str, tuple[str, CardResult]] = {
    "4111111111111111": ("Visa — paiement accepté", APPROVED),
    "5555555555554444": ("Mastercard — paiement accepté", APPROVED),
    "4000000000000002": (
        "Refus : provision insuffisante (51)",
        CardResult("DECLINED", "51", "Declined", "1", "Provision insuffisante"),
    ),
    "4000000000000069": (
        "Refus : carte expirée (54)",
        CardResult("DECLINED", "54", "Declined", "1", "Carte expirée"),
    ),
    "4000000000003063": (
        "Échec de l'authentification 3-D Secure (mdStatus 0)",
        CardResult("THREE_DS_FAILED", "99", "Error", "0", "Authentification 3-D Secure échouée", "Not authenticated"),
    ),
}
DO_NOT_HONOUR = CardResult("DECLINED", "05", "Declined", "1", "Transaction refusée (ne pas honorer)")
EXPIRED = CardResult("DECLINED", "54", "Declined", "1", "Carte expirée")
CANCELLED = CardResult("CANCELLED", "99", "Error", "", "Transaction annulée par le client", "")

EXPIRY_RE = re.compile(r"^\s*(\d{1,2})\s*/\s*(\d{2}|\d{4})\s*$")


class CardError(ValueError):
    """What is wrong with what was typed (French, shown next to the field)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def digits(number: str) -> str:
    return re.sub(r"[\s-]", "", number or "")


def luhn_valid(number: str) -> bool:
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for position, char in enumerate(reversed(number)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def expiry_parse(text: str) -> tuple[int, int]:
    match = EXPIRY_RE.match(text or "")
    if not match:
        raise CardError("expiry", "Date d'expiration au format MM/AA.")
    month, year = int(match.group(1)), int(match.group(2))
    year = year + 2000 if year < 100 else year
    if not 1 <= month <= 12:
        raise CardError("expiry", "Mois d'expiration invalide.")
    return month, year


def card_decide(*, holder: str, number: str, expiry: str, cvv: str, today: datetime.date) -> CardResult:
    """The bank's answer for a card; raises ``CardError`` for what a real form would refuse."""
    if not (holder or "").strip():
        raise CardError("holder", "Saisissez le nom du porteur de la carte.")
    number = digits(number)
    if not luhn_valid(number):
        raise CardError("number", "Numéro de carte invalide.")
    month, year = expiry_parse(expiry)
    if not re.fullmatch(r"\d{3}", (cvv or "").strip()):
        raise CardError("cvv", "Le code de vérification compte 3 chiffres.")
    if (year, month) < (today.year, today.month):
        return EXPIRED
    known = TEST_CARDS.get(number)
    return known[1] if known else DO_NOT_HONOUR


def card_brand(number: str) -> str:
    number = digits(number)
    if number.startswith("4"):
        return "VISA"
    if number[:2] in {"51", "52", "53", "54", "55"} or number[:4].isdigit() and 2221 <= int(number[:4]) <= 2720:
        return "MASTERCARD"
    return "CMI"


def card_masks(number: str) -> tuple[str, str]:
    """(``maskedCreditCard`` like ``4111 11** **** 1111``, ``MaskedPan`` like ``411111***1111``)."""
    number = digits(number)
    first, last = number[:6], number[-4:]
    return f"{first[:4]} {first[4:]}** **** {last}", f"{first}***{last}"
