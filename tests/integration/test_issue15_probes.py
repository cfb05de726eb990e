"""Issue 15 probes (helper « probe »): the production surfaces tried as an attacker and a careful
reviewer would.

- Log masking (``rak_base.redact``) let through: a phone typed in Arabic-Indic digits (the
  portal's forms accept them: ``phonenumbers`` reads them), a mobile written without its trunk
  « 0 » (``6 12 34 56 78``, which ``phone_normalize`` accepts too), an OTP in ``otp_code=123456``
  (the underscore defeated the word boundary) and a card number in free text.
- ``X-Request-ID: abcdefgh\\n`` passed the « plain token » check (``$`` matches before a final
  newline) and the response then failed on the header: a 500 instead of an id of ours.
- Sentry's transactions (``traces_sample_rate`` > 0): the spans' descriptions and data (an
  outgoing SMS gateway call's URL and query: the phone and the code) were sent as they were.
"""

from __future__ import annotations

import os
from urllib.parse import quote_plus

import pytest
from django.urls import reverse

from config.settings_observability import sentry_before_send
from rak_base.redact import mask_text

pytestmark = pytest.mark.django_db

PHONE_DIGITS = "612345678"


@pytest.mark.parametrize(
    "text",
    [
        "tel ٠٦١٢٣٤٥٦٧٨ ok",  # Arabic-Indic digits
        "tel ۰۶۱۲۳۴۵۶۷۸ ok",  # Extended Arabic-Indic (Persian/Urdu keyboards)
        "tel +٢١٢٦١٢٣٤٥٦٧٨ ok",
        "tel ٠٦ ١٢ ٣٤ ٥٦ ٧٨ ok",
        "tel 612345678 ok",  # the national number without its trunk 0
        "tel 6 12 34 56 78 ok",
        "phone=612345678&page=2",
        "Key (phone)=(6.12.34.56.78) already exists.",
    ],
)
def test_phone_in_arabic_indic_digits_or_without_trunk_zero_is_masked(text):
    masked = mask_text(text)
    digits = "".join(str(int(ch)) for ch in masked if ch.isdigit())
    assert PHONE_DIGITS not in digits and "1234" not in digits, masked
    assert masked.endswith(text[-3:]) and masked[:3] == text[:3]


def test_nine_digit_amounts_references_and_hex_ids_are_left_alone():
    for text in (
        "facture RAK-2026-000123 du 05/12/2026, 1 234,50 DH",
        "total 612345678,50 DH",
        "rid=3fa612345678e0b1",
        "dossier D512345678X",
        "lot 412345678",
    ):
        assert mask_text(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "otp_code=482913",
        "verification_code=482913",
        "pin_code: 482913",
        '{"otp_code": "482913"}',
        "POST /api/v1/auth/verify otp=482913&phone_id=7",
        # an SMS gateway called with GET: the message URL-encoded in the query
        "GET /send?to=x&text=" + quote_plus("RAK : votre code de confirmation est 482913. Il est valable"),
        "GET /send?to=x&text=" + quote_plus("RAK: رمز التأكيد الخاص بك هو 482913. صالح لمدة 5 دقائق"),
    ],
)
def test_otp_code_in_a_key_value_pair_is_masked(text):
    assert "482913" not in mask_text(text), mask_text(text)


def test_card_number_in_free_text_is_masked_keeping_the_last_four():
    masked = mask_text("CMI refused card 4111 1111 1111 1111 for oid 12345")
    assert "4111 1111 1111 1111" not in masked and "41111111" not in masked.replace(" ", "")
    assert masked.endswith("1111 for oid 12345")
    assert "4000-0000-0000-0002" not in mask_text("carte 4000-0000-0000-0002 refusée")
    # not a card (Luhn check fails, or no card network starts with 1): long references stay readable
    assert mask_text("référence 4111111111111112") == "référence 4111111111111112"
    assert mask_text("at 1733412345678 ms") == "at 1733412345678 ms"


def test_request_id_ending_in_a_newline_is_replaced_not_a_500(client):
    response = client.get("/", HTTP_X_REQUEST_ID="abcdefgh\n")
    assert response.status_code in (200, 302)
    assert "\n" not in response["X-Request-ID"] and len(response["X-Request-ID"]) == 32
    response = client.get("/", HTTP_X_REQUEST_ID="abcdefgh\r\nSet-Cookie: x=1")
    assert response.status_code in (200, 302) and "x" not in response.cookies


def test_sentry_transaction_spans_are_scrubbed():
    url = "https://sms.example.ma/send?to=%2B212612345678&text=Votre+code+RAK+%3A+482913"
    event = {
        "type": "transaction",
        "transaction": "portal:verify",
        "spans": [
            {
                "op": "http.client",
                "description": f"GET {url}",
                "data": {"url": url, "http.query": "to=%2B212612345678&text=Votre code RAK : 482913"},
            },
            {"op": "db", "description": "SELECT 1 WHERE phone = '0612345678'", "data": {"db.system": "postgresql"}},
        ],
    }
    scrubbed = str(sentry_before_send(event, {}))
    assert PHONE_DIGITS not in scrubbed and "482913" not in scrubbed, scrubbed
    assert "portal:verify" in scrubbed and "postgresql" in scrubbed


