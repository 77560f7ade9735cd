"""Through a real Celery worker on the Redis broker: retries happen, and a kill mid-send duplicates nothing.

The worker is a separate `celery worker` process (prefork, one pool process) on the test
database; the test process publishes as the application does (on commit) and plays the
clock for leases. Receivers are the real SMTP and HTTP servers of conftest.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from apps.notifications.models import Channel, Delivery, DeliveryStatus
from apps.notifications.services.outbox import deliveries_sweep
from tests.apps.notifications.conftest import verify_signature
from tests.apps.notifications.helpers import open_alert, subscribe

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("postgres"),
]
ROOT = Path(__file__).resolve().parents[3]


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def start_worker(redis_url: str, name: str, **env: str) -> subprocess.Popen:
    db = connection.settings_dict
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": redis_url,
        "CONN_MAX_AGE": "0",
        **env,
    }
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork", "--concurrency=1"),
            *("--without-mingle", "--without-gossip", "--loglevel=INFO", f"--hostname={name}@%h"),
        ],
        cwd=ROOT,
        env=environment,
        stdout=open(Path(tempfile.gettempdir()) / f"meshvalue-notify-worker-{name}.log", "wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def pool_processes(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if parent == pid:
                found.append(int(entry.name))
    return found


def stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)


@pytest.fixture
def broker(redis_url):
    from config.celery_app import app

    app.control.purge()  # messages left by other tests would only be noise
    return redis_url


def smtp_env(smtp_server) -> dict[str, str]:
    from django.conf import settings

    return {"EMAIL_URL": f"smtp://{settings.EMAIL_HOST}:{settings.EMAIL_PORT}"}


def test_a_failing_receiver_gets_one_successful_delivery_through_the_worker(broker, people, smtp_server, http_receiver):
    http_receiver.script(500, 500)
    subscription = subscribe(http_receiver)
    worker = start_worker(broker, "retries", NOTIFICATION_RETRY_BASE_SECONDS="0.4", **smtp_env(smtp_server))
    try:
        alert = open_alert(people["product"])  # the rows commit and their messages go to Redis
        webhook = Delivery.objects.get(alert=alert, channel=Channel.WEBHOOK)
        wait_for(
            lambda: not Delivery.objects.filter(alert=alert).exclude(status=DeliveryStatus.SENT).exists(),
            60,
            "every delivery to be sent",
        )
        time.sleep(1.5)  # room for a stray duplicate to show up, if there were one
    finally:
        stop(worker)
    assert [len(smtp_server.to(address)) for address in ("lead@example.com", "owner@example.com")] == [1, 1]
    assert len(http_receiver.requests) == 3
    for request in http_receiver.requests:
        verify_signature(request, subscription.secret)
    webhook.refresh_from_db()
    assert (webhook.status, webhook.attempts) == (DeliveryStatus.SENT, 3)


def test_a_worker_killed_mid_send_leaves_no_duplicate(broker, people, smtp_server, http_receiver):
    http_receiver.script(first_delays=(8.0,))  # the first request hangs: the worker dies meanwhile
    subscribe(http_receiver)
    worker = start_worker(broker, "killed-mid-send", **smtp_env(smtp_server))
    try:
        wait_for(lambda: len(pool_processes(worker.pid)) == 1, 30, "the worker's pool process")
        alert = open_alert(people["product"])
        webhook = Delivery.objects.get(alert=alert, channel=Channel.WEBHOOK)
        http_receiver.wait_for(1, timeout=30)
        [child] = pool_processes(worker.pid)
        os.kill(child, signal.SIGKILL)  # mid-send: the request is in the receiver's hands
        webhook.refresh_from_db()
        assert webhook.status == DeliveryStatus.SENDING

        # The message comes back (acks_late, reject_on_worker_lost) to a new pool process, which
        # finds the row leased and leaves it alone: no second request while the lease runs.
        wait_for(lambda: any(pid != child for pid in pool_processes(worker.pid)), 30, "a new pool process")
        time.sleep(4)
        assert len(http_receiver.requests) == 1
        webhook.refresh_from_db()
        assert (webhook.status, webhook.attempts) == (DeliveryStatus.SENDING, 1)

        # The lease runs out (played here instead of waiting two minutes); the sweep hands the row
        # to the worker again, which sends it with the same id so the receiver can drop the repeat.
        Delivery.objects.filter(pk=webhook.pk).update(lease_expires_at=timezone.now())
        assert deliveries_sweep() == [webhook.pk]
        wait_for(
            lambda: Delivery.objects.get(pk=webhook.pk).status == DeliveryStatus.SENT, 30, "the webhook to be sent"
        )
        wait_for(
            lambda: not Delivery.objects.filter(alert=alert).exclude(status=DeliveryStatus.SENT).exists(),
            30,
            "the e-mails to be sent",
        )
        time.sleep(1)
    finally:
        stop(worker)
    assert Delivery.objects.filter(alert=alert).count() == 3  # one row per recipient, ever
    assert len({request.headers["webhook-id"] for request in http_receiver.requests}) == 1
    assert len(http_receiver.requests) == 2
    assert sorted(message["To"] for message in smtp_server.messages) == ["lead@example.com", "owner@example.com"]
    webhook.refresh_from_db()
    assert (webhook.status, webhook.attempts) == (DeliveryStatus.SENT, 2)
