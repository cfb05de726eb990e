"""What the benchmark scripts that build their own database share: the environment of the Django
process (no rak.conf, the bench database), dropping and recreating that database, and the line
describing the machine written next to each figure in docs/BENCHMARKS.md."""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def environment(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAK_")}
    env.update(
        {
            "RAK_CONF": "/nonexistent/rak.conf",
            "DATABASE_URL": database_url,
            "RAK_SERVER_MODE": "development",
            "RAK_SERVER_DEBUG": "false",
            "RAK_SERVER_SECRET_KEY": "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
            "RAK_SERVER_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "RAK_SMS_DEV_FILE": "/tmp/rak-bench-sms.log",  # noqa: S108 - bench scratch file
            "RAK_MAIL_BACKEND": "locmem",
            "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'addons'}",
        }
    )
    return env


def recreate_database(database_url: str) -> None:
    import psycopg
    from psycopg import sql

    name = database_url.rsplit("/", 1)[1]
    admin = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    load = os.getloadavg()[0]
    return f"{os.cpu_count()} vCPU, {kib / 1024 / 1024:.1f} GiB RAM, {cpu}, {platform.system()}, load {load:.1f}"