# --- [redis] sessions = cache with Redis down ----------------------------------------------------

DEAD_REDIS_URL = "redis://127.0.0.1:8299/12"  # the probe's port range: nothing listens there


@pytest.fixture
def probe_redis():
    """A key prefix of this test's own on the suite's Redis (PROBE_REDIS_URL) and a client of it; the
    prefix's keys are deleted afterwards, whatever the test did."""
    import uuid

    import redis

    prefix = f"probe-{uuid.uuid4().hex[:8]}"
    stored = redis.Redis.from_url(PROBE_REDIS_URL)
    yield prefix, stored
    keys = list(stored.scan_iter(match=f"{prefix}:*"))
    if keys:
        stored.delete(*keys)
    stored.close()


def cache_sessions(settings, location: str) -> None:
    from config.settings_scaleout import SESSION_ENGINES

    settings.REDIS_URL = ""  # the throttles in PostgreSQL: only the sessions' Redis is tried
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "rak_base.redis_cache.ResilientRedisCache",
            "LOCATION": location,
            "KEY_PREFIX": "probe",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        },
    }
    settings.SESSION_ENGINE = SESSION_ENGINES["cache"]
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "rak_base.throttle.ThrottleUnavailableMiddleware"]


def test_cache_sessions_with_redis_up_log_in_and_out(client, settings, probe_redis):
    """On the suite's Redis database (PROBE_REDIS_URL, as test_throttle_redis) under a prefix of this
    test only, removed afterwards: no other test or xdist worker reads or deletes these keys."""
    from tests.factories import TEST_PASSWORD, customer_with_account

    prefix, _stored = probe_redis
    customer, _user = customer_with_account(phone="+212612000078")
    redis_sessions(settings, "cache", PROBE_REDIS_URL, prefix)
    response = client.post(reverse("portal:login"), {"username": customer.code, "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("portal:dashboard")).status_code == 200
    client.post(reverse("portal:logout"))
    assert client.get(reverse("portal:dashboard")).status_code == 302


def test_cache_sessions_with_redis_down_refuse_a_login_at_once(client, settings, caplog):
    """Django's cache session store tries 10,000 new keys when the cache's ``add`` fails — with the
    resilient cache (a dead Redis answers « not added ») every try fails: measured 12.9 s and 20,000
    warning lines with their traceback for one login, then a 500 (a Redis that does not answer at
    all: 0.5 s timeouts, hours). Now a few tries, then the French 503."""
    from tests.factories import TEST_PASSWORD, customer_with_account

    customer, _user = customer_with_account(phone="+212612000077")
    cache_sessions(settings, DEAD_REDIS_URL)
    with caplog.at_level("WARNING", logger="rak_base.redis_cache"):
        response = client.post(reverse("portal:login"), {"username": customer.code, "password": TEST_PASSWORD})
    assert response.status_code == 503, response.status_code
    assert "momentanément indisponible" in response.content.decode()
    unavailable = [r for r in caplog.records if r.name == "rak_base.redis_cache"]
    assert 0 < len(unavailable) <= 10, len(unavailable)
    assert settings.SESSION_COOKIE_NAME not in response.cookies


# --- backups: the database password never on a command line --------------------------------------


def test_backup_tools_get_a_password_given_in_the_urls_query_through_the_environment():
    """libpq reads ``?password=…`` as well as ``user:password@``: the first stayed on pg_dump's
    command line, readable by every user of the machine (ps)."""
    from tests.integration.test_backup_restore import backup_module as module

    url, env = module.tool_command("postgresql://rak@db.local:5432/rak?sslmode=require&password=S3cr%26t")
    assert "S3cr" not in url and env["PGPASSWORD"] == "S3cr&t"
    assert url == "postgresql://rak@db.local:5432/rak?sslmode=require"
    url, env = module.tool_command("postgresql://rak:p%40ss@db.local/rak")
    assert url == "postgresql://rak@db.local/rak" and env["PGPASSWORD"] == "p@ss"
    url, env = module.tool_command("postgresql://rak@db.local/rak")
    assert url == "postgresql://rak@db.local/rak"


# --- a database server that accepts and never answers ---------------------------------------------

SILENT_PORT = 8290  # the probe's range (8280-8299)


def test_a_silent_database_server_is_an_error_not_a_hung_thread(settings):
    """statement_timeout bounds a query, not the connection: a server that accepts the TCP connection
    and never answers (a hung PostgreSQL or pooler, packets dropped after the handshake) held the
    connecting thread — /health/ready's, a page's — forever (libpq waits without connect_timeout).
    The connection settings of DATABASES["default"] now give up with an OperationalError."""
    import socket
    import threading

    from django.db import OperationalError
    from django.db.backends.postgresql.base import DatabaseWrapper

    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", SILENT_PORT))
    server.listen(4)
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(server.accept()[0]), daemon=True).start()
    silent = {**settings.DATABASES["default"], "HOST": "127.0.0.1", "PORT": SILENT_PORT, "CONN_MAX_AGE": 0}
    outcome: list[BaseException] = []

    def connect():
        wrapper = DatabaseWrapper(silent, alias="silent")
        try:
            wrapper.ensure_connection()
        except BaseException as exc:  # noqa: BLE001 - what the thread ends with is the assertion
            outcome.append(exc)
        finally:
            wrapper.close()

    thread = threading.Thread(target=connect, daemon=True)
    try:
        thread.start()
        thread.join(60)  # generous (a loaded machine): without a connect timeout it never ends
        assert not thread.is_alive(), "still connecting to a server that never answers"
        assert outcome and isinstance(outcome[0], OperationalError)
    finally:
        for conn in accepted:
            conn.close()
        server.close()


# --- loggers that still wrote personal data ------------------------------------------------------


def test_back_office_export_log_line_keeps_the_filters_but_not_the_search_text(client, caplog):
    """The export's audit line logged the list's search box as typed: a customer's name, CIN or
    address (no masking rule catches those) went to the journal and any log shipper."""
    import logging

    from rak_customer.models import Customer
    from tests.factories import CustomerFactory, StaffFactory

    CustomerFactory(last_name="Bennaniprobe")
    staff = StaffFactory(is_superuser=True)
    client.force_login(staff)
    url = reverse("admin:rak_export_xlsx", args=["rak_customer", "customer"])
    with caplog.at_level(logging.INFO, logger="rak_base.admin_exports"):
        response = client.get(f"{url}?q=Bennaniprobe+AB123456&kind__exact=PARTICULIER")
    assert response.status_code == 200, response.status_code
    (record,) = [r for r in caplog.records if r.name == "rak_base.admin_exports"]
    text = record.getMessage()
    assert "Bennaniprobe" not in text and "AB123456" not in text, text
    assert "'q'" in text and "PARTICULIER" in text and Customer._meta.model_name in text


# --- the masker on hostile input --------------------------------------------------------------------


def test_masker_is_linear_on_a_long_run_without_an_at_sign():
    """The e-mail pattern rescanned a run of letters or digits from each of its positions: an 8 KB
    path (nginx's request-line limit) cost 0.5-1 s per masking and a 404 on it 4.3 s of CPU through
    the request log, Django's « Not Found » line and the formatter (13 ms per masking now, 0.16 s for
    the request; test client, load 9, 5 Dec 2026). 400 KB of such runs: it must end (quadratic:
    about 20 minutes)."""
    import threading

    from rak_base.redact import mask_text

    hostile = "/" + "a" * 100_000 + "1" * 100_000 + "%41" * 30_000 + "a." * 50_000 + " x@mail.example.ma"
    done: list[str] = []
    thread = threading.Thread(target=lambda: done.append(mask_text(hostile)), daemon=True)
    thread.start()
    thread.join(60)  # generous on a loaded machine: linear is about a second here
    assert done and done[0].endswith(" x***@mail.example.ma")


def test_sentry_other_request_headers_are_masked_too():
    """Only Cookie, Authorization and the tokens' headers were replaced: a Referer (the previous
    page's address with its query: ?phone=…&code=…) or any other header went to Sentry as sent."""
    event = {
        "request": {
            "url": "https://agence.rak.ma/api/v1/ping",
            "headers": {
                "Referer": "https://agence.rak.ma/verifier/?phone=0612345678&code=482913",
                "X-Contact": "someone@example.ma",
                "Accept": "text/html",
            },
        }
    }
    headers = sentry_before_send(event, {})["request"]["headers"]
    text = str(headers)
    assert "612345678" not in text and "482913" not in text and "someone@" not in text, text
    assert headers["Accept"] == "text/html"


def test_a_huge_message_or_traceback_stays_one_json_line_under_journalds_limit():
    """journald splits a line longer than its LineMax (48 KiB by default) into several entries: a
    JSON line that long no longer parses (jq, the log shipper). A gateway's whole answer quoted in a
    message, or an exception carrying a big payload, made such lines; message and traceback are now
    cut (the traceback keeps its end: the exception itself)."""
    import io
    import json
    import logging

    from rak_base.logformat import RakJsonFormatter
    from rak_base.redact import PersonalDataFilter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RakJsonFormatter())
    handler.addFilter(PersonalDataFilter())
    log = logging.getLogger("rak_base.test_probe_huge")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("gateway answered: %s end", "<html>" + "x" * 200_000)
        try:
            raise RuntimeError("payload " + "y" * 200_000 + " refused for 0612345678")
        except RuntimeError:
            log.error("boom", exc_info=True)
    finally:
        log.removeHandler(handler)
        log.propagate = True
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert all(len(line.encode()) < 48 * 1024 for line in lines), [len(line) for line in lines]
    first, second = (json.loads(line) for line in lines)
    assert first["message"].startswith("gateway answered: <html>xxx")
    assert second["exc_info"].endswith("refused for 0*******78")  # the end kept, masked


