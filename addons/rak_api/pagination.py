"""Pages of 20 (``?page=2``, ``?page_size=`` from 1 to 100): {count, next, previous, results}.

A ``page`` or ``page_size`` that is not a whole number in range is refused (400 ``invalid`` on the
field) instead of DRF's silent fallback to the default: an app sending ``page_size=null`` learns of
its bug, and the schema (which says integer) is what the server enforces. A page past the end is
404 ``not_found``.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination

WHOLE_NUMBER = _("Nombre entier attendu, entre %(low)s et %(high)s.")


def _whole(request, name: str, low: int, high: int) -> None:
    raw = request.query_params.get(name)
    if raw is None:
        return
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise ValidationError({name: [WHOLE_NUMBER % {"low": low, "high": high}]})


class RakPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def paginate_queryset(self, queryset, request, view=None):
        _whole(request, self.page_query_param, 1, 10**6)
        _whole(request, self.page_size_query_param, 1, self.max_page_size)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "Numéro de page (1, 2, …).",  # i18n: not for customers (API docs)
                "schema": {"type": "integer", "minimum": 1, "maximum": 10**6},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": "Éléments par page (20 par défaut, 100 au plus).",  # i18n: not for customers
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]
