"""Two evaluations of the same products for the same date never overlap (PostgreSQL advisory locks)."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import OperationalError, connection, connections, transaction

from apps.valuation.models import Evaluation
from apps.valuation.services import portfolio_chunk_evaluate
from apps.valuation.services.locks import evaluation_lock

from .scenario import AS_OF, build_scenario

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]


def hold_lock(as_of: date, chunk: int, locked: threading.Event, release: threading.Event) -> None:
    """In another connection: take the evaluation lock and keep it until told to let go."""
    try:
        with transaction.atomic():
            evaluation_lock(as_of=as_of, chunk=chunk)
            locked.set()
            release.wait(timeout=30)
    finally:
        connections.close_all()


@pytest.fixture
def lock_held():
    threads = []
    release = threading.Event()

    def hold(as_of: date, chunk: int = 0) -> None:
        locked = threading.Event()
        thread = threading.Thread(target=hold_lock, args=(as_of, chunk, locked, release))
        thread.start()
        threads.append(thread)
        assert locked.wait(timeout=10)

    yield hold
    release.set()
    for thread in threads:
        thread.join(timeout=10)


def test_a_second_run_for_the_same_date_waits_for_the_first(lock_held, settings):
    build_scenario()
    settings.MESHVALUE_EVALUATION_LOCK_TIMEOUT = "300ms"
    lock_held(AS_OF)
    with pytest.raises(OperationalError, match="lock timeout"):
        portfolio_chunk_evaluate(as_of=AS_OF)
    assert not Evaluation.objects.exists()


def test_other_dates_and_chunks_do_not_wait(lock_held, settings):
    build_scenario()
    settings.MESHVALUE_EVALUATION_LOCK_TIMEOUT = "300ms"
    lock_held(AS_OF, chunk=0)
    assert portfolio_chunk_evaluate(as_of=date(2026, 7, 2)).products_evaluated == 6
    assert portfolio_chunk_evaluate(as_of=AS_OF, chunk=1, chunk_size=1_000_000).products_evaluated == 0


def test_the_waiting_run_proceeds_once_the_first_commits():
    build_scenario()
    release = threading.Event()
    locked = threading.Event()
    thread = threading.Thread(target=hold_lock, args=(AS_OF, 0, locked, release))
    thread.start()
    assert locked.wait(timeout=10)
    results = []

    def evaluate() -> None:
        try:
            results.append(portfolio_chunk_evaluate(as_of=AS_OF).products_evaluated)
        finally:
            connections.close_all()

    waiting = threading.Thread(target=evaluate)
    waiting.start()
    waiting.join(timeout=1)
    assert waiting.is_alive() and results == []  # blocked on the lock
    release.set()
    waiting.join(timeout=20)
    thread.join(timeout=10)
    assert results == [6]
    assert Evaluation.objects.filter(as_of=AS_OF).count() == 6
    assert connection.vendor == "postgresql"
