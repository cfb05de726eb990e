"""Identity validators (ICE through python-stdnum, CIN by a tolerant heuristic) and the meter
caliber (water diameters, electricity amperage/phases or kVA)."""

from __future__ import annotations

import re
from decimal import Decimal

from django.utils.translation import gettext, gettext_lazy
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength, ValidationError
from stdnum.ma import ice as stdnum_ice

from rak_base.errors import RakError


class InvalidIdentity(RakError):
    default_message = gettext_lazy("Numéro d'identité invalide.")


_CIN_RE = re.compile(r"^[A-Z]{1,2}[0-9]{1,8}$")


def cin_normalize(raw: str) -> str:
    """Moroccan CIN: one or two letters then digits (``AB123456``, ``G12345``). Case, spaces,
    dashes and dots are normalised away; leading zeros of the number are kept as typed."""
    text = re.sub(r"[\s\-./]", "", (raw or "")).upper()
    if not text:
        raise InvalidIdentity(gettext("Veuillez saisir votre numéro de CIN."))
    if not _CIN_RE.match(text):
        raise InvalidIdentity(
            gettext("Numéro de CIN invalide : il commence par une ou deux lettres suivies de chiffres (ex. AB123456).")
        )
    return text


def ice_normalize(raw: str) -> str:
    """ICE: 15 digits whose last two are a mod-97 check (stdnum.ma.ice)."""
    text = re.sub(r"[\s\-.]", "", raw or "")
    if not text:
        raise InvalidIdentity(gettext("Veuillez saisir votre numéro ICE."))
    try:
        return stdnum_ice.validate(text)
    except InvalidLength as exc:
        raise InvalidIdentity(gettext("Numéro ICE invalide : il doit comporter 15 chiffres.")) from exc
    except InvalidFormat as exc:
        raise InvalidIdentity(gettext("Numéro ICE invalide : il ne doit contenir que des chiffres.")) from exc
    except InvalidChecksum as exc:
        raise InvalidIdentity(gettext("Numéro ICE invalide : la clé de contrôle ne correspond pas.")) from exc
    except ValidationError as exc:
        raise InvalidIdentity(gettext("Numéro ICE invalide.")) from exc


def identity_normalize(raw: str) -> tuple[str, str]:
    """A CIN or an ICE typed in one field: 15 digits -> ("ICE", value), else ("CIN", value)."""
    text = re.sub(r"[\s\-.]", "", raw or "")
    if not text:
        raise InvalidIdentity(gettext("Veuillez saisir votre CIN ou votre ICE."))
    if text.isdigit():
        return "ICE", ice_normalize(text)
    return "CIN", cin_normalize(text)


# --- meters ----------------------------------------------------------------------------------------

#: Water meters: nominal diameter (DN) in millimetres, the sizes the utility installs.
WATER_CALIBERS_MM = (15, 20, 25, 30, 40, 50, 65, 80, 100)
#: Electricity meters: the amperage of the meter (its « calibre »), single- or three-phase...
ELECTRICITY_AMPERES = (5, 10, 15, 20, 30, 40, 45, 60, 80, 100)
ELECTRICITY_PHASES = {"MONO": "monophasé", "TRI": "triphasé"}
#: ... or the subscribed power in kVA (low voltage: up to this power).
ELECTRICITY_MAX_KVA = Decimal("250")

# The database's last guard (CheckConstraint ``meter_caliber_valid``): what the normaliser outputs.
WATER_CALIBER_REGEX = r"^(" + "|".join(str(v) for v in WATER_CALIBERS_MM) + r") mm$"
ELECTRICITY_CALIBER_REGEX = (
    r"^((" + "|".join(str(v) for v in ELECTRICITY_AMPERES) + r") A( monophasé| triphasé)?|[0-9]{1,3}(,[0-9])? kVA)$"
)  # i18n: not for customers


class InvalidCaliber(RakError):
    default_message = gettext_lazy("Calibre du compteur invalide.")


def _water_caliber_message() -> str:
    sizes = ", ".join(str(v) for v in WATER_CALIBERS_MM)
    return gettext("Calibre d'un compteur d'eau invalide : choisissez un diamètre parmi %(sizes)s mm (ex. 15 mm).") % {
        "sizes": sizes
    }


def _electricity_caliber_message() -> str:
    amperes = ", ".join(str(v) for v in ELECTRICITY_AMPERES)
    return gettext(
        "Calibre d'un compteur électrique invalide : une intensité parmi %(amperes)s A, avec au besoin "
        "« monophasé » ou « triphasé » (ex. 10 A monophasé), ou une puissance souscrite en kVA "
        "jusqu'à %(max)s kVA (ex. 6 kVA)."
    ) % {"amperes": amperes, "max": ELECTRICITY_MAX_KVA}


def meter_caliber_normalize(*, service: str, raw: str) -> str:
    """A meter's caliber as typed (« 15 », « 15mm », « DN 20 », « 10A tri », « 6 kva ») -> its
    stored form (« 15 mm », « 20 mm », « 10 A triphasé », « 6 kVA »). Water: a diameter of
    ``WATER_CALIBERS_MM``; electricity: an amperage of ``ELECTRICITY_AMPERES`` (and its phases)
    or a subscribed power in kVA. Raises ``InvalidCaliber`` with the French message."""
    text = re.sub(r"\s+", " ", (raw or "").strip().lower())
    if service == "EAU":
        match = re.fullmatch(r"(?:dn ?)?(\d{1,3}) ?(?:mm)?", text)
        if match is None or int(match.group(1)) not in WATER_CALIBERS_MM:
            raise InvalidCaliber(_water_caliber_message())
        return f"{int(match.group(1))} mm"
    if service == "ELECTRICITE":
        amperage = r"(\d{1,3}) ?a(?:mp(?:ères?)?)?(?: (mono|tri)(?:phasé|phase)?)?"  # i18n: not for customers
        match = re.fullmatch(amperage, text)
        if match is not None:
            amperes = int(match.group(1))
            if amperes not in ELECTRICITY_AMPERES:
                raise InvalidCaliber(_electricity_caliber_message())
            phases = ELECTRICITY_PHASES.get((match.group(2) or "").upper())
            return f"{amperes} A" + (f" {phases}" if phases else "")
        match = re.fullmatch(r"(\d{1,3}(?:[.,]\d)?) ?kva", text)
        if match is not None:
            power = Decimal(match.group(1).replace(",", "."))
            if 0 < power <= ELECTRICITY_MAX_KVA:
                return f"{power.normalize():f}".replace(".", ",") + " kVA"
        raise InvalidCaliber(_electricity_caliber_message())
    raise InvalidCaliber(gettext("Seuls les compteurs d'eau et d'électricité ont un calibre."))
