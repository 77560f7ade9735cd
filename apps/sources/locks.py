"""One pull of a KPI at a time: a transaction-level advisory lock per KPI.

On PostgreSQL the lock is released at commit or rollback, and when a worker is killed its
connection drops and the lock goes with it, so a redelivered pull never waits for a dead one.
A wait longer than MESHVALUE_SOURCES_LOCK_TIMEOUT raises OperationalError, which the task
retries with backoff. SQLite has a single writer: a no-op write takes its lock instead.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection

# High bits name the lock family (apps.valuation.services.locks uses 0x4D56-0x4D58).
_PULL_NAMESPACE = 0x4D59 << 47


def kpi_pull_lock(kpi_id: int) -> None:
    """Wait until no other transaction pulls KPI `kpi_id`. Call inside a transaction."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            lock_timeout = getattr(settings, "MESHVALUE_SOURCES_LOCK_TIMEOUT", "5s")
            check = (
                ", set_config('client_connection_check_interval', '1000', true)"
                if connection.pg_version >= 140000
                else ""
            )
            cursor.execute(f"SELECT set_config('lock_timeout', %s, true){check}", [lock_timeout])
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PULL_NAMESPACE | (kpi_id & ((1 << 47) - 1))])
        else:
            cursor.execute("UPDATE sources_pullrun SET id = id WHERE id = -1")
