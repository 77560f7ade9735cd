"""The locks and session settings of an evaluation (the locks are `apps.core.locks` job locks)."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper

from apps.core.locks import job_lock


def evaluation_lock(*, as_of: date, chunk: int) -> None:
    """Wait until no other transaction evaluates the same chunk of products for the same date.

    Must be called inside a transaction; the lock is released when it ends.
    """
    job_lock("valuation.evaluate", (as_of.toordinal() << 24) | (chunk & 0xFFFFFF))


def alerts_lock() -> None:
    """Serialise alert passes: one at a time, whatever their date or chunk.

    The pass is short (tens of milliseconds for 10,000 products), and one lock for all of them
    means two passes never race to open the same alert, even when two runs cut the portfolio
    into chunks of different sizes.
    """
    job_lock("valuation.alerts")


def evaluation_session_tune(on: BaseDatabaseWrapper | None = None) -> None:
    """Tune the current transaction for big aggregates (PostgreSQL only; see STACK.md).

    JIT compilation costs more than it saves on these queries, and the default 4 MB of
    work_mem makes the grouped sums spill to disk. A lock timeout turns a stuck lock into an
    OperationalError that the task retries with backoff instead of a hung worker, and the client
    connection check frees the locks of a killed worker at once. `on`: another connection than
    this thread's (the one that sums a pass's KPIs aside, `gather._KpiSumsAside`).
    """
    on = on or connection
    if on.vendor != "postgresql":
        return
    work_mem = getattr(settings, "MESHVALUE_EVALUATION_WORK_MEM", "256MB")
    lock_timeout = getattr(settings, "MESHVALUE_EVALUATION_LOCK_TIMEOUT", "5s")
    # PostgreSQL 14+: a backend whose client died (a SIGKILLed worker) notices within a second,
    # even while it waits on a lock, and rolls back, releasing its locks for the redelivered task.
    # Evaluations are derived data, recomputed by the next run: a commit lost in a server crash
    # costs nothing, so the transaction does not wait for its WAL flush.
    settings_sql = (
        "SELECT set_config('jit', 'off', true), set_config('work_mem', %s, true), "
        "set_config('lock_timeout', %s, true), set_config('synchronous_commit', 'off', true)"
    )
    if on.pg_version >= 140000:  # type: ignore[attr-defined]  # PostgreSQL's wrapper only
        settings_sql += ", set_config('client_connection_check_interval', '1000', true)"
    with on.cursor() as cursor:
        cursor.execute(settings_sql, [work_mem, lock_timeout])
