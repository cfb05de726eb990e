"""Money helpers: Decimal only, one rounding rule (half-up to the centime)."""

from decimal import ROUND_HALF_UP, Decimal

from num2words import num2words

CENTIME = Decimal("0.01")


def round_money(value: Decimal | int | str) -> Decimal:
    if isinstance(value, float):
        raise TypeError("money must not be a float: pass a Decimal, an int or a string")
    return Decimal(value).quantize(CENTIME, rounding=ROUND_HALF_UP)


def amount_in_words(value: Decimal) -> str:
    """French words for a dirham amount: ``123.45`` -> ``cent vingt-trois dirhams et quarante-cinq centimes``."""
    value = round_money(value)
    if value < 0:
        return "moins " + amount_in_words(-value)
    dirhams = int(value)
    centimes = int((value - dirhams) * 100)
    number = num2words(dirhams, lang="fr")
    # French: « un million de dirhams » (million/milliard are nouns), « deux cents dirhams ».
    joiner = " de " if number.endswith(("million", "millions", "milliard", "milliards")) else " "
    words = f"{number}{joiner}dirham{'s' if dirhams > 1 else ''}"
    if centimes:
        words += f" et {num2words(centimes, lang='fr')} centime{'s' if centimes > 1 else ''}"
    return words


def money_format(value: Decimal | int | str, *, currency: str = "DH", plain_space: bool = False) -> str:
    """The one French amount format: ``1070`` -> « 1 070,00 DH » — thousands grouped by a narrow
    no-break space (U+202F) and « DH » held by a no-break space, for pages and PDFs; with
    ``plain_space=True`` ordinary spaces, for SMS (GSM-7 has neither character: one would turn the
    whole SMS into UCS-2, 70 characters a part) and plain-text e-mails."""
    value = round_money(value)
    sign = "-" if value < 0 else ""
    whole, _, cents = f"{abs(value):.2f}".partition(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    group_sep, unit_sep = (" ", " ") if plain_space else ("\u202f", "\u00a0")
    text = f"{sign}{group_sep.join(groups)},{cents}"
    return f"{text}{unit_sep}{currency}" if currency else text
