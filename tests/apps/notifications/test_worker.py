"""Through a real Celery worker on the Redis broker: retries happen, and a kill mid-send duplicates nothing.

The worker is a separate `celery worker` process (prefork, one pool process) on the test
database; the test process publishes as the application does (on commit) and plays the
clock for leases. Receivers are the real SMTP and HTTP servers of conftest.py.
"""

from __future__ import annotations

import time

import pytest
from django.utils import timezone

from apps.notifications.models import Channel, Delivery, DeliveryStatus
from apps.notifications.services.outbox import deliveries_sweep
from tests.apps.notifications.conftest import verify_signature
from tests.apps.notifications.helpers import open_alert, subscribe
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

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("postgres"),
]


@pytest.fixture
def broker(redis_url):
    broker_reset(redis_url)  # messages left by other tests would only be noise
    yield redis_url
    broker_reset(redis_url)  # and this test's must not come back to the next test's workers


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
        wait_for(lambda: bool(pool_processes(worker.pid)), 30, "the worker's pool process")
        alert = open_alert(people["product"])
        webhook = Delivery.objects.get(alert=alert, channel=Channel.WEBHOOK)
        http_receiver.wait_for(1, timeout=30)
        killed = kill_pool_processes(worker)  # mid-send: the request is in the receiver's hands
        webhook.refresh_from_db()
        assert webhook.status == DeliveryStatus.SENDING

        # The message comes back (acks_late, reject_on_worker_lost) to a new pool process, which
        # finds the row leased and leaves it alone: no second request while the lease runs.
        wait_for(lambda: bool(pool_processes(worker.pid) - killed), 30, "a new pool process")
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


def test_a_whole_worker_killed_mid_send_is_replaced_within_the_visibility_timeout_and_sends_once(
    broker, people, smtp_server, http_receiver
):
    """With the default transport options: the send's message comes back to a second worker
    within the visibility timeout plus a restore interval, which leaves the leased row alone;
    once the lease ends the sweep sends it again with the same id."""
    from django.conf import settings

    transport = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    http_receiver.script(first_delays=(8.0,))  # the first request hangs: the worker dies meanwhile
    subscribe(http_receiver)
    first = start_worker(broker, "whole-killed-mid-send", **smtp_env(smtp_server))
    second = None
    try:
        alert = open_alert(people["product"])
        webhook = Delivery.objects.get(alert=alert, channel=Channel.WEBHOOK)
        http_receiver.wait_for(1, timeout=30)
        kill_worker(first)  # main process and pool process: nobody rejects the message
        killed_at = time.monotonic()
        webhook.refresh_from_db()
        assert (webhook.status, webhook.attempts) == (DeliveryStatus.SENDING, 1)

        second = start_worker(broker, "whole-survivor", **smtp_env(smtp_server))
        wait_for(
            lambda: received(worker_log("whole-survivor"), "apps.notifications.tasks.delivery_send") >= 1,
            transport["visibility_timeout"] + transport["unacked_restore_interval"] + 10,
            "the send's message to come back",
            0.2,
        )
        redelivered_after = time.monotonic() - killed_at
        assert redelivered_after < 45, redelivered_after
        time.sleep(1)  # the survivor finds the row leased to the dead sender and leaves it alone
        assert len(http_receiver.requests) == 1
        webhook.refresh_from_db()
        assert (webhook.status, webhook.attempts) == (DeliveryStatus.SENDING, 1)

        Delivery.objects.filter(pk=webhook.pk).update(lease_expires_at=timezone.now())  # the lease runs out
        assert deliveries_sweep() == [webhook.pk]
        wait_for(lambda: Delivery.objects.get(pk=webhook.pk).status == DeliveryStatus.SENT, 30, "the resend")
        time.sleep(1)
        print(f"whole worker killed mid-send: message back on another worker after {redelivered_after:.1f}s")
    finally:
        stop(first)
        stop(second)
    assert len(http_receiver.requests) == 2
    assert len({request.headers["webhook-id"] for request in http_receiver.requests}) == 1
    assert sorted(message["To"] for message in smtp_server.messages) == ["lead@example.com", "owner@example.com"]
    webhook.refresh_from_db()
    assert (webhook.status, webhook.attempts) == (DeliveryStatus.SENT, 2)
