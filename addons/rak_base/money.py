"""Money helpers: Decimal only, one rounding rule (half-up to the centime); amounts written for
the active language (French is the reference format: « 1 070,00 DH »)."""

from decimal import ROUND_HALF_UP, Decimal

from django.utils import formats, translation
from django.utils.translation import gettext
from num2words import num2words

CENTIME = Decimal("0.01")
WORDS_LANGUAGES = ("fr", "ar", "en")


def round_money(value: Decimal | int | str) -> Decimal:
    if isinstance(value, float):
        raise TypeError("money must not be a float: pass a Decimal, an int or a string")
    return Decimal(value).quantize(CENTIME, rounding=ROUND_HALF_UP)


def _language(language: str | None) -> str:
    """``fr``, ``ar`` or ``en``: the given language, else the active one; French otherwise."""
    code = (language or translation.get_language() or "fr").split("-")[0].lower()
    return code if code in WORDS_LANGUAGES else "fr"


def amount_in_words(value: Decimal | int | str, language: str | None = None) -> str:
    """A dirham amount in words, in ``language`` (default: the active language):
    ``123.45`` -> « cent vingt-trois dirhams et quarante-cinq centimes » /
    « one hundred and twenty-three dirhams and forty-five centimes » /
    « مائة وثلاثة وعشرون درهما وخمسة وأربعون سنتيما »."""
    value = round_money(value)
    language = _language(language)
    if value < 0:
        prefix = {"fr": "moins ", "en": "minus ", "ar": "ناقص "}[language]
        return prefix + amount_in_words(-value, language)
    dirhams = int(value)
    centimes = int((value - dirhams) * 100)
    if language == "ar":
        return _words_ar(dirhams, centimes)
    if language == "en":
        words = f"{num2words(dirhams, lang='en')} dirham{'' if dirhams == 1 else 's'}"
        if centimes:
            words += f" and {num2words(centimes, lang='en')} centime{'' if centimes == 1 else 's'}"
        return words
    number = num2words(dirhams, lang="fr")
    # French: « un million de dirhams » (million/milliard are nouns), « deux cents dirhams ».
    joiner = " de " if number.endswith(("million", "millions", "milliard", "milliards")) else " "
    words = f"{number}{joiner}dirham{'s' if dirhams > 1 else ''}"
    if centimes:
        words += f" et {num2words(centimes, lang='fr')} centime{'s' if centimes > 1 else ''}"
    return words


# Arabic counted nouns: (singular, dual, plural 3–10, accusative singular 11–99).
_AR_DIRHAM = ("درهم", "درهمان", "دراهم", "درهما")
_AR_CENTIME = ("سنتيم", "سنتيمان", "سنتيمات", "سنتيما")


def _ar_counted(n: int, noun: tuple[str, str, str, str]) -> str:
    """« درهم واحد », « درهمان », « ثلاثة دراهم », « أحد عشر درهما », « مائة درهم »: the number
    and its noun as Arabic grammar pairs them (the noun follows the last two digits)."""
    singular, dual, plural, accusative = noun
    if n == 1:
        return f"{singular} واحد"
    if n == 2:
        return dual
    number = num2words(n, lang="ar").replace(" و ", " و")  # « و » is written joined to the next word
    rest = n % 100
    if 3 <= rest <= 10:
        return f"{number} {plural}"
    if 11 <= rest <= 99:
        return f"{number} {accusative}"
    return f"{number} {singular}"  # 0, hundreds, thousands…: a noun in the genitive singular


def _words_ar(dirhams: int, centimes: int) -> str:
    words = _ar_counted(dirhams, _AR_DIRHAM)
    if centimes:
        words += " و" + _ar_counted(centimes, _AR_CENTIME)
    return words


def money_format(
    value: Decimal | int | str, *, currency: str = "DH", plain_space: bool = False, language: str | None = None
) -> str:
    """The amount format of the active language (or ``language``). French, the reference:
    ``1070`` -> « 1 070,00 DH » — thousands grouped by a narrow no-break space (U+202F) and « DH »
    held by a no-break space, for pages and PDFs; with ``plain_space=True`` ordinary spaces, for
    SMS (GSM-7 has neither character: one would turn the whole SMS into UCS-2, 70 characters a
    part) and plain-text e-mails. Arabic and English: Django's separators of that language
    (« 1070,00 درهم », « 1,070.00 MAD »), the unit « DH » translated."""
    language = _language(language)
    unit_sep = " " if plain_space else "\u00a0"
    with translation.override(language):
        text = local_number(round_money(value), 2, group_sep=" " if plain_space else "\u202f")
        if plain_space:
            text = text.replace("\u00a0", " ").replace("\u202f", " ")
        if currency == "DH" and language != "fr":
            currency = gettext("DH")
    return f"{text}{unit_sep}{currency}" if currency else text


def local_number(value: Decimal | int | None, decimals: int = 0, *, group_sep: str = "\u202f") -> str:
    """A figure in the active language's format: French as the bills print it (« 1 234,50 »,
    ``fr_number``), other languages through Django's localisation (« 1,234.50 » in English),
    rounded half-up; « — » for None."""
    if value is None:
        return "—"
    if _language(None) == "fr":
        return fr_number(value, decimals, group_sep=group_sep)
    rounded = Decimal(value).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return formats.number_format(rounded, decimals, use_l10n=True, force_grouping=True)


def fr_number(value: Decimal | int | float | None, decimals: int = 0, *, group_sep: str = "\u202f") -> str:
    """French figures: thousands grouped by ``group_sep`` (a narrow no-break space), a comma
    before the ``decimals`` decimals, rounded half-up; « — » for None."""
    if value is None:
        return "—"
    quantum = Decimal(1).scaleb(-decimals)
    value = Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    whole, _, fraction = f"{abs(value):.{decimals}f}".partition(".")
    groups: list[str] = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    text = group_sep.join(groups)
    return f"{sign}{text},{fraction}" if decimals else f"{sign}{text}"
