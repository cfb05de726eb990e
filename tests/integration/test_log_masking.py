"""Logs without personal data (rak_base.redact, config/settings_observability.py): what the
configured console handler writes for the real SMS/OTP paths, JSON lines, and the request line."""

from __future__ import annotations

import io
import json
import logging
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings as django_settings

from rak_base import clock
from rak_base.logformat import RakJsonFormatter
from rak_base.models import Message, OneTimeCode
from rak_base.otp import otp_send
from rak_base.redact import PersonalDataFilter, mask_text, mask_value
from rak_base.request_log import RequestIdFilter
from tests.factories import StaffFactory

PHONE = "+212612345678"
ECHO_PORT = 8122  # observability's port range (8120-8139)
CLOSED_PORT = 8123  # nothing listens there


@pytest.fixture
def console() -> Iterator[io.StringIO]:
    """What the configured console handler (the one of LOGGING) writes, for this test."""
    handler = next(h for h in logging.getLogger().handlers if any(isinstance(f, PersonalDataFilter) for f in h.filters))
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(previous)


@pytest.fixture
def echo_gateway() -> Iterator[str]:
    """An SMS gateway that refuses every message and quotes it back (as some do)."""

    class Echo(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"] or 0))
            self.send_response(400)
            self.end_headers()
            self.wfile.write(b"invalid message: " + body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", ECHO_PORT), Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{ECHO_PORT}/send"
    finally:
        server.shutdown()
        server.server_close()


def sms_http(settings, url: str, method: str) -> None:
    settings.SMS_BACKEND = "http"
    settings.SMS_HTTP = {**django_settings.SMS_HTTP, "url": url, "method": method, "timeout": 2}


def code_of(otp: OneTimeCode) -> str:
    body = Message.objects.filter(channel=Message.Channel.SMS, recipient=otp.phone).latest("id").body
    return re.search(r"\b(\d{6})\b", body).group(1)


def assert_clean(text: str, code: str) -> None:
    assert PHONE not in text and "612345678" not in text and "0612345678" not in text
    assert code not in text


def test_unreachable_gateway_with_get_logs_neither_the_phone_nor_the_code(db, settings, console, run_worker):
    """GET puts the number and the text in the URL, and requests' error quotes the URL."""
    sms_http(settings, f"http://127.0.0.1:{CLOSED_PORT}/send", "GET")
    otp = otp_send(phone=PHONE, purpose=OneTimeCode.Purpose.ACCOUNT_CREATE, now=clock.now())
    code = code_of(otp)
    run_worker()
    message = Message.objects.get(recipient=PHONE)
    assert message.status == Message.Status.QUEUED and message.attempts == 1  # retried later
    output = console.getvalue()
    assert "outbox: message" in output and "passerelle SMS injoignable" in output
    assert_clean(output, code)
    assert_clean(message.last_error, code)  # staff read it in the back office


def test_refusing_gateway_quoting_the_message_is_masked_in_logs_and_last_error(
    db, settings, console, run_worker, echo_gateway
):
    sms_http(settings, echo_gateway, "POST")
    otp = otp_send(phone=PHONE, purpose=OneTimeCode.Purpose.PHONE_CONFIRM, now=clock.now())
    code = code_of(otp)
    run_worker()
    message = Message.objects.get(recipient=PHONE)
    assert "HTTP 400" in message.last_error and "+212*******78" in message.last_error
    output = console.getvalue()
    assert "HTTP 400" in output and "+212*******78" in output
    assert_clean(output, code)
    assert_clean(message.last_error, code)


def test_any_logger_call_is_masked_message_args_extra_and_traceback(console):
    log = logging.getLogger("rak_base.test_masking")
    log.warning(
        "customer %s (%s) password=%s",
        "0661234567",
        "karim.benali@example.ma",
        "Hunter2!x",
        extra={"phone": "+212 6 61 23 45 67", "payload": {"password": "Hunter2!x", "token": "abc", "n": 3}},
    )
    try:
        raise ValueError("code de vérification 483920 refusé pour 0661234567")
    except ValueError:
        log.exception("failed")
    output = console.getvalue()
    for secret in ("0661234567", "karim.benali", "Hunter2!x", "483920", "61 23 45 67"):
        assert secret not in output
    assert "0*******67" in output and "k***@example.ma" in output and "password=[masqué]" in output
    assert "ValueError: code de vérification ****** refusé" in output  # the traceback too


def test_json_lines_parse_and_are_masked():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RakJsonFormatter())
    handler.addFilter(RequestIdFilter())
    handler.addFilter(PersonalDataFilter())
    log = logging.getLogger("rak_base.test_json")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.info("SMS to %s", PHONE, extra={"kind": "otp", "data": {"HASH": "Zm9v", "pan": "4111111111111111"}})
        try:
            raise RuntimeError(f"gateway refused {PHONE}")
        except RuntimeError:
            log.error("boom", exc_info=True)
    finally:
        log.removeHandler(handler)
        log.propagate = True
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["level"] for line in lines] == ["INFO", "ERROR"]
    first = lines[0]
    assert first["message"] == "SMS to +212*******78" and first["logger"] == "rak_base.test_json"
    assert first["kind"] == "otp" and first["data"] == {"HASH": "[masqué]", "pan": "[masqué]"}
    assert "time" in first and "request_id" in first
    assert "RuntimeError: gateway refused +212*******78" in lines[1]["exc_info"]
    assert PHONE not in stream.getvalue()


