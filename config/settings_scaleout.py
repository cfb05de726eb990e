"""Settings for a web tier on several hosts (issue 15): Redis for sessions and throttles, an
S3-compatible storage for private files and PDFs, a read replica for the reports. Applied at the
end of config/settings.py: ``apply(namespace, conf)`` reads its own rak.conf sections; with none of
them configured the single-server defaults above stay as they are."""

from __future__ import annotations

from typing import Any

from config.conf import Config


def apply(namespace: dict[str, Any], conf: Config) -> None:
    """Set the scale-out settings in ``namespace`` (the settings module's globals)."""
