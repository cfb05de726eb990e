"""Pages of 20 (``?page=2``, ``?page_size=`` up to 100): {count, next, previous, results}."""

from rest_framework.pagination import PageNumberPagination


class RakPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
