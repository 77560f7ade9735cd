"""A worker killed with SIGKILL in the middle of a pull loses nothing and duplicates nothing.

The test holds the pull lock of the KPI so that the worker's task is caught inside its transaction
(it has started and waits on `pg_advisory_xact_lock`), kills the worker's pool process there, and
lets go of the lock once the message has come back (`acks_late` with `task_reject_on_worker_lost`).
The pull then runs once: one run, each outcome stored once.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from apps.kpis.models import Measurement
from apps.sources.locks import kpi_pull_lock
from apps.sources.models import PullRun, PullStatus
from apps.sources.tasks import kpi_pull
from tests import factories
from tests.workers import broker_reset, kill_pool_processes, received, start_worker, stop, wait_for, worker_log

from .conftest import WEEKS

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("postgres"),
]
TASK = "apps.sources.tasks.kpi_pull"


def hold_pull_lock(kpi_id: int, locked: threading.Event, release: threading.Event) -> None:
    try:
        with transaction.atomic():
            kpi_pull_lock(kpi_id)
            locked.set()
            release.wait(timeout=60)
    finally:
        connections.close_all()


def waiting_on_advisory_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        return cursor.fetchone()[0]


def test_killed_pool_process_pull_comes_back_and_runs_once(pg_source, warehouse, redis_url):
    kpi = factories.KPIFactory(
        cadence="weekly", source=pg_source, source_query="SELECT week, orders FROM kpi_weekly ORDER BY week"
    )
    broker_reset(redis_url)
    release, locked = threading.Event(), threading.Event()
    holder = threading.Thread(target=hold_pull_lock, args=(kpi.pk, locked, release))
    holder.start()
    assert locked.wait(timeout=10)
    worker = start_worker(
        redis_url,
        "pull-killed",
        MESHVALUE_SOURCE_WAREHOUSE_URL=warehouse,
        # The task waits on the test's lock while its worker is killed: longer than the default 5 s.
        MESHVALUE_SOURCES_LOCK_TIMEOUT="12s",
    )
    try:
        kpi_pull.delay(kpi.pk, "manual")
        wait_for(lambda: waiting_on_advisory_lock() == 1, 60, "the pull to wait on the KPI's lock")
        kill_pool_processes(worker)
        wait_for(lambda: received(worker_log("pull-killed"), TASK) == 2, 30, "the pull to be delivered again")
        wait_for(lambda: waiting_on_advisory_lock() == 1, 30, "the redelivered pull to wait on the lock")
        release.set()
        wait_for(lambda: PullRun.objects.filter(kpi=kpi).exists(), 30, "the pull to finish")
        # Give a wrongly duplicated pull time to show itself.
        wait_for(lambda: "succeeded" in worker_log("pull-killed").read_text(errors="replace"), 15, "the task to end")
        runs = list(PullRun.objects.filter(kpi=kpi))
        assert len(runs) == 1 and runs[0].status == PullStatus.SUCCEEDED, [r.error for r in runs]
        assert runs[0].rows_stored == WEEKS
        assert Measurement.objects.filter(kpi=kpi).count() == WEEKS
        assert received(worker_log("pull-killed"), TASK) == 2
    finally:
        release.set()
        holder.join(timeout=10)
        stop(worker)
        broker_reset(redis_url)
