"""Personal data and secrets out of the logs and error reports (issue 15).

One masker, used by the logging filter of every handler (``PersonalDataFilter``, installed by
config/settings_observability.py), by the JSON and plain formatters (tracebacks) and by Sentry's
``before_send`` (request bodies, cookies, headers, query strings):

- Moroccan phone numbers (+212 6…, 00212…, 2126…, 06…/07…/05…, 6…/7…/5… without the trunk 0, with
  or without spaces, dots, dashes, URL-encoded ``%2B212``, in ASCII or Arabic-Indic digits) keep
  their prefix and last 2 digits: ``+212*******78``;
- payment card numbers (13-19 digits passing the Luhn check) keep their last 4 digits;
- e-mail addresses keep their first letter and their domain: ``a***@example.ma``;
- one-time codes after « code », « OTP », « PIN », « رمز » (4 to 8 digits): ``code ******``;
- a ``username: …`` (django-axes' failed-login lines) keeps its first two characters;
- ``key=value`` / ``key: value`` pairs and mapping keys that name a secret (password, token,
  session key, cookie, Authorization, CMI HASH, card number, expiry, CVV, store key…): ``[masqué]``;
- the values PostgreSQL's errors quote — « Failing row contains (…) » (the whole row: a customer's
  name, CIN, birth date, address) and « Key (cin)=(…) » — in a traceback of a failed item, task or
  page: ``(…)``; the table, the constraint and the columns stay. Names have no pattern to mask:
  they must not be logged at all (log ids), these are the lines that quote them anyway.

Pure: no Django import, so the logging configuration can load it before the apps."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from stdnum import luhn

MASK = "[masqué]"

# names whose value is a secret whatever it looks like (compared lower-case, « - » as « _ »)
SECRET_KEYS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "password1",
        "password2",
        "old_password",
        "new_password1",
        "new_password2",
        "mot_de_passe",
        "secret",
        "secret_key",
        "token",
        "access",
        "refresh",
        "access_token",
        "refresh_token",
        "api_key",
        "apikey",
        "authorization",
        "proxy_authorization",
        "http_authorization",
        "cookie",
        "cookies",
        "http_cookie",
        "set_cookie",
        "sessionid",
        "session_key",
        "session",
        "csrftoken",
        "csrfmiddlewaretoken",
        "x_csrftoken",
        "http_x_csrftoken",
        "code",
        "otp",
        "otp_code",
        "pin",
        "verification_code",
        "captcha_1",
        "hash",
        "hashparamsval",
        "storekey",
        "store_key",
        "pan",
        "cardnumber",
        "card_number",
        "cv2",
        "cvv",
        "cvc",
        "ecom_payment_card_expdate_year",
        "ecom_payment_card_expdate_month",
        "expdate",
        "x_health_token",
        "http_x_health_token",
        "vapid_private_key",
    }
)

# a digit as typed: ASCII, Arabic-Indic (٠-٩) or Extended Arabic-Indic (۰-۹) — phonenumbers, hence
# the portal's forms, accept all three
_D0, _D1, _D2 = "[0٠۰]", "[1١۱]", "[2٢۲]"
_D5_7 = "[5-7٥-٧۵-۷]"
_PHONE = re.compile(
    r"(?<![\d])"
    rf"(?P<prefix>(?:\+|%2[bB]|{_D0}{_D0}){_D2}{_D1}{_D2}[\s.\-]?(?:\({_D0}\)[\s.\-]?)?|{_D2}{_D1}{_D2}|{_D0})"
    rf"(?P<number>{_D5_7}(?:[\s.\-]?\d){{8}})"
    r"(?![\d])"
)
# the national number without its trunk « 0 » (``6 12 34 56 78``, accepted by phone_normalize): not
# inside a word, a hex id or a decimal amount
_BARE_PHONE = re.compile(rf"(?<![\w.,\-])(?P<prefix>)(?P<number>{_D5_7}(?:[\s.\-]?\d){{8}})(?![\w\-]|[.,]\d)")
# a payment card number (13 to 19 digits, first 2-6 — card networks —, spaces or dashes between
# groups) that passes the Luhn check
_CARD = re.compile(r"(?<![\w.,\-])[2-6](?:[ \-]?\d){12,18}(?![\w\-]|[.,]\d)")
# bounded parts (a local part has at most 64 characters, a label 63): with « * » and « + » a long run
# of letters or digits without « @ » (an 8 KB path) was rescanned from each of its positions —
# quadratic, 0.5-1 s of CPU per 8 KB on every log line that carried it
_EMAIL = re.compile(
    r"(?P<first>[A-Za-z0-9_%+\-])[A-Za-z0-9._%+\-]{0,63}(?:@|%40)"
    r"(?P<domain>[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63}){1,8})"
)
_CODE = re.compile(
    # otp_code= too (« _ » is no boundary); رمز URL-encoded too (an SMS gateway called with GET)
    r"(?i)(?P<word>(?<![^\W_])(?:code|otp|pin)(?![^\W_])|رمز|%D8%B1%D9%85%D8%B2)"
    r"(?P<between>(?:%[0-9A-Fa-f]{2}|[^\d\n]){0,80}?)"  # « code+%3A+ » in a URL's query too
    r"(?P<digits>(?<!\d)\d{4,8})(?!\d)"
)
_SECRET_PAIR = re.compile(  # i18n: not for customers (a pattern)
    r"(?i)(?P<key>[\"']?\b(?:"
    r"password\d?|passwd|pwd|mot[ _]de[ _]passe|secret(?:_key)?|(?:access_|refresh_|api_|csrf|csrfmiddleware)?token|"
    r"api_?key|authorization|cookie|sessionid|session_?key|csrftoken|hash|storekey|store_key|pan|card_?number|"
    r"cv2|cvv|cvc|ecom_payment_card_expdate_(?:year|month)"
    r")\b[\"']?)(?P<sep>\s*[:=]\s*)(?P<quote>[\"']?)(?P<value>(?:Bearer\s+|Basic\s+|Token\s+)?[^\s\"'&,;]+)"
)

# django-axes logs « {username: "…", ip_address: …} » at each failed login: a customer's login is
# their customer code, phone or e-mail — its first two characters are enough to follow an attack
_USERNAME = re.compile(r"(?i)(?P<key>[\"']?\busername[\"']?\s*[:=]\s*[\"']?)(?P<value>[^\s\"',}]+)")


def _phone(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group("number"))
    prefix = match.group("prefix").strip(" .-")
    return f"{prefix}{'*' * (len(digits) - 2)}{digits[-2:]}"


def _card(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = re.sub(r"\D", "", text)
    if not luhn.is_valid(digits):
        return text
    keep = 0
    for index in range(len(text) - 1, -1, -1):  # the last four digits, with their separators
        keep += text[index].isdigit()
        if keep == 4:
            return re.sub(r"\d", "*", text[:index]) + text[index:]
    return text


# PostgreSQL's DETAIL lines (English and French server messages): « Failing row contains (…). »
_FAILING_ROW = ("Failing row contains (", "La ligne en échec contient (")  # i18n: not for customers (PostgreSQL's)
# « Key (cin)=(ZX998877) already exists. », « La clé « (cin)=(…) » existe déjà. », a foreign key's
# « is not present in table », an exclusion's « conflicts with existing key (…)=(…). »: the values
# up to the phrase that follows them (a bounded, lazy run: linear), else to the end of the line
_KEY_VALUES = re.compile(  # i18n: not for customers (a pattern)
    r"(?P<cols>\((?:\w|\"|,| ){1,300}\)=\()"
    r"(?:[^\n]{0,300}?(?P<end>\) (?:already exists|is not present|is still referenced|conflicts with|»|existe|n'est))"
    r"|[^\n]*)"
)


def _mask_failing_rows(text: str) -> str:
    """Each quoted row cut to ``(…)``: from the prefix to the next ``).`` closing a line (a row's
    text values may hold newlines); without one, to the end. One pass: linear."""
    for prefix in _FAILING_ROW:
        if prefix not in text:
            continue
        parts, pos = [], 0
        while (start := text.find(prefix, pos)) != -1:
            begin = start + len(prefix)
            end = text.find(").\n", begin)
            if end == -1:
                end = len(text) - 2 if text.endswith(").") and len(text) - 2 >= begin else len(text)
            parts.append(text[pos:begin] + "…")
            pos = end
        text = "".join(parts) + text[pos:]
    return text


def _mask_key_values(match: re.Match[str]) -> str:
    end = match.group("end")
    return f"{match.group('cols')}…{end}" if end else f"{match.group('cols')}…)"


def mask_text(text: str) -> str:
    """``text`` with phones, e-mails, codes, secret ``key=value`` pairs and the values quoted by
    PostgreSQL's errors masked."""
    if not text:
        return text
    text = _mask_failing_rows(text)
    if ")=(" in text:
        text = _KEY_VALUES.sub(_mask_key_values, text)
    text = _SECRET_PAIR.sub(lambda m: f"{m.group('key')}{m.group('sep')}{m.group('quote')}{MASK}", text)
    text = _USERNAME.sub(lambda m: f"{m.group('key')}{m.group('value')[:2]}***", text)
    text = _EMAIL.sub(lambda m: f"{m.group('first')}***@{m.group('domain')}", text)
    text = _PHONE.sub(_phone, text)
    text = _BARE_PHONE.sub(_phone, text)
    text = _CARD.sub(_card, text)
    return _CODE.sub(lambda m: f"{m.group('word')}{m.group('between')}{'*' * len(m.group('digits'))}", text)


