"""deploy/backup: rak-backup then rak-restore-drill as an operator runs them (subprocesses, the
machine's pg_dump/pg_restore of the server's version), on a real database with customers, bills,
payments and private files; then a backup tampered with (a ledger row gone from a dump that is
otherwise sound, a private file altered inside the archive) must fail the drill."""

from __future__ import annotations

import configparser
import datetime
import hashlib
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import threading
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.db.models import Sum

from rak_billing.models import LedgerEntry
from rak_customer.models import Customer
from tests.billing_factories import bill_create, bill_history, bill_pay
from tests.factories import DossierFactory

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "deploy" / "backup"


def load_backup_module():
    spec = importlib.util.spec_from_file_location("rak_backup_script", SCRIPTS / "backup.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


backup_module = load_backup_module()


def database_url() -> str:
    """The test database as a postgres:// URL (a unix socket directory as host, percent-encoded)."""
    params = connection.settings_dict
    user = quote(params["USER"] or "postgres", safe="")
    password = f":{quote(params['PASSWORD'], safe='')}" if params.get("PASSWORD") else ""
    host = quote(params["HOST"] or "127.0.0.1", safe="")
    port = f":{params['PORT']}" if params.get("PORT") else ""
    return f"postgres://{user}{password}@{host}{port}/{params['NAME']}"


def script_env() -> dict[str, str]:
    return {
        **{key: value for key, value in os.environ.items() if not key.startswith("RAK_")},
        "DATABASE_URL": database_url(),
        "RAK_CONF": "/nonexistent/rak.conf",  # not the developer's rak.conf: DATABASE_URL only
        "RAK_PYTHON": sys.executable,
    }


def run(script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own scripts
        [str(SCRIPTS / script), *args], env=script_env(), capture_output=True, text=True, timeout=180, check=False
    )


def start(script: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 - our own scripts
        [str(SCRIPTS / script), *args], env=script_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(process: subprocess.Popen) -> subprocess.CompletedProcess:
    stdout, stderr = process.communicate(timeout=240)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ConcurrentLedgerWrites:
    """A thread inserting ledger credits of -1.00 (label « concurrent »), each in its own
    transaction, from before the block starts until it ends."""

    def __init__(self, url: str) -> None:
        self.url, self.count, self.stop = url, 0, threading.Event()
        self.started = threading.Event()
        self.thread = threading.Thread(target=self.write, daemon=True)

    def write(self) -> None:
        with psycopg.connect(backup_module.libpq_url(self.url), autocommit=True) as conn:
            while not self.stop.is_set():
                conn.execute(
                    "INSERT INTO rak_billing_ledgerentry (customer_id, dossier_id, kind, entry_date, amount, label,"
                    " created_at) SELECT customer_id, dossier_id, 'CREDIT', entry_date, -1.00, 'concurrent', now()"
                    " FROM rak_billing_ledgerentry WHERE kind = 'BILL' ORDER BY id LIMIT 1"
                )
                self.count += 1
                if self.count >= 5:
                    self.started.set()
                time.sleep(0.005)

    def __enter__(self) -> ConcurrentLedgerWrites:
        self.thread.start()
        assert self.started.wait(30)
        return self

    def __exit__(self, *exc) -> None:
        time.sleep(0.2)
        self.stop.set()
        self.thread.join(30)


@pytest.fixture
def dataset(settings):
    """Three customers with paid, unpaid and partly paid bills, and two private files."""
    for months, unpaid, partial in ((3, True, False), (2, False, True), (1, False, False)):
        dossier = DossierFactory()
        bill_history(dossier, months=months, last_period=datetime.date(2026, 3, 1))
        if unpaid:
            bill_create(dossier=dossier, period_start=datetime.date(2026, 4, 1), consumption=40)
        if partial:
            bill = bill_create(dossier=dossier, period_start=datetime.date(2026, 4, 1), consumption=90)
            bill_pay(bill, "25.50")
    files = {
        "requests/2026/04/attestation.pdf": b"%PDF-1.7 attestation " * 50,
        "bills/TF0000000001.pdf": b"%PDF-1.7 facture " * 80,
    }
    for name, content in files.items():
        assert default_storage.save(name, ContentFile(content)) == name
    return {"private": Path(settings.MEDIA_ROOT), "files": files}


@pytest.mark.django_db(transaction=True)
def test_backup_then_restore_drill_passes_and_a_tampered_backup_fails(dataset, tmp_path):
    backups = tmp_path / "backups"
    older = ("2020-10-31T023000Z", "2020-11-29T023000Z", "2020-11-30T023000Z")
    for name in (*older, ".2020-11-30T033000Z.partial", "notes"):  # earlier backups, a crashed one, a folder
        (backups / name).mkdir(parents=True)
        (backups / name / "manifest.json").write_text("{}", encoding="utf-8")
    # The portal keeps writing during the backup: credits inserted one per transaction all along.
    # The manifest's counts are read in the dump's snapshot, so the drill must still find them equal.
    with ConcurrentLedgerWrites(database_url()) as writes:
        made = run(
            "rak-backup",
            "--dir",
            str(backups),
            "--private-dir",
            str(dataset["private"]),
            "--keep-daily",
            "2",
            "--keep-monthly",
            "2",
        )
    assert made.returncode == 0, made.stderr
    folder = Path(made.stdout.strip().splitlines()[-1])
    assert folder.parent == backups
    # Retention: the newest of each of the last 2 days and 2 months; what is not a backup stays.
    assert sorted(path.name for path in backups.iterdir()) == sorted(
        [".2020-11-30T033000Z.partial", "2020-11-30T023000Z", folder.name, "notes"]
    )
    assert sorted(path.name for path in folder.iterdir()) == [
        "db.dump",
        "manifest.json",
        "private.sha256",
        "private.tar",
    ]

    # The manifest describes what was dumped: the ORM's own figures, the files' checksums.
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["tables"]["public.rak_customer_customer"] == Customer.objects.count() == 3
    ledger_rows = sum(count for table, count in manifest["tables"].items() if "rak_billing_ledgerentry" in table)
    assert ledger_rows == manifest["ledger"]["entries"]
    # Some credits were written before the snapshot, some after it (while the backup ran).
    before = LedgerEntry.objects.exclude(label="concurrent").count()
    assert before < manifest["ledger"]["entries"] < before + writes.count
    in_snapshot = manifest["ledger"]["entries"] - before
    assert Decimal(manifest["ledger"]["balance"]) == (
        LedgerEntry.objects.exclude(label="concurrent").aggregate(total=Sum("amount"))["total"] - in_snapshot
    )
    LedgerEntry.objects.filter(label="concurrent").delete()
    # the data set's own balance (an unpaid bill and a partly paid one), without the -1.00 credits the
    # snapshot caught — how many depends on the machine's speed (hundreds under load)
    assert Decimal(manifest["ledger"]["balance"]) + in_snapshot > 0
    assert manifest["ledger"]["customers"] == 3
    sums = (folder / "private.sha256").read_text(encoding="utf-8")
    for name, content in dataset["files"].items():
        assert f"{sha256(content)}  {name}\n" in sums
    assert manifest["private"]["files"] == 2

    # Tampered: the dump of a database that lost one ledger entry (a sound dump, its checksum in the
    # manifest updated, as a silently broken backup job would leave it), and an altered private file.
    tampered = tmp_path / "tampered"
    shutil.copytree(folder, tampered)
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM rak_billing_ledgerentry WHERE id = (SELECT min(id) FROM rak_billing_ledgerentry"
            " WHERE kind = 'PAYMENT')"
        )
        assert cursor.rowcount == 1
    settings = backup_module.Settings(
        database_url=database_url(), backup_dir=tmp_path, private_dir=None, keep_daily=1, keep_monthly=1, pg_bin=""
    )
    pg_dump = backup_module.client_bin(settings, connection.pg_version // 10000) / "pg_dump"
    subprocess.run(  # noqa: S603 - the machine's pg_dump
        [str(pg_dump), "-Fc", "-f", str(tampered / "db.dump"), "-d", backup_module.libpq_url(database_url())],
        check=True,
        timeout=120,
    )
    altered = "bills/TF0000000001.pdf"
    with tarfile.open(folder / "private.tar") as original, tarfile.open(tampered / "private.tar", "w") as copy:
        for member in original.getmembers():
            data = original.extractfile(member).read()
            if member.name == altered:
                data = data.replace(b"facture", b"FACTURE", 1)
            copy.addfile(member, io.BytesIO(data))
    manifest["dump"] = backup_module.file_entry(tampered / "db.dump")
    manifest["private"]["archive"] = backup_module.file_entry(tampered / "private.tar")
    (tampered / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")

    # Both drills at once: each mostly waits on the server (the restore's DDL, the checkpoint of
    # DROP DATABASE), so together they take about the time of one.
    good = start("rak-restore-drill", "--dir", str(backups))
    bad = start("rak-restore-drill", "--backup", str(tampered))
    drilled, failed = finish(good), finish(bad)
    assert drilled.returncode == 0, drilled.stdout + drilled.stderr
    assert f"Restore drill of {folder.name}" in drilled.stdout
    assert ": PASSED" in drilled.stdout
    assert "FAIL" not in drilled.stdout
    assert "every count matches the manifest" in drilled.stdout
    assert "private files: 2 extracted, every SHA-256 matches" in drilled.stdout
    scratch = re.search(r"scratch database (rak_drill_\w+) dropped", drilled.stdout).group(1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_database WHERE datname = %s", [scratch])
        assert cursor.fetchone()[0] == 0

    assert failed.returncode == 1, failed.stdout + failed.stderr
    report = failed.stdout
    assert ": FAILED" in report
    assert re.search(r"FAIL public\.rak_billing_ledgerentry\w*: \d+ in the manifest, \d+ restored", report)
    assert re.search(rf"FAIL ledger entries: \d+ \(manifest: {manifest['ledger']['entries']}\)", report)
    assert "FAIL ledger balance:" in report
    assert "FAIL ledger customer_balances_sha256:" in report
    assert f"FAIL private file altered (SHA-256 differs): {altered}" in report
    assert "requests/2026/04/attestation.pdf" not in report  # the intact file is not blamed


def test_retention_keeps_the_newest_backup_of_recent_days_and_months():
    names = [
        "2026-01-15T023000Z",
        "2026-01-31T023000Z",
        "2026-02-27T023000Z",
        "2026-02-28T023000Z",
        "2026-03-01T023000Z",
        "2026-03-01T120000Z",  # a manual backup the same day: the newer of the two counts for the day
        "2026-03-02T023000Z",
    ]
    keep = backup_module.backups_to_keep(names, keep_daily=2, keep_monthly=2)
    assert keep == {"2026-03-01T120000Z", "2026-03-02T023000Z", "2026-02-28T023000Z"}
    keep = backup_module.backups_to_keep(names, keep_daily=1, keep_monthly=3)
    assert keep == {"2026-03-02T023000Z", "2026-02-28T023000Z", "2026-01-31T023000Z"}


def systemd_unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string((ROOT / "deploy" / "systemd" / name).read_text(encoding="utf-8"))
    return parser


UNITS = ("rak-backup.service", "rak-backup.timer", "rak-restore-drill.service", "rak-restore-drill.timer")


def test_systemd_units_run_the_scripts_nightly_and_monthly():
    operations = (ROOT / "docs" / "OPERATIONS.md").read_text(encoding="utf-8")
    for name, script in (("rak-backup", "rak-backup"), ("rak-restore-drill", "rak-restore-drill")):
        service = systemd_unit(f"{name}.service")["Service"]
        assert service["Type"] == "oneshot" and service["User"] == "rak"
        assert "RAK_CONF=/etc/rak/rak.conf" in service["Environment"]
        assert "RAK_BACKUP_DIR=/var/backups/rak" in service["Environment"]
        assert service["ExecStart"] == f"/opt/rak/deploy/backup/{script}"
        assert os.access(SCRIPTS / script, os.X_OK)
        assert systemd_unit(f"{name}.timer")["Timer"]["Unit"] == f"{name}.service"
    assert systemd_unit("rak-backup.service")["Service"]["ReadWritePaths"] == "/var/backups/rak"
    assert systemd_unit("rak-backup.timer")["Timer"]["OnCalendar"] == "*-*-* 02:30:00"
    assert systemd_unit("rak-backup.timer")["Timer"]["Persistent"] == "true"
    assert systemd_unit("rak-restore-drill.timer")["Timer"]["OnCalendar"] == "Sun *-*-01..07 05:00:00"
    for name in UNITS:
        assert name.split(".")[0] in operations


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze absent")
def test_systemd_analyze_finds_no_syntax_error_in_the_backup_units():
    result = subprocess.run(  # noqa: S603
        [shutil.which("systemd-analyze"), "verify", "--man=no", *(str(ROOT / "deploy" / "systemd" / n) for n in UNITS)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # Here /opt/rak is not installed (« not executable »); a syntax problem must never appear.
    for line in result.stderr.splitlines():
        assert "Unknown key" not in line and "Unknown section" not in line and "Failed to parse" not in line, line
