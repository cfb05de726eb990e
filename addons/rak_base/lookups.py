"""``field__const=value``: an equality whose value is written into the SQL instead of being sent as a
parameter, for a query that must use a **partial index** whose predicate names that value.

Statements are prepared once repeated (``[database] prepared_statements``): PostgreSQL then tries a
generic plan, planned without the parameters' values. A partial index such as ``bill_customer_consumption``
(``WHERE kind = 'CONSUMPTION'``) cannot be proven to match ``kind = $2``, so the generic plan of
« the customer's latest consumption bill » reads another index, looks dearer than a custom plan, and
PostgreSQL goes back to planning the statement at every execution — over every month partition of the
bills (2–4 ms, issue 15; seen with ``bench/profile_pages.py --plans``). With ``kind__const`` the
predicate is in the statement's text, and the generic plan uses the partial index.

Only for code constants (a model's choices): the value must be letters, digits and underscores, and
anything else is refused — no user input is ever written into SQL this way.
"""

from __future__ import annotations

import re
from typing import Any

from django.db.models import CharField, Field, ForeignObject, Lookup
from django.db.models.fields.related_lookups import RelatedIn
from django.db.models.lookups import In

_CONSTANT = re.compile(r"[A-Za-z0-9_]+")


class Const(Lookup):
    lookup_name = "const"
    prepare_rhs = False

    def get_prep_lookup(self) -> Any:
        value = str(self.rhs)
        if not _CONSTANT.fullmatch(value):
            raise ValueError(f"__const takes a code constant (letters, digits, _), not {value!r}")
        return value

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[str | int, ...]]:
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} = '{self.rhs}'", tuple(params)


CharField.register_lookup(Const)


# --- ``field__in=<a long list>``: one array parameter -------------------------------------------------
#
# Statements are bound on the server (``[database] prepared_statements``), and PostgreSQL takes at most
# 65,535 parameters a statement: Django's ``IN (%s, %s, …)`` — one parameter a value — failed
# (« number of parameters must be between 0 and 65535 ») as soon as a bulk job passed a longer list,
# e.g. the premises of a month's sanitation dossiers when a billing run is created at 200,000
# customers (issue 15). Past ``ARRAY_FROM`` values the list goes as **one array**: ``col = ANY(%s::type[])``
# — the same rows (NULLs dropped as Django does), one parameter whatever the length, one statement text
# for every length (so it is prepared once, instead of one statement per list size). Shorter lists keep
# Django's SQL. Only for plain values of the types below; anything else (expressions, other types) is
# left to Django.

ARRAY_FROM = 100

_ARRAY_TYPES = {
    "AutoField": "integer",
    "BigAutoField": "bigint",
    "SmallAutoField": "smallint",
    "IntegerField": "integer",
    "BigIntegerField": "bigint",
    "SmallIntegerField": "smallint",
    "PositiveIntegerField": "integer",
    "PositiveBigIntegerField": "bigint",
    "PositiveSmallIntegerField": "smallint",
    "CharField": "text",
    "TextField": "text",
    "DateField": "date",
    "UUIDField": "uuid",
}


def _array_type(field: Any) -> str | None:
    while getattr(field, "is_relation", False) and getattr(field, "target_field", None) is not None:
        field = field.target_field  # a foreign key compares with what it points to
    return _ARRAY_TYPES.get(field.get_internal_type()) if hasattr(field, "get_internal_type") else None


class ArrayInMixin:
    """``IN`` with its values in one array parameter once there are more than ``ARRAY_FROM``."""

    def process_rhs(self, compiler: Any, connection: Any) -> tuple[str, Any]:
        sql, params = super().process_rhs(compiler, connection)  # type: ignore[misc]
        self.as_array = False
        if (
            connection.vendor == "postgresql"
            and len(params) > ARRAY_FROM
            and self.rhs_is_direct_value()  # type: ignore[attr-defined]
            and sql == "(" + ", ".join(["%s"] * len(params)) + ")"  # plain values, none an expression
            and (array_type := _array_type(self.lhs.output_field)) is not None  # type: ignore[attr-defined]
        ):
            self.as_array = True
            return f"%s::{array_type}[]", [list(params)]
        return sql, params

    def get_rhs_op(self, connection: Any, rhs: str) -> str:
        if getattr(self, "as_array", False):
            return f"= ANY({rhs})"
        return super().get_rhs_op(connection, rhs)  # type: ignore[misc]


class ArrayIn(ArrayInMixin, In):
    pass


class ArrayRelatedIn(ArrayInMixin, RelatedIn):
    pass


Field.register_lookup(ArrayIn)
ForeignObject.register_lookup(ArrayRelatedIn)
