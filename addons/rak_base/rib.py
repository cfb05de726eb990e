"""Moroccan RIB (relevé d'identité bancaire): 24 digits, checked as a customer types them.

Layout (norme Bank Al-Maghrib, SIMT): ``BBB CCC AAAAAAAAAAAAAAAA KK``

- ``BBB``: bank code (3 digits), the bank that holds the account;
- ``CCC``: city (localité) code (3 digits);
- ``A…``: account number at that bank (16 digits, branch included);
- ``KK``: key, ``97 − ((first 22 digits × 100) mod 97)`` (the RIB as a whole is then ≡ 0 mod 97).

``rib_validate(value)`` accepts the 24 digits with spaces (as printed on a RIB), checks length,
key and bank code, and returns a ``Rib``; it raises ``InvalidRib`` carrying the French message
shown next to the field. A bank code outside ``BANKS`` is refused (« Banque inconnue »): a direct
debit on an unknown bank cannot be sent in any monthly bank file.

``BANKS`` holds the codes printed on the RIBs of the banks operating in Morocco (Bank Al-Maghrib's
list of credit institutions); Banque Populaire has one code per regional bank (BPR) plus the
Banque Centrale Populaire, all shown as « Banque Populaire ». A bank missing here is added in one
line (and a test).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from rak_base.errors import RakError

RIB_LENGTH = 24

BANKS: dict[str, str] = {
    "001": "Bank Al-Maghrib",
    "007": "Attijariwafa bank",
    "011": "BMCE Bank of Africa",
    "013": "BMCI",
    "021": "Crédit du Maroc",  # i18n: not for customers (a bank's own name)
    "022": "Société Générale Maroc",  # i18n: not for customers (a bank's own name)
    "028": "Citibank Maghreb",
    "050": "CFG Bank",
    # Banque Populaire: the regional banks (BPR) and the Banque Centrale Populaire.
    "101": "Banque Populaire",
    "127": "Banque Populaire",
    "145": "Banque Populaire",
    "157": "Banque Populaire",
    "164": "Banque Populaire",
    "175": "Banque Populaire",
    "181": "Banque Populaire",
    "190": "Banque Populaire",
    "225": "Crédit Agricole du Maroc",  # i18n: not for customers (a bank's own name)
    "230": "CIH Bank",
    "310": "Trésorerie Générale du Royaume",  # i18n: not for customers (a bank's own name)
    "350": "Al Barid Bank",
}

_SEPARATORS = re.compile(r"[\s\u00a0\u202f]+")


class InvalidRib(RakError):
    default_message = _("Le N° de RIB saisi est invalide.")

    def __init__(self, message: object = None, **params: object) -> None:
        super().__init__(str(message or self.default_message), **params)


class RibWrongLength(InvalidRib):
    default_message = _("Le RIB doit contenir 24 chiffres.")


class RibWrongKey(InvalidRib):
    default_message = _("Le N° de RIB saisi est invalide : la clé RIB ne correspond pas. Vérifiez les 24 chiffres.")


class RibUnknownBank(InvalidRib):
    default_message = _("Banque inconnue : le code banque de ce RIB ne correspond à aucune banque au Maroc.")


@dataclass(frozen=True)
class Rib:
    bank_code: str
    city_code: str
    account: str
    key: str
    bank_name: str

    @property
    def number(self) -> str:
        """The 24 digits, without spaces (what is stored and written in bank files)."""
        return f"{self.bank_code}{self.city_code}{self.account}{self.key}"

    def formatted(self) -> str:
        """As printed on a RIB: ``007 780 0000000000000000 12``."""
        return f"{self.bank_code} {self.city_code} {self.account} {self.key}"

    def __str__(self) -> str:
        return self.number


def rib_key(first_22: str) -> str:
    """The two-digit key of the 22 digits before it: 97 − ((n × 100) mod 97)."""
    return f"{97 - (int(first_22) * 100) % 97:02d}"


def rib_validate(value: str | None) -> Rib:
    digits = _SEPARATORS.sub("", value or "")
    if not digits:
        raise InvalidRib(_("Veuillez saisir votre N° de RIB."))
    if len(digits) != RIB_LENGTH or not digits.isascii() or not digits.isdigit():
        raise RibWrongLength()
    if rib_key(digits[:22]) != digits[22:]:
        raise RibWrongKey()
    bank_code = digits[:3]
    bank_name = BANKS.get(bank_code)
    if bank_name is None:
        raise RibUnknownBank()
    return Rib(
        bank_code=bank_code,
        city_code=digits[3:6],
        account=digits[6:22],
        key=digits[22:],
        bank_name=bank_name,
    )


def bank_name(bank_code: str) -> str:
    """The bank's name for a 3-digit code, « Banque inconnue » when the table does not have it."""
    return BANKS.get(bank_code) or str(_("Banque inconnue"))
