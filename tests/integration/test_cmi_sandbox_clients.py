"""The CMI sandbox driven by the requests real CMI client libraries build, and its answers checked
with the verifications those libraries (and CMI's merchant kit) run.

Each client below is a small re-statement of a public integration (read, not copied):

- CMI's merchant kit callback page (republished in Zakarialabib/Laravel-8-Yachting-Travel-Management
  ``resources/views/pages/frontend/cmi/callback.blade.php``): ``natcasesort`` of the posted names,
  each value ``html_entity_decode(preg_replace("/\\n$/", "", v))``, no trim;
- mehdirochdi/cmi-payment-php ``lib/BaseCmiClient.php``: ``trantype`` in lower case,
  ``CallbackURL``, ``rnd`` = PHP ``microtime()`` (« 0.51234500 1733000000 »), ``refreshtime``,
  ``natcasesort`` and ``trim``, posted as ``HASH``;
- combindma/cmi-payment ``src/Cmi.php``: camelCase names (``clientId``, ``storeType``,
  ``tranType``, ``callbackResponse`` = ``"1"``, ``sessionTimeout``...), request sorted by
  ``ksort``, posted as ``hash``; its ``validateHash`` trims each answer value;
- an Odoo ``payment_cmi`` module (``models/payment_transaction.py``, ``payment_provider.py``):
  ``oid`` is Odoo's transaction reference (« tx-20240101120000 », with a hyphen), ``hash`` in lower
  case, names sorted with ``str.casefold``, answers verified the same way without ``encoding``.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest
import requests
from django.conf import settings

from rak_cmi_sandbox.models import SandboxTransaction
from rak_payment_cmi import hashing

CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
INPUT_RE = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
ACTION_RE = re.compile(r'<form id="return-form"[^>]* action="([^"]+)">')


def _b64_sha512(text: str) -> str:
    return base64.b64encode(hashlib.sha512(text.encode("utf-8")).digest()).decode()


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("|", "\\|")


def _natcasesort(names) -> list[str]:
    return sorted(names, key=functools.cmp_to_key(hashing.natural_compare))


# --- the clients' request signatures ------------------------------------------------------------


def sign_natcasesort_trim(fields: dict[str, str], store_key: str) -> str:
    """mehdirochdi/cmi-payment-php ``generateHash`` (and the kit's SendData page)."""
    values = [_escape(fields[n].strip()) for n in _natcasesort(fields) if n.lower() not in ("hash", "encoding")]
    return _b64_sha512("|".join([*values, _escape(store_key)]))


def sign_ksort_trim(fields: dict[str, str], store_key: str) -> str:
    """combindma/cmi-payment ``getPlainText``: PHP ``ksort`` (byte order), ``trim``."""
    values = [_escape(fields[n].strip()) for n in sorted(fields) if n.lower() not in ("hash", "encoding")]
    return _b64_sha512("|".join([*values, _escape(store_key)]))


def sign_odoo(fields: dict[str, str], store_key: str) -> str:
    """Odoo ``payment_cmi`` ``_cmi_generate_sign('in', ...)``."""
    names = [n for n in sorted(fields, key=str.casefold) if n not in ("encoding", "HASH", "api_url")]
    values = [str(fields[n]).replace("|", "\\|").replace("\\", "\\\\").replace("\n", "") for n in names]
    return _b64_sha512("".join(f"{v}|" for v in values) + store_key)


# --- the clients' answer verifications ------------------------------------------------------------


def verify_kit(posted: dict[str, str], store_key: str) -> bool:
    names = [n for n in _natcasesort(posted) if n.lower() not in ("hash", "encoding")]
    values = [_escape(hashing.php_html_entity_decode(re.sub(r"\n$", "", posted[n]))) for n in names]
    return _b64_sha512("|".join([*values, _escape(store_key)])) == posted.get("HASH")


def verify_combindma(posted: dict[str, str], store_key: str) -> bool:
    names = [n for n in _natcasesort(posted) if n.lower() not in ("hash", "encoding")]
    values = []
    for name in names:
        value = hashing.php_html_entity_decode(re.sub(r"\n$", "", posted[name])).strip(hashing.PHP_TRIM)
        values.append(re.sub(r"document(.)", "document.", _escape(value), flags=re.IGNORECASE))
    return _b64_sha512("|".join([*values, _escape(store_key)])) == posted.get("HASH")


def verify_odoo(posted: dict[str, str], store_key: str) -> bool:
    names = [n for n in sorted(posted, key=str.casefold) if n not in ("encoding", "HASH", "lapTransactionState")]
    values = [str(posted[n]).replace("|", "\\|").replace("\\", "\\\\").replace("\n", "") for n in names]
    return _b64_sha512("".join(f"{v}|" for v in values) + store_key) == posted.get("HASH")


VERIFIERS = {"kit": verify_kit, "combindma": verify_combindma, "odoo": verify_odoo}


# --- the merchant side: a callback receiver --------------------------------------------------------


class Merchant:
    """A merchant site's callbackUrl: records every POST, answers like the kit."""

    def __init__(self) -> None:
        self.received: list[dict[str, str]] = []
        merchant = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
                posted = dict(parse_qsl(body, keep_blank_values=True))
                merchant.received.append(posted)
                answer = b"ACTION=POSTAUTH" if posted.get("ProcReturnCode") == "00" else b"APPROVED"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def merchant():
    site = Merchant()
    yield site
    site.close()


@pytest.fixture
def gate(live_server, transactional_db):
    return f"{live_server.url}/cmi-sandbox/fim/est3Dgate"


def client_requests(merchant_url: str) -> dict[str, dict[str, str]]:
    """The form each client library posts to the gateway for a 221.24 MAD order."""
    key, client_id = settings.CMI_STORE_KEY, settings.CMI_CLIENT_ID
    mehdirochdi = {
        "clientid": client_id,
        "oid": "136ABC",
        "shopurl": merchant_url,
        "okUrl": f"{merchant_url}/okFail.php",
        "failUrl": f"{merchant_url}/okFail.php",
        "email": "mehdi.rochdi@example.ma",
        "BillToName": "mehdi rochdi",
        "BillToCompany": "company name",
        "BillToStreet12": "100 rue adress",
        "BillToCity": "casablanca",
        "BillToCountry": "504",
        "tel": "0021201020304",
        "amount": "221.24",
        "CallbackURL": f"{merchant_url}/callback.php",
        "storetype": "3D_PAY_HOSTING",
        "trantype": "PreAuth",
        "currency": "504",
        "rnd": "0.51234500 1733000000",
        "lang": "fr",
        "hashAlgorithm": "ver3",
        "encoding": "UTF-8",
        "refreshtime": "5",
    }
    mehdirochdi["HASH"] = sign_natcasesort_trim(mehdirochdi, key)
    combindma = {
        "clientId": client_id,
        "storeType": "3D_PAY_HOSTING",
        "tranType": "PreAuth",
        "lang": "fr",
        "currency": "504",
        "okUrl": f"{merchant_url}/cmi/okurl",
        "failUrl": f"{merchant_url}/cmi/failurl",
        "shopUrl": f"{merchant_url}/checkout",
        "callbackUrl": f"{merchant_url}/cmi/callback",
        "callbackResponse": "1",
        "hashAlgorithm": "ver3",
        "encoding": "UTF-8",
        "autoRedirect": "1",
        "sessionTimeout": "1800",
        "rnd": "0.51234500 1733000000",
        "amount": "221.24",
        "oid": "0512202512",
        "email": "webmaster@example.ma",
        "billToName": "Combind Agency",
        "tel": "0600000000",
        "description": "ceci est un exemple",
        "billToCity": "Casanegra",
    }
    combindma["hash"] = sign_ksort_trim(combindma, key)
    odoo = {
        "clientid": client_id,
        "oid": "tx-20240101120000",
        "amount": "221.24",
        "currency": "504",
        "TranType": "PreAuth",
        "storetype": "3D_PAY_HOSTING",
        "hashAlgorithm": "ver3",
        "rnd": "197328465",
        "llang": "fr",
        "refreshtime": "5",
        "encoding": "UTF-8",
        "BillToName": "Youssef Alaoui",
        "email": "youssef@example.ma",
        "tel": "0600000000",
        "BillToStreet1": "12 avenue Mohammed V",
        "BillToCity": "Kenitra",
        "BillToPostalCode": "14000",
        "BillToCountry": "Morocco",
        "shopurl": merchant_url,
        "failUrl": f"{merchant_url}/payment/cmi/error",
        "okUrl": f"{merchant_url}/payment/cmi/return",
        "callbackUrl": f"{merchant_url}/payment/cmi/webhook",
    }
    odoo["hash"] = sign_odoo(odoo, key)
    return {"mehdirochdi": mehdirochdi, "combindma": combindma, "odoo": odoo}


def _field(fields: dict[str, str], name: str) -> str:
    return next(value for key, value in fields.items() if key.lower() == name.lower())


@pytest.mark.parametrize("client", ["mehdirochdi", "combindma", "odoo"])
def test_a_real_client_library_pays_through_the_sandbox(gate, merchant, client):
    form = client_requests(merchant.url)[client]
    browser = requests.Session()
    card_page = browser.post(gate, data=form, timeout=30)
    assert card_page.status_code == 200, html.unescape(card_page.text)[:2000]
    assert "Demande de paiement" in card_page.text and "221.24 MAD" in card_page.text

    token = CSRF_RE.search(card_page.text).group(1)
    redirect_page = browser.post(
        card_page.url,
        data={
            "csrfmiddlewaretoken": token,
            "holder": "Youssef Alaoui",
            "number": "4111 1111 1111 1111",
            "expiry": "12/35",
            "cvv": "123",
            "callback_mode": "before",
            "pay": "1",
        },
        timeout=30,
    )
    assert "Votre paiement a été accepté" in redirect_page.text

    # the server-to-server callback reached the client's callbackUrl and is signed as every
    # public verifier expects
    assert len(merchant.received) == 1
    callback = merchant.received[0]
    assert callback["oid"] == _field(form, "oid") and callback["amount"] == "221.24"
    assert callback["ProcReturnCode"] == "00" and callback["Response"] == "Approved"
    assert callback["callbackCall"] == "true" and callback["TransId"] and callback["AuthCode"]
    for name, verify in VERIFIERS.items():
        assert verify(callback, settings.CMI_STORE_KEY), name
    assert SandboxTransaction.objects.get().answers[0]["body"] == "ACTION=POSTAUTH"

    # the browser goes back to the client's okUrl with the same signed answer (without callbackCall)
    assert html.unescape(ACTION_RE.search(redirect_page.text).group(1)) == _field(form, "okUrl")
    returned = {html.unescape(n): html.unescape(v) for n, v in INPUT_RE.findall(redirect_page.text)}
    assert "callbackCall" not in returned and returned["TransId"] == callback["TransId"]
    for name, verify in VERIFIERS.items():
        assert verify(returned, settings.CMI_STORE_KEY), name


def test_values_are_echoed_as_the_gateway_hashed_them(gate, merchant):
    """A client that posts untrimmed values (hashed trimmed, as the kit and every library do) gets
    them back trimmed: the kit (no trim) and combindma (trim) then agree on the answer's HASH."""
    form = client_requests(merchant.url)["mehdirochdi"]
    form["BillToName"] = "  mehdi rochdi "
    form["HASH"] = sign_natcasesort_trim(form, settings.CMI_STORE_KEY)
    browser = requests.Session()
    card_page = browser.post(gate, data=form, timeout=30)
    assert card_page.status_code == 200
    browser.post(
        card_page.url,
        data={
            "csrfmiddlewaretoken": CSRF_RE.search(card_page.text).group(1),
            "holder": "Mehdi Rochdi",
            "number": "4111111111111111",
            "expiry": "12/35",
            "cvv": "123",
            "callback_mode": "before",
            "pay": "1",
        },
        timeout=30,
    )
    callback = merchant.received[0]
    assert callback["BillToName"] == "mehdi rochdi"
    for name, verify in VERIFIERS.items():
        assert verify(callback, settings.CMI_STORE_KEY), name


def test_order_ids_real_clients_send_are_accepted_and_others_refused(gate):
    key = settings.CMI_STORE_KEY
    base = client_requests("http://127.0.0.1:9")["odoo"]
    for oid, accepted in [
        ("tx-20240101120000", True),  # Odoo's transaction reference
        ("S00042-1", True),
        ("ORDER_2024.12", True),
        ("a" * 64, True),
        ("a" * 65, False),
        ("avec espace", False),
        ("<script>", False),
    ]:
        form = {**base, "oid": oid}
        form["hash"] = sign_odoo({k: v for k, v in form.items() if k != "hash"}, key)
        response = requests.post(gate, data=form, timeout=30, allow_redirects=False)
        assert (response.status_code == 302) is accepted, (oid, response.status_code)


def test_the_trimmed_request_is_what_the_sandbox_keeps(gate):
    form = client_requests("http://127.0.0.1:9")["combindma"]
    form["description"] = " exemple\n"
    form["hash"] = sign_ksort_trim({k: v for k, v in form.items() if k != "hash"}, settings.CMI_STORE_KEY)
    response = requests.post(gate, data=form, timeout=30, allow_redirects=False)
    assert response.status_code == 302
    assert SandboxTransaction.objects.get().request["description"] == "exemple"


def test_verifiers_agree_on_a_known_answer():
    """The re-stated verifiers are faithful: they accept what the portal's own verification accepts
    for a plain answer (guards this file against a mistake of its own)."""
    fields = {"oid": "X1", "amount": "1.00", "ProcReturnCode": "00", "Response": "Approved", "TransId": "T"}
    signed = hashing.answer_sign(fields, "KEY|\\")
    assert all(verify(signed, "KEY|\\") for verify in (verify_kit, verify_combindma))
    assert not verify_kit({**signed, "amount": "2.00"}, "KEY|\\")


def test_card_page_asks_to_confirm_the_conditions_as_cmi_s_page_does(gate, merchant):
    """Seed 001 step 5: « Confirmer l'acceptation des conditions générales d'utilisation du
    service » before « Valider le paiement »; ticked when the page opens, unticked it refuses."""
    browser = requests.Session()
    card_page = browser.post(gate, data=client_requests(merchant.url)["mehdirochdi"], timeout=30)
    text = html.unescape(card_page.text)
    assert "Confirmer l'acceptation des conditions générales d'utilisation du service" in text
    assert re.search(r'<input type="checkbox" name="conditions" value="1" checked>', card_page.text)
    form = {
        "csrfmiddlewaretoken": CSRF_RE.search(card_page.text).group(1),
        "holder": "Mehdi Rochdi",
        "number": "4111111111111111",
        "expiry": "12/35",
        "cvv": "123",
        "callback_mode": "before",
        "conditions_shown": "1",
        "pay": "1",
    }
    refused = browser.post(card_page.url, data=form, timeout=30)
    assert refused.status_code == 422
    assert "Confirmez l'acceptation des conditions générales" in html.unescape(refused.text)
    assert SandboxTransaction.objects.get().outcome == "PENDING" and not merchant.received
    accepted = browser.post(card_page.url, data={**form, "conditions": "1"}, timeout=30)
    assert "Votre paiement a été accepté" in accepted.text and len(merchant.received) == 1
