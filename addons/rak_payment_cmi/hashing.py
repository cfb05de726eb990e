"""The CMI « HASH ver3 » (``hashAlgorithm=ver3``): pure functions, no Django.

CMI's gateway is Payten/Asseco's NestPay platform; ver3 is NestPay's generic hash:

1. take every posted parameter except ``hash`` and ``encoding`` (names compared
   case-insensitively, so ``HASH`` is excluded too);
2. sort the names with PHP's ``natcasesort`` order — case-insensitive (ASCII letters folded to
   upper case, as PHP's ``strnatcasecmp`` does) and « natural » (a run of digits compares as a
   number: ``f2`` < ``f10``);
3. take each value (normalised by direction, see below), escape ``\\`` to ``\\\\`` first, then
   ``|`` to ``\\|``;
4. join the values with ``|``, then append ``|`` and the store key (escaped the same way);
5. SHA-512 of the UTF-8 bytes; the HASH is the base64 of the raw 64-byte digest.

The same rule signs the merchant's request and CMI's answers: the server-to-server callback and
the browser returns to okUrl/failUrl are hashed over *every field CMI posts* (the request's
fields echoed back plus the result fields: ProcReturnCode, Response, AuthCode, TransId, mdStatus,
EXTRA.TRXDATE...), so a verifier hashes whatever it received, without a list of names.

``HASHPARAMS``/``HASHPARAMSVAL`` belong to the older NestPay hash (ver1/ver2: SHA-1 over the
values listed in HASHPARAMS); a ver3 answer does not need them, and when a platform posts them
they are ordinary posted fields, hashed like the others.

What is hashed differs by direction, exactly as in CMI's merchant kit:

- the merchant's *request* (``sign``, ``request_hash_verify``): each value PHP-``trim``-ed (spaces,
  tabs, CR, LF, NUL, vertical tab), and the form posts the trimmed values (the kit's SendData
  page and mehdirochdi/cmi-payment-php do both);
- CMI's *answers* (``hash_verify``: the server-to-server callback and the browser returns): each
  value as posted, with one trailing newline removed (``preg_replace("/\\n$/", "", $v)``: PCRE's
  ``$`` also matches before a final newline, so ``"a\\n\\n"`` loses both) and then HTML entities
  decoded as PHP's ``html_entity_decode($v, ENT_QUOTES, 'UTF-8')`` does (HTML 4.01 named
  entities, ``&#NN;``/``&#xNN;`` for code points HTML 4.01 allows, a ``;`` required, ``&apos;``
  left as is); *not* trimmed. Nothing else is accepted: a message CMI's own kit would answer
  FAILURE is answered FAILURE here, and every message it accepts is accepted (an approved payment
  answered FAILURE must be captured by hand in the CMI back office).

Sources (public integrations, read while writing this; none copied):
- CMI's merchant kit callback page as republished on GitHub, e.g. Zakarialabib/Laravel-8-Yachting-
  Travel-Management ``resources/views/pages/frontend/cmi/callback.blade.php``: ``natcasesort`` of
  the posted names, skip ``hash``/``encoding`` by lower-cased name, each value
  ``html_entity_decode(preg_replace("/\\n$/","",$_POST[$param]), ENT_QUOTES, 'UTF-8')`` (no
  ``trim``), ``str_replace("\\\\", "\\\\\\\\")`` then ``str_replace("|", "\\\\|")``, store key
  appended escaped, ``base64_encode(pack('H*', hash('sha512', ...)))`` compared with
  ``$_POST["HASH"]``; its comment block is CMI's callback protocol (ACTION=POSTAUTH / APPROVED /
  FAILURE; failures may precede a success for the same oid). CMI's Magento 2 module
  (``cmiecom``, Controller ``Callback``) and a Drupal Commerce CMI gateway carry the same line
  unchanged (found with a code search for that exact ``html_entity_decode(preg_replace(...))``).
- mehdirochdi/cmi-payment-php ``lib/BaseCmiClient.php``: the request side (3D_PAY_HOSTING,
  PreAuth, currency 504, lang fr/ar/en, ``trim`` of each value before escaping).
- mewebstudio/pos ``src/Crypt/EstV3PosCrypt.php`` (NestPay ver3: ``ksort(SORT_NATURAL |
  SORT_FLAG_CASE)``) and ``tests/Crypt/EstV3PosCryptTest.php``: three known vectors (two requests,
  one real approved 3D_PAY callback with store key ``123456``), reproduced by
  ``tests/unit/test_cmi_hash.py``.
- PHP's ``ext/standard/strnatcmp.c``: the case folding of ``natcasesort`` is ``toupper``;
  ``ext/standard/html.c`` (``traverse_for_entities``, ``unicode_cp_is_allowed`` for HTML 4.01,
  ``process_named_entity_html``): the entity rules reproduced by ``php_html_entity_decode``.
- An Odoo CMI module (``payment_cmi``) escapes ``|`` before ``\\`` — the wrong order; not followed.

Verification compares in constant time (``hmac.compare_digest``).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from html.entities import name2codepoint

EXCLUDED_NAMES = frozenset({"hash", "encoding"})
PHP_TRIM = " \t\n\r\0\x0b"


def escape(value: str) -> str:
    """``\\`` -> ``\\\\`` first, then ``|`` -> ``\\|``."""
    return value.replace("\\", "\\\\").replace("|", "\\|")


def _fold(char: str) -> str:
    # PHP's toupper() in the C locale: ASCII letters only.
    return char.upper() if "a" <= char <= "z" else char


def natural_compare(a: str, b: str) -> int:
    """PHP's ``strnatcasecmp`` for parameter names: case-insensitive (upper-case folding), runs
    of digits compared as numbers (leading zeros ignored); otherwise code point order."""
    i = j = 0
    len_a, len_b = len(a), len(b)
    while i < len_a and j < len_b:
        if a[i].isdigit() and b[j].isdigit():
            i_end, j_end = i, j
            while i_end < len_a and a[i_end].isdigit():
                i_end += 1
            while j_end < len_b and b[j_end].isdigit():
                j_end += 1
            left, right = int(a[i:i_end]), int(b[j:j_end])
            if left != right:
                return -1 if left < right else 1
            i, j = i_end, j_end
            continue
        char_a, char_b = _fold(a[i]), _fold(b[j])
        if char_a != char_b:
            return -1 if char_a < char_b else 1
        i += 1
        j += 1
    return (len_a - i > 0) - (len_b - j > 0)


def hashed_names(names: Iterable[str]) -> list[str]:
    """The names that take part in the hash, in hash order."""
    return list(_hash_order(tuple(names)))


@functools.lru_cache(maxsize=512)
def _hash_order(names: tuple[str, ...]) -> tuple[str, ...]:
    # The gateway posts the same set of names again and again: sort each set once.
    kept = [name for name in names if name.lower() not in EXCLUDED_NAMES]
    return tuple(sorted(kept, key=functools.cmp_to_key(natural_compare)))


def _request_value(raw: object) -> str:
    """A request value as the merchant kit hashes and posts it: PHP ``trim``."""
    return ("" if raw is None else str(raw)).strip(PHP_TRIM)


_TRAILING_NEWLINE = re.compile(r"\n$")  # PCRE and Python agree: ``$`` also matches before a final \n
_ENTITY = re.compile(r"&(?:#[xX]([0-9A-Fa-f]+)|#([0-9]+)|([A-Za-z0-9]+));")


def _html401_allowed(code: int) -> bool:
    # PHP ext/standard/html.c unicode_cp_is_allowed(), ENT_HTML401 document type.
    return (
        0x20 <= code <= 0x7E
        or code in (0x09, 0x0A, 0x0D)
        or 0xA0 <= code <= 0xD7FF
        or (0xE000 <= code <= 0x10FFFF and (code & 0xFFFF) < 0xFFFE and not 0xFDD0 <= code <= 0xFDEF)
    )


def _entity(match: re.Match) -> str:
    hexadecimal, decimal, name = match.groups()
    if name is not None:
        code = name2codepoint.get(name)  # the 252 HTML 4.01 entities; no &apos; in HTML 4.01
        return chr(code) if code is not None else match.group(0)
    digits = (hexadecimal if hexadecimal is not None else decimal).lstrip("0") or "0"
    if len(digits) > 7:  # beyond U+10FFFF either way (strtol saturates; PHP leaves it verbatim)
        return match.group(0)
    code = int(digits, 16 if hexadecimal is not None else 10)
    return chr(code) if code <= 0x10FFFF and _html401_allowed(code) else match.group(0)


def php_html_entity_decode(value: str) -> str:
    """PHP's ``html_entity_decode($value, ENT_QUOTES, 'UTF-8')``: HTML 4.01 named entities and
    numeric references (``;`` required), ``&quot;``/``&#039;`` included, anything else verbatim.
    (Python's ``html.unescape`` is HTML5: it also decodes ``&amp`` without ``;``, ``&apos;`` and
    maps ``&#128;`` to ``€`` — the kit does none of these.)"""
    return _ENTITY.sub(_entity, value) if "&" in value else value


def answer_value(raw: object) -> str:
    """A value of CMI's answer as CMI's merchant kit hashes it: one trailing newline removed,
    then ``html_entity_decode(..., ENT_QUOTES, 'UTF-8')``; never trimmed."""
    value = "" if raw is None else str(raw)
    return php_html_entity_decode(_TRAILING_NEWLINE.sub("", value))


def _plaintext(fields: Mapping[str, object], store_key: str, normalise) -> str:
    values = [escape(normalise(fields[name])) for name in hashed_names(fields)]
    return "|".join([*values, escape(store_key)])


def _digest(plaintext: str) -> str:
    return base64.b64encode(hashlib.sha512(plaintext.encode("utf-8")).digest()).decode("ascii")


def hash_plaintext(fields: Mapping[str, object], store_key: str) -> str:
    """The string hashed for a merchant request: ``v1|v2|...|vn|storekey`` (values trimmed and
    escaped, in name order)."""
    return _plaintext(fields, store_key, _request_value)


def answer_plaintext(fields: Mapping[str, object], store_key: str) -> str:
    """The string hashed for one of CMI's answers (values as ``answer_value`` reads them)."""
    return _plaintext(fields, store_key, answer_value)


def hash_compute(fields: Mapping[str, object], store_key: str) -> str:
    """The ver3 HASH of a merchant request (a ``HASH``/``encoding`` entry is ignored)."""
    return _digest(hash_plaintext(fields, store_key))


def answer_hash_compute(fields: Mapping[str, object], store_key: str) -> str:
    """The ver3 HASH CMI puts on an answer carrying ``fields``."""
    return _digest(answer_plaintext(fields, store_key))


def received_hash(fields: Mapping[str, object]) -> str:
    """The HASH a message carries (name matched case-insensitively), or ``""``."""
    for name, value in fields.items():
        if name.lower() == "hash":
            return "" if value is None else str(value)
    return ""


def _matches(expected: str, fields: Mapping[str, object]) -> bool:
    # The kit compares ``$_POST["HASH"]`` as posted (no trim).
    received = received_hash(fields)
    return bool(received) and hmac.compare_digest(expected.encode("ascii"), received.encode("utf-8", "replace"))


def hash_verify(fields: Mapping[str, object], store_key: str) -> bool:
    """Whether one of CMI's answers (callback, browser return) carries the HASH of its own other
    fields under ``store_key``, exactly as CMI's merchant kit checks it (constant time)."""
    if not store_key:
        return False
    return _matches(answer_hash_compute(fields, store_key), fields)


def request_hash_verify(fields: Mapping[str, object], store_key: str) -> bool:
    """Whether a merchant request carries its HASH (what the gateway, or the sandbox, checks)."""
    if not store_key:
        return False
    return _matches(hash_compute(fields, store_key), fields)


def sign(fields: Mapping[str, object], store_key: str) -> dict[str, str]:
    """A merchant request: ``fields`` trimmed, as strings, plus their ``HASH`` (what is posted is
    what is hashed)."""
    signed = {name: _request_value(value) for name, value in fields.items() if name.lower() != "hash"}
    signed["HASH"] = hash_compute(signed, store_key)
    return signed


def answer_sign(fields: Mapping[str, object], store_key: str) -> dict[str, str]:
    """An answer as CMI signs it (the sandbox): ``fields`` posted as they are, plus the HASH the
    merchant kit expects."""
    signed = {name: "" if value is None else str(value) for name, value in fields.items() if name.lower() != "hash"}
    signed["HASH"] = answer_hash_compute(signed, store_key)
    return signed


def amount_format(amount: Decimal) -> str:
    """The amount as CMI reads it: two decimals and a dot (``95.93``)."""
    if isinstance(amount, float):
        raise TypeError("amount must not be a float")
    return str(Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def amount_parse(text: str) -> Decimal | None:
    """CMI's ``amount`` back to a Decimal (``"95.93"``; a comma is read as the decimal mark);
    None when it is not a number."""
    try:
        value = Decimal((text or "").strip().replace(",", "."))
    except ArithmeticError:
        return None
    return value if value.is_finite() else None
