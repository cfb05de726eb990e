"""The CMI « HASH ver3 » (``hashAlgorithm=ver3``): pure functions, no Django.

CMI's gateway is Payten/Asseco's NestPay platform; ver3 is NestPay's generic hash:

1. take every posted parameter except ``hash`` and ``encoding`` (names compared
   case-insensitively, so ``HASH`` is excluded too);
2. sort the names with PHP's ``natcasesort`` order — case-insensitive (ASCII letters folded to
   upper case, as PHP's ``strnatcasecmp`` does) and « natural » (a run of digits compares as a
   number: ``f2`` < ``f10``);
3. take each value, trimmed (PHP ``trim``: spaces, tabs, CR, LF, NUL, vertical tab), escape
   ``\\`` to ``\\\\`` first, then ``|`` to ``\\|``;
4. join the values with ``|``, then append ``|`` and the store key (escaped the same way);
5. SHA-512 of the UTF-8 bytes; the HASH is the base64 of the raw 64-byte digest.

The same rule signs the merchant's request and CMI's answers: the server-to-server callback and
the browser returns to okUrl/failUrl are hashed over *every field CMI posts* (the request's
fields echoed back plus the result fields: ProcReturnCode, Response, AuthCode, TransId, mdStatus,
EXTRA.TRXDATE...), so a verifier hashes whatever it received, without a list of names.

``HASHPARAMS``/``HASHPARAMSVAL`` belong to the older NestPay hash (ver1/ver2: SHA-1 over the
values listed in HASHPARAMS); a ver3 answer does not need them, and when a platform posts them
they are ordinary posted fields, hashed like the others.

Sources (public integrations, read while writing this; none copied):
- CMI's merchant kit as republished on GitHub, e.g. Zakarialabib/Laravel-8-Yachting-Travel-
  Management ``resources/views/pages/frontend/cmi/callback.blade.php``: ``natcasesort`` of the
  posted names, skip ``hash``/``encoding`` by lower-cased name, ``str_replace("\\\\", "\\\\\\\\")`` then
  ``str_replace("|", "\\\\|")``, store key appended escaped, ``base64_encode(pack('H*',
  hash('sha512', ...)))``; its comment block is CMI's callback protocol (ACTION=POSTAUTH /
  APPROVED / FAILURE; failures may precede a success for the same oid). That kit also strips a
  trailing newline and decodes HTML entities before hashing a callback value.
- mehdirochdi/cmi-payment-php ``lib/BaseCmiClient.php``: the request side (3D_PAY_HOSTING,
  PreAuth, currency 504, lang fr/ar/en, ``trim`` of each value before escaping).
- mewebstudio/pos ``src/Crypt/EstV3PosCrypt.php`` (NestPay ver3: ``ksort(SORT_NATURAL |
  SORT_FLAG_CASE)``) and ``tests/Crypt/EstV3PosCryptTest.php``: three known vectors (two requests,
  one real approved 3D_PAY callback with store key ``123456``), reproduced by
  ``tests/unit/test_cmi_hash.py``.
- PHP's ``ext/standard/strnatcmp.c``: the case folding of ``natcasesort`` is ``toupper``.
- An Odoo CMI module (``payment_cmi``) escapes ``|`` before ``\\`` — the wrong order; not followed.

Verification compares in constant time (``hmac.compare_digest``). It accepts the canonical
(trimmed) form and, as CMI's own kit does, the values as posted and HTML-entity-decoded: every
variant still needs the store key, so accepting them weakens nothing.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import html
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal

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
        left, right = _fold(a[i]), _fold(b[j])
        if left != right:
            return -1 if left < right else 1
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


def _value(raw: object, *, trim: bool, unescape_html: bool) -> str:
    value = "" if raw is None else str(raw)
    if unescape_html:
        value = html.unescape(value)
    return value.strip(PHP_TRIM) if trim else value


def hash_plaintext(
    fields: Mapping[str, object], store_key: str, *, trim: bool = True, unescape_html: bool = False
) -> str:
    """The string that is hashed: ``v1|v2|...|vn|storekey`` (values escaped, in name order)."""
    values = [escape(_value(fields[name], trim=trim, unescape_html=unescape_html)) for name in hashed_names(fields)]
    return "|".join([*values, escape(store_key)])


def hash_compute(fields: Mapping[str, object], store_key: str) -> str:
    """The ver3 HASH of ``fields`` (a ``HASH``/``encoding`` entry in ``fields`` is ignored)."""
    digest = hashlib.sha512(hash_plaintext(fields, store_key).encode("utf-8")).digest()
    return base64.b64encode(digest).decode("ascii")


def received_hash(fields: Mapping[str, object]) -> str:
    """The HASH a message carries (name matched case-insensitively), or ``""``."""
    for name, value in fields.items():
        if name.lower() == "hash":
            return "" if value is None else str(value).strip()
    return ""


def hash_verify(fields: Mapping[str, object], store_key: str) -> bool:
    """Whether ``fields`` carries the HASH of its own other fields under ``store_key``
    (constant-time comparison; see the module docstring for the accepted variants)."""
    received = received_hash(fields).encode("ascii", "replace")
    if not received or not store_key:
        return False
    ok = False
    for trim, unescape_html in ((True, False), (False, False), (True, True)):
        plain = hash_plaintext(fields, store_key, trim=trim, unescape_html=unescape_html)
        expected = base64.b64encode(hashlib.sha512(plain.encode("utf-8")).digest())
        ok |= hmac.compare_digest(expected, received)
    return ok


def sign(fields: Mapping[str, object], store_key: str) -> dict[str, str]:
    """``fields`` as strings plus their ``HASH`` (what the merchant, or the sandbox, posts)."""
    signed = {name: "" if value is None else str(value) for name, value in fields.items() if name.lower() != "hash"}
    signed["HASH"] = hash_compute(signed, store_key)
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
