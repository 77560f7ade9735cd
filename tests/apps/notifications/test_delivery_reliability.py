"""Retries with backoff, permanent failures, the admin's retry, the sweep, leases and duplicates."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from apps.core.task_budget import countdown_max
from apps.notifications.models import Channel, Delivery, DeliveryStatus
from apps.notifications.services.outbox import deliveries_sweep
from apps.notifications.services.sending import delivery_send, retry_delay
from tests.apps.notifications.conftest import verify_signature
from tests.apps.notifications.helpers import open_alert, subscribe


def webhook_delivery(alert) -> Delivery:
    return Delivery.objects.get(alert=alert, channel=Channel.WEBHOOK)


def test_500_twice_then_200_gives_exactly_one_successful_delivery(people, http_receiver, settings):
    settings.NOTIFICATION_RETRY_BASE_SECONDS = 30
    http_receiver.script(500, 500)
    subscription = subscribe(http_receiver)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        alert = open_alert(people["product"])
        delivery = webhook_delivery(alert)
        first = delivery_send(delivery_id=delivery.pk)
        assert first.status == DeliveryStatus.PENDING
        assert 15 <= first.retry_in <= 30  # half the base delay plus jitter
        assert delivery_send(delivery_id=delivery.pk).status == "not_due"  # a premature message sends nothing
    assert len(http_receiver.requests) == 1

    with time_machine.travel(start + timedelta(seconds=31), tick=False):
        second = delivery_send(delivery_id=delivery.pk)
        assert second.status == DeliveryStatus.PENDING
        assert 30 <= second.retry_in <= 60  # the backoff doubled
    with time_machine.travel(start + timedelta(seconds=31 + 61), tick=False):
        assert delivery_send(delivery_id=delivery.pk).status == DeliveryStatus.SENT
        for request in http_receiver.requests:
            verify_signature(request, subscription.secret)
        assert delivery_send(delivery_id=delivery.pk).status == DeliveryStatus.SENT  # and nothing more
    assert len(http_receiver.requests) == 3
    # Every attempt carried the same id, so the receiver can tell a retry from a new event.
    assert len({request.headers["webhook-id"] for request in http_receiver.requests}) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code, delivery.last_error) == ("sent", 3, 200, "")


def test_retry_delays_grow_and_stay_under_the_cap(settings):
    settings.NOTIFICATION_RETRY_BASE_SECONDS = 10
    settings.NOTIFICATION_RETRY_MAX_SECONDS = 100
    for attempt, (low, high) in {1: (5, 10), 2: (10, 20), 3: (20, 40), 4: (40, 80), 5: (50, 100), 9: (50, 100)}.items():
        delays = {retry_delay(attempt) for _ in range(50)}
        assert all(low <= delay <= high for delay in delays), (attempt, delays)
        assert len(delays) > 1  # jitter


def test_after_the_last_attempt_a_delivery_fails_and_the_admin_can_retry_it(
    people, http_receiver, settings, admin_user, client
):
    settings.NOTIFICATION_MAX_ATTEMPTS = 2
    http_receiver.script(503, 503)
    subscribe(http_receiver)
    delivery = webhook_delivery(open_alert(people["product"]))
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert delivery_send(delivery_id=delivery.pk).status == DeliveryStatus.PENDING
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        result = delivery_send(delivery_id=delivery.pk)
    assert (result.status, result.retry_in) == (DeliveryStatus.FAILED, None)
    delivery.refresh_from_db()
    assert delivery.last_error.startswith("HTTP 503")

    client.force_login(admin_user)
    changelist = reverse("admin:notifications_delivery_changelist")
    assert "HTTP 503" in client.get(changelist + "?status__exact=failed").content.decode()
    response = client.post(changelist, {"action": "retry_failed_deliveries", "_selected_action": [delivery.pk]})
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 0)
    assert delivery_send(delivery_id=delivery.pk).status == DeliveryStatus.SENT
    assert len(http_receiver.requests) == 3


@pytest.mark.parametrize(
    ("status", "error"), [(404, "HTTP 404"), (410, "HTTP 410"), (302, "redirects are not followed")]
)
def test_a_permanent_refusal_fails_at_once_and_redirects_are_not_followed(people, http_receiver, status, error):
    http_receiver.script(status)
    subscribe(http_receiver)
    delivery = webhook_delivery(open_alert(people["product"]))
    assert delivery_send(delivery_id=delivery.pk).status == DeliveryStatus.FAILED
    delivery.refresh_from_db()
    assert error in delivery.last_error
    assert [request.path for request in http_receiver.requests] == ["/hooks/meshvalue"]  # never /elsewhere


def test_a_receiver_that_times_out_is_retried(people, http_receiver, settings):
    settings.WEBHOOK_READ_TIMEOUT = 0.3
    http_receiver.script(200, delay_seconds=1.0)
    subscribe(http_receiver)
    delivery = webhook_delivery(open_alert(people["product"]))
    result = delivery_send(delivery_id=delivery.pk)
    assert result.status == DeliveryStatus.PENDING and result.retry_in > 0
    delivery.refresh_from_db()
    assert "Timeout" in delivery.last_error


def test_an_smtp_server_that_is_down_is_retried(people, settings):
    from tests.apps.notifications.conftest import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens there
    alert = open_alert(people["product"])
    delivery = Delivery.objects.filter(alert=alert, channel=Channel.EMAIL).first()
    result = delivery_send(delivery_id=delivery.pk)
    assert result.status == DeliveryStatus.PENDING
    delivery.refresh_from_db()
    assert "ConnectionRefused" in delivery.last_error


def test_the_sweep_republishes_rows_whose_message_was_lost(people, settings):
    """Rows are committed with the alert; if their message never reached Redis, the sweep sends them."""
    settings.NOTIFICATION_SWEEP_GRACE_SECONDS = 300
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        alert = open_alert(people["product"])  # in this test the on-commit publish never runs: "Redis was down"
    ids = set(Delivery.objects.filter(alert=alert).values_list("pk", flat=True))
    assert len(ids) == 2
    with time_machine.travel(start + timedelta(seconds=60), tick=False):
        assert deliveries_sweep() == []  # the message may still be on its way
    with time_machine.travel(start + timedelta(seconds=301), tick=False):
        assert set(deliveries_sweep()) == ids
        assert deliveries_sweep() == []  # published again just now: not again at once
    with time_machine.travel(start + timedelta(seconds=602), tick=False):
        assert set(deliveries_sweep()) == ids  # still not sent: keep trying


def test_a_retry_too_far_ahead_for_a_countdown_waits_in_the_outbox_for_the_sweep(people, http_receiver, settings):
    """A countdown longer than Redis can hold would be delivered twice: the sweep publishes the retry when due."""
    settings.NOTIFICATION_RETRY_BASE_SECONDS = 30  # 15-30 s: beyond countdown_max() (7 s by default)
    http_receiver.script(500)
    subscribe(http_receiver)
    alert = open_alert(people["product"])
    delivery = webhook_delivery(alert)
    result = delivery_send(delivery_id=delivery.pk)  # fails for now
    assert result.retry_in > countdown_max() and not result.retry_by_message
    emails = Delivery.objects.filter(alert=alert, channel=Channel.EMAIL)
    emails.update(status=DeliveryStatus.SENT, sent_at=timezone.now())
    delivery.refresh_from_db()
    assert (delivery.status, delivery.message_due_at) == (DeliveryStatus.PENDING, None)  # no message in flight
    with time_machine.travel(delivery.next_attempt_at - timedelta(seconds=1), tick=False):
        assert deliveries_sweep() == []  # not due yet
    with time_machine.travel(delivery.next_attempt_at + timedelta(seconds=1), tick=False):
        assert deliveries_sweep() == [delivery.pk]  # due: published at once, no grace to wait for
        assert deliveries_sweep() == []  # and once
        assert delivery_send(delivery_id=delivery.pk).status == DeliveryStatus.SENT
    with time_machine.travel(delivery.next_attempt_at + timedelta(hours=1), tick=False):
        assert deliveries_sweep() == []  # sent rows are left alone
    assert len(http_receiver.requests) == 2


def test_a_short_retry_goes_out_with_a_countdown_and_the_sweep_only_covers_its_loss(people, http_receiver, settings):
    settings.NOTIFICATION_RETRY_BASE_SECONDS = 4  # 2-4 s: fits a countdown
    http_receiver.script(500)
    subscribe(http_receiver)
    alert = open_alert(people["product"])
    delivery = webhook_delivery(alert)
    result = delivery_send(delivery_id=delivery.pk)
    assert result.retry_in <= countdown_max() and result.retry_by_message
    Delivery.objects.filter(alert=alert, channel=Channel.EMAIL).update(
        status=DeliveryStatus.SENT, sent_at=timezone.now()
    )
    delivery.refresh_from_db()
    assert delivery.message_due_at == delivery.next_attempt_at  # the message with the countdown is on its way
    with time_machine.travel(delivery.message_due_at + timedelta(seconds=60), tick=False):
        assert deliveries_sweep() == []  # it may still run
    with time_machine.travel(delivery.message_due_at + timedelta(minutes=6), tick=False):
        assert deliveries_sweep() == [delivery.pk]  # it was lost


def test_a_sender_that_died_mid_send_is_replaced_once_its_lease_ends(people, http_receiver):
    subscribe(http_receiver)
    delivery = webhook_delivery(open_alert(people["product"]))
    start = timezone.now()
    # What a worker killed mid-send leaves behind: the row claimed, leased, never recorded.
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING, attempts=1, lease_expires_at=start + timedelta(seconds=120)
    )
    with time_machine.travel(start + timedelta(seconds=5), tick=False):
        assert delivery_send(delivery_id=delivery.pk).status == "busy"  # a redelivered message waits
        assert deliveries_sweep() == []
    assert http_receiver.requests == []
    with time_machine.travel(start + timedelta(seconds=121), tick=False):
        assert deliveries_sweep() == [delivery.pk]
        assert delivery_send(delivery_id=delivery.pk).status == DeliveryStatus.SENT
    [request] = http_receiver.requests
    assert request.headers["webhook-id"] == f"msg_{delivery.uid.hex}"  # the id the first attempt used
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.status) == (2, DeliveryStatus.SENT)


@pytest.mark.django_db(transaction=True)
def test_concurrent_messages_for_one_delivery_send_it_once(postgres, people, http_receiver):
    """Duplicate Celery messages (sweep, redelivery) racing on one row: the row lock lets one through.

    Row locks exist on PostgreSQL only (SQLite, the demo's database, runs one worker)."""
    http_receiver.script(200, delay_seconds=0.5)
    subscribe(http_receiver)
    delivery = webhook_delivery(open_alert(people["product"]))
    results: list[str] = []

    def attempt() -> None:
        from django.db import connection

        try:
            results.append(delivery_send(delivery_id=delivery.pk).status)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(results) == ["busy", "busy", "busy", "sent"]
    assert len(http_receiver.requests) == 1