def test_request_line_with_request_id_route_status_duration_user_id(db, client, settings, console):
    settings.LOG_REQUESTS = True
    agent = StaffFactory(username="agent.0661234567")
    client.force_login(agent)
    response = client.get("/backoffice/?q=0661234567&page=2", HTTP_X_REQUEST_ID="lb-req-00001234")
    assert response.status_code == 200 and response["X-Request-ID"] == "lb-req-00001234"
    line = next(line for line in console.getvalue().splitlines() if " rak.request " in line)
    assert "GET admin:index 200" in line and " ms" in line
    record_fields = json.loads(
        RakJsonFormatter().format(
            logging.makeLogRecord(
                {"msg": "x", "levelname": "INFO", "query_keys": ["page", "q"], "user_id": agent.pk, "status": 200}
            )
        )
    )
    assert record_fields["user_id"] == agent.pk
    assert "0661234567" not in console.getvalue() and "agent." not in console.getvalue()
    # an id that is not a plain token is replaced by one of ours
    other = client.get("/health/live")
    assert "X-Request-ID" not in other  # probes answered before the request log
    generated = client.get("/backoffice/", HTTP_X_REQUEST_ID="<script>")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)


def test_request_line_extra_fields(db, client, settings):
    settings.LOG_REQUESTS = True
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    keep = Keep()
    logger = logging.getLogger("rak.request")
    logger.addHandler(keep)
    try:
        client.get("/?phone=0661234567&page=2", HTTP_X_REQUEST_ID="lb-req-00005678")
    finally:
        logger.removeHandler(keep)
    (record,) = records
    assert record.method == "GET" and record.status in (200, 302) and record.duration_ms >= 0
    assert record.query_keys == ["page", "phone"] and record.route.startswith("portal:")
    assert record.user_id is None and record.request_id == "lb-req-00005678"


def test_masker_units():
    assert mask_text("appel 07.61.23.45.67 puis 0537370000") == "appel 0*******67 puis 0*******00"
    assert mask_text("Votre code RAK : 123456") == "Votre code RAK : ******"
    # django-axes' failed-login line: the login (customer code, phone or e-mail) is personal
    assert mask_text('AXES: Repeated login failure by {username: "C1234567", ip_address: "1.2.3.4"}') == (
        'AXES: Repeated login failure by {username: "C1***", ip_address: "1.2.3.4"}'
    )
    assert mask_text("sessionid=abcdef; csrftoken=xyz") == "sessionid=[masqué]; csrftoken=[masqué]"
    assert mask_text("facture RAK-2026-000123 du 05/12/2026, 1 234,50 DH") == (
        "facture RAK-2026-000123 du 05/12/2026, 1 234,50 DH"
    )
    assert mask_value([["Authorization", "Bearer x"], ["Accept", "text/html"]]) == [
        ["Authorization", "[masqué]"],
        ["Accept", "text/html"],
    ]


def test_django_own_not_found_line_carries_the_request_id_and_a_masked_path(db, client, console):
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    keep = Keep()
    keep.addFilter(RequestIdFilter())
    logger = logging.getLogger("django.request")
    logger.addHandler(keep)
    try:
        client.get("/nope/0661234567/", HTTP_X_REQUEST_ID="lb-req-00009999")
    finally:
        logger.removeHandler(keep)
    (record,) = records  # logged by Django after the middleware chain returned
    assert record.request_id == "lb-req-00009999"
    assert "Not Found: /nope/0*******67/" in console.getvalue() and "0661234567" not in console.getvalue()
    from rak_base.request_log import request_id_var

    assert request_id_var.get() == ""  # cleared once the response is closed
