"""Property-based run of the OpenAPI schema: every operation, random input, an authenticated admin.

No answer may be a 5xx, and every answer must match the schema (status code documented, body
and content type as documented). The run is bounded (a few examples per operation) so the
whole test takes well under two minutes.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests import factories

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def wsgi_app():
    """Django's WSGI handler as a server runs it, minus closing the connection at each request
    (as Django's test client does): the test's transaction must outlive every request."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(db, admin_user, wsgi_app):
    """The schema as served at /api/schema/, with token auth registered through schemathesis's auth hook."""
    # Some records to find: ids a generated request may hit.
    product = factories.DataProductFactory(owner=admin_user)
    kpi = factories.AttributionFactory(data_product=product).kpi
    factories.MeasurementFactory(kpi=kpi)
    factories.CostEntryFactory(data_product=product)
    factories.AlertFactory(data_product=product)
    factories.ValueBetFactory(data_product=product)
    factories.UsageRecordFactory(data_product=product)
    token, _ = Token.objects.get_or_create(user=admin_user)
    schema = schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json", wsgi_app, headers={"Authorization": f"Token {token.key}"}
    )

    @schema.auth()
    class TokenAuth:
        def get(self, case, context):
            return token.key

        def set(self, case, data, context):
            case.headers = {**(case.headers or {}), "Authorization": f"Token {data}"}

    return schema


# schemathesis's pytest integration (`from_fixture`) does not run on pytest 9 (it reads a private
# node attribute that is gone), so the operations are driven here with hypothesis directly.
def test_api_conforms_to_its_schema(api_schema):
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 50  # every resource is in the schema

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=10, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
        def check(case):
            case.call_and_validate(checks=CHECKS)

        try:
            check()
        except (Exception, BaseExceptionGroup) as error:  # collect every operation's failure, then report them all
            failures.append(f"{operation.label}: {error}")
    assert not failures, "\n\n".join(failures)
