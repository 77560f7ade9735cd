"""Celery tasks, called directly (no broker) and through a real worker on the Redis broker."""

from __future__ import annotations

import time

import pytest

from apps.catalog.tasks import data_products_retire_due_scheduled
from apps.governance.models import Alert, AlertStatus
from apps.valuation import tasks
from apps.valuation.models import DomainReadiness, Evaluation, EvaluationRun, RunStatus
from apps.valuation.tasks import (
    MAX_RETRIES,
    _backoff,
    evaluation_chunk_evaluate,
    evaluation_readiness_record,
    evaluation_run_execute,
    evaluation_runs_requeue_scheduled,
    portfolio_evaluate_scheduled,
)

from .scenario import AS_OF, build_scenario


@pytest.mark.django_db
def test_chunk_task_called_directly_counts_each_chunk_once():
    build_scenario()
    run = EvaluationRun.objects.create(as_of=AS_OF, status=RunStatus.RUNNING, chunks_total=1)
    first = evaluation_chunk_evaluate.run(run.pk, AS_OF.isoformat(), 0, 1_000_000)
    again = evaluation_chunk_evaluate.run(run.pk, AS_OF.isoformat(), 0, 1_000_000)  # a redelivery
    assert first["products_evaluated"] == again["products_evaluated"] == 6
    run.refresh_from_db()
    assert (run.status, run.chunks_done, run.products_evaluated, run.alerts_opened) == (
        RunStatus.SUCCEEDED,
        [0],
        6,
        8,
    )


@pytest.mark.django_db
def test_a_run_for_a_missing_row_does_nothing():
    assert evaluation_run_execute.run(987654) == {"run_id": 987654, "chunks": 0}


@pytest.mark.django_db
def test_a_chunk_that_fails_for_good_fails_its_run(monkeypatch):
    run = EvaluationRun.objects.create(as_of=AS_OF, status=RunStatus.RUNNING, chunks_total=1)

    def broken(**kwargs):
        raise ValueError("bad data")

    monkeypatch.setattr("apps.valuation.tasks.run_part_execute", broken)
    with pytest.raises(ValueError):
        evaluation_chunk_evaluate.run(run.pk, AS_OF.isoformat(), 0, 10)
    run.refresh_from_db()
    assert (run.status, run.error) == (RunStatus.FAILED, "ValueError: bad data")


def test_backoff_grows_and_is_capped_to_fit_the_visibility_timeout(settings):
    # Defaults: visibility 30 s, hard limit 20 s, 3 s margin: a countdown of at most 7 s.
    assert [_backoff(n) for n in range(6)] == [2, 4, 7, 7, 7, 7]
    for retries in range(MAX_RETRIES):
        assert _backoff(retries) + settings.CELERY_TASK_TIME_LIMIT < settings.CELERY_VISIBILITY_TIMEOUT
    # Eight retries ride out a database or Redis restart of about a minute.
    assert sum(_backoff(n) for n in range(MAX_RETRIES)) >= 45
    for task in (portfolio_evaluate_scheduled, evaluation_runs_requeue_scheduled, data_products_retire_due_scheduled):
        assert task.retry_backoff
        assert task.retry_backoff_max + task_time_limit(task) < settings.CELERY_VISIBILITY_TIMEOUT


def task_time_limit(task) -> int:
    from config.celery_app import app

    return task.time_limit or app.conf.task_time_limit


def test_tasks_are_json_only_late_acknowledged_and_time_limited(settings):
    from config.celery_app import app

    assert app.conf.task_serializer == "json" and app.conf.accept_content == ["json"]
    assert evaluation_chunk_evaluate.acks_late and evaluation_chunk_evaluate.reject_on_worker_lost
    assert evaluation_chunk_evaluate.soft_time_limit < evaluation_chunk_evaluate.time_limit
    assert evaluation_chunk_evaluate.time_limit < settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert (
        settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
        == settings.CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS["visibility_timeout"]
    )
    beat = settings.CELERY_BEAT_SCHEDULE
    assert beat["evaluate-portfolio-daily"]["task"] == "apps.valuation.tasks.portfolio_evaluate_scheduled"
    # Bets are measured inside the daily evaluation; the catalog retires products past their sunset.
    assert "settle-due-bets-daily" not in beat
    assert beat["retire-due-products-daily"]["task"] == "apps.catalog.tasks.data_products_retire_due_scheduled"
    for name in ("evaluate-portfolio-daily", "retire-due-products-daily"):
        assert beat[name]["options"]["expires"] < 24 * 60 * 60
        assert beat[name]["task"] in app.tasks


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_run_through_a_real_worker_on_the_redis_broker(redis_url, postgres, settings):
    from celery.contrib.testing.worker import start_worker

    from apps.valuation.services import evaluation_run_start
    from config.celery_app import app

    build_scenario()
    settings.MESHVALUE_EVALUATION_CHUNK_SIZE = 3  # several chunks, one task each
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        run = evaluation_run_start(as_of=AS_OF, trigger="test")

        def finished() -> bool:
            run.refresh_from_db()
            return run.status in (RunStatus.SUCCEEDED, RunStatus.FAILED)

        wait_for(finished, 60, "the run to finish")
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.chunks_total > 1 and sorted(run.chunks_done) == sorted(set(run.chunks_done))
    assert (run.products_evaluated, run.alerts_opened, run.alerts_resolved) == (6, 8, 1)
    assert Evaluation.objects.filter(as_of=AS_OF).count() == 6
    assert Alert.objects.exclude(status=AlertStatus.RESOLVED).count() == 8


