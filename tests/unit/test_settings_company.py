"""The régie's identity (rak.conf [company]): production refuses the demo ICE/IF/TP, address and
phone of rak.conf.sample, a malformed ICE stops start-up naming the key, and real values start."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.unit.test_settings_modes import GOOD_KEY, ROOT, load_settings

PRODUCTION = {
    "RAK_SERVER_MODE": "production",
    "RAK_SERVER_SECRET_KEY": GOOD_KEY,
    "RAK_SERVER_DEBUG": "false",
    "RAK_SERVER_SITE_URL": "https://agence.rak.ma",
    "RAK_SERVER_ALLOWED_HOSTS": "agence.rak.ma",
    "RAK_SMS_BACKEND": "http",
    "RAK_SMS_HTTP_URL": "https://sms.example.ma/send",
    "RAK_MAIL_BACKEND": "smtp",
    "DATABASE_URL": "postgres://rak@db.example.ma:5432/rak",
}
REAL = {
    "RAK_COMPANY_ADDRESS": "Avenue Mohammed V, BP 237, 14000 Kénitra",
    "RAK_COMPANY_PHONE": "05 37 37 00 00",
    "RAK_COMPANY_ICE": "001234567000089",
    "RAK_COMPANY_IF": "40123456",
    "RAK_COMPANY_TP": "20145678",
}


def test_production_refuses_the_demo_company_values():
    result = load_settings(**PRODUCTION)
    assert result.returncode != 0
    for key in ("ice", "if", "tp", "address", "phone"):
        assert f"[company] {key} de démonstration refusé en production" in result.stderr, key


def test_production_with_the_regie_s_real_values_starts():
    result = load_settings(**PRODUCTION, **REAL)
    assert result.returncode == 0, result.stderr


def test_malformed_ice_stops_startup_naming_the_key():
    result = load_settings(RAK_SERVER_SECRET_KEY=GOOD_KEY, RAK_COMPANY_ICE="12345")
    assert result.returncode != 0
    assert "[company] ice invalide" in result.stderr


def test_the_sample_configuration_has_the_seed_s_legal_name_and_demo_values():
    environ = {k: v for k, v in os.environ.items() if not k.startswith("RAK_") and k != "DATABASE_URL"}
    environ.update({"RAK_CONF": str(ROOT / "rak.conf.sample"), "DJANGO_SETTINGS_MODULE": "config.settings"})
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.COMPANY_LEGAL_NAME, '|', settings.COMPANY_ICE)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "d'Assainissement liquide de la province de Kénitra | 000000000000000" in result.stdout
