"""The production kit (deploy/) proven on real processes: Debian's nginx runs the shipped site file
(deploy/nginx/rak.conf — only ports, paths, the upstream address and the certificate substituted)
in front of the application, with a self-signed certificate, and the systemd units are read and
checked against the management commands and the walk-through (docs/OPERATIONS.md).

The application behind nginx is the project's own WSGI handler on a threaded server (as the live
server, without its static/media shortcuts), with the settings production turns on: the proxy's
X-Forwarded-Proto trusted, HTTPS redirect, HSTS, trusted_proxies = 1, x_accel_redirect = /_private/.
Its request threads use the test's own database connection, inside the test's transaction (as
Django's test client does: no connection closed at the end of a request), so nothing is committed
and no table flushed — requests are made one at a time. nginx is installed by bin/test (as chromium
is); without it these tests are skipped, saying so."""

from __future__ import annotations

import configparser
import contextlib
import datetime
import gzip
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from axes.models import AccessAttempt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import get_commands, load_command_class
from django.core.servers.basehttp import ThreadedWSGIServer
from django.db import connections
from django.test import Client, override_settings
from django.test.testcases import QuietWSGIRequestHandler
from django.urls import reverse
from requests.adapters import HTTPAdapter

from tests.factories import customer_with_account
from tests.reading_factories import MeterReadingFactory, dossier_in_round, png_bytes

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SITE = DEPLOY / "nginx" / "rak.conf"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
PORTS = range(8100, 8120)  # this helper's range (docs: each session its own)
CSS = ROOT / "addons" / "rak_portal" / "static" / "rak_portal" / "complaints.css"

SITE_NAME = "agence.rak.ma"  # the shipped site's name: the tests connect to 127.0.0.1 with it (Host, SNI)

needs_nginx = pytest.mark.skipif(NGINX is None, reason="nginx absent: apt-get install nginx (bin/test does it as root)")


# --- rendering the shipped site for the test ---------------------------------------------------


def render_site(*, http_port: int, https_port: int, upstream: str, var_dir: Path, cert: Path, key: Path, logs: Path):
    """The shipped site with test ports, paths and certificate: plain replacements of the values
    written in deploy/nginx/rak.conf, each required to be there (an edit of the shipped file that
    drops one fails here instead of testing something else)."""
    text = SITE.read_text()
    replacements = [
        ("    listen [::]:80;\n", ""),
        ("    listen [::]:443 ssl http2;\n", ""),
        ("    listen [::]:80 default_server;\n", ""),
        ("    listen [::]:443 ssl http2 default_server;\n", ""),
        ("listen 80", f"listen 127.0.0.1:{http_port}"),
        ("listen 443 ssl http2", f"listen 127.0.0.1:{https_port} ssl http2"),
        ("server unix:/run/rak/gunicorn.sock", f"server {upstream}"),
        ("/etc/letsencrypt/live/agence.rak.ma/fullchain.pem", str(cert)),
        ("/etc/letsencrypt/live/agence.rak.ma/privkey.pem", str(key)),
        ("/opt/rak/var", str(var_dir)),
        ("/var/log/nginx/", f"{logs}/"),
    ]
    for old, new in replacements:
        assert old in text, f"{old!r} no longer in {SITE}: update the test's substitutions"
        text = text.replace(old, new)
    return text


