"""Web Push end to end against a faithful local push service (issue 13).

``PushService`` is what Mozilla's or Google's push service does with a message (RFC 8030): it takes
an HTTP POST on the subscription's endpoint, refuses it without a valid VAPID Authorization
(RFC 8292: ``vapid t=<JWT>,k=<public key>``, the JWT signed ES256 by the application server's key,
``aud`` = the endpoint's origin, ``exp`` within 24 hours, ``sub`` a contact), needs ``TTL`` and
``Content-Encoding: aes128gcm``, and passes the body on to the browser. The test plays the browser
too: it made the subscription's P-256 key pair and auth secret like ``PushManager.subscribe()``,
and DECRYPTS the body (RFC 8291, http_ece) — so what is asserted is what the service worker would
show: ``{title, body, url, tag}``. An endpoint can be told to answer 410 (the browser dropped
the subscription), 500, or to hang (a timeout)."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import http_ece
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from django.core.management import call_command
from django.urls import reverse

from rak_base import clock
from rak_base.models import Message, PushSubscription
from rak_base.outbox import message_deliver, message_queue_bell, message_queue_sms
from rak_base.push import vapid_keys_generate
from tests.factories import customer_with_account

pytestmark = pytest.mark.django_db


def b64d(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class Browser:
    """A browser's side of one subscription: its key pair and auth secret (never sent anywhere
    but in the subscription), so the test can read what it receives."""

    def __init__(self):
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)

    @property
    def p256dh(self) -> str:
        return b64e(
            self.private_key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )

    def decrypt(self, body: bytes) -> dict:
        return json.loads(
            http_ece.decrypt(body, private_key=self.private_key, auth_secret=self.auth, version="aes128gcm")
        )


class PushService:
    def __init__(self, vapid_public_key: str):
        self.vapid_public_key = vapid_public_key
        self.browsers: dict[str, Browser] = {}
        self.behaviour: dict[str, object] = {}  # path -> status code, or "hang"
        self.received: list[dict] = []
        self.refused: list[str] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outcome = service.behaviour.get(self.path, 201)
                if outcome == "hang":
                    time.sleep(2.5)
                    outcome = 201
                problem = service.check(self.path, self.headers, body)
                if problem:
                    service.refused.append(problem)
                    self.send_response(401 if "vapid" in problem else 400)
                    self.end_headers()
                    return
                if outcome == 201:
                    browser = service.browsers[self.path]
                    service.received.append({"path": self.path, "payload": browser.decrypt(body)})
                self.send_response(int(outcome))
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def check(self, path: str, headers, body: bytes) -> str:
        """Why the push service would refuse this request (empty: accepted)."""
        auth = headers.get("Authorization", "")
        if not auth.startswith("vapid "):
            return "vapid: no Authorization: vapid"
        params = dict(part.strip().split("=", 1) for part in auth[len("vapid ") :].split(","))
        if params.get("k") != self.vapid_public_key:
            return "vapid: k is not the application server's key"
        token = params.get("t", "")
        try:
            header_b64, claims_b64, signature_b64 = token.split(".")
        except ValueError:
            return "vapid: malformed JWT"
        header = json.loads(b64d(header_b64))
        if header.get("alg") != "ES256":
            return "vapid: not ES256"
        signature = b64d(signature_b64)
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64d(self.vapid_public_key))
        der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
        try:
            public.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return "vapid: bad signature"
        claims = json.loads(b64d(claims_b64))
        if claims.get("aud") != self.origin:
            return f"vapid: aud {claims.get('aud')!r} is not {self.origin}"
        if not (time.time() < claims.get("exp", 0) <= time.time() + 24 * 3600):
            return "vapid: exp"
        if not str(claims.get("sub", "")).startswith("mailto:"):
            return "vapid: sub"
        if headers.get("Content-Encoding") != "aes128gcm":
            return "content-encoding"
        if not headers.get("TTL", "").isdigit():
            return "ttl"
        if len(body) > 4096:
            return "payload too large"
        return ""

    def subscribe(self, user, name: str = "a") -> tuple[PushSubscription, Browser]:
        browser = Browser()
        path = f"/push/{name}"
        self.browsers[path] = browser
        subscription = PushSubscription.objects.create(
            user=user,
            endpoint=self.origin + path,
            p256dh=browser.p256dh,
            auth=b64e(browser.auth),
            user_agent=f"Firefox ({name})",
            created_at=clock.now(),
        )
        return subscription, browser

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def vapid(settings):
    private, public = vapid_keys_generate()
    settings.WEBPUSH_VAPID_PRIVATE_KEY = private
    settings.WEBPUSH_VAPID_PUBLIC_KEY = public
    settings.WEBPUSH_VAPID_SUBJECT = "mailto:relationclient@rak.ma"
    settings.WEBPUSH_TIMEOUT_SECONDS = 1
    return public


@pytest.fixture
def push_service(vapid):
    service = PushService(vapid)
    yield service
    service.stop()


def test_a_request_step_reaches_the_browser_encrypted_and_the_bell_shows_it_once(push_service, run_worker, client, now):
    from rak_requests.services import request_accept_phase
    from tests.factories import StaffFactory
    from tests.request_factories import ServiceRequestFactory

    customer, user = customer_with_account(phone="+212612000001", email="amina@example.ma")
    push_service.subscribe(user, "phone")
    request_ = ServiceRequestFactory(customer=customer)
    request_accept_phase(request_id=request_.pk, staff=StaffFactory(), now=now, expect_phase="RECEVABILITE_ADMIN")

    copies = {m.channel: m for m in Message.objects.filter(user=user, kind="request")}
    assert set(copies) == {"SMS", "EMAIL", "BELL", "PUSH"}
    assert len({m.event for m in copies.values()}) == 1  # one notice, four copies
    run_worker()

    assert push_service.refused == []
    assert len(push_service.received) == 1
    payload = push_service.received[0]["payload"]
    bell = copies["BELL"]
    assert payload == {"title": bell.subject, "body": bell.body, "url": reverse("portal:requests"), "tag": bell.event}
    push = Message.objects.get(pk=copies["PUSH"].pk)
    assert push.status == Message.Status.SENT and push.provider_id == "1/1"
    assert PushSubscription.objects.get(user=user).last_success_at is not None

    client.force_login(user)
    assert 'data-testid="unread-count">1<' in client.get(reverse("portal:dashboard")).content.decode()


def test_every_browser_of_the_account_gets_it_and_a_410_removes_the_dropped_one(push_service):
    _customer, user = customer_with_account()
    push_service.subscribe(user, "laptop")
    dropped, _browser = push_service.subscribe(user, "old-phone")
    push_service.behaviour["/push/old-phone"] = 410
    bell = message_queue_bell(user=user, subject="Paiement confirmé", body="Merci, 250,00 MAD reçus.", kind="payment")
    push = Message.objects.get(channel="PUSH", user=user)
    assert push.event == bell.event

    message_deliver(message_id=push.pk)

    push.refresh_from_db()
    assert push.status == Message.Status.SENT and push.provider_id == "1/2"
    assert [r["payload"]["title"] for r in push_service.received] == ["Paiement confirmé"]
    assert not PushSubscription.objects.filter(pk=dropped.pk).exists()


def test_the_only_browser_gone_fails_the_copy_without_retry(push_service):
    _customer, user = customer_with_account()
    push_service.subscribe(user, "gone")
    push_service.behaviour["/push/gone"] = 404
    message_queue_bell(user=user, subject="Facture", body="Votre facture est disponible.", kind="bill_available:1")
    push = Message.objects.get(channel="PUSH", user=user)
    message_deliver(message_id=push.pk)
    push.refresh_from_db()
    assert push.status == Message.Status.FAILED and push.next_attempt_at is None
    assert not PushSubscription.objects.filter(user=user).exists()


@pytest.mark.parametrize("outcome", ["hang", 500, 429])
def test_a_timeout_or_a_busy_push_service_is_retried_like_an_sms(push_service, outcome):
    _customer, user = customer_with_account()
    push_service.subscribe(user, "slow")
    push_service.behaviour["/push/slow"] = outcome
    message_queue_bell(user=user, subject="Coupure", body="Coupure d'eau demain.", kind="outage:1:notice")
    push = Message.objects.get(channel="PUSH", user=user)
    message_deliver(message_id=push.pk)
    push.refresh_from_db()
    assert push.status == Message.Status.QUEUED and push.attempts == 1
    assert push.next_attempt_at > clock.now() and push.last_error
    assert PushSubscription.objects.filter(user=user).exists()


def test_an_sms_only_notice_outage_gets_a_push_copy_worded_from_the_sms(push_service):
    _customer, user = customer_with_account()
    _subscription, _browser = push_service.subscribe(user, "p")
    sms = message_queue_sms(
        to="+212612345678", body="RAK : coupure d'eau le 12/12 de 9h a 12h.", user=user, kind="outage:3:notice"
    )
    push = Message.objects.get(channel="PUSH", user=user)
    assert push.event == sms.event != ""
    message_deliver(message_id=push.pk)
    payload = push_service.received[0]["payload"]
    assert payload["title"] == "RAK" and payload["body"] == "Coupure d'eau le 12/12 de 9h a 12h."
    assert payload["url"] == reverse("portal:dashboard")


def test_no_vapid_keys_no_push_copy(settings):
    settings.WEBPUSH_VAPID_PRIVATE_KEY = settings.WEBPUSH_VAPID_PUBLIC_KEY = ""
    _customer, user = customer_with_account()
    PushSubscription.objects.create(
        user=user, endpoint="https://fcm.googleapis.com/fcm/send/x", p256dh="x", auth="y", created_at=clock.now()
    )
    message_queue_bell(user=user, subject="Paiement", body="Reçu.", kind="payment")
    assert not Message.objects.filter(channel="PUSH").exists()


def test_mismatched_keys_are_no_push(settings, vapid):
    settings.WEBPUSH_VAPID_PUBLIC_KEY = vapid_keys_generate()[1]  # another pair's public half
    from rak_base.push import push_configured

    assert push_configured() is False


def test_not_push_categories_and_codes_never_go_by_push(push_service):
    _customer, user = customer_with_account()
    push_service.subscribe(user, "p")
    message_queue_bell(user=user, subject="Réclamation", body="Réponse.", kind="complaint.reply")
    message_queue_sms(to="+212612345678", body="RAK : code 123456", user=user, kind="otp", sensitive=True)
    assert not Message.objects.filter(channel="PUSH").exists()


def test_webpush_keys_prints_a_working_pair():
    out = StringIO()
    call_command("webpush_keys", stdout=out)
    lines = dict(line.split(" = ", 1) for line in out.getvalue().splitlines() if line.startswith("vapid_"))
    private = int.from_bytes(b64d(lines["vapid_private_key"]), "big")
    key = ec.derive_private_key(private, ec.SECP256R1())
    public = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    assert b64e(public) == lines["vapid_public_key"] and len(public) == 65
