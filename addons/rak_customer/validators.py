"""Identity validators: ICE through python-stdnum, CIN by a tolerant heuristic."""

from __future__ import annotations

import re

from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength, ValidationError
from stdnum.ma import ice as stdnum_ice

from rak_base.errors import RakError


class InvalidIdentity(RakError):
    default_message = "Numéro d'identité invalide."


_CIN_RE = re.compile(r"^[A-Z]{1,2}[0-9]{1,8}$")


def cin_normalize(raw: str) -> str:
    """Moroccan CIN: one or two letters then digits (``AB123456``, ``G12345``). Case, spaces,
    dashes and dots are normalised away; leading zeros of the number are kept as typed."""
    text = re.sub(r"[\s\-./]", "", (raw or "")).upper()
    if not text:
        raise InvalidIdentity("Veuillez saisir votre numéro de CIN.")
    if not _CIN_RE.match(text):
        raise InvalidIdentity(
            "Numéro de CIN invalide : il commence par une ou deux lettres suivies de chiffres (ex. AB123456)."
        )
    return text


def ice_normalize(raw: str) -> str:
    """ICE: 15 digits whose last two are a mod-97 check (stdnum.ma.ice)."""
    text = re.sub(r"[\s\-.]", "", raw or "")
    if not text:
        raise InvalidIdentity("Veuillez saisir votre numéro ICE.")
    try:
        return stdnum_ice.validate(text)
    except InvalidLength as exc:
        raise InvalidIdentity("Numéro ICE invalide : il doit comporter 15 chiffres.") from exc
    except InvalidFormat as exc:
        raise InvalidIdentity("Numéro ICE invalide : il ne doit contenir que des chiffres.") from exc
    except InvalidChecksum as exc:
        raise InvalidIdentity("Numéro ICE invalide : la clé de contrôle ne correspond pas.") from exc
    except ValidationError as exc:
        raise InvalidIdentity("Numéro ICE invalide.") from exc


def identity_normalize(raw: str) -> tuple[str, str]:
    """A CIN or an ICE typed in one field: 15 digits -> ("ICE", value), else ("CIN", value)."""
    text = re.sub(r"[\s\-.]", "", raw or "")
    if not text:
        raise InvalidIdentity("Veuillez saisir votre CIN ou votre ICE.")
    if text.isdigit():
        return "ICE", ice_normalize(text)
    return "CIN", cin_normalize(text)
