"""A worker killed with SIGKILL in the middle of an evaluation loses nothing and duplicates nothing.

The test holds the evaluation lock of chunk 0 so that the worker's task is caught inside its
transaction (it has started and waits on `pg_advisory_xact_lock`), kills it there, and lets go
of the lock once the message has come back. Two ways a worker dies:

- its pool process is killed (the OOM killer's way): the worker's main process sees the loss
  and, with `acks_late` and `task_reject_on_worker_lost`, puts the message back at once;
- the whole worker is killed: the message stays unacknowledged in Redis until another worker's
  sweep (every `unacked_restore_interval` s) finds it older than the visibility timeout.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from apps.governance.models import Alert, AlertStatus
from apps.valuation.models import Evaluation, EvaluationRun, RunStatus
from apps.valuation.services import evaluation_run_start

from .scenario import AS_OF, build_scenario
from .test_locks import hold_lock
from .test_tasks import wait_for

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("postgres"),
]
ROOT = Path(__file__).resolve().parents[3]


def start_worker(redis_url: str, name: str, **env: str) -> subprocess.Popen:
    """A real `celery worker` process (prefork, one child) on the test database and the Redis broker."""
    settings_dict = connection.settings_dict
    credentials = quote(settings_dict["USER"] or "", safe="")
    if settings_dict.get("PASSWORD"):
        credentials += ":" + quote(settings_dict["PASSWORD"], safe="")
    host = f"{settings_dict['HOST'] or '127.0.0.1'}:{settings_dict['PORT'] or 5432}"
    database_url = f"postgres://{credentials}@{host}/{settings_dict['NAME']}"
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CONN_MAX_AGE": "0",
        # One chunk, number 0, whatever the ids of the products: the lock the test holds is that chunk's.
        "MESHVALUE_EVALUATION_CHUNK_SIZE": str(2**40),
        **env,
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=prefork",
            "--concurrency=1",
            "--without-mingle",
            "--without-gossip",
            "--loglevel=INFO",
            f"--hostname={name}@%h",
        ],
        cwd=ROOT,
        env=environment,
        # The worker's log, to read when a test fails.
        stdout=open(worker_log(name), "wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def worker_log(name: str) -> Path:
    """The worker's log: one per test process, since several suites may run on one machine."""
    return Path(tempfile.gettempdir()) / f"meshvalue-worker-{os.getpid()}-{name}.log"


def received(log: Path) -> int:
    """How many times the worker received a chunk task."""
    if not log.exists():
        return 0
    return sum(
        1
        for line in log.read_text(errors="replace").splitlines()
        if "evaluation_chunk_evaluate[" in line and "received" in line
    )


def waiting_on_advisory_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        return cursor.fetchone()[0]


def stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)


def assert_done_once(run: EvaluationRun) -> None:
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.chunks_done == [0]
    assert (run.products_evaluated, run.alerts_opened, run.alerts_resolved) == (6, 8, 1)
    assert Evaluation.objects.filter(as_of=AS_OF).count() == 6
    unresolved = list(Alert.objects.exclude(status=AlertStatus.RESOLVED).values_list("data_product_id", "kind"))
    assert len(unresolved) == len(set(unresolved)) == 8


@pytest.fixture
def portfolio(redis_url):
    import redis

    build_scenario()
    # Start from an empty queue, without the unacknowledged messages of earlier runs (only the
    # keys kombu uses for them: the broker may be shared with other work).
    client = redis.Redis.from_url(redis_url)
    client.delete("celery", "unacked", "unacked_index", "unacked_mutex")
    client.close()
    return redis_url


def test_killed_pool_process_task_comes_back_at_once_and_completes(portfolio):
    release, locked = threading.Event(), threading.Event()
    holder = threading.Thread(target=hold_lock, args=(AS_OF, 0, locked, release))
    holder.start()
    assert locked.wait(timeout=10)
    worker = start_worker(portfolio, "killed-child")
    try:
        run = evaluation_run_start(as_of=AS_OF, trigger="test")
        wait_for(lambda: waiting_on_advisory_lock() == 1, 60, "the task to wait on the evaluation lock")
        [child] = children(worker.pid)
        os.kill(child, signal.SIGKILL)
        killed_at = time.monotonic()
        # The message comes back and a new pool process picks it up: it waits on the lock again.
        wait_for(lambda: received(worker_log("killed-child")) == 2, 30, "the task to be delivered again")
        redelivered_after = time.monotonic() - killed_at
        wait_for(lambda: waiting_on_advisory_lock() == 1, 30, "the redelivered task to wait on the lock")
        release.set()
        holder.join(timeout=10)
        wait_for(lambda: EvaluationRun.objects.get(pk=run.pk).status != RunStatus.RUNNING, 30, "the run to finish")
        assert_done_once(run)
        assert redelivered_after < 15, redelivered_after
        print(f"pool process killed: task redelivered after {redelivered_after:.1f}s")
    finally:
        release.set()
        stop(worker)


def test_killed_worker_task_comes_back_after_the_visibility_timeout_and_completes(portfolio):
    release, locked = threading.Event(), threading.Event()
    holder = threading.Thread(target=hold_lock, args=(AS_OF, 0, locked, release))
    holder.start()
    assert locked.wait(timeout=10)
    # Short tasks allow a short visibility timeout: the time limits stay below it.
    short = {
        "CELERY_VISIBILITY_TIMEOUT": "8",
        "CELERY_TASK_TIME_LIMIT": "7",
        "CELERY_TASK_SOFT_TIME_LIMIT": "6",
        "CELERY_UNACKED_RESTORE_INTERVAL": "1",
    }
    first = start_worker(portfolio, "killed-whole", **short)
    second = None
    try:
        run = evaluation_run_start(as_of=AS_OF, trigger="test")
        wait_for(lambda: waiting_on_advisory_lock() == 1, 60, "the task to wait on the evaluation lock")
        os.killpg(first.pid, signal.SIGKILL)  # the main process and its pool process, no goodbye
        first.wait(timeout=10)
        killed_at = time.monotonic()
        wait_for(lambda: waiting_on_advisory_lock() == 0, 10, "PostgreSQL to drop the dead connection")
        release.set()
        holder.join(timeout=10)
        second = start_worker(portfolio, "survivor", **short)
        wait_for(lambda: EvaluationRun.objects.get(pk=run.pk).status != RunStatus.RUNNING, 60, "the run to finish")
        redelivered_after = time.monotonic() - killed_at
        assert_done_once(run)
        print(f"whole worker killed: run finished {redelivered_after:.1f}s later (visibility timeout 8s)")
    finally:
        release.set()
        stop(first)
        if second is not None:
            stop(second)
