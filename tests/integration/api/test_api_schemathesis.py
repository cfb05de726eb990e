"""schemathesis against the served OpenAPI schema (issue 13): every operation, called with data
generated from the schema (valid and invalid), by a signed-in customer who has dossiers, bills, an
unpaid bill and an open reading window; no 5xx, and every answer — success or error — conforms to
the schema (status code documented, content type, body, headers).

A fresh device token is issued for each call: an operation that signs the device out (DELETE
/session/, revoking a device) must not turn every later call into a 401.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api_helpers import device_tokens

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
]


@pytest.fixture
def api_user(db):
    from tests.reading_factories import portal_customer_with_reading_window_and_unpaid_bill

    customer, _water, _bill = portal_customer_with_reading_window_and_unpaid_bill(
        round_code="T-API", power_number="E-API-1"
    )
    return customer.portal_account.user


@pytest.fixture(autouse=True)
def _keep_test_connection():
    """The app is called in-process through WSGI: like Django's test client, the request signals
    must not close the test's database connection (its transaction)."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _load_schema():
    """The schema as the app serves it (loaded at collection: the schema view needs no database;
    ``schemathesis.pytest.from_fixture`` does not run under pytest 9)."""
    from django.core import signals
    from django.db import close_old_connections

    from config.wsgi import application

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        return schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


schema = _load_schema()


@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_conforms_to_its_schema(case, api_user):
    token = device_tokens(api_user).access_token
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
