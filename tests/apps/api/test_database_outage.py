"""A database outage under /api/ answers JSON 503 with Retry-After (a client may retry), not an HTML 500.

The outage is real: the connection is pointed at a local port nothing listens on, so psycopg
raises the OperationalError a PostgreSQL restart causes.
"""

from __future__ import annotations

import socket

import pytest
from django.db import OperationalError, connections
from django.test import Client, RequestFactory

from apps.core.middleware import RETRY_AFTER_SECONDS, ApiJsonErrorsMiddleware
from tests.conftest import _database_vendor, service_unavailable


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again on leaving: nothing listens there


@pytest.fixture
def database_down(django_db_blocker):
    """The default connection pointed at a closed port for the duration of the test."""
    if _database_vendor() != "postgresql":
        service_unavailable("needs PostgreSQL: set DATABASE_URL to a PostgreSQL database")
    connection = connections["default"]
    with django_db_blocker.unblock():
        connection.close()
        saved = dict(connection.settings_dict)
        connection.settings_dict.update(HOST="127.0.0.1", PORT=str(_closed_port()), CONN_MAX_AGE=0)
        try:
            yield
        finally:
            connection.close()
            connection.settings_dict.clear()
            connection.settings_dict.update(saved)


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/v1/kpis/"), ("post", "/api/v1/measurements/bulk/"), ("post", "/api/v1/auth/token/")],
)
def test_api_answers_json_503_with_retry_after_while_the_database_is_down(database_down, method, path):
    client = Client(raise_request_exception=False)
    response = getattr(client, method)(
        path,
        data={"username": "a", "password": "b"} if "token" in path else {},
        content_type="application/json",
        HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567",
    )
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert "database" in response.json()["detail"]


def test_a_real_operational_error_becomes_503_only_under_the_api():
    if _database_vendor() != "postgresql":
        service_unavailable("needs PostgreSQL: set DATABASE_URL to a PostgreSQL database")
    import psycopg

    try:
        psycopg.connect(host="127.0.0.1", port=_closed_port(), user="postgres", connect_timeout=2)
    except psycopg.OperationalError as error:
        django_error = OperationalError(*error.args)
    middleware = ApiJsonErrorsMiddleware(lambda request: None)  # type: ignore[arg-type,return-value]
    api = middleware.process_exception(RequestFactory().get("/api/v1/kpis/"), django_error)
    assert api is not None and api.status_code == 503
    assert middleware.process_exception(RequestFactory().get("/portfolio/"), django_error) is None
    assert middleware.process_exception(RequestFactory().get("/api/v1/kpis/"), ValueError("a bug")) is None
