"""Run the demo: the web server, a Celery worker and Celery beat, until Ctrl-C stops all three.

`make demo` calls this after loading the demo portfolio. With no `REDIS_URL` the three share
kombu's filesystem transport under `.demo/broker/` (config/settings/base.py); with one they
use that Redis. HOST and PORT choose where the web server listens (default 127.0.0.1:8000).

Once the worker is up, the daily jobs are queued once through the broker (retirements due,
the evaluation with its bet measurements), so the demo shows their results without waiting for the
night; beat then runs every job on its schedule.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO_FOLDER = ROOT / ".demo"
# The daily jobs queued once at start, in the order beat runs them at night (the evaluation also
# measures the bets due for review, so a bet due today shows its proposed outcome).
STARTUP_TASKS = (
    "apps.catalog.tasks.data_products_retire_due_scheduled",
    "apps.valuation.tasks.portfolio_evaluate_scheduled",
)


def _environment(host: str, port: int) -> dict[str, str]:
    environment = dict(os.environ)
    environment.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    environment["HOST"], environment["PORT"] = host, str(port)
    # One secret for the three processes and the web server's reloads, so sessions survive a reload.
    environment.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    environment.setdefault("MESHVALUE_BASE_URL", f"http://{host}:{port}")
    environment.setdefault("PYTHONUNBUFFERED", "1")
    return environment


def _commands(host: str, port: int) -> dict[str, list[str]]:
    python = sys.executable
    celery = [python, "-m", "celery", "-A", "config"]
    return {
        "web": [python, "manage.py", "runserver", f"{host}:{port}"],
        # Two pool processes: "Run evaluation" keeps running while an e-mail is sent.
        "worker": [*celery, "worker", "--loglevel=INFO", "--concurrency=2", "--without-mingle", "--without-gossip"],
        "beat": [*celery, "beat", "--loglevel=INFO", f"--schedule={DEMO_FOLDER / 'celerybeat-schedule'}"],
    }


def _stop(processes: dict[str, subprocess.Popen]) -> None:
    """SIGINT every process group (what Ctrl-C would send them), then SIGKILL what is left after ten seconds.

    The worker finishes the task in hand (a warm shutdown); an unacknowledged message stays in the broker.
    """
    for process in processes.values():
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGINT)
    deadline = time.monotonic() + 10
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _queue_startup_tasks(environment: dict[str, str]) -> None:
    for task in STARTUP_TASKS:
        subprocess.run(  # noqa: S603 - our own interpreter and a fixed task name
            [sys.executable, "-m", "celery", "-A", "config", "call", task],
            cwd=ROOT,
            env=environment,
            check=False,
            stdout=subprocess.DEVNULL,
        )


def main() -> int:
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8000"))
    DEMO_FOLDER.mkdir(exist_ok=True)
    environment = _environment(host, port)
    processes: dict[str, subprocess.Popen] = {}
    stopping = False

    def request_stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        for name, command in _commands(host, port).items():
            # Each in its own process group: Ctrl-C reaches this script only, which stops them in order.
            processes[name] = subprocess.Popen(  # noqa: S603 - fixed commands
                command, cwd=ROOT, env=environment, start_new_session=True
            )
        _queue_startup_tasks(environment)
        broker = "Redis at " + environment["REDIS_URL"] if environment.get("REDIS_URL") else "the embedded broker"
        print(
            f"\nmeshvalue demo: web http://{host}:{port}/ , worker and beat on {broker}. Ctrl-C stops all three.\n",
            flush=True,
        )
        while not stopping:
            for name, process in processes.items():
                if process.poll() is not None:
                    print(f"meshvalue demo: {name} exited with {process.returncode}; stopping the others.", flush=True)
                    stopping = True
                    break
            time.sleep(0.5)
    finally:
        _stop(processes)
    print("meshvalue demo: web server, worker and beat stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