# --- [redis] sessions = cache: an anonymous visitor's first session write, after the view ---------

# the machine's Redis, the suite's database (RAK_TEST_REDIS_URL moves it, as for test_throttle_redis);
# each test writes under a prefix of its own (uuid) and deletes it: xdist workers never meet
PROBE_REDIS_URL = os.environ.get("RAK_TEST_REDIS_URL", "redis://127.0.0.1:6379/7")


def test_anonymous_first_session_write_after_the_view_with_redis_down_is_the_french_503(client, settings):
    """A visitor's session is created when the answer leaves (SessionMiddleware, outside every other
    middleware): a view that put something in a new session (the language switch, the quick-pay
    steps, a form's state) had its ``SessionUnavailable`` raised there, where no middleware turns it
    into the French page — a 500 (only a login, which creates the session inside the view, got
    the 503)."""
    cache_sessions(settings, DEAD_REDIS_URL)
    client.raise_request_exception = False
    response = client.post(reverse("portal:set_language"), {"language": "fr", "next": "/"})
    assert response.status_code == 503, response.status_code
    assert "momentanément indisponible" in response.content.decode()
    assert response["Retry-After"] == "60"
    assert settings.SESSION_COOKIE_NAME not in response.cookies


def test_anonymous_first_session_write_after_the_view_with_redis_up(client, settings):
    """The same request with the sessions' Redis answering: the session is created in Redis."""
    import redis

    cache_sessions(settings, PROBE_REDIS_URL)
    response = client.post(reverse("portal:set_language"), {"language": "ar", "next": "/"})
    assert response.status_code == 302, response.status_code
    key = response.cookies[settings.SESSION_COOKIE_NAME].value
    stored = redis.Redis.from_url(PROBE_REDIS_URL)
    try:
        names = list(stored.scan_iter(match=f"probe:*{key}"))
        assert names, "the session is not in Redis"
        stored.delete(*names)
    finally:
        stored.close()


