"""The demo's embedded broker: a real `celery worker` on kombu's filesystem transport runs a task.

With no `REDIS_URL` the settings choose the filesystem transport (config/settings/base.py). The
worker here starts with exactly that (REDIS_URL empty, its own folder); the test publishes
beat's daily bet settlement into the same folder, as beat or `celery call` would, and waits for
the worker to have measured the due bet in the database.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from celery import Celery

from apps.bets.models import ValueBet
from tests import factories
from tests.workers import start_worker, stop, wait_for, worker_log

pytestmark = [pytest.mark.celery_worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _publisher(folder) -> Celery:
    """A Celery app that publishes to the filesystem broker in `folder`, as the demo's settings do."""
    messages = str(folder / "messages")
    for name in ("messages", "processed"):
        (folder / name).mkdir(exist_ok=True)
    app = Celery("embedded-broker-test", broker="filesystem://")
    app.conf.broker_transport_options = {
        "data_folder_in": messages,
        "data_folder_out": messages,
        "processed_folder": str(folder / "processed"),
    }
    return app


def test_a_worker_on_the_filesystem_broker_runs_a_scheduled_task(tmp_path, postgres):
    today = date.today()
    product = factories.DataProductFactory(launched_on=today - timedelta(days=400))
    kpi = factories.KPIFactory(baseline=Decimal("100"), value_per_unit=Decimal("10"), cadence="monthly")
    factories.AttributionFactory(kpi=kpi, data_product=product, weight=Decimal("1"))
    month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    factories.MeasurementFactory(kpi=kpi, period_start=month, value=Decimal("150"))
    bet = factories.ValueBetFactory(
        data_product=product, opens_on=today - timedelta(days=200), review_on=today - timedelta(days=1)
    )
    assert bet.realised_value is None

    worker = start_worker("", "embedded", REDIS_URL="", CELERY_EMBEDDED_FOLDER=str(tmp_path))
    try:
        _publisher(tmp_path).send_task("apps.bets.tasks.bets_settle_due_scheduled")

        def measured() -> bool:
            bet.refresh_from_db()
            return bet.realised_value is not None

        wait_for(measured, 60, f"the worker to settle the bet (log: {worker_log('embedded')})")
    finally:
        stop(worker)
    log = worker_log("embedded").read_text(errors="replace")
    assert "filesystem" in log  # the banner names the transport: it really was the embedded broker
    assert "bets_settle_due_scheduled" in log and "succeeded" in log
    assert ValueBet.objects.get(pk=bet.pk).realised_value > 0
