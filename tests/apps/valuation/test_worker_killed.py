"""A worker killed with SIGKILL in the middle of an evaluation loses nothing and duplicates nothing.

The test holds the evaluation lock of chunk 0 so that the worker's task is caught inside its
transaction (it has started and waits on `pg_advisory_xact_lock`), kills it there, and lets go
of the lock once the message has come back. Two ways a worker dies:

- its pool process is killed (the OOM killer's way): the worker's main process sees the loss
  and, with `acks_late` and `task_reject_on_worker_lost`, puts the message back at once;
- the whole worker is killed: the message stays unacknowledged in Redis until another worker's
  sweep (every `unacked_restore_interval` s) finds it older than the visibility timeout.

Workers run with the project's default transport options and time limits (config/settings/base.py),
so the whole-worker test measures what a deployment gets.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.conf import settings
from django.db import connection

from apps.governance.models import Alert, AlertStatus
from apps.notifications.models import Delivery
from apps.valuation.models import Evaluation, EvaluationRun, RunStatus
from apps.valuation.services import READINESS_PART, evaluation_run_start
from tests.workers import (
    broker_reset,
    kill_pool_processes,
    kill_worker,
    pool_processes,
    received,
    start_worker,
    stop,
    wait_for,
    worker_log,
)

from .scenario import AS_OF, build_scenario
from .test_locks import hold_lock

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("postgres"),
]
CHUNK_TASK = "apps.valuation.tasks.evaluation_chunk_evaluate"
WORKER_ENV = {
    # One chunk, number 0, whatever the ids of the products: the lock the test holds is that chunk's.
    "MESHVALUE_EVALUATION_CHUNK_SIZE": str(2**40),
    # The task waits on the test's lock while the test kills its worker: give it longer than the
    # default 5 s so a slow machine cannot turn the wait into a retry (still below the soft limit).
    "MESHVALUE_EVALUATION_LOCK_TIMEOUT": "12s",
}


def chunk_received(name: str) -> int:
    return received(worker_log(name), CHUNK_TASK)


def waiting_on_advisory_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        return cursor.fetchone()[0]


def assert_done_once(run: EvaluationRun) -> None:
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert sorted(run.chunks_done) == [READINESS_PART, 0]
    assert (run.products_evaluated, run.alerts_opened, run.alerts_resolved) == (6, 8, 1)
    assert Evaluation.objects.filter(as_of=AS_OF).count() == 6
    unresolved = list(Alert.objects.exclude(status=AlertStatus.RESOLVED).values_list("data_product_id", "kind"))
    assert len(unresolved) == len(set(unresolved)) == 8
    # Every opened alert was announced, once per recipient, although its chunk ran twice.
    opened = set(Alert.objects.exclude(status=AlertStatus.RESOLVED).values_list("pk", flat=True))
    notices = list(Delivery.objects.filter(alert_id__in=opened).values_list("alert_id", "channel", "recipient"))
    assert {alert_id for alert_id, _, _ in notices} == opened
    assert len(notices) == len(set(notices))


@pytest.fixture
def portfolio(redis_url):
    build_scenario()
    broker_reset(redis_url)  # no message of an earlier test comes back to these workers
    yield redis_url
    broker_reset(redis_url)  # nor do this test's to the next test's workers


@pytest.fixture
def lock_held():
    """The evaluation lock of chunk 0 for AS_OF, held by another connection until `release` is set."""
    release, locked = threading.Event(), threading.Event()
    holder = threading.Thread(target=hold_lock, args=(AS_OF, 0, locked, release))
    holder.start()
    assert locked.wait(timeout=10)
    yield release
    release.set()
    holder.join(timeout=10)


def run_finished(run: EvaluationRun) -> bool:
    return EvaluationRun.objects.get(pk=run.pk).status != RunStatus.RUNNING


def test_killed_pool_process_task_comes_back_at_once_and_completes(portfolio, lock_held):
    worker = start_worker(portfolio, "killed-child", **WORKER_ENV)
    try:
        run = evaluation_run_start(as_of=AS_OF, trigger="test")
        wait_for(lambda: waiting_on_advisory_lock() == 1, 60, "the task to wait on the evaluation lock")
        killed = kill_pool_processes(worker)
        killed_at = time.monotonic()
        # The message comes back and a new pool process picks it up: it waits on the lock again.
        wait_for(lambda: chunk_received("killed-child") == 2, 30, "the task to be delivered again")
        redelivered_after = time.monotonic() - killed_at
        assert pool_processes(worker.pid).isdisjoint(killed)
        wait_for(lambda: waiting_on_advisory_lock() == 1, 30, "the redelivered task to wait on the lock")
        lock_held.set()
        wait_for(lambda: run_finished(run), 30, "the run to finish")
        assert_done_once(run)
        assert chunk_received("killed-child") == 2
        assert redelivered_after < 15, redelivered_after
        print(f"pool process killed: task redelivered after {redelivered_after:.1f}s")
    finally:
        stop(worker)


def test_killed_worker_task_comes_back_within_the_default_visibility_timeout_and_completes(portfolio, lock_held):
    transport = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    visibility_timeout, restore_interval = transport["visibility_timeout"], transport["unacked_restore_interval"]
    first = start_worker(portfolio, "killed-whole", **WORKER_ENV)
    second = None
    try:
        run = evaluation_run_start(as_of=AS_OF, trigger="test")
        wait_for(lambda: waiting_on_advisory_lock() == 1, 60, "the task to wait on the evaluation lock")
        kill_worker(first)  # the main process and its pool process, no goodbye
        killed_at = time.monotonic()
        wait_for(lambda: waiting_on_advisory_lock() == 0, 10, "PostgreSQL to drop the dead connection")
        lock_held.set()
        second = start_worker(portfolio, "survivor", **WORKER_ENV)
        # Back within the visibility timeout and one restore interval of its delivery (a little
        # before the kill), plus the evaluation itself; bounded, so a regression fails, not hangs.
        wait_for(lambda: run_finished(run), visibility_timeout + restore_interval + 15, "the run to finish", 0.2)
        finished_after = time.monotonic() - killed_at
        assert_done_once(run)
        assert (chunk_received("killed-whole"), chunk_received("survivor")) == (1, 1)
        assert finished_after < 45, finished_after
        print(
            f"whole worker killed: run finished {finished_after:.1f}s later "
            f"(visibility timeout {visibility_timeout}s, restore interval {restore_interval}s)"
        )
    finally:
        stop(first)
        stop(second)
