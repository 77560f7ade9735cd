"""The demo's embedded broker: a real `celery worker` on kombu's filesystem transport runs a task.

With no `REDIS_URL` the settings choose the filesystem transport (config/settings/base.py). The
worker here starts with exactly that (REDIS_URL empty, its own folder); the test publishes
beat's daily retirement job into the same folder, as beat or `celery call` would, and waits for
the worker to have retired the product whose sunset date has passed.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from celery import Celery

from tests import factories
from tests.workers import start_worker, stop, wait_for, worker_log

pytestmark = [pytest.mark.celery_worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _publisher(folder) -> Celery:
    """A Celery app that publishes to the filesystem broker in `folder`, as the demo's settings do."""
    messages = str(folder / "messages")
    for name in ("messages", "processed", "control"):
        (folder / name).mkdir(exist_ok=True)
    # Not the current app: shared tasks sent later in this test process must keep using the project's.
    app = Celery("embedded-broker-test", broker="filesystem://", set_as_current=False)
    app.conf.task_default_queue = "default"  # the project's default queue, which the worker consumes
    app.conf.broker_transport_options = {
        "data_folder_in": messages,
        "data_folder_out": messages,
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),
    }
    return app


def test_a_worker_on_the_filesystem_broker_runs_a_scheduled_task(tmp_path, postgres):
    today = date.today()
    product = factories.DataProductFactory(
        lifecycle="deprecated", launched_on=today - timedelta(days=400), sunset_on=today - timedelta(days=1)
    )

    worker = start_worker("", "embedded", REDIS_URL="", CELERY_EMBEDDED_FOLDER=str(tmp_path))
    try:
        _publisher(tmp_path).send_task("apps.catalog.tasks.data_products_retire_due_scheduled")

        def retired() -> bool:
            product.refresh_from_db()
            return product.lifecycle == "retired"

        wait_for(retired, 60, f"the worker to retire the product (log: {worker_log('embedded')})")
        # The task commits before it returns and the worker logs it: stopping at the commit could
        # cut the log line the assertions below read.
        wait_for(
            lambda: "succeeded" in worker_log("embedded").read_text(errors="replace"),
            30,
            f"the worker to log the task's success (log: {worker_log('embedded')})",
        )
    finally:
        stop(worker)
    log = worker_log("embedded").read_text(errors="replace")
    assert "filesystem" in log  # the banner names the transport: it really was the embedded broker
    assert "data_products_retire_due_scheduled" in log and "succeeded" in log
