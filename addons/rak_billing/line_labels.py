"""A bill's stored wording shown in the reader's language (issue 12).

A bill's lines and its tranche notice are written once, in French, when the bill is issued (the bill
is a legal record; its PDF is bilingual French / Arabic). The portal shows them to a customer who
reads Arabic or English: these functions take the stored French wording apart along the patterns
``engine`` writes it with, translate each piece and put it back together in the active language.
Anything they do not recognise (a label staff typed, a wording changed later) shows as stored.
"""

from __future__ import annotations

import re
from functools import lru_cache

from django.utils.translation import get_language, gettext, gettext_noop

# The tariffs' seeded wording (migrations 0004, 0018, engine, tariffs.ENERGY_LABELS): marked here so
# that the catalogues translate them (migrations are not read by the extraction).
SEEDED_LABELS = (
    gettext_noop("Électricité"),
    gettext_noop("Eau potable"),
    gettext_noop("Assainissement"),
    gettext_noop("Consommation"),
    gettext_noop("Location du compteur"),
    gettext_noop("Entretien du compteur et du branchement"),
    gettext_noop("Redevance fixe (location et entretien du compteur)"),
    gettext_noop("TPPAN (taxe audiovisuelle)"),
    gettext_noop("Redevance fixe d'assainissement"),
)

# engine's own patterns (French source); the same msgids engine passes to gettext when it composes
BOUNDS = gettext_noop("%(start)s à %(upper)s %(unit)s")
BOUNDS_OPEN = gettext_noop("plus de %(lower)s %(unit)s")
TRANCHE = gettext_noop("%(energy)s — tranche %(bounds)s")
TRANCHE_SELECTIVE = gettext_noop("%(energy)s — tranche %(bounds)s (sélective)")
BANDED_CHARGE = gettext_noop("%(label)s (%(bounds)s)")
CAP = gettext_noop("%(label)s — plafond de %(cap)s DH par mois")
NOTICE_EXCEEDED = gettext_noop(
    "Vous avez dépassé la tranche %(tranche)s : la consommation au-delà de %(upper)s %(unit)s par mois "
    "est facturée plus cher."
)
NOTICE_SWITCH = gettext_noop(
    "Votre consommation mensuelle (%(monthly)s %(unit)s) a dépassé %(threshold)s %(unit)s : toute votre "
    "consommation est facturée au prix de la tranche atteinte (%(tranche)s)."
)

# Other invoices' lines (rak_requests.contracts.fee_lines, the advance of rak_payment_cmi.paying): the
# same msgids their issuers use, the words in them (« eau potable ») being msgids themselves.
OTHER_LINES = (
    (gettext_noop("Frais d'abonnement %(service)s"), ("service",)),
    (gettext_noop("Dépôt de garantie %(service)s (%(caliber)s)"), ("service",)),
    (gettext_noop("Avance sur consommation — dossier %(number)s"), ()),
)
SERVICE_WORDS = (gettext_noop("eau potable"), gettext_noop("électricité"))

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@lru_cache(maxsize=32)
def _pattern(msgid: str) -> re.Pattern:
    parts = _PLACEHOLDER.split(msgid)
    regex = []
    seen = set()
    for index, part in enumerate(parts):
        if index % 2 == 0:
            regex.append(re.escape(part))
        elif part in seen:
            regex.append(f"(?P={part})")
        else:
            seen.add(part)
            regex.append(f"(?P<{part}>.+?)")
    return re.compile("^" + "".join(regex) + "$", re.DOTALL)


def _parse(msgid: str, text: str) -> dict | None:
    match = _pattern(msgid).match(text)
    return match.groupdict() if match else None


def _bounds(text: str) -> str | None:
    for msgid in (BOUNDS, BOUNDS_OPEN):
        values = _parse(msgid, text)
        if values is not None:
            return gettext(msgid) % values
    return None


def _label(text: str) -> str:
    """A whole label: a seeded name, or one of engine's compositions of seeded names and bounds."""
    for msgid in (TRANCHE_SELECTIVE, TRANCHE):
        values = _parse(msgid, text)
        if values is not None:
            bounds = _bounds(values["bounds"])
            if bounds is not None:
                return gettext(msgid) % {"energy": gettext(values["energy"]), "bounds": bounds}
    for msgid, words in OTHER_LINES:
        values = _parse(msgid, text)
        if values is not None:
            return gettext(msgid) % {key: gettext(value) if key in words else value for key, value in values.items()}
    values = _parse(CAP, text)
    if values is not None:
        return gettext(CAP) % {"label": _label(values["label"]), "cap": values["cap"]}
    translated = gettext(text)
    if translated != text:
        return translated
    values = _parse(BANDED_CHARGE, text)
    if values is not None:
        # the last parenthesis holds the bounds (« TPPAN (taxe audiovisuelle) (0 à 100 kWh) »)
        head, _, tail = text.rpartition(" (")
        bounds = _bounds(tail[:-1])
        if bounds is not None:
            return gettext(BANDED_CHARGE) % {"label": gettext(head), "bounds": bounds}
    return text


def bill_line_label(label: str) -> str:
    """A bill line's stored (French) label in the active language; unknown wording as stored."""
    if not label or (get_language() or "fr").startswith("fr"):
        return label
    return _label(label)


def tranche_notice(notice: str) -> str:
    """A bill's stored (French) tranche notice in the active language; unknown wording as stored."""
    if not notice or (get_language() or "fr").startswith("fr"):
        return notice
    values = _parse(NOTICE_EXCEEDED, notice)
    if values is not None:
        bounds = _bounds(values["tranche"])
        if bounds is not None:
            return gettext(NOTICE_EXCEEDED) % {**values, "tranche": bounds}
    values = _parse(NOTICE_SWITCH, notice)
    if values is not None:
        bounds = _bounds(values["tranche"])
        if bounds is not None:
            return gettext(NOTICE_SWITCH) % {**values, "tranche": bounds}
    return notice
