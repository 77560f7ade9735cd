"""Shared fixtures. Tests talk to real PostgreSQL and Redis.

On a developer machine a test whose service is unreachable is skipped with the reason;
with CI=true the same situation is a failure, and so is a suite running on SQLite.
"""

from __future__ import annotations

import os
import time
import warnings

import pytest
from django.conf import settings
from django.contrib.auth.models import Group

from apps.accounts.roles import Role
from tests import factories

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _database_vendor() -> str:
    return settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]


def pytest_sessionstart(session: pytest.Session) -> None:
    if IN_CI and _database_vendor() != "postgresql":
        pytest.exit(
            f"CI must run on PostgreSQL; DATABASE_URL points at {_database_vendor()}. Set DATABASE_URL.", returncode=3
        )


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [f"meshvalue: database={_database_vendor()} broker={settings.CELERY_BROKER_URL} ci={IN_CI}"]


def service_unavailable(reason: str) -> None:
    """Skip on a laptop, fail in CI: a missing service must never pass silently there."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: services are required)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test databases, with a last look before it drops them (PostgreSQL).

    A connection a test closed a moment ago can leave its server process exiting while the
    database is dropped ("being accessed by other users"), and the database then outlives the run.
    So the drop waits until no other session is on the test database, up to 10 s; a session still
    there then is one a test leaked: it is named in a warning and ended, so the drop succeeds.
    """
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        others = (
            "SELECT pid, application_name, state, left(query, 120) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        deadline = time.monotonic() + 10
        while True:
            cursor.execute(others)
            sessions = cursor.fetchall()
            if not sessions or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        for pid, application, state, query in sessions:
            warnings.warn(
                f"a session was left on the test database (pid {pid}, {application or 'no application name'}, "
                f"{state}: {query!r}); ending it so that the database can be dropped",
                pytest.PytestWarning,
                stacklevel=1,
            )
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.fixture
def postgres(db) -> None:
    """For tests whose behaviour exists only on PostgreSQL (locks, partial indexes under load)."""
    if _database_vendor() != "postgresql":
        service_unavailable("needs PostgreSQL: set DATABASE_URL to a PostgreSQL database")


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis URL of the broker, checked to answer."""
    import redis

    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        service_unavailable(f"needs Redis: set REDIS_URL (the broker is {url})")
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    except redis.RedisError as error:
        service_unavailable(f"Redis at {url} is not reachable: {error}")
    finally:
        client.close()
    return url


def _user_with_role(role: Role | None, username: str, **extra):
    user = factories.UserFactory(username=username, **extra)
    if role is not None:
        # get_or_create: transactional tests flush the groups the data migration made.
        user.groups.add(Group.objects.get_or_create(name=role.value)[0])
    return user


@pytest.fixture
def executive(db):
    return _user_with_role(Role.EXECUTIVE, "exec")


@pytest.fixture
def product_owner(db):
    return _user_with_role(Role.PRODUCT_OWNER, "owner")


@pytest.fixture
def governance_lead(db):
    return _user_with_role(Role.GOVERNANCE_LEAD, "gov")


@pytest.fixture
def admin_user(db):
    return _user_with_role(None, "admin", is_staff=True, is_superuser=True)


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()
