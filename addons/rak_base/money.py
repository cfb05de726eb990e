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
    group_sep, unit_sep = (" ", " ") if plain_space else ("\u202f", "\u00a0")
    text = fr_number(round_money(value), 2, group_sep=group_sep)
    return f"{text}{unit_sep}{currency}" if currency else text


def fr_number(value: Decimal | int | float | None, decimals: int = 0, *, group_sep: str = "\u202f") -> str:
    """French figures: thousands grouped by ``group_sep`` (a narrow no-break space), a comma
    before the ``decimals`` decimals, rounded half-up; « — » for None."""
    if value is None:
        return "—"
    quantum = Decimal(1).scaleb(-decimals)
    value = Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    whole, _, fraction = f"{abs(value):.{decimals}f}".partition(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    text = group_sep.join(groups)
    return f"{sign}{text},{fraction}" if decimals else f"{sign}{text}"
