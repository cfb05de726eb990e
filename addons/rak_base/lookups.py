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

from django.db.models import CharField, Lookup

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
