"""The simulated gateway: checks the merchant's request as CMI does, builds the signed answer
(callback and browser return), posts the callback server to server and replays it on demand.

The answer carries what a NestPay/CMI 3D_PAY_HOSTING answer carries: every field of the request
echoed back (HASH excepted) plus ProcReturnCode, Response, AuthCode, TransId, HostRefNum,
maskedCreditCard, MaskedPan, EXTRA.TRXDATE (``yyyyMMdd HH:mm:ss``), EXTRA.CARDBRAND,
EXTRA.CARDISSUER, mdStatus, mdErrorMsg, ErrMsg, eci, cavv, xid, clientIp, acqStan, ReturnOid;
the callback also ``callbackCall=true``. It is signed with HASH ver3 over all of its fields.
HASHPARAMS/HASHPARAMSVAL (the older ver2 scheme) are not sent.
"""

from __future__ import annotations

import base64
import re
import secrets
import string
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import requests
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from rak_cmi_sandbox.cards import CardResult, card_brand, card_masks
from rak_cmi_sandbox.models import SandboxTransaction
from rak_payment_cmi.hashing import answer_sign, request_hash_verify

REQUIRED = (
    "clientid",
    "storetype",
    "TranType",
    "amount",
    "currency",
    "oid",
    "okUrl",
    "failUrl",
    "callbackUrl",
    "rnd",
    "hashAlgorithm",
    "HASH",
)
AMOUNT_RE = re.compile(r"^\d{1,12}(\.\d{1,2})?$")
#: what merchants' libraries send as oid: letters, digits and ``- _ . /`` (Odoo's payment_cmi
#: sends its transaction reference, « tx-20240101120000 »; combindma, mehdirochdi: digits and
#: letters), 64 characters at most
OID_RE = re.compile(r"^[A-Za-z0-9_./-]{1,64}$")
ALNUM = string.ascii_letters + string.digits


class RequestRefused(ValueError):
    """The request would be refused by CMI (French message shown on the error page)."""


def _get(fields: dict[str, str], name: str) -> str:
    for key, value in fields.items():
        if key.lower() == name.lower():
            return value
    return ""


def request_check(fields: dict[str, str]) -> None:
    """Refuse what CMI refuses: missing fields, another store type, hash version or merchant,
    a malformed amount or oid, a HASH that does not match (store key from settings)."""
    missing = [name for name in REQUIRED if not _get(fields, name).strip()]
    if missing:
        raise RequestRefused("Paramètres obligatoires manquants : " + ", ".join(missing))
    if _get(fields, "storetype").upper() != "3D_PAY_HOSTING":
        raise RequestRefused("storetype non supporté (3D_PAY_HOSTING attendu).")
    if _get(fields, "hashAlgorithm").lower() != "ver3":
        raise RequestRefused("hashAlgorithm non supporté (ver3 attendu).")
    if _get(fields, "clientid") != settings.CMI_CLIENT_ID:
        raise RequestRefused("Identifiant marchand (clientid) inconnu.")
    if not AMOUNT_RE.match(_get(fields, "amount")):
        raise RequestRefused("Montant invalide (format attendu : 95.93).")
    if not OID_RE.match(_get(fields, "oid")):
        raise RequestRefused("Numéro de commande (oid) invalide : 64 caractères au plus, lettres, chiffres, - _ . /")
    if not request_hash_verify(fields, settings.CMI_STORE_KEY):
        raise RequestRefused("La signature de la requête (HASH) est invalide.")


def _random(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def answer_fields(
    *, request: dict[str, str], result: CardResult, number: str, client_ip: str, now: datetime
) -> dict[str, str]:
    """The unsigned answer to ``request`` for the card's ``result``."""
    approved = result.proc_return_code == "00"
    local = timezone.localtime(now)
    fields = {name: value for name, value in request.items() if name.lower() != "hash"}
    masked, masked_pan = card_masks(number) if number else ("", "")
    fields.update(
        {
            "ProcReturnCode": result.proc_return_code,
            "Response": result.response,
            "AuthCode": _random(string.digits, 6) if approved else "",
            "TransId": f"{local:%y%j}{_random(ALNUM, 9)}",
            "HostRefNum": _random(string.digits, 12) if approved else "",
            "ErrMsg": result.err_msg,
            "mdStatus": result.md_status,
            "mdErrorMsg": result.md_error_msg,
            "maskedCreditCard": masked,
            "MaskedPan": masked_pan,
            "EXTRA.TRXDATE": f"{local:%Y%m%d %H:%M:%S}",
            "EXTRA.CARDBRAND": card_brand(number) if number else "",
            "EXTRA.CARDISSUER": "BANQUE DU SIMULATEUR CMI",
            "acqStan": _random(string.digits, 6),
            "clientIp": client_ip,
            "ReturnOid": _get(request, "oid"),
            "eci": "05" if result.md_status == "1" else "",
            "cavv": base64.b64encode(secrets.token_bytes(20)).decode() if result.md_status == "1" else "",
            "xid": base64.b64encode(secrets.token_bytes(20)).decode(),
        }
    )
    return fields


def callback_fields(answer: dict[str, str]) -> dict[str, str]:
    return answer_sign({**answer, "callbackCall": "true"}, settings.CMI_STORE_KEY)


def return_fields(answer: dict[str, str]) -> dict[str, str]:
    return answer_sign(answer, settings.CMI_STORE_KEY)


def _post(url: str, data: dict[str, str], timeout: float) -> dict[str, object]:
    started = time.perf_counter()
    try:
        response = requests.post(url, data=data, timeout=timeout)
        outcome = {"status": response.status_code, "body": response.text.strip()[:200]}
    except requests.RequestException as exc:
        outcome = {"status": 0, "body": f"{type(exc).__name__}: {exc}"[:200]}
    outcome["ms"] = round((time.perf_counter() - started) * 1000, 1)
    outcome["at"] = timezone.now().isoformat()
    return outcome


def callback_send(tx: SandboxTransaction, *, duplicates: int = 1, timeout: float | None = None) -> list[dict]:
    """POST the transaction's signed callback to its callbackUrl ``duplicates`` times at once
    (threads released together), record and return the answers (``ACTION=POSTAUTH``...)."""
    timeout = timeout or settings.CMI_SANDBOX_CALLBACK_TIMEOUT_SECONDS
    url = _get(tx.request, "callbackUrl")
    if duplicates <= 1:
        answers = [_post(url, tx.callback, timeout)]
    else:
        barrier = threading.Barrier(duplicates)

        def one(_):
            barrier.wait(timeout=timeout)
            return _post(url, tx.callback, timeout)

        with ThreadPoolExecutor(max_workers=duplicates) as pool:
            answers = list(pool.map(one, range(duplicates)))
    with transaction.atomic():
        locked = SandboxTransaction.objects.select_for_update().get(pk=tx.pk)
        locked.answers = [*locked.answers, *answers]
        locked.save(update_fields=["answers"])
    tx.answers = locked.answers
    return answers


def callback_send_later(tx_id: int, *, delay: float) -> threading.Thread:
    """Send the callback from a background thread after ``delay`` seconds (the browser returns
    first: « callback after the browser » scenario)."""

    def run():
        time.sleep(delay)
        try:
            callback_send(SandboxTransaction.objects.get(pk=tx_id))
        finally:
            connection.close()
            close_old_connections()

    thread = threading.Thread(target=run, name=f"cmi-sandbox-callback-{tx_id}", daemon=True)
    thread.start()
    return thread
