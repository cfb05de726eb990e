"""The demo as bin/run starts it (rak.conf made from rak.conf.sample) shows the product's French
pages: a missing page is « Page introuvable », not Django's English technical 404 listing every
URL; the static files are still served (WhiteNoise)."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db

SCRIPT = """
import django; django.setup()
from django.conf import settings
from django.test import Client
client = Client(HTTP_HOST="127.0.0.1")
missing = client.get("/nulle-part/")
css = client.get("/static/rak_portal/portal.css")
print("DEBUG", settings.DEBUG)
print("MISSING", missing.status_code)
print("CSS", css.status_code)
print(missing.content.decode())
"""


def bin_run_conf(tmp_path: Path) -> Path:
    """rak.conf exactly as bin/run's ensure_conf writes it on first start."""
    text = (ROOT / "rak.conf.sample").read_text(encoding="utf-8")
    text, count = re.subn(r"(?m)^secret_key\s*=.*$", "secret_key = " + secrets.token_urlsafe(48), text)
    assert count == 1
    conf = tmp_path / "rak.conf"
    conf.write_text(text, encoding="utf-8")
    return conf


def test_bin_run_default_conf_serves_the_french_404_and_static_files(tmp_path):
    db = settings.DATABASES["default"]
    url = (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith("RAK_")}
    environ.update(
        {"RAK_CONF": str(bin_run_conf(tmp_path)), "DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": url}
    )
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "DEBUG False" in out
    assert "MISSING 404" in out
    assert "Page introuvable" in out
    assert "Using the URLconf" not in out and "Page not found" not in out
    assert "CSS 200" in out