def main_conf(prefix: Path, site: Path) -> str:
    """Debian's /etc/nginx/nginx.conf reduced to what a site relies on (its http-level defaults
    kept: TLSv1/1.1 allowed, server ciphers preferred, gzip on — the site must override them),
    with pid, logs and temporary files under the test's prefix."""
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = "".join(
        f"    {name}_temp_path {prefix}/temp/{name};\n" for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""{user}worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log;
events {{ worker_connections 128; }}
http {{
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
    ssl_prefer_server_ciphers on;
    access_log {prefix}/logs/access.log;
    gzip on;
{temp}    include {site};
}}
"""


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "agence.rak.ma")])
    now = datetime.datetime.now(datetime.UTC)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("agence.rak.ma"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def free_ports(count: int) -> list[int]:
    found = []
    for port in PORTS:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        found.append(port)
        if len(found) == count:
            return found
    pytest.fail(f"no {count} free ports in {PORTS}")


def wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"nginx exited ({process.returncode}): {log.read_text() if log.exists() else ''}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"nginx did not listen on {port}")


class SiteAdapter(HTTPAdapter):
    """HTTPS to 127.0.0.1 as a browser asking for the site's name: SNI and certificate check on it."""

    def init_poolmanager(self, *args, **kwargs):
        kwargs.update(server_hostname=SITE_NAME, assert_hostname=SITE_NAME)
        super().init_poolmanager(*args, **kwargs)


def site_session() -> requests.Session:
    session = requests.Session()
    session.mount("https://", SiteAdapter())
    session.headers["Host"] = SITE_NAME
    return session


# --- the stack: app server + nginx ---------------------------------------------------------------

PRODUCTION_LIKE = {
    # what config/settings.py sets in production mode, plus the kit's rak.conf values
    "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
    "SECURE_SSL_REDIRECT": True,
    "SECURE_HSTS_SECONDS": 31536000,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    "SECURE_HSTS_PRELOAD": True,
    "TRUSTED_PROXIES": 1,
    "X_ACCEL_REDIRECT": "/_private/",
    "ALLOWED_HOSTS": [SITE_NAME, "127.0.0.1", "localhost", "testserver"],
}


@dataclass
class Stack:
    https: str
    http_port: int
    app: str  # the application server itself, around nginx (only the tests go there)
    ca: Path
    private: Path
    static: Path
    error_log: Path
    access_log: Path

    def get(self, path: str, **kwargs) -> requests.Response:
        return site_session().get(self.https + path, verify=str(self.ca), allow_redirects=False, timeout=10, **kwargs)


class SharedConnectionServer(ThreadedWSGIServer):
    """Request threads on the test's connection (connections_override), never closing it."""

    def _close_connections(self):
        pass


@contextlib.contextmanager
def nginx_in_front(base: Path, *, upstream: str, var_dir: Path, cert: Path, key: Path) -> Iterator[tuple[int, int]]:
    """Debian's nginx running the shipped site (rendered for ``upstream`` and two free ports of
    this helper's range) until the block ends; yields (http port, https port)."""
    logs, prefix = base / "logs", base / "nginx"
    for directory in (logs, prefix / "logs", prefix / "temp"):
        directory.mkdir(parents=True, exist_ok=True)
    http_port, https_port = free_ports(2)
    site = prefix / "rak-site.conf"
    site.write_text(
        render_site(
            http_port=http_port,
            https_port=https_port,
            upstream=upstream,
            var_dir=var_dir,
            cert=cert,
            key=key,
            logs=logs,
        )
    )
    conf = prefix / "nginx.conf"
    conf.write_text(main_conf(prefix, site))
    with (prefix / "logs" / "stderr.log").open("wb") as stderr:
        nginx = subprocess.Popen(
            [NGINX, "-p", str(prefix), "-e", str(prefix / "logs" / "error.log"), "-c", str(conf), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        wait_for_port(https_port, nginx, prefix / "logs" / "error.log")
        yield http_port, https_port
    finally:
        nginx.send_signal(signal.SIGTERM)
        nginx.wait(timeout=10)


@pytest.fixture(scope="module")
def stack(tmp_path_factory, django_db_setup, django_db_blocker):
    if NGINX is None:
        pytest.skip("nginx absent")
    base = tmp_path_factory.mktemp("deploy")
    var_dir = base / "var"
    for directory in (var_dir / "static" / "rak_portal", var_dir / "private"):
        directory.mkdir(parents=True)
    # collectstatic's output for one file: the hashed copy (far-future cached) and the plain name
    (var_dir / "static" / "rak_portal" / "complaints.0123456789ab.css").write_bytes(CSS.read_bytes())
    (var_dir / "static" / "rak_portal" / "complaints.css").write_bytes(CSS.read_bytes())
    cert, key = self_signed(base)

    overrides = override_settings(**PRODUCTION_LIKE, MEDIA_ROOT=var_dir / "private")
    overrides.enable()
    with django_db_blocker.unblock():
        connection = connections["default"]  # the wrapper itself (django.db.connection is a proxy)
        connection.inc_thread_sharing()
        # the end of a request must not close it (as Django's test client does, but for every
        # thread: the signals are connected again by any test-client request meanwhile)
        connection.close_if_unusable_or_obsolete = lambda: None
        server = SharedConnectionServer(
            ("127.0.0.1", 0),
            QuietWSGIRequestHandler,
            allow_reuse_address=False,
            connections_override={"default": connection},
        )
        server.set_app(WSGIHandler())  # middleware built now, with the settings above
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        app_port = server.server_address[1]
        try:
            with nginx_in_front(base, upstream=f"127.0.0.1:{app_port}", var_dir=var_dir, cert=cert, key=key) as ports:
                yield Stack(
                    https=f"https://127.0.0.1:{ports[1]}",
                    http_port=ports[0],
                    app=f"http://127.0.0.1:{app_port}",
                    ca=cert,
                    private=var_dir / "private",
                    static=var_dir / "static",
                    error_log=base / "logs" / "rak.error.log",
                    access_log=base / "logs" / "rak.access.log",
                )
        finally:
            server.shutdown()
            server.server_close()
            del connection.close_if_unusable_or_obsolete
            connection.dec_thread_sharing()
            overrides.disable()


@pytest.fixture
def private_media(stack, settings):
    """The conftest gives each test its own MEDIA_ROOT; here it is the directory nginx aliases."""
    settings.MEDIA_ROOT = stack.private
    return stack.private


def session_cookie(user) -> dict[str, str]:
    client = Client()
    client.force_login(user)
    return {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}


# --- TLS, redirect, compression, headers --------------------------------------------------------


@needs_nginx
def test_plain_http_is_sent_to_https_for_the_same_address(stack):
    response = requests.get(
        f"http://127.0.0.1:{stack.http_port}/espace/releves/?dossier=12",
        headers={"Host": "agence.rak.ma", "X-Forwarded-Proto": "https"},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 301
    assert response.headers["Location"] == "https://agence.rak.ma/espace/releves/?dossier=12"


@needs_nginx
@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated:DeprecationWarning")
def test_tls_1_2_and_1_3_with_forward_secret_aead_ciphers_and_nothing_older(stack):
    port = int(stack.https.rsplit(":", 1)[1])
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        context = ssl.create_default_context(cafile=str(stack.ca))
        context.minimum_version = context.maximum_version = version
        with (
            socket.create_connection(("127.0.0.1", port)) as raw,
            context.wrap_socket(raw, server_hostname=SITE_NAME) as tls,
        ):
            name = tls.cipher()[0]
            assert tls.version() == version.name.replace("_", ".")
            if version == ssl.TLSVersion.TLSv1_2:
                assert name.startswith("ECDHE-") and ("GCM" in name or "CHACHA20" in name), name
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.check_hostname, old.verify_mode = False, ssl.CERT_NONE
    old.set_ciphers("DEFAULT:@SECLEVEL=0")
    old.minimum_version = old.maximum_version = ssl.TLSVersion.TLSv1_1
    with socket.create_connection(("127.0.0.1", port)) as raw, pytest.raises(ssl.SSLError) as refused:
        old.wrap_socket(raw, server_hostname=SITE_NAME)
    # the server said no (protocol alert), not our own OpenSSL refusing to offer TLS 1.1
    assert "ALERT_PROTOCOL_VERSION" in str(refused.value), refused.value


@needs_nginx
def test_pages_are_compressed_and_keep_the_apps_security_headers_once(stack, db):
    forged_id = "forged-by-the-client-123"
    response = stack.get("/", headers={"Accept-Encoding": "gzip", "X-Request-ID": forged_id}, stream=True)
    raw = response.raw.headers
    assert response.status_code == 200, response.text[:500]
    # the request id is nginx's (32 hex digits), the same in its access log and the app's answer
    request_id = raw["X-Request-ID"]
    assert request_id != forged_id and len(request_id) == 32 and int(request_id, 16) >= 0

    assert raw["Content-Encoding"] == "gzip" and "Accept-Encoding" in raw["Vary"]
    assert b"<html" in gzip.decompress(response.raw.read())
    deadline = time.monotonic() + 5  # nginx logs the request once it has sent the last byte
    while f"rid={request_id}" not in stack.access_log.read_text():
        assert time.monotonic() < deadline, stack.access_log.read_text()[-2000:]
        time.sleep(0.05)
    # the app's own headers pass through nginx, none of them twice (nginx adds none on pages)
    for header in (
        "Strict-Transport-Security",
        "Content-Security-Policy",
        "X-Frame-Options",
        "X-Content-Type-Options",
        "Referrer-Policy",
    ):
        assert len(raw.getlist(header)) == 1, (header, raw.getlist(header))
    assert raw["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert raw["X-Frame-Options"] == "DENY"


@needs_nginx
def test_static_files_from_nginx_compressed_and_hashed_names_cached_for_a_year(stack):
    hashed = stack.get("/static/rak_portal/complaints.0123456789ab.css", headers={"Accept-Encoding": "gzip"})
    assert hashed.status_code == 200 and hashed.headers["Content-Encoding"] == "gzip"
    assert hashed.content == CSS.read_bytes()
    assert hashed.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert hashed.headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" in hashed.headers
    # served by nginx, not the app (which would add its Content-Security-Policy)
    assert "Content-Security-Policy" not in hashed.headers
    plain = stack.get("/static/rak_portal/complaints.css")
    assert plain.status_code == 200 and plain.headers["Cache-Control"] == "public, max-age=300"


@needs_nginx
def test_other_names_get_no_answer_and_no_certificate(stack):
    with pytest.raises(requests.ConnectionError):  # 444: closed without a response
        requests.get(f"http://127.0.0.1:{stack.http_port}/", headers={"Host": "203.0.113.9"}, timeout=10)
    port = int(stack.https.rsplit(":", 1)[1])
    context = ssl.create_default_context(cafile=str(stack.ca))
    context.check_hostname = False
    for name in ("evil.example", None):  # another name, or none (a scanner on the bare address)
        with socket.create_connection(("127.0.0.1", port)) as raw, pytest.raises(ssl.SSLError) as refused:
            context.wrap_socket(raw, server_hostname=name)
        assert "UNRECOGNIZED_NAME" in str(refused.value), refused.value


# --- upload limits -------------------------------------------------------------------------------


def raw_request(stack, head: str, body: bytes = b"") -> tuple[str, str]:
    """One request written by hand (a Content-Length with no body behind it); (head, body) of the answer."""
    port = int(stack.https.rsplit(":", 1)[1])
    context = ssl.create_default_context(cafile=str(stack.ca))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=20) as raw,
        context.wrap_socket(raw, server_hostname=SITE_NAME) as tls,
    ):
        tls.sendall(head.encode() + b"\r\n\r\n")
        if body:
            tls.sendall(body)
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += tls.recv(65536)
        top, _, rest = answer.partition(b"\r\n\r\n")
        length = next(
            (int(line.split(b":")[1]) for line in top.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0
        )
        while len(rest) < length and (chunk := tls.recv(65536)):
            rest += chunk
    return top.decode("latin-1"), rest.decode()


def oversize_post(path: str, length: int, cookie: str = "") -> str:
    return (
        f"POST {path} HTTP/1.1\r\nHost: {SITE_NAME}\r\nConnection: close\r\n{cookie}"
        f"Content-Type: application/octet-stream\r\nContent-Length: {length}"
    )


@needs_nginx
def test_a_body_over_the_apps_limit_is_refused_by_nginx_before_it_is_read(stack, db):
    portal_limit = settings.REQUEST_MAX_BYTES  # [uploads] max_request_bytes
    # No body is sent at all: nginx buffers a body before passing the request on, so only nginx can
    # answer here (from Content-Length) — with the app's page, asked for by a GET without the body.
    head, page = raw_request(stack, oversize_post("/espace/releves/", portal_limit + 1))
    assert head.startswith("HTTP/1.1 413"), head
    assert "Envoi trop volumineux" in page and "20 Mo" in page and "nginx" not in page, page[:500]
    head, page = raw_request(stack, oversize_post("/", portal_limit + 1, cookie="Cookie: rak_language=ar\r\n"))
    assert head.startswith("HTTP/1.1 413") and 'lang="ar"' in page and "حجم الإرسال كبير جدًا" in page
    head, page = raw_request(stack, oversize_post("/api/v1/complaints/", portal_limit + 1))
    assert head.startswith("HTTP/1.1 413") and '"code": "too_large"' in page.replace('":"', '": "'), page
    # the back office takes up to its own limit: 21 Mio reach the app (its CSRF check answers)
    body = b"x" * (portal_limit + 1024 * 1024)
    head, _ = raw_request(stack, oversize_post("/backoffice/login/", len(body)), body)
    assert head.startswith("HTTP/1.1 403"), head
    head, page = raw_request(stack, oversize_post("/backoffice/login/", settings.BACKOFFICE_REQUEST_MAX_BYTES + 1))
    assert head.startswith("HTTP/1.1 413") and "40 Mo" in page
    # the marker is nginx's alone: a client's own is removed on its way to the app
    assert stack.get("/", headers={"X-Rak-Body-Too-Large": "1"}).status_code == 200


def test_the_app_renders_nginxs_413_in_the_visitors_language(client, db):
    response = client.get("/espace/", HTTP_X_RAK_BODY_TOO_LARGE="1", HTTP_COOKIE="rak_language=en", secure=True)
    assert response.status_code == 413 and response.headers["Content-Language"] == "en"
    api = client.get("/api/v1/bills/", HTTP_X_RAK_BODY_TOO_LARGE="1", secure=True)
    assert api.status_code == 413 and api.json()["code"] == "too_large"


@needs_nginx
def test_nginx_limits_are_the_apps_limits():
    site = SITE.read_text()
    assert f"client_max_body_size {settings.REQUEST_MAX_BYTES // 2**20}m;" in site
    assert f"client_max_body_size {settings.BACKOFFICE_REQUEST_MAX_BYTES // 2**20}m;" in site
    sample = configparser.ConfigParser(inline_comment_prefixes=None)
    sample.read(DEPLOY / "rak.conf.production")
    assert sample.getint("uploads", "max_request_bytes") == settings.REQUEST_MAX_BYTES
    assert sample.getint("uploads", "backoffice_max_request_bytes") == settings.BACKOFFICE_REQUEST_MAX_BYTES


# --- private files through X-Accel-Redirect --------------------------------------------------------


@needs_nginx
def test_private_file_is_checked_by_the_app_and_sent_by_nginx(stack, db, private_media):
    customer, user = customer_with_account(phone="+212611000071")
    dossier = dossier_in_round("T01", customer=customer)
    reading = MeterReadingFactory(dossier=dossier, reading_date=datetime.date(2026, 2, 1))
    picture = png_bytes(size=(64, 48))
    reading.photo.save("index.png", SimpleUploadedFile("index.png", picture))
    assert (private_media / reading.photo.name).read_bytes() == picture
    url = reverse("portal:reading_photo", args=[reading.pk])
    owner = session_cookie(user)

    # the app alone: access checked, then an empty answer naming the file for nginx
    direct = requests.get(
        stack.app + url, cookies=owner, headers={"X-Forwarded-Proto": "https"}, allow_redirects=False, timeout=10
    )
    assert direct.status_code == 200 and direct.content == b""
    assert direct.headers["X-Accel-Redirect"] == f"/_private/{reading.photo.name}"

    # through nginx: the file itself, with the private-file headers, the internal path hidden
    served = stack.get(url, cookies=owner)
    assert served.status_code == 200 and served.content == picture
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["Content-Disposition"].startswith("inline; filename=")
    assert "X-Accel-Redirect" not in served.headers
    for header, value in (
        ("X-Content-Type-Options", "nosniff"),
        ("Cache-Control", "private, no-store"),
        ("Content-Security-Policy", "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"),
        ("Strict-Transport-Security", "max-age=31536000; includeSubDomains; preload"),
    ):
        assert served.raw.headers.getlist(header) == [value], (header, served.raw.headers.getlist(header))

    # refused without access: another customer (404), nobody (to the login page), the internal path
    _, intruder = customer_with_account(phone="+212611000072")
    assert stack.get(url, cookies=session_cookie(intruder)).status_code == 404
    anonymous = stack.get(url)
    assert anonymous.status_code == 302 and picture not in anonymous.content
    assert stack.get(f"/_private/{reading.photo.name}").status_code == 404
    # a name that is not plain ASCII (older uploads, imported files) reaches nginx escaped and is found
    odd = "readings/reçu de relevé 1.png"
    (private_media / odd).write_bytes(picture)
    reading.photo.name = odd
    reading.save(update_fields=["photo"])
    odd_served = stack.get(url, cookies=owner)
    assert odd_served.status_code == 200 and odd_served.content == picture, odd_served.status_code
    # a file gone from the disk: the app's 404, not nginx's
    (private_media / reading.photo.name).unlink()
    gone = stack.get(url, cookies=owner)
    assert gone.status_code == 404 and "nginx" not in gone.text


def test_x_accel_only_for_files_of_the_local_private_directory(settings, tmp_path):
    """Any other storage (another directory, an S3 bucket) keeps the app's own way of sending."""
    from types import SimpleNamespace

    from django.core.files.base import ContentFile
    from django.core.files.storage import FileSystemStorage

    from rak_base.x_accel import x_accel_response

    local = FileSystemStorage(location=settings.MEDIA_ROOT)
    name = local.save("documents/reçu 1.pdf", ContentFile(b"%PDF-1.4"))
    elsewhere = FileSystemStorage(location=tmp_path / "elsewhere")
    elsewhere.save(name, ContentFile(b"%PDF-1.4"))
    options = {"content_type": "application/pdf", "as_attachment": True, "filename": "reçu.pdf"}

    settings.X_ACCEL_REDIRECT = ""
    assert x_accel_response(SimpleNamespace(storage=local, name=name), **options) is None
    settings.X_ACCEL_REDIRECT = "/_private/"
    assert x_accel_response(SimpleNamespace(storage=elsewhere, name=name), **options) is None
    response = x_accel_response(SimpleNamespace(storage=local, name=name), **options)
    assert response.content == b"" and response["Content-Type"] == "application/pdf"
    assert response["X-Accel-Redirect"] == "/_private/documents/re%C3%A7u%201.pdf"  # nginx decodes it
    assert response["Content-Disposition"].startswith("attachment; filename*=utf-8''re%C3%A7u.pdf")


# --- client address ------------------------------------------------------------------------------


def failed_login(session: requests.Session, base: str, *, verify, headers: dict[str, str], username: str) -> None:
    page = session.get(base + reverse("portal:login"), headers=headers, verify=verify, timeout=10)
    assert page.status_code == 200, page.status_code
    token = session.cookies[settings.CSRF_COOKIE_NAME]
    host = headers.get("Host") or session.headers["Host"]
    origin = {"Origin": f"https://{host}", "Referer": f"https://{host}/"}
    answer = session.post(
        base + reverse("portal:login"),
        data={"username": username, "password": "mauvais", "csrfmiddlewaretoken": token},
        headers={**headers, **origin},
        verify=verify,
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code in (200, 401), answer.status_code


@needs_nginx
def test_a_forged_x_forwarded_for_is_not_the_client_address(stack, db):
    customer, _ = customer_with_account(phone="+212611000073")
    forged = {"X-Forwarded-For": "203.0.113.66", "X-Real-IP": "203.0.113.67", "X-Forwarded-Host": "evil.example"}
    failed_login(site_session(), stack.https, verify=str(stack.ca), headers=forged, username=customer.code)
    # django-axes records the address nginx saw (the test's own), not the one the client wrote
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["127.0.0.1"]
    # the operator's probe from the server itself reaches /health/ready's figures through nginx
    # (docs/OPERATIONS.md: curl --resolve agence.rak.ma:443:127.0.0.1): nginx passes 127.0.0.1 on
    health = stack.get("/health/ready", headers={"X-Forwarded-For": "203.0.113.66"})
    assert health.status_code in (200, 503) and "checks" in health.json(), health.text
    # the same request straight to the app (which production never exposes) would be believed:
    # the check above is not vacuous
    AccessAttempt.objects.all().delete()
    direct = {**forged, "X-Forwarded-Proto": "https", "Host": "127.0.0.1"}
    failed_login(requests.Session(), stack.app, verify=True, headers=direct, username=customer.code)
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["203.0.113.66"]


# --- gunicorn from the shipped config, behind nginx on a unix socket --------------------------------


SOCKET_ACTIVATE = shutil.which("systemd-socket-activate")


def children(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (gunicorn's workers), from /proc."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


@needs_nginx
def test_gunicorn_behind_nginx_on_a_unix_socket_reloads_on_hup_without_refusing_a_request(tmp_path, db):
    database = connections["default"].settings_dict
    with connections["default"].cursor() as cursor:  # the test database, whatever the settings say by now
        cursor.execute("SELECT current_database()")
        name = cursor.fetchone()[0]
    url = (
        f"postgres://{database['USER']}:{database['PASSWORD']}@{database['HOST'] or '127.0.0.1'}:"
        f"{database['PORT'] or 5432}/{name}"
    )
    sock = tmp_path / "gunicorn.sock"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "DATABASE_URL": url,
        "RAK_WEB_WORKERS": "1",
        "RAK_WEB_THREADS": "2",
        "RAK_SERVER_ALLOWED_HOSTS": SITE_NAME,
    }
    command = [str(Path(sys.executable).parent / "gunicorn"), "--config", str(DEPLOY / "gunicorn.conf.py")]
    command.append("config.wsgi:application")
    if SOCKET_ACTIVATE:
        # as rak-web.socket does: systemd holds the socket and hands it over (LISTEN_FDS); gunicorn's
        # own bind (/run/rak/gunicorn.sock, absent here) must then be left alone
        passed = [f"--setenv={name}={value}" for name, value in env.items() if "\n" not in value]  # it passes none
        command = [SOCKET_ACTIVATE, "--listen", str(sock), *passed, *command]
    else:
        env["RAK_BIND"] = f"unix:{sock}"
    var_dir = tmp_path / "var"
    (var_dir / "static").mkdir(parents=True)
    (var_dir / "private").mkdir()
    cert, key = self_signed(tmp_path)
    with (tmp_path / "gunicorn.log").open("wb") as log:
        gunicorn = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
        )
    try:
        with nginx_in_front(tmp_path, upstream=f"unix:{sock}", var_dir=var_dir, cert=cert, key=key) as ports:
            page = f"https://127.0.0.1:{ports[1]}" + reverse("portal:login")

            def get() -> int:
                return site_session().get(page, verify=str(cert), timeout=30).status_code

            deadline = time.monotonic() + 60
            while get() != 200:  # 502 until gunicorn's worker has booted
                assert time.monotonic() < deadline and gunicorn.poll() is None, (tmp_path / "gunicorn.log").read_text()
                time.sleep(0.2)
            before = children(gunicorn.pid)
            statuses: list[int] = []
            stop = threading.Event()

            def keep_asking() -> None:
                while not stop.is_set():
                    statuses.append(get())
                    time.sleep(0.05)  # a steady client, not a load test: the new worker boots meanwhile

            asking = threading.Thread(target=keep_asking)
            asking.start()
            gunicorn.send_signal(signal.SIGHUP)  # systemctl reload rak-web
            try:
                while (after := children(gunicorn.pid)) & before or not after:
                    assert time.monotonic() < deadline + 60, (tmp_path / "gunicorn.log").read_text()
                    time.sleep(0.1)
            finally:
                stop.set()
                asking.join()
            # the old worker replaced by a new one (the new code), every request answered meanwhile
            assert before and after and not before & after
            assert statuses and set(statuses) == {200}, statuses
            assert get() == 200
    finally:
        gunicorn.send_signal(signal.SIGTERM)  # systemctl stop: graceful
        assert gunicorn.wait(timeout=45) == 0


# --- the shipped file as is ----------------------------------------------------------------------


@needs_nginx
def test_nginx_accepts_the_shipped_site_with_only_the_certificate_and_logs_substituted(tmp_path):
    cert, key = self_signed(tmp_path)
    site = SITE.read_text()
    for old, new in (
        ("/etc/letsencrypt/live/agence.rak.ma/fullchain.pem", str(cert)),
        ("/etc/letsencrypt/live/agence.rak.ma/privkey.pem", str(key)),
        ("/var/log/nginx/", f"{tmp_path}/"),
    ):
        site = site.replace(old, new)
    (tmp_path / "logs").mkdir()
    (tmp_path / "temp").mkdir()
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(main_conf(tmp_path, tmp_path / "site.conf"))
    brotli = Path("/usr/lib/nginx/modules/ngx_http_brotli_filter_module.so")
    if brotli.exists():  # Debian's optional brotli modules installed: the snippet must load too
        head = "".join(
            f"load_module {brotli.parent}/ngx_http_brotli_{part}_module.so;\n" for part in ("filter", "static")
        )
        (tmp_path / "nginx.conf").write_text(head + (tmp_path / "nginx.conf").read_text())
        snippet = str(DEPLOY / "nginx" / "rak-brotli.conf")
        assert "# include /etc/nginx/snippets/rak-brotli.conf;" in site
        (tmp_path / "site.conf").write_text(
            site.replace("# include /etc/nginx/snippets/rak-brotli.conf;", f"include {snippet};")
        )
    result = subprocess.run(
        [
            NGINX,
            "-t",
            "-p",
            str(tmp_path),
            "-e",
            str(tmp_path / "logs" / "error.log"),
            "-c",
            str(tmp_path / "nginx.conf"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


# --- the sample production rak.conf ----------------------------------------------------------------


PRODUCTION_CHECK = """
import os, sys
sys.path.insert(0, os.getcwd())
import django
from django.core.exceptions import ImproperlyConfigured

def refused(**env):
    os.environ.update(env)
    try:
        import config.settings  # noqa: F401
    except ImproperlyConfigured as exc:
        return str(exc)
    finally:
        for name in env:
            del os.environ[name]
    sys.exit(f"accepted: {env}")

print("BAD PREFIX:", refused(RAK_SERVER_X_ACCEL_REDIRECT="_private"))
print("AS SHIPPED:", refused())
os.environ.update(FILLED)
django.setup()
from django.core.management import call_command
call_command("check", "--deploy", "--fail-level", "WARNING")
print("DEPLOY CHECK OK")
"""


def test_production_sample_is_refused_until_filled_in_then_passes_check_deploy():
    # a server's environment: none of the test run's (a browser test's fixture sets DJANGO_ALLOW_ASYNC_UNSAFE)
    leaked = {"DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAK_") and k not in leaked}
    env.update(RAK_CONF=str(DEPLOY / "rak.conf.production"), DJANGO_SETTINGS_MODULE="config.settings")
    filled = {
        "RAK_SERVER_SECRET_KEY": secrets.token_urlsafe(64),
        "RAK_COMPANY_ADDRESS": "Avenue Mohammed V, 14000 Kénitra",
        "RAK_COMPANY_PHONE": "05 37 37 00 00",
        "RAK_COMPANY_ICE": "001234567000089",
        "RAK_COMPANY_IF": "12345678",
        "RAK_COMPANY_TP": "23456789",
    }
    result = subprocess.run(
        [sys.executable, "-c", PRODUCTION_CHECK.replace("FILLED", repr(filled))],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines() if line.startswith(("BAD", "AS ")))
    assert "[server] x_accel_redirect invalide" in lines["BAD PREFIX"]
    for key in ("[server] secret_key", "[company] address", "[company] phone", "[company] ice", "[company] tp"):
        assert key in lines["AS SHIPPED"], (key, lines["AS SHIPPED"])
    assert "DEPLOY CHECK OK" in result.stdout


# --- systemd units -------------------------------------------------------------------------------


def unit(name: str) -> dict[str, dict[str, str]]:
    """A unit file's sections and keys, as systemd reads them: comments skipped, a key given on
    several lines (Environment=) accumulated, space-separated."""
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    for line in (DEPLOY / "systemd" / name).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, _, value = line.partition("=")
        current[key] = f"{current[key]} {value}" if key in current else value
    return sections


SERVICES = ("rak-web.service", "rak-worker.service", "rak-scheduler.service")


def test_units_run_existing_commands_as_rak_from_opt_rak_with_the_production_conf():
    commands = get_commands()
    operations = (ROOT / "docs" / "OPERATIONS.md").read_text()
    for name in SERVICES:
        service = unit(name)["Service"]
        assert service["User"] == "rak" and service["Group"] == "rak", name
        assert service["WorkingDirectory"] == "/opt/rak", name
        assert "RAK_CONF=/etc/rak/rak.conf" in service["Environment"], name
        assert service["Restart"] == "on-failure", name
        assert service["KillSignal"] == "SIGTERM" and int(service["TimeoutStopSec"]) >= 30, name
        assert service["ProtectSystem"] == "strict" and service["ReadWritePaths"] == "/opt/rak/var", name
        for option in ("NoNewPrivileges", "PrivateTmp", "ProtectHome", "PrivateDevices"):
            assert service[option] == "yes", (name, option)
        argv = service["ExecStart"].split()
        assert argv[0].startswith("/opt/rak/.venv/bin/"), name
        if name == "rak-web.service":
            assert argv[1:] == ["--config", "/opt/rak/deploy/gunicorn.conf.py", "config.wsgi:application"]
        else:
            assert argv[1] == "manage.py" and argv[2] in commands, name
        if name != "rak-web.service":
            command = load_command_class(commands[argv[2]], argv[2])
            command.create_parser("manage.py", argv[2]).parse_args(argv[3:])  # the options exist
        assert f"deploy/systemd/{name}" in operations, f"{name} missing from docs/OPERATIONS.md"
    assert unit("rak-worker.service")["Service"]["ExecStart"].endswith("rak_worker --no-scheduler")
    assert unit("rak-scheduler.service")["Service"]["ExecStart"].endswith("rak_worker --scheduler-only")
    socket_unit = unit("rak-web.socket")["Socket"]
    assert socket_unit["ListenStream"] == "/run/rak/gunicorn.sock"
    assert socket_unit["SocketUser"] == "www-data" and socket_unit["SocketMode"] == "0600"
    assert "unix:/run/rak/gunicorn.sock" in SITE.read_text()


def test_gunicorn_config_is_valid_and_graceful_within_the_units_stop_timeout():
    from gunicorn.config import Config

    namespace: dict = {}
    exec(compile((DEPLOY / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), namespace)  # noqa: S102
    config = Config()
    for name, value in namespace.items():
        if not name.startswith("_") and not callable(value) and not isinstance(value, type(os)):
            config.set(name, value)  # an unknown setting or a wrong type raises here
    assert config.worker_class_str == "gthread" and config.threads >= 2
    assert config.preload_app is False  # HUP (systemctl reload) loads the new code
    assert config.bind == ["unix:/run/rak/gunicorn.sock"]  # by hand; systemd passes its socket
    stop = int(unit("rak-web.service")["Service"]["TimeoutStopSec"])
    assert config.graceful_timeout < stop
    assert unit("rak-web.service")["Service"]["ExecReload"] == "/bin/kill -s HUP $MAINPID"


SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze absent")
def test_systemd_analyze_finds_no_syntax_error(tmp_path):
    result = subprocess.run(
        [
            SYSTEMD_ANALYZE,
            "verify",
            "--man=no",
            *(str(DEPLOY / "systemd" / name) for name in (*SERVICES, "rak-web.socket")),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    # On a machine without /opt/rak, rak's user or systemd as PID 1 verify also reports what is not
    # installed here; what must never appear is a unit-file syntax problem.
    for line in result.stderr.splitlines():
        assert "Unknown key" not in line and "Unknown section" not in line and "Failed to parse" not in line, line
