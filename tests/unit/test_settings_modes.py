"""Start-up refuses a bad configuration with a message naming the key (settings run in a
subprocess, as the real server would load them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "Kx7-pQ2_vR9mZ4wL8nB3tY6hJ1cF5dG0sA-eU7iO2kN9qW4zX8b"  # 50+ characters, as production wants


def settings_print(printed: str, **env: str) -> subprocess.CompletedProcess:
    """Load the settings in a new Python with only ``env`` configured and print ``printed`` (an
    expression on ``settings``)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("RAK_") and k != "DATABASE_URL"}
    environ.update({"RAK_CONF": "/nonexistent/rak.conf", "DJANGO_SETTINGS_MODULE": "config.settings", **env})
    code = f"import django; django.setup(); from django.conf import settings; print({printed})"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60
    )


def load_settings(**env: str) -> subprocess.CompletedProcess:
    return settings_print("settings.RAK_MODE, settings.SMS_BACKEND", **env)


def test_missing_secret_key_stops_startup_naming_the_key():
    result = load_settings()
    assert result.returncode != 0
    assert "[server] secret_key manquant" in result.stderr


def test_production_refuses_development_backends():
    result = load_settings(RAK_SERVER_MODE="production", RAK_SERVER_SECRET_KEY=GOOD_KEY, RAK_SERVER_DEBUG="false")
    assert result.returncode != 0
    assert "[sms] backend doit être http en production" in result.stderr
    assert "[mail] backend doit être smtp en production" in result.stderr


def test_production_with_real_backends_starts():
    result = load_settings(
        RAK_SERVER_MODE="production",
        RAK_SERVER_SECRET_KEY=GOOD_KEY,
        RAK_SERVER_DEBUG="false",
        RAK_SERVER_SITE_URL="https://agence.rak.ma",
        RAK_SERVER_ALLOWED_HOSTS="agence.rak.ma",
        RAK_SMS_BACKEND="http",
        RAK_SMS_HTTP_URL="https://sms.example.ma/send",
        RAK_MAIL_BACKEND="smtp",
        DATABASE_URL="postgres://rak@db.example.ma:5432/rak",
        # the régie's real identity: production refuses the demo ones (tests/unit/test_settings_company.py)
        RAK_COMPANY_ADDRESS="Avenue Mohammed V, BP 237, 14000 Kénitra",
        RAK_COMPANY_PHONE="05 37 37 00 00",
        RAK_COMPANY_ICE="001234567000089",
        RAK_COMPANY_IF="40123456",
        RAK_COMPANY_TP="20145678",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["production", "http"]


def test_malformed_value_names_the_key():
    result = load_settings(RAK_SERVER_SECRET_KEY=GOOD_KEY, RAK_OUTBOX_MAX_ATTEMPTS="beaucoup")
    assert result.returncode != 0
    assert "[outbox] max_attempts invalide" in result.stderr


def test_http_sms_backend_needs_its_url():
    result = load_settings(RAK_SERVER_SECRET_KEY=GOOD_KEY, RAK_SMS_BACKEND="http")
    assert result.returncode != 0
    assert "[sms] http_url manquant" in result.stderr


def load_database(**env: str) -> subprocess.CompletedProcess:
    db = "settings.DATABASES['default']"
    return settings_print(f"{db}['ENGINE'], {db}['HOST'], {db}['NAME']", **env)


def test_sqlite_url_is_refused_naming_the_key():
    result = load_database(RAK_SERVER_SECRET_KEY=GOOD_KEY, DATABASE_URL="sqlite:///var/rak.sqlite3")
    assert result.returncode != 0
    assert "[database] url invalide" in result.stderr
    assert "DATABASE_URL" in result.stderr
    assert "SQLite n'est plus pris en charge" in result.stderr


def test_no_database_url_means_the_embedded_postgresql_under_var():
    result = load_database(RAK_SERVER_SECRET_KEY=GOOD_KEY)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["rak_base.postgresql", str(ROOT / "var" / "pgdata"), "rak"]


def test_embedded_dir_is_configurable(tmp_path):
    result = load_database(RAK_SERVER_SECRET_KEY=GOOD_KEY, RAK_DATABASE_EMBEDDED_DIR=str(tmp_path / "pg"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[1] == str(tmp_path / "pg")


def test_external_database_url_is_used_as_given():
    result = load_database(RAK_SERVER_SECRET_KEY=GOOD_KEY, DATABASE_URL="postgres://rak@db.example.ma:5432/rak")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["rak_base.postgresql", "db.example.ma", "rak"]


def test_production_refuses_the_embedded_database():
    result = load_database(RAK_SERVER_MODE="production", RAK_SERVER_SECRET_KEY=GOOD_KEY, RAK_SERVER_DEBUG="false")
    assert result.returncode != 0
    assert "[database] url manquant: le PostgreSQL embarqué est réservé au développement" in result.stderr


def _database_options(**env: str) -> dict:
    result = settings_print("__import__('json').dumps(settings.DATABASES['default']['OPTIONS'])", **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_prepared_statements_on_by_default_and_off_for_a_pooler_without_them():
    """Server-side binding and psycopg's prepared statements (issue 15, the partitioned bill pages);
    ``[database] prepared_statements = false`` for a transaction-mode pooler that cannot keep them."""
    key = {"RAK_SERVER_SECRET_KEY": GOOD_KEY}
    options = _database_options(**key)
    assert options["server_side_binding"] is True
    assert options["prepare_threshold"] == 5
    options = _database_options(RAK_DATABASE_PREPARED_STATEMENTS="false", **key)
    assert "server_side_binding" not in options
    assert "prepare_threshold" not in options
