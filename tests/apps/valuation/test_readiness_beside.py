"""A run's readiness, stored beside the preparation of its chunks or by its own task, exactly once (PostgreSQL)."""

from __future__ import annotations

import logging
import threading

import pytest
from django.db import OperationalError, connections, transaction

from apps.core.locks import job_lock
from apps.valuation.models import DomainReadiness, EvaluationRun, RunStatus
from apps.valuation.services import READINESS_PART, evaluate, portfolio_evaluate
from apps.valuation.services.evaluate import _READINESS_JOB, run_readiness_record

from .scenario import AS_OF, build_scenario

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]


@pytest.fixture
def stored_by(monkeypatch):
    """The names of the threads that stored readiness, in order (the real `readiness_record` runs)."""
    names: list[str] = []
    real = evaluate.readiness_record

    def recording(**kwargs):
        names.append(threading.current_thread().name)
        return real(**kwargs)

    monkeypatch.setattr(evaluate, "readiness_record", recording)
    return names


def test_a_run_in_chunks_stores_its_readiness_beside_the_preparation_once(stored_by):
    build_scenario()
    run = EvaluationRun.objects.create(as_of=AS_OF, trigger="test")
    portfolio_evaluate(as_of=AS_OF, run=run, chunk_size=3)  # several chunks: figures are shared
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert run.chunks_done.count(READINESS_PART) == 1 and len(run.chunks_done) == run.chunks_total > 2
    assert stored_by == ["meshvalue-readiness"]  # the thread; the part itself then found it done
    stored = list(DomainReadiness.objects.filter(as_of=AS_OF).values_list("domain_id", "updated_at"))
    assert stored

    # A redelivered readiness task waits for the part's lock, finds the part done and writes nothing.
    assert run_readiness_record(run_id=run.pk, as_of=AS_OF) is not None
    assert stored_by == ["meshvalue-readiness"]
    assert list(DomainReadiness.objects.filter(as_of=AS_OF).values_list("domain_id", "updated_at")) == stored


def test_one_chunk_stores_readiness_as_its_own_part(stored_by):
    build_scenario()
    run = EvaluationRun.objects.create(as_of=AS_OF, trigger="test")
    portfolio_evaluate(as_of=AS_OF, run=run, chunk_size=1_000_000)  # nothing to prepare beside
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and stored_by == ["MainThread"]


def test_the_part_held_elsewhere_is_left_to_its_holder(settings):
    build_scenario()
    run = EvaluationRun.objects.create(as_of=AS_OF, status=RunStatus.RUNNING, chunks_total=2)
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:  # another worker's readiness task, in the middle of storing it
        try:
            with transaction.atomic():
                job_lock(_READINESS_JOB, run.pk)
                locked.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        assert run_readiness_record(run_id=run.pk, as_of=AS_OF, wait=False) is None  # the thread's try
        settings.MESHVALUE_EVALUATION_LOCK_TIMEOUT = "300ms"
        with pytest.raises(OperationalError, match="lock timeout"):  # a task waits, then retries
            run_readiness_record(run_id=run.pk, as_of=AS_OF)
    finally:
        release.set()
        holder.join(timeout=10)
    assert not DomainReadiness.objects.filter(as_of=AS_OF).exists()
    run.refresh_from_db()
    assert run.chunks_done == []

    assert run_readiness_record(run_id=run.pk, as_of=AS_OF) is not None  # the holder let go without storing
    assert DomainReadiness.objects.filter(as_of=AS_OF).exists()
    run.refresh_from_db()
    assert run.chunks_done == [READINESS_PART]


def test_a_failure_beside_leaves_the_part_to_its_task(monkeypatch, caplog):
    build_scenario()
    real = evaluate.readiness_record
    calls: list[str] = []

    def failing_in_the_thread(**kwargs):
        calls.append(threading.current_thread().name)
        if threading.current_thread().name == "meshvalue-readiness":
            raise ValueError("secret=hunter2 in a message that must not be logged")
        return real(**kwargs)

    monkeypatch.setattr(evaluate, "readiness_record", failing_in_the_thread)
    run = EvaluationRun.objects.create(as_of=AS_OF, trigger="test")
    with caplog.at_level(logging.WARNING, logger="apps.valuation.services.evaluate"):
        portfolio_evaluate(as_of=AS_OF, run=run, chunk_size=3)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and run.chunks_done.count(READINESS_PART) == 1
    assert calls == ["meshvalue-readiness", "MainThread"]
    assert DomainReadiness.objects.filter(as_of=AS_OF).exists()
    assert "ValueError" in caplog.text and "hunter2" not in caplog.text