# --- the scheduler's, the worker's and the outbox's log lines: ids, never a customer's name -----

NAME_FIRST, NAME_LAST, NAME_CIN = "Zyxwquentin", "Bennaniprobe", "ZX998877"


@pytest.fixture
def console_output():
    """What the configured console handler (LOGGING's, with its masking filter) writes."""
    import io
    import logging

    from rak_base.redact import PersonalDataFilter

    handler = next(h for h in logging.getLogger().handlers if any(isinstance(f, PersonalDataFilter) for f in h.filters))
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(previous)


def distinctive_customer():
    from tests.factories import CustomerFactory

    return CustomerFactory(first_name=NAME_FIRST, last_name=NAME_LAST, cin=NAME_CIN)


def assert_no_personal_data(text: str) -> None:
    for value in (NAME_FIRST, NAME_LAST, NAME_CIN):
        assert value not in text, text


def test_each_item_logs_a_model_instance_by_its_id_not_its_name(caplog):
    """``each_item``'s default ``describe`` was ``str``: a customer (or a dossier, a contact) given as
    the item was logged — and reported on the job's row — by its ``__str__``, the customer's name."""
    from rak_base import scheduler

    customer = distinctive_customer()
    with caplog.at_level("ERROR", logger="rak_base.scheduler"):
        scheduler.each_item([customer], lambda item: 1 / 0)
    (record,) = caplog.records
    assert_no_personal_data(record.getMessage())
    assert str(customer.pk) in record.getMessage()


def test_a_failing_item_on_a_database_constraint_logs_no_row_values(console_output):
    """PostgreSQL's errors quote the row: « Failing row contains (9, 200000000, NOPE, CLIENT,
    ZX998877, , M, Zyxwquentin, Bennaniprobe, …) » and « Key (cin)=(ZX998877) already exists. »;
    the scheduler's per-item line (its traceback), a failed task's, a 500's went to the journal
    with the customer's name, CIN and birth date."""
    from rak_base import scheduler
    from rak_customer.models import Customer
    from tests.factories import CustomerFactory

    customer = distinctive_customer()
    other = CustomerFactory(cin="ZX112233")

    def kind_refused(pk):
        Customer.objects.filter(pk=pk).update(kind="NOPE")  # the check constraint refuses the row

    def cin_taken(pk):
        Customer.objects.filter(pk=pk).update(cin=NAME_CIN)  # the unique CIN refuses it

    scheduler.each_item([customer.pk], kind_refused, describe=lambda pk: f"client #{pk}")
    scheduler.each_item([other.pk], cin_taken, describe=lambda pk: f"client #{pk}")
    output = console_output.getvalue()
    assert output.count("en échec") == 2, output
    assert_no_personal_data(output)
    # what an operator needs stays: the constraint, the table, the column
    assert "customer_kind_valid" in output and "customer_cin_unique" in output and "(cin)=" in output


