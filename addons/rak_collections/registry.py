"""Wires the collections desk into the rest of the product at start-up: scheduler jobs, hooks
(« facture réglée »), message templates, the customer 360 timeline. Each part has its own
``register()``; a part not written yet is simply absent."""

from __future__ import annotations

import importlib

PARTS = ("reminders", "cutoffs", "plans", "cash", "timeline")


def register_all() -> None:
    for part in PARTS:
        try:
            module = importlib.import_module(f"rak_collections.{part}")
        except ModuleNotFoundError as exc:
            if exc.name != f"rak_collections.{part}":
                raise
            continue
        register = getattr(module, "register", None)
        if register is not None:
            register()