# journald splits a line longer than its LineMax (48 KiB by default) into several entries, and a JSON
# line cut in two no longer parses: a message and a traceback are cut to these lengths (characters)
MESSAGE_MAX_CHARS = 8_000
TRACEBACK_MAX_CHARS = 16_000


def clip(text: str, limit: int, *, keep_end: bool = False) -> str:
    """``text`` cut to about ``limit`` characters, saying how many went (a traceback keeps its end:
    the exception itself)."""
    if len(text) <= limit:
        return text
    marker = f"[… {len(text) - limit} caractères coupés]"  # i18n: not for customers (log lines)
    return f"{marker}\n{text[-limit:]}" if keep_end else f"{text[:limit]} {marker}"


def is_secret_key(key: object) -> bool:
    return isinstance(key, str) and key.strip().lower().replace("-", "_") in SECRET_KEYS


def mask_value(value: Any, *, key: object = None, depth: int = 0) -> Any:
    """A copy of ``value`` (strings, mappings, lists, tuples; nested) with personal data masked;
    under a secret key, the whole value. Other objects are returned as they are."""
    if is_secret_key(key) and value not in (None, "", [], {}):
        return MASK
    if isinstance(value, str):
        return mask_text(value)
    if depth > 8:
        return value
    if isinstance(value, Mapping):
        return {k: mask_value(v, key=k, depth=depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        items = [
            # a [name, value] pair (Sentry's headers, cookies, form lists): the name decides
            ([item[0], MASK] if isinstance(item, list) else (item[0], MASK))
            if isinstance(item, list | tuple) and len(item) == 2 and is_secret_key(item[0]) and item[1]
            else mask_value(item, depth=depth + 1)
            for item in value
        ]
        return type(value)(items) if isinstance(value, tuple) else items
    return value


# the attributes every LogRecord has: anything else on a record came from ``extra=``
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("n", logging.INFO, "p", 1, "m", None, None))) | {
    "message",
    "asctime",
    "request_id",
    "rak_masked",
}


class PersonalDataFilter(logging.Filter):
    """Masks the message (with its arguments), the ``extra`` values and the traceback text of every
    record it sees; installed on every handler. Never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "rak_masked", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed call must still be logged, masked
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = clip(mask_text(message), MESSAGE_MAX_CHARS), None
        for name, value in list(vars(record).items()):
            if name not in _RECORD_ATTRS and isinstance(value, str | Mapping | list | tuple):
                setattr(record, name, mask_value(value, key=name))
        if record.exc_info and not record.exc_text:
            record.exc_text = mask_text(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.exc_text:
            record.exc_text = clip(record.exc_text, TRACEBACK_MAX_CHARS, keep_end=True)
        if record.stack_info:
            record.stack_info = clip(mask_text(record.stack_info), TRACEBACK_MAX_CHARS, keep_end=True)
        record.rak_masked = True
        return True