@pytest.fixture
def echo_gateway():
    """An SMS gateway that refuses every message and quotes it back (as some do)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Echo(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"] or 0))
            self.send_response(400)
            self.end_headers()
            self.wfile.write(b"invalid message: " + body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)  # a free port: two tests use it, maybe at once
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/send"
    finally:
        server.shutdown()
        server.server_close()


def test_a_refused_sms_quoted_by_the_gateway_is_logged_without_its_text(
    settings, console_output, run_worker, echo_gateway
):
    """The outbox logged the gateway's answer — and a gateway that quotes the message it refused
    put its text (« Bonjour Zyxwquentin Bennaniprobe, … ») in the worker's log line; the masker
    only hides phones, e-mails and codes. The answer is kept, the text we sent is cut out of it."""
    from rak_base.models import Message
    from rak_base.outbox import message_queue_sms

    settings.SMS_BACKEND = "http"
    settings.SMS_HTTP = {**settings.SMS_HTTP, "url": echo_gateway, "method": "POST", "timeout": 2}
    settings.OUTBOX_MAX_ATTEMPTS = 1
    text = f"Bonjour {NAME_FIRST} {NAME_LAST}, votre facture de novembre est disponible (CIN {NAME_CIN})."
    message = message_queue_sms(to="+212612345678", body=text)
    run_worker()
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED and "HTTP 400" in message.last_error
    output = console_output.getvalue()
    assert f"outbox: message {message.pk}" in output and "HTTP 400" in output and "invalid message" in output
    assert_no_personal_data(output)
    assert "612345678" not in output


def test_the_dunning_job_and_the_worker_log_no_name_phone_email_or_address(
    settings, caplog, console_output, run_worker, echo_gateway
):
    """The collections job (SMS, e-mail, formal notice with its letter, cut-off order) and the worker
    delivering its messages through a gateway that refuses and quotes them: neither the records'
    own messages nor what the console handler writes name the customer, their phone, e-mail or
    address."""
    import datetime
    import logging
    from zoneinfo import ZoneInfo

    from rak_collections.models import ReminderPlan
    from rak_collections.reminders import reminder_plan_seed, reminders_run
    from tests.billing_factories import bill_create
    from tests.factories import DossierFactory, PremisesFactory, customer_with_account

    settings.SMS_BACKEND = "http"
    settings.SMS_HTTP = {**settings.SMS_HTTP, "url": echo_gateway, "method": "POST", "timeout": 2}
    settings.OUTBOX_MAX_ATTEMPTS = 1
    reminder_plan_seed()
    assert ReminderPlan.objects.exists()
    customer, _user = customer_with_account(
        phone="+212661000631", email="zyxw.bennani@example.ma", first_name=NAME_FIRST, last_name=NAME_LAST, cin=NAME_CIN
    )
    premises = PremisesFactory(address="17 derb Zyxwadresse")
    dossier = DossierFactory(customer=customer, premises=premises)
    due = datetime.date(2026, 2, 1)
    bill_create(dossier=dossier, issue_date=due - datetime.timedelta(days=15), due_date=due, total_ht="400.00")
    casablanca = ZoneInfo("Africa/Casablanca")
    with caplog.at_level(logging.DEBUG):
        for days in (3, 10, 20, 30):
            day = due + datetime.timedelta(days=days)
            reminders_run(now=datetime.datetime(day.year, day.month, day.day, 9, tzinfo=casablanca))
            run_worker()
    assert "outbox: message" in console_output.getvalue()  # the refused SMS were logged
    for text in [record.getMessage() for record in caplog.records] + [console_output.getvalue()]:
        assert_no_personal_data(text)
        for value in ("661000631", "zyxw.bennani", "Zyxwadresse"):
            assert value not in text, text


# --- /health/*: who is « local » behind declared proxies -----------------------------------------


def test_health_details_not_given_to_a_client_that_came_round_the_outer_proxy(settings):
    """[server] trusted_proxies = 2 (a CDN, then nginx on the same host). A client that goes round
    the CDN straight to nginx brings one entry (nginx's), or writes a malformed one the CDN would have
    replaced: ``client_ip`` then answers the socket address — nginx's own 127.0.0.1, in
    [health] allowed_ips — and the figures went to anyone on the Internet."""
    from django.test import Client

    settings.TRUSTED_PROXIES = 2
    settings.HEALTH = {**settings.HEALTH, "allowed_ips": ["127.0.0.1/32", "10.0.0.0/8"], "token": ""}
    client = Client()
    local_nginx = {"REMOTE_ADDR": "127.0.0.1"}
    for forwarded in ("203.0.113.9", "garbage, 203.0.113.9", ", 203.0.113.9", "999.1.1.1, 203.0.113.9"):
        body = client.get("/health/ready", HTTP_X_FORWARDED_FOR=forwarded, **local_nginx).json()
        assert "checks" not in body, forwarded
    # through both proxies from a declared network: the figures
    body = client.get("/health/ready", HTTP_X_FORWARDED_FOR="10.1.2.3, 192.0.2.10", **local_nginx).json()
    assert "checks" in body
    # and the operator's own probe on the host, straight to the application (no proxy, no header)
    assert "checks" in client.get("/health/ready", **local_nginx).json()


def test_health_details_for_an_allowed_ipv4_address_seen_on_a_dual_stack_socket():
    """gunicorn bound to ``[::]:8000`` sees a local IPv4 probe as ``::ffff:127.0.0.1``: it never
    matched ``127.0.0.1`` of [health] allowed_ips (the operator's probe got no figures)."""
    from django.test import Client

    body = Client().get("/health/ready", REMOTE_ADDR="::ffff:127.0.0.1").json()
    assert "checks" in body
    assert "checks" not in Client().get("/health/ready", REMOTE_ADDR="::ffff:203.0.113.9").json()


# --- log injection: a line per record whatever the request carries ------------------------------


def test_a_path_with_newlines_and_terminal_escapes_cannot_forge_a_plain_log_line(client, settings, console_output):
    """[log] format = plain (the default outside production): the request line of a 404 wrote the
    decoded path as it came — « %0A » started a line of the attacker's (a forged « INFO rak.request
    … 200 » for a page never served) and « %1B[… » sent terminal escapes to whoever reads the
    journal in a terminal. Control characters are now written escaped (« \\n », « \\x1b »); the
    traceback under a record keeps its lines."""
    import logging

    settings.LOG_REQUESTS = True
    client.raise_request_exception = False
    forged = "1999-01-01 00:00:00,000 INFO rak.request GET portal:dashboard 200 1.0 ms"
    client.get("/nope%0A" + forged.replace(" ", "%20") + "%1B[2J%0D%E2%80%A8x")
    try:
        raise ValueError("first line\nsecond line")
    except ValueError:
        logging.getLogger("rak_base.test_probe_injection").exception("boom\x1b[31m")
    output = console_output.getvalue()
    assert "\x1b" not in output and "\r" not in output and "\u2028" not in output, repr(output)
    lines = output.splitlines()
    assert not any(line.startswith("1999-01-01") for line in lines), output
    assert any("rak.request GET /nope\\n1999-01-01" in line for line in lines), output
    assert any(line.endswith("boom\\x1b[31m") for line in lines), output
    assert "ValueError: first line" in lines and "second line" in lines  # the traceback as it was


# --- logging out while the sessions' Redis does not answer ------------------------------------------


def redis_sessions(settings, engine: str, location: str, prefix: str) -> None:
    from config.settings_scaleout import SESSION_ENGINES

    cache_sessions(settings, location)
    settings.CACHES = {**settings.CACHES, "default": {**settings.CACHES["default"], "KEY_PREFIX": prefix}}
    settings.SESSION_ENGINE = SESSION_ENGINES[engine]


@pytest.mark.parametrize("engine", ["cache", "cached_db"])
def test_a_logout_redis_missed_does_not_leave_the_session_alive_behind_the_users_back(
    client, settings, engine, probe_redis
):
    """Log out while the sessions' Redis does not answer (a failover, a 0.5 s timeout): the resilient
    cache skipped the delete, the portal said « déconnecté » — and once Redis answered again the
    session was alive in it (``cache``: the only copy; ``cached_db``: its read copy, trusted
    without the database), so a copied cookie (a shared computer, a stolen one) still opened the
    account. Now the logout says it could not be done (503, French), and works once Redis answers."""
    from tests.factories import customer_with_account

    prefix, _stored = probe_redis
    _customer, user = customer_with_account(phone="+212612000631")
    redis_sessions(settings, engine, PROBE_REDIS_URL, prefix)
    client.force_login(user)
    assert client.get(reverse("portal:dashboard")).status_code == 200
    stolen = client.cookies[settings.SESSION_COOKIE_NAME].value

    redis_sessions(settings, engine, DEAD_REDIS_URL, prefix)  # Redis stops answering
    client.raise_request_exception = False
    response = client.post(reverse("portal:logout"))
    redis_sessions(settings, engine, PROBE_REDIS_URL, prefix)  # and is back
    thief = type(client)()
    thief.cookies[settings.SESSION_COOKIE_NAME] = stolen
    if response.status_code == 302:  # « logged out »: the session must be gone
        assert thief.get(reverse("portal:dashboard")).status_code == 302, "the session outlived its logout"
    assert response.status_code == 503, response.status_code
    assert "momentanément indisponible" in response.content.decode()
    # Redis answers again: the logout goes through, the copied cookie opens nothing
    client.cookies[settings.SESSION_COOKIE_NAME] = stolen
    assert client.post(reverse("portal:logout")).status_code == 302
    assert thief.get(reverse("portal:dashboard")).status_code == 302


def test_the_absolute_session_limit_reached_while_redis_is_down_is_the_french_503(client, settings, probe_redis):
    """The 12-hour limit logs the account out in ``SessionLifetimeMiddleware``, outside the middleware
    that turns ``SessionUnavailable`` into the 503: with the logout now refused while Redis does not
    answer, that request must get the French page, not a 500."""
    from rak_base.middleware import SESSION_STARTED_KEY
    from tests.factories import customer_with_account

    prefix, _stored = probe_redis
    _customer, user = customer_with_account(phone="+212612000632")
    redis_sessions(settings, "cached_db", PROBE_REDIS_URL, prefix)
    client.force_login(user)
    session = client.session
    session[SESSION_STARTED_KEY] = session[SESSION_STARTED_KEY] - settings.SESSION_ABSOLUTE_SECONDS - 60
    session.save()
    redis_sessions(settings, "cached_db", DEAD_REDIS_URL, prefix)
    client.raise_request_exception = False
    response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 503, response.status_code
    assert "momentanément indisponible" in response.content.decode()
    redis_sessions(settings, "cached_db", PROBE_REDIS_URL, prefix)  # back: the limit logs it out
    assert client.get(reverse("portal:dashboard")).status_code == 302


@pytest.mark.parametrize("engine", ["cache", "cached_db"])
def test_no_session_fixation_through_the_redis_session_store(client, settings, engine, probe_redis):
    """A planted session cookie — a key the store never made, or the attacker's own live visitor
    session — is never the key of the account's session after sign-in, and the planted live one is
    gone from Redis (a guard: holds before and after this session's changes)."""
    from tests.factories import TEST_PASSWORD, customer_with_account

    prefix, stored = probe_redis
    customer, _user = customer_with_account(phone="+212612000633")
    redis_sessions(settings, engine, PROBE_REDIS_URL, prefix)
    planted = "a" * 32
    client.cookies[settings.SESSION_COOKIE_NAME] = planted
    client.post(reverse("portal:login"), {"username": customer.code, "password": TEST_PASSWORD})
    assert client.cookies[settings.SESSION_COOKIE_NAME].value != planted
    assert client.get(reverse("portal:dashboard")).status_code == 200
    assert not list(stored.scan_iter(match=f"{prefix}:*{planted}"))

    attacker = type(client)()
    attacker.post(reverse("portal:set_language"), {"language": "fr", "next": "/"})
    live = attacker.cookies[settings.SESSION_COOKIE_NAME].value
    assert list(stored.scan_iter(match=f"{prefix}:*{live}"))
    victim = type(client)()
    victim.cookies[settings.SESSION_COOKIE_NAME] = live
    victim.post(reverse("portal:login"), {"username": customer.code, "password": TEST_PASSWORD})
    assert victim.cookies[settings.SESSION_COOKIE_NAME].value != live
    assert not list(stored.scan_iter(match=f"{prefix}:*{live}"))
    assert attacker.get(reverse("portal:dashboard")).status_code == 302  # the attacker is not in


# --- Sentry: what has no pattern to mask is not sent ------------------------------------------------

SENTRY_SCRIPT = """
import django
django.setup()
import sentry_sdk
from django.test import Client
from django.test.utils import override_settings

with override_settings(ROOT_URLCONF="tests.integration.probe15_urls"):
    response = Client(raise_request_exception=False).post(
        "/probe-boom/?nom=Bennaniprobe&page=2",
        {"prenom": "Zyxwquentin", "nom": "Bennaniprobe", "adresse": "17 derb Zyxwadresse", "cin": "ZX998877"},
    )
print("status", response.status_code)
sentry_sdk.flush(10)
"""


@pytest.fixture
def sentry_receiver():
    import gzip
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import brotli

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

    server = ThreadingHTTPServer(("127.0.0.1", 0), Envelopes)  # a free port
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield received, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_sentry_gets_no_name_or_address_from_frame_locals_or_the_posted_form(sentry_receiver, tmp_path):
    """Sentry captured each frame's local variables and the posted form, masked by the patterns —
    which know phones, e-mails and codes, not a name, an address or a CIN: a failing subscription
    sent « holder: 'Zyxwquentin Bennaniprobe' », « adresse: '17 derb …' » to a third party. The
    frames go without their variables, the form and the query with their field names only."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from django.db import connection

    received, port = sentry_receiver

    root = Path(__file__).resolve().parents[2]
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "DATABASE_URL": (
            f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "PYTHONPATH": f"{root}:{root / 'addons'}",
        "RAK_SENTRY_DSN": f"http://publickey@127.0.0.1:{port}/1",
        "RAK_SMS_DEV_FILE": str(tmp_path / "sms.log"),
    }
    done = subprocess.run(  # noqa: S603 - our own settings, a fixed script
        [sys.executable, "-c", SENTRY_SCRIPT], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and "status 500" in done.stdout, done.stdout + done.stderr
    events = [body for body in received if b'"type":"event"' in body.replace(b" ", b"")]
    assert events, received
    payload = b"\n".join(events).decode()
    assert "subscription failed" in payload and "probe-boom" in payload  # still a useful report
    for value in (NAME_FIRST, NAME_LAST, NAME_CIN, "Zyxwadresse"):
        assert value not in payload, value
    assert "adresse" in payload  # the field's name stays


def test_a_jobs_item_error_shown_and_e_mailed_to_supervisors_carries_no_row_values():
    """The job's row keeps each failing item's error (« Tâches planifiées », and the lateness alert
    e-mails it to the supervisors): PostgreSQL's quoted row — the customer's name, CIN, birth date —
    was stored and sent as it was; now masked like the log lines (constraint and columns kept)."""
    from datetime import timedelta

    from rak_base import clock, scheduler
    from rak_base.models import ScheduledJob
    from rak_customer.models import Customer

    customer = distinctive_customer()
    now = clock.now()

    def job(*, now):
        def refuse(pk):
            Customer.objects.filter(pk=pk).update(kind="NOPE")

        scheduler.each_item([customer.pk], refuse, describe=lambda pk: f"client #{pk}")

    every = timedelta(minutes=10)
    scheduler.job_register("probe.items", job, every=every, label="Tâche de test probe")
    try:
        ScheduledJob.objects.create(name="probe.items", label="Tâche de test probe", interval=every, next_run_at=now)
        scheduler.jobs_run_due(now=now, worker="probe")
    finally:
        scheduler.job_unregister("probe.items")
    row = ScheduledJob.objects.get(name="probe.items")
    assert row.last_outcome == ScheduledJob.Outcome.ITEM_ERRORS
    assert f"client #{customer.pk}" in row.last_error and "customer_kind_valid" in row.last_error
    assert_no_personal_data(row.last_error)


def test_a_page_read_while_the_cache_sessions_redis_is_down_keeps_the_session_cookie(client, settings, probe_redis):
    """sessions = cache, Redis not answering for a moment: the page is served to an anonymous visitor
    (no copy to read), but the answer also deleted the browser's session cookie — signed out for
    good, the session left orphaned in Redis. The cookie is kept: once Redis answers, the account
    is signed in again."""
    from tests.factories import customer_with_account

    prefix, _stored = probe_redis
    _customer, user = customer_with_account(phone="+212612000634")
    redis_sessions(settings, "cache", PROBE_REDIS_URL, prefix)
    client.force_login(user)
    assert client.get(reverse("portal:dashboard")).status_code == 200
    redis_sessions(settings, "cache", DEAD_REDIS_URL, prefix)
    response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 302  # anonymous while Redis does not answer
    assert settings.SESSION_COOKIE_NAME not in response.cookies, response.cookies  # not deleted
    redis_sessions(settings, "cache", PROBE_REDIS_URL, prefix)
    assert client.get(reverse("portal:dashboard")).status_code == 200


# --- a failed background task's traceback, kept in the task results (back office, backups) ----------

from django.db import transaction  # noqa: E402 - this section's own imports
from django_tasks import task  # noqa: E402


@task(queue_name="default")
def probe_customer_update_task(customer_id: int, change: str) -> None:
    """A task that fails on a customer's row as a real one can: PostgreSQL refuses the update and
    quotes the row (« Failing row contains (…) ») or the key (« Key (cin)=(…) »); or the code's own
    message carries a phone and an e-mail."""
    from rak_customer.models import Customer

    with transaction.atomic():  # a savepoint: the worker records the failure afterwards
        if change == "kind":
            Customer.objects.filter(pk=customer_id).update(kind="NOPE")
        elif change == "cin":
            Customer.objects.filter(pk=customer_id).update(cin=NAME_CIN)
        else:
            raise ValueError("contact refused: +212661000632, zyxw.bennani@example.ma")


def test_a_failed_tasks_stored_traceback_carries_no_row_values_phone_or_e_mail(run_worker):
    """django-tasks keeps a failed task's exception and traceback on its result row (« Tâches en
    arrière-plan », read by staff, carried by every backup): PostgreSQL's quoted row — the customer's
    name, CIN, birth date — and a message's phone or e-mail were stored as they were (the log
    lines were masked, not this). Run through the real worker (rak_worker --batch): masked like
    the logs, the exception's class, the constraint, the table and the column kept."""
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from tests.factories import CustomerFactory

    customer = distinctive_customer()
    other = CustomerFactory(cin="ZX112234")
    results = {
        "kind": probe_customer_update_task.enqueue(customer.pk, "kind"),
        "cin": probe_customer_update_task.enqueue(other.pk, "cin"),
        "contact": probe_customer_update_task.enqueue(customer.pk, "contact"),
    }
    run_worker()
    rows = {change: DBTaskResult.objects.get(pk=result.id) for change, result in results.items()}
    for change, row in rows.items():
        assert row.status == TaskResultStatus.FAILED, (change, row.status)
        assert_no_personal_data(row.traceback)
        for value in ("661000632", "zyxw.bennani"):
            assert value not in row.traceback, row.traceback
        assert "probe_customer_update_task" in row.traceback  # where it failed stays
    assert rows["kind"].exception_class_path == "django.db.utils.IntegrityError"
    assert "customer_kind_valid" in rows["kind"].traceback and "Failing row contains (…" in rows["kind"].traceback
    assert rows["cin"].exception_class_path == "django.db.utils.IntegrityError"
    assert "customer_cin_unique" in rows["cin"].traceback and "(cin)=(…" in rows["cin"].traceback
    assert rows["contact"].exception_class_path == "builtins.ValueError"
    assert "contact refused" in rows["contact"].traceback and "@example.ma" in rows["contact"].traceback


def test_a_task_result_recorded_before_the_masking_is_shown_masked_in_the_back_office(client):
    """A result stored unmasked before the fix (until the purge job removes it) is masked when staff
    open it."""
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from tests.factories import StaffFactory

    result = probe_customer_update_task.enqueue(1, "kind")
    raw = (
        "Traceback (most recent call last):\n"
        'psycopg.errors.CheckViolation: new row for relation "customer" violates check constraint '
        '"customer_kind_valid"\n'
        f"DETAIL:  Failing row contains (9, 200000000, NOPE, {NAME_CIN}, {NAME_FIRST}, {NAME_LAST}, 1980-01-02).\n"
    )
    DBTaskResult.objects.filter(pk=result.id).update(
        status=TaskResultStatus.FAILED, exception_class_path="django.db.utils.IntegrityError", traceback=raw
    )
    client.force_login(StaffFactory(is_superuser=True))
    page = client.get(reverse("admin:django_tasks_database_dbtaskresult_change", args=[result.id]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "customer_kind_valid" in html and "Failing row contains (…" in html
    assert_no_personal_data(html)
