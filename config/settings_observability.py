"""Observability settings (issue 15): structured logs without personal data, error reporting
(Sentry when a DSN is configured), health and readiness. Applied at the end of config/settings.py:
``apply(namespace, conf)`` reads its own rak.conf sections and sets the settings it owns."""

from __future__ import annotations

from typing import Any

from config.conf import Config


def apply(namespace: dict[str, Any], conf: Config) -> None:
    """Set the observability settings in ``namespace`` (the settings module's globals)."""
