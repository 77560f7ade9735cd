"""One pull of a KPI at a time: the shared advisory-lock helper (apps.core.locks), per KPI.

On PostgreSQL the lock is released at commit or rollback, and when a worker is killed its
connection drops and the lock goes with it, so a redelivered pull never waits for a dead one.
A wait longer than MESHVALUE_SOURCES_LOCK_TIMEOUT raises OperationalError, which the task
retries with backoff; the client connection check (PostgreSQL 14+) lets a backend whose worker
was killed while it waited notice within a second.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection

from apps.core.locks import job_lock

PULL_JOB = "kpi_pull"


def kpi_pull_lock(kpi_id: int) -> None:
    """Wait until no other transaction pulls KPI `kpi_id`. Call inside a transaction."""
    if connection.vendor == "postgresql":
        lock_timeout = getattr(settings, "MESHVALUE_SOURCES_LOCK_TIMEOUT", "5s")
        check_sql = ""
        if connection.pg_version >= 140000:  # type: ignore[attr-defined]  # PostgreSQL's wrapper only
            check_sql = ", set_config('client_connection_check_interval', '1000', true)"
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('lock_timeout', %s, true)" + check_sql, [lock_timeout])
    job_lock(PULL_JOB, kpi_id)
