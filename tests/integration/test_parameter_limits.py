"""Statements bound on the server carry at most 65,535 parameters (PostgreSQL's protocol): bulk jobs
at production scale must never send more (issue 15).

Found by bench/bench_billing.py at 200,000 customers: once statements were bound on the server
(``[database] prepared_statements``, on by default), creating a billing run failed — the « non
facturables » classification asked for the water dossiers of ~200,000 premises with
``premises_id__in=<a set>``, one parameter a value: « number of parameters must be between 0 and
65535 ». Long ``IN`` lists now go as one array (``rak_base.lookups``), and ``bulk_create`` /
``bulk_update`` batches are bounded by the backend (``rak_base.postgresql``). Each test below failed
with that error before.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models.functions import Now
from django.test.utils import CaptureQueriesContext

from rak_base import lookups
from rak_base.models import Message
from rak_customer.models import Dossier
from tests.factories import CustomerFactory, DossierFactory

pytestmark = pytest.mark.django_db

PAST_THE_LIMIT = 70_000


@pytest.fixture(autouse=True)
def _bound_on_the_server():
    # the failure exists only with server-side binding, which the test settings use as production does
    assert connection.features.uses_server_side_binding


def test_a_long_in_list_is_one_array_and_finds_the_same_rows():
    customer = CustomerFactory()
    dossiers = DossierFactory.create_batch(3, customer=customer)
    wanted = [dossiers[0].pk, dossiers[2].pk, *range(10**9, 10**9 + PAST_THE_LIMIT), None]

    found = set(Dossier.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    assert found == {dossiers[0].pk, dossiers[2].pk}
    others = set(Dossier.objects.exclude(pk__in=wanted).values_list("pk", flat=True))
    assert others == {dossiers[1].pk}

    with CaptureQueriesContext(connection) as queries:
        list(Dossier.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    assert '"rak_customer_dossier"."id" = ANY(' in queries[0]["sql"]


def test_a_long_in_list_on_a_foreign_key_or_a_code():
    customer = CustomerFactory()
    dossier = DossierFactory(customer=customer)
    premises = [dossier.premises_id, *range(10**9, 10**9 + PAST_THE_LIMIT)]
    assert list(Dossier.objects.filter(premises_id__in=set(premises)).values_list("pk", flat=True)) == [dossier.pk]
    assert list(Dossier.objects.filter(premises__in=premises).values_list("pk", flat=True)) == [dossier.pk]
    codes = [customer.code, *(f"Z{i:09d}" for i in range(PAST_THE_LIMIT))]
    assert list(Dossier.objects.filter(customer__code__in=codes).values_list("pk", flat=True)) == [dossier.pk]


def test_short_lists_keep_djangos_sql():
    sql, params = Dossier.objects.filter(pk__in=range(lookups.ARRAY_FROM)).query.sql_with_params()
    assert "ANY(" not in sql
    assert len(params) == lookups.ARRAY_FROM
    sql, params = Dossier.objects.filter(pk__in=range(lookups.ARRAY_FROM + 1)).query.sql_with_params()
    assert "= ANY(%s::bigint[])" in sql
    assert params == (list(range(lookups.ARRAY_FROM + 1)),)


def test_one_statement_text_for_every_length():
    # so that the statement is prepared once, not once per list size
    texts = {Dossier.objects.filter(premises_id__in=range(n)).query.sql_with_params()[0] for n in (101, 500, 70_000)}
    assert len(texts) == 1


def test_bulk_create_of_more_rows_than_one_statement_takes():
    # a value computed by the database makes Django write VALUES rows, one parameter a column (without
    # one, Django 5.2 sends an array per column: UNNEST); one INSERT of them all was past the limit
    fields = len([f for f in Message._meta.concrete_fields if not f.primary_key])
    count = 65_535 // (fields - 1) + 500
    Message.objects.bulk_create(
        Message(
            channel=Message.Channel.EMAIL,
            recipient=f"bulk{i}@example.ma",
            subject="Essai",
            body="Corps",
            created_at=Now(),
        )
        for i in range(count)
    )
    assert Message.objects.filter(recipient__startswith="bulk").count() == count
    assert connection.ops.bulk_batch_size(Message._meta.concrete_fields, range(count)) < count


def test_bulk_update_of_more_rows_than_one_statement_takes():
    count = 65_535 // 7 + 500  # 3 fields: WHEN pk THEN value per field, and the pk in the filter
    Message.objects.bulk_create(
        Message(channel=Message.Channel.EMAIL, recipient=f"upd{i}@example.ma", subject="Avant", body="Corps")
        for i in range(count)
    )
    messages = list(Message.objects.filter(recipient__startswith="upd"))
    for message in messages:
        message.subject, message.body, message.kind = "Après", f"Corps {message.pk}", "bulk"
    Message.objects.bulk_update(messages, ["subject", "body", "kind"])
    assert Message.objects.filter(recipient__startswith="upd", subject="Après", kind="bulk").count() == count
