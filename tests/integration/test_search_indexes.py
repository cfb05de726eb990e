"""Searches write their expressions where they are used (UPPER(name) LIKE …, column = ANY(array))
instead of registering lookups that change every CharField of the project at import time, and
PostgreSQL still serves them with the indexes built for them (rak_customer 0002)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import CharField
from django.test.utils import CaptureQueriesContext

from rak_billing.readings.selectors import existing_keys
from rak_customer.models import Customer
from rak_customer.selectors import customer_search_filter
from tests.factories import CompanyFactory, CustomerFactory
from tests.reading_factories import MeterReadingFactory

pytestmark = pytest.mark.django_db


def test_no_lookup_is_added_to_every_char_field():
    lookups = CharField.get_lookups()
    assert "upper" not in lookups
    assert "any_of" not in lookups


def plan(queryset) -> str:
    """EXPLAIN with sequential scans priced out: the plan names an index only when the query's
    expression is the one the index was built on."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_name_search_finds_and_uses_the_upper_prefix_indexes():
    youssef = CustomerFactory(last_name="Alaoui", first_name="Youssef")
    CustomerFactory(last_name="Berrada", first_name="Karim")
    search = Customer.objects.filter(customer_search_filter("youssef alaoui")).order_by()
    assert list(search) == [youssef]
    explained = plan(search.only("pk"))
    assert "customer_last_name_upper_prefix" in explained
    assert "customer_first_name_upper_prefix" in explained


def test_company_search_finds_accented_names_and_uses_the_trigram_index():
    company = CompanyFactory(company_name="Société Sebou Eaux SARL")
    search = Customer.objects.filter(customer_search_filter("société sebou")).order_by()
    assert list(search) == [company]  # upper() of « é » is « É » on the server
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = 'customer_company_name_upper_trgm'")
        has_trigram_index = cursor.fetchone() is not None
    if has_trigram_index:  # pg_trgm could be created (it always is on the embedded server)
        assert "customer_company_name_upper_trgm" in plan(search.only("pk"))


def test_existing_keys_sends_the_keys_as_one_array_parameter():
    readings = [MeterReadingFactory(external_key=f"key-{n}") for n in range(3)]
    wanted = [reading.external_key for reading in readings[:2]] + ["missing"]
    with CaptureQueriesContext(connection) as queries:
        found = existing_keys(wanted)
    assert found == {"key-0", "key-1"}
    (query,) = queries.captured_queries
    assert '"external_key" = ANY(' in query["sql"]
