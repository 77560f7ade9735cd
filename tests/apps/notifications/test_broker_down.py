"""Redis down when an alert opens: the alert and its outbox rows commit, the caller does not fail,
and once Redis is back the sweep hands the rows to a worker, which sends each once."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest
import time_machine
from django.conf import settings as django_settings
from django.utils import timezone

from apps.notifications.models import Delivery, DeliveryStatus
from apps.notifications.services.outbox import deliveries_sweep
from tests.apps.notifications.conftest import free_port
from tests.workers import ROOT, broker_reset, database_url, start_worker, stop, wait_for

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("postgres"),
]

OPEN_AN_ALERT = textwrap.dedent(
    """
    import sys, time, django
    django.setup()
    from apps.catalog.models import DataProduct
    from tests.apps.notifications.helpers import open_alert
    started = time.monotonic()
    alert = open_alert(DataProduct.objects.get(slug=sys.argv[1]))
    print(alert.pk, round(time.monotonic() - started, 2))
    """
)


def test_alerts_opened_while_redis_is_down_are_sent_once_it_is_back(redis_url, people, smtp_server):
    broker_reset(redis_url)
    dead_broker = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    result = subprocess.run(
        [sys.executable, "-c", OPEN_AN_ALERT, people["product"].slug],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": database_url(),
            "REDIS_URL": dead_broker,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr  # the evaluation's transaction is not broken by Redis
    alert_id, seconds = result.stdout.split()
    assert float(seconds) < 5, "publishing to a dead broker must not hang the caller"
    assert "left for the outbox sweep" in result.stderr
    deliveries = Delivery.objects.filter(alert_id=int(alert_id))
    assert sorted(deliveries.values_list("status", flat=True)) == ["pending", "pending"]

    # Redis is back: a worker runs, and the sweep finds the rows whose message never arrived.
    worker = start_worker(redis_url, "after-outage", EMAIL_URL=f"smtp://127.0.0.1:{django_settings.EMAIL_PORT}")
    try:
        with time_machine.travel(timezone.now() + timezone.timedelta(minutes=6), tick=True):
            assert len(deliveries_sweep()) == 2
        wait_for(lambda: set(deliveries.values_list("status", flat=True)) == {DeliveryStatus.SENT}, 30, "the sends")
        time.sleep(1)
    finally:
        stop(worker)
        broker_reset(redis_url)
    assert sorted(message["To"] for message in smtp_server.messages) == ["lead@example.com", "owner@example.com"]
