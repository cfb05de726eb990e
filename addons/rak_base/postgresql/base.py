"""Django's PostgreSQL backend (``ENGINE = "rak_base.postgresql"``, config/settings.py), with one
change: ``bulk_create`` and ``bulk_update`` split their rows so that no statement carries more than
65,535 parameters.

Statements are bound on the server (``[database] prepared_statements``), and PostgreSQL's protocol
counts a statement's parameters in 16 bits: Django's PostgreSQL backend puts every row of a
``bulk_create`` in one INSERT (``bulk_batch_size`` = all of them), which PostgreSQL then refuses
(« number of parameters must be between 0 and 65535 ») once rows × columns passes the limit — e.g. a
bulk job's 20,000 rows of 4 columns (issue 15). Django 5.2 sends most ``bulk_create`` as one array
per column (``UNNEST``), a few parameters whatever the rows; but a row with a value computed by the
database (``Now()``, an ``F()``…) or a field with its own placeholder makes it write ``VALUES`` rows,
one parameter a column, and ``bulk_update`` always writes ``CASE WHEN pk = %s THEN %s`` per row and
field. Django asks the backend for the batch size with the fields of a row (``bulk_create``) or
``["pk", "pk", *fields]`` (``bulk_update``, whose rows cost ``2 × fields + 1`` parameters). Long
``IN`` lists are the other half (``rak_base.lookups``: one array).
"""

from __future__ import annotations

from typing import Any

from django.db.backends.postgresql import base, operations

MAX_PARAMETERS = 65_535


class DatabaseOperations(operations.DatabaseOperations):
    def bulk_batch_size(self, fields: Any, objs: Any) -> int:
        fields = list(fields)
        if fields[:2] == ["pk", "pk"]:  # bulk_update: WHEN pk = %s THEN %s per field, and the pk in the filter
            per_row = 2 * (len(fields) - 2) + 1
        else:  # bulk_create: a parameter per column
            per_row = len(fields)
        return max(1, min(len(objs), MAX_PARAMETERS // max(per_row, 1)))


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
