"""The written alternative to quick-pay's image captcha: a sum or a difference of two numbers
written in French words, answered in digits (django-simple-captcha challenge function: returns
``(challenge, response)``; the response is what the customer must type).

Why not django-simple-captcha's audio version: it needs flite, and Debian's flite (2.2) has English
voices only — letters spelt in English to French- and Arabic-speaking customers, plus a program to
install and keep on every server. A question in words is read by any screen reader, in French.
"""

from __future__ import annotations

import secrets

from num2words import num2words


def question_challenge() -> tuple[str, str]:
    left, right = secrets.randbelow(20) + 1, secrets.randbelow(20) + 1
    if secrets.randbelow(2):
        left, right = max(left, right), min(left, right)
        words, result = "moins", left - right
    else:
        words, result = "plus", left + right
    # the store keeps 32 characters: « dix-sept moins quatorze »; the page asks « Combien font … ? »
    return f"{num2words(left, lang='fr')} {words} {num2words(right, lang='fr')}", str(result)


def question_text(challenge: str) -> str:
    return f"Combien font {challenge} ?"
