"""Production start-up refuses what would leave the site open (issue 9 §1): ``allowed_hosts = *``,
an ``http://`` site URL; and ``manage.py check --deploy`` has nothing to say in production mode
(settings loaded in a subprocess, as the real server loads them)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "RAK_SERVER_MODE": "production",
    "RAK_SERVER_SECRET_KEY": "Kx7-pQ2_vR9mZ4wL8nB3tY6hJ1cF5dG0sA-eU7iO2kN9qW4zX8b",
    "RAK_SERVER_DEBUG": "false",
    "RAK_SERVER_SITE_URL": "https://agence.rak.ma",
    "RAK_SERVER_ALLOWED_HOSTS": "agence.rak.ma",
    "RAK_SMS_BACKEND": "http",
    "RAK_SMS_HTTP_URL": "https://sms.example.ma/send",
    "RAK_MAIL_BACKEND": "smtp",
    "DATABASE_URL": "postgres://rak@db.example.ma:5432/rak",
    # the régie's real identity: production refuses the demo ones of rak.conf.sample
    "RAK_COMPANY_ADDRESS": "Avenue Mohammed V, BP 237, 14000 Kénitra",
    "RAK_COMPANY_PHONE": "05 37 37 00 00",
    "RAK_COMPANY_ICE": "001234567000089",
    "RAK_COMPANY_IF": "40123456",
    "RAK_COMPANY_TP": "20145678",
}


def run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    # a server's environment: none of the test run's settings (the browser tests' fixture sets
    # DJANGO_ALLOW_ASYNC_UNSAFE in this process, which check --deploy rightly reports)
    leaked = {"DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environ = {k: v for k, v in os.environ.items() if not k.startswith("RAK_") and k not in leaked}
    environ.update({"RAK_CONF": "/nonexistent/rak.conf", "DJANGO_SETTINGS_MODULE": "config.settings"})
    environ.update({**PRODUCTION, **env})
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120)


def load(**env: str) -> subprocess.CompletedProcess:
    return run(
        ["-c", "import django; django.setup(); from django.conf import settings; print(settings.SITE_URL)"], **env
    )


def test_production_settings_start():
    result = load()
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "https://agence.rak.ma"


def test_production_refuses_any_host():
    result = load(RAK_SERVER_ALLOWED_HOSTS="*")
    assert result.returncode != 0
    assert "[server] allowed_hosts" in result.stderr and "*" in result.stderr


def test_production_refuses_a_wildcard_among_hosts():
    result = load(RAK_SERVER_ALLOWED_HOSTS="agence.rak.ma, *")
    assert result.returncode != 0
    assert "[server] allowed_hosts" in result.stderr


def test_production_refuses_an_http_site_url():
    result = load(RAK_SERVER_SITE_URL="http://agence.rak.ma")
    assert result.returncode != 0
    assert "[server] site_url" in result.stderr and "https://" in result.stderr


def test_production_refuses_a_weak_secret_key():
    result = load(RAK_SERVER_SECRET_KEY="k" * 50)
    assert result.returncode != 0
    assert "[server] secret_key" in result.stderr


def test_check_deploy_has_no_warning_in_production():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
