"""The request types' seed rows (types, phases, required documents) applied again on demand.

rak_requests' data migrations insert them (``0002_seed_request_types``, then each type's own
migration: termination, refund, direct debit, collective meters...). ``request_types_seed`` runs
the forward function of every ``RunPython`` of those migrations, in migration order, against the
current models: for a database whose rows were flushed (the tests' transactional cases, a restore
without data). Every one of them is idempotent by rule (only what is missing is inserted or, when
still as first seeded, fixed), so running it on a complete database changes nothing.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator

from django.apps import apps as global_apps
from django.db import migrations, transaction

MIGRATIONS_PACKAGE = "rak_requests.migrations"


def request_seed_functions() -> Iterator[Callable]:
    """The forward functions of rak_requests' ``RunPython`` operations, in migration order."""
    package = importlib.import_module(MIGRATIONS_PACKAGE)
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda module: module.name):
        migration = getattr(importlib.import_module(f"{MIGRATIONS_PACKAGE}.{info.name}"), "Migration", None)
        for operation in getattr(migration, "operations", ()):
            if isinstance(operation, migrations.RunPython):
                yield operation.code


@transaction.atomic
def request_types_seed() -> None:
    """Insert what is missing of the seeded request types, their phases and their documents."""
    for seed in request_seed_functions():
        seed(global_apps, None)