@pytest.mark.django_db
def test_a_run_waits_for_the_commit_and_survives_a_broker_outage(monkeypatch, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone
    from kombu.exceptions import OperationalError as BrokerOperationalError

    from apps.valuation.services import evaluation_run_start
    from apps.valuation.services.runs import evaluation_runs_requeue

    sent: list[int] = []

    def broker_down(run_id):
        raise BrokerOperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(evaluation_run_execute, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        run = evaluation_run_start(as_of=AS_OF, trigger="api")
        assert sent == []
    assert len(callbacks) == 1  # sent after the commit, not before
    run.refresh_from_db()
    assert run.status == RunStatus.QUEUED  # the request did not fail; the run waits for the sweep

    monkeypatch.setattr(evaluation_run_execute, "delay", sent.append)
    assert evaluation_runs_requeue() == []  # too young: it may still be on its way
    EvaluationRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    assert evaluation_runs_requeue() == [run.pk]
    assert sent == [run.pk]


@pytest.mark.django_db
def test_the_daily_entry_records_a_beat_run_for_today(django_capture_on_commit_callbacks, monkeypatch):
    from django.utils import timezone

    from apps.valuation.tasks import portfolio_evaluate_scheduled

    sent: list[int] = []
    monkeypatch.setattr(evaluation_run_execute, "delay", sent.append)
    with django_capture_on_commit_callbacks(execute=True):
        result = portfolio_evaluate_scheduled.run()
    run = EvaluationRun.objects.get(pk=result["run_id"])
    assert (run.as_of, run.trigger, run.status) == (timezone.localdate(), "beat", RunStatus.QUEUED)
    assert sent == [run.pk]


@pytest.mark.django_db
def test_executing_a_run_queues_one_task_per_chunk_after_commit(monkeypatch, settings):
    build_scenario()
    settings.MESHVALUE_EVALUATION_CHUNK_SIZE = 1  # every product its own chunk
    queued: list[tuple] = []
    readiness: list[tuple] = []
    steps: list[str] = []

    def queue_chunk(*args):
        steps.append("chunk")
        queued.append(args)

    def queue_readiness(*args):
        steps.append("readiness")
        readiness.append(args)

    monkeypatch.setattr(evaluation_chunk_evaluate, "delay_on_commit", queue_chunk)
    monkeypatch.setattr(evaluation_readiness_record, "delay_on_commit", queue_readiness)
    prepare = tasks.evaluation_run_prepare

    def recorded_prepare(**kwargs):
        steps.append("prepare")
        prepare(**kwargs)

    monkeypatch.setattr(tasks, "evaluation_run_prepare", recorded_prepare)
    run = EvaluationRun.objects.create(as_of=AS_OF, trigger="test")
    result = evaluation_run_execute.run(run.pk)
    # Every part reads what the preparation shares, so all are queued after it, readiness first.
    assert steps == ["prepare", "readiness", *["chunk"] * len(queued)]
    run.refresh_from_db()
    # six active products, plus eta: deprecated but with an unresolved alert to resolve; and readiness.
    assert result["chunks"] == run.chunks_total == len(queued) + 1 == 8
    assert readiness == [(run.pk, AS_OF.isoformat())]
    assert not DomainReadiness.objects.filter(as_of=AS_OF).exists()
    evaluation_readiness_record.run(*readiness[0])
    assert DomainReadiness.objects.filter(as_of=AS_OF).exists()
    assert {args[1] for args in queued} == {AS_OF.isoformat()}
    for run_id, as_of, chunk, chunk_size in queued:
        evaluation_chunk_evaluate.run(run_id, as_of, chunk, chunk_size)
    run.refresh_from_db()
    assert (run.status, run.products_evaluated, run.alerts_opened, run.alerts_resolved) == (
        RunStatus.SUCCEEDED,
        6,
        8,
        1,
    )
    assert evaluation_run_execute.run(run.pk) == {"run_id": run.pk, "chunks": 0}  # a redelivery: nothing left
