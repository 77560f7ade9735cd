"""Real `celery worker` processes for the integration tests, and the Redis state they leave behind.

A worker here is a separate process (prefork, one pool process) on the test database and the
test Redis, started with the project's settings: the tests exercise the default transport
options (visibility timeout, restore interval) a deployment runs with, not special ones.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
# The keys kombu's Redis transport keeps for the project's queues and their unacknowledged messages
# (a queue has one list per priority step). Only these: the Redis may be shared with other work.
QUEUE_NAMES = tuple(queue.name for queue in settings.CELERY_TASK_QUEUES)
QUEUE_KEYS = tuple(key for name in QUEUE_NAMES for key in (name, *(f"{name}\x06\x16{step}" for step in (3, 6, 9))))
UNACKED_KEYS = ("unacked", "unacked_index", "unacked_mutex")


def wait_for(predicate: Callable[[], bool], timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def worker_log(name: str) -> Path:
    """The worker's log: one per test process, since several suites may run on one machine."""
    return Path(tempfile.gettempdir()) / f"meshvalue-worker-{os.getpid()}-{name}.log"


def database_url() -> str:
    settings_dict = connection.settings_dict
    credentials = quote(settings_dict["USER"] or "", safe="")
    if settings_dict.get("PASSWORD"):
        credentials += ":" + quote(settings_dict["PASSWORD"], safe="")
    host = f"{settings_dict['HOST'] or '127.0.0.1'}:{settings_dict['PORT'] or 5432}"
    return f"postgres://{credentials}@{host}/{settings_dict['NAME']}"


def start_worker(redis_url: str, name: str, **env: str) -> subprocess.Popen:
    """Start a worker named `name` (its log is `worker_log(name)`); `env` adds environment variables."""
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url,
        "CONN_MAX_AGE": "0",
        **env,
    }
    with open(worker_log(name), "wb") as log:
        return subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork", "--concurrency=1"),
                *("--without-mingle", "--without-gossip", "--loglevel=INFO", f"--hostname={name}@%h"),
            ],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own process group, so that stop() kills the pool process along with the worker.
            start_new_session=True,
        )


def pool_processes(pid: int) -> set[int]:
    """The live child processes of worker `pid` (its pool processes).

    A set: a directory listing of /proc taken while processes come and go may name one twice.
    Zombies (a pool process killed but not yet reaped) are left out.
    """
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        state, parent = fields[0], int(fields[1])
        if parent == pid and state not in ("Z", "X"):
            found.add(int(entry.name))
    return found


def kill_pool_processes(worker: subprocess.Popen) -> set[int]:
    """SIGKILL every pool process of `worker` (what the OOM killer does) and return their ids.

    With one pool process that is the one running the task; killing every child rather than
    expecting exactly one also covers a moment where the worker has a second child.
    """
    wait_for(lambda: bool(pool_processes(worker.pid)), 30, "the worker's pool process")
    killed = pool_processes(worker.pid)
    for pid in killed:
        with contextlib.suppress(ProcessLookupError):  # it died by itself meanwhile
            os.kill(pid, signal.SIGKILL)
    return killed


def kill_worker(worker: subprocess.Popen) -> None:
    """SIGKILL the whole worker, main process and pool processes, with no chance to say goodbye."""
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)


def stop(worker: subprocess.Popen | None) -> None:
    if worker is not None and worker.poll() is None:
        kill_worker(worker)


def broker_reset(redis_url: str) -> None:
    """Empty the project's queues and forget unacknowledged messages.

    Tests kill workers; a message one of them left unacknowledged would otherwise come back a
    visibility timeout later to whichever worker the next test runs.
    """
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        client.delete(*QUEUE_KEYS, *UNACKED_KEYS)
    finally:
        client.close()


def received(log: Path, task_name: str) -> int:
    """How many times the worker logging to `log` received a message for task `task_name`."""
    if not log.exists():
        return 0
    return sum(
        1 for line in log.read_text(errors="replace").splitlines() if f"{task_name}[" in line and "received" in line
    )
