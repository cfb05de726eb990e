"""The written alternative to quick-pay's image captcha: a sum or a difference of two numbers
written in words in the visitor's language (French, Arabic or English through num2words), answered
in digits (django-simple-captcha challenge function: returns ``(challenge, response)``; the
response is what the customer must type, digits whatever the language).

Why not django-simple-captcha's audio version: it needs flite, and Debian's flite (2.2) has English
voices only — letters spelt in English to French- and Arabic-speaking customers, plus a program to
install and keep on every server. A question in words is read by any screen reader, in the page's
language.
"""

from __future__ import annotations

import secrets

from django.utils import translation
from django.utils.translation import gettext
from num2words import num2words

NUM2WORDS_LANGUAGES = {"fr": "fr", "ar": "ar", "en": "en"}


def _words(n: int) -> str:
    language = (translation.get_language() or "fr").split("-")[0]
    return num2words(n, lang=NUM2WORDS_LANGUAGES.get(language, "fr"))


def question_challenge() -> tuple[str, str]:
    left, right = secrets.randbelow(20) + 1, secrets.randbelow(20) + 1
    numbers = {"left": _words(left), "right": _words(right)}
    if secrets.randbelow(2):
        left, right = max(left, right), min(left, right)
        numbers = {"left": _words(left), "right": _words(right)}
        challenge, result = gettext("%(left)s moins %(right)s") % numbers, left - right
    else:
        challenge, result = gettext("%(left)s plus %(right)s") % numbers, left + right
    # the store keeps 32 characters: « dix-sept moins quatorze » (23), « سبعة عشر ناقص أربعة عشر » (23),
    # « seventeen minus fourteen » (25); the page asks « Combien font … ? »
    return challenge[:32], str(result)


def question_text(challenge: str) -> str:
    return gettext("Combien font %(challenge)s ?") % {"challenge": challenge}
