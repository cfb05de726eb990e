"""Reads rak.conf (INI, in the spirit of odoo.conf) with environment overrides.

Every key lives in a section; the environment variable ``RAK_<SECTION>_<KEY>`` (upper case)
overrides it, and ``DATABASE_URL`` overrides ``[database] url``. A missing or malformed value
raises :class:`ConfigError` naming the key, so start-up stops with a message an operator can act
on. This module is pure (no Django import) so it can be unit-tested and used by scripts.
"""

from __future__ import annotations

import builtins
import configparser
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class ConfigError(Exception):
    """A configuration key is missing or malformed; the message names it."""


_MISSING = object()


def _parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError("expected true/false")


def _parse_int(raw: str) -> int:
    return int(raw.strip())


def _parse_list(raw: str) -> list[str]:
    return [item.strip() for item in raw.replace("\n", ",").split(",") if item.strip()]


def _parse_str(raw: str) -> str:
    return raw.strip()


@dataclass
class Config:
    """Typed access to rak.conf values with environment overrides."""

    parser: configparser.ConfigParser
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    source: str = "rak.conf"

    @classmethod
    def load(cls, path: Path | str | None, environ: Mapping[str, str] | None = None) -> Config:
        environ = os.environ if environ is None else environ
        parser = configparser.ConfigParser(interpolation=None)
        source = "(environment only)"
        if path is not None and Path(path).exists():
            try:
                with open(path, encoding="utf-8") as handle:
                    parser.read_file(handle)
            except configparser.Error as exc:
                raise ConfigError(f"{path}: fichier de configuration illisible: {exc}") from exc
            source = str(path)
        return cls(parser=parser, environ=environ, source=source)

    @staticmethod
    def env_name(section: str, key: str) -> str:
        if (section, key) == ("database", "url"):
            return "DATABASE_URL"
        return f"RAK_{section}_{key}".upper()

    def _raw(self, section: str, key: str) -> Any:
        env = self.env_name(section, key)
        if env in self.environ:
            return self.environ[env]
        if (section, key) == ("database", "url") and "RAK_DATABASE_URL" in self.environ:
            return self.environ["RAK_DATABASE_URL"]
        if self.parser.has_option(section, key):
            return self.parser.get(section, key)
        return _MISSING

    def _get(self, section: str, key: str, parse: Callable[[str], Any], default: Any, what: str) -> Any:
        raw = self._raw(section, key)
        if raw is _MISSING or (isinstance(raw, str) and raw.strip() == "" and default is not _MISSING):
            if default is _MISSING:
                raise ConfigError(
                    f"[{section}] {key} manquant dans {self.source} "
                    f"(ou variable d'environnement {self.env_name(section, key)})"
                )
            return default
        try:
            return parse(raw)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"[{section}] {key} invalide dans {self.source}: {raw!r} ({what} attendu)") from exc

    def str(self, section: str, key: str, default: Any = _MISSING) -> str:
        value = self._get(section, key, _parse_str, default, "texte")
        if value == "" and default is _MISSING:
            raise ConfigError(f"[{section}] {key} vide dans {self.source}")
        return value

    def int(self, section: builtins.str, key: builtins.str, default: Any = _MISSING) -> int:
        return self._get(section, key, _parse_int, default, "nombre entier")

    def bool(self, section: builtins.str, key: builtins.str, default: Any = _MISSING) -> bool:
        return self._get(section, key, _parse_bool, default, "true/false")

    def list(self, section: builtins.str, key: builtins.str, default: Any = _MISSING) -> list[builtins.str]:
        return self._get(section, key, _parse_list, default, "liste séparée par des virgules")

    def choice(
        self, section: builtins.str, key: builtins.str, choices: tuple[builtins.str, ...], default: Any = _MISSING
    ) -> builtins.str:
        value = self.str(section, key, default)
        if value not in choices:
            raise ConfigError(
                f"[{section}] {key} invalide dans {self.source}: {value!r} (valeurs possibles: {', '.join(choices)})"
            )
        return value
