"""Sentry (config/settings_observability.py): off without a DSN; with one, an error in a view reaches
the DSN's host — a real local HTTP receiver here — without the phone, password, cookies,
Authorization header or query values of the request."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import brotli
import pytest
import sentry_sdk
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
RECEIVER_PORT = 8124  # observability's port range (8120-8139)

SCRIPT = """
import django
django.setup()
import sentry_sdk
from django.conf import settings
from django.test import Client
from django.test.utils import override_settings

assert settings.SENTRY_ENABLED and sentry_sdk.get_client().is_active()
with override_settings(ROOT_URLCONF="tests.integration.obs_urls"):
    response = Client(raise_request_exception=False).post(
        "/boom/?phone=0661234567&token=tok-in-query&page=2",
        {"phone": "+212612345678", "password": "Hunter2!secret"},
        HTTP_AUTHORIZATION="Bearer tok-in-header",
        HTTP_COOKIE="sessionid=sess-abcdef123; csrftoken=csrf-xyz789",
    )
print("status", response.status_code)
sentry_sdk.flush(10)
"""

SECRETS = (
    "612345678",
    "661234567",
    "Hunter2!secret",
    "tok-in-query",
    "tok-in-header",
    "sess-abcdef123",
    "csrf-xyz789",
)


@pytest.fixture
def receiver() -> Iterator[list[bytes]]:
    """The DSN's host: keeps every envelope posted to it (brotli, gzip or plain)."""
    received: list[bytes] = []

    class Envelopes(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"] or 0))
            encoding = self.headers.get("Content-Encoding")
            if encoding == "gzip":
                body = gzip.decompress(body)
            elif encoding == "br":
                body = brotli.decompress(body)
            received.append(body)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", RECEIVER_PORT), Envelopes)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield received
    finally:
        server.shutdown()
        server.server_close()


def test_without_a_dsn_sentry_is_not_initialised():
    assert settings.SENTRY_ENABLED is False
    assert not sentry_sdk.get_client().is_active()


def test_an_error_in_a_view_reaches_the_dsn_without_personal_data(db, receiver, tmp_path):
    db_settings = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "DATABASE_URL": (
            f"postgres://{db_settings['USER'] or 'postgres'}@{db_settings['HOST'] or '127.0.0.1'}:"
            f"{db_settings['PORT'] or 5432}/{db_settings['NAME']}"
        ),
        "PYTHONPATH": f"{ROOT}:{ROOT / 'addons'}",
        "RAK_SENTRY_DSN": f"http://publickey@127.0.0.1:{RECEIVER_PORT}/1",
        "RAK_SENTRY_ENVIRONMENT": "recette",
        "RAK_SENTRY_RELEASE": "rak@1.2.3",
        "RAK_SMS_DEV_FILE": str(tmp_path / "sms.log"),
    }
    done = subprocess.run(  # noqa: S603 - our own settings, a fixed script
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and "status 500" in done.stdout, done.stdout + done.stderr
    events = [body for body in receiver if b'"type":"event"' in body.replace(b" ", b"")]
    assert events, receiver
    payload = b"\n".join(events).decode()
    assert "RuntimeError" in payload and "payment failed for +212*******78" in payload
    assert '"environment":"recette"' in payload.replace(" ", "") and "rak@1.2.3" in payload
    for secret in SECRETS:
        assert secret not in payload, secret
    # and nothing of it went to the log either
    for secret in SECRETS:
        assert secret not in done.stderr, secret
