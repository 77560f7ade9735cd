"""A worker killed in the middle of a billing import: the import is delivered again and finishes once.

The test holds the import's month lock from another connection, so the worker's task is caught
inside its one transaction (waiting on `pg_advisory_xact_lock`), kills the worker's pool process
there, and lets go of the lock once the message has come back.
"""

from __future__ import annotations

import shutil
import threading
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection, connections, transaction

from apps.costs.imports import cost_import_create
from apps.costs.models import AllocationRule, AllocationTarget, CostEntry, CostImport, ExchangeRate
from tests.factories import DataProductFactory
from tests.workers import broker_reset, kill_pool_processes, received, start_worker, stop, wait_for, worker_log

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("postgres"),
]
SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "focus" / "focus_sample.csv"
TASK = "apps.costs.tasks.cost_import_execute"
MONTH_LOCK = "meshvalue.cost-import.month.2024-09"


def _hold(locked: threading.Event, release: threading.Event) -> None:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [MONTH_LOCK])
            locked.set()
            release.wait(timeout=60)
    finally:
        connections.close_all()


def waiting_on_advisory_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        return cursor.fetchone()[0]


def test_killed_pool_process_import_comes_back_and_finishes_once(redis_url, tmp_path):
    product = DataProductFactory()
    rule = AllocationRule.objects.create(name="AWS", position=1, sub_account_id="11353890204")
    AllocationTarget.objects.create(rule=rule, data_product=product)
    ExchangeRate.objects.create(currency="USD", month=date(2024, 9, 1), rate=Decimal("0.9"))
    bill = tmp_path / "bill.csv"
    shutil.copy(SAMPLE, bill)
    broker_reset(redis_url)
    release, locked = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold, args=(locked, release))
    holder.start()
    assert locked.wait(timeout=10)
    worker = start_worker(redis_url, "costs-killed", MESHVALUE_COST_IMPORT_DIR=str(tmp_path / "uploads"))
    try:
        cost_import = cost_import_create(file_name="bill.csv", file_path=bill)  # dispatched on commit
        wait_for(lambda: waiting_on_advisory_lock() == 1, 60, "the import to wait on the month lock")
        kill_pool_processes(worker)
        wait_for(lambda: received(worker_log("costs-killed"), TASK) == 2, 30, "the import to be delivered again")
        wait_for(lambda: waiting_on_advisory_lock() == 1, 30, "the redelivered import to wait on the lock")
        release.set()
        wait_for(lambda: CostImport.objects.get(pk=cost_import.pk).status in ("succeeded", "failed"), 30, "the import")
        cost_import.refresh_from_db()
        assert cost_import.status == "succeeded", cost_import.errors
        entries = list(CostEntry.objects.values_list("category", "amount", "revision", "is_current"))
        assert sorted(entries) == [("credit", Decimal("-2.70"), 1, True), ("infrastructure", Decimal("14.40"), 1, True)]
        assert cost_import.aggregates.count() > 0
    finally:
        release.set()
        holder.join(timeout=10)
        stop(worker)
        broker_reset(redis_url)
