"""Celery tasks of the valuation: thin wrappers that take ids and ISO dates and call services.

Reliability (see README, "Celery and reliability"): messages are JSON; tasks are acknowledged
late and rejected back to the queue when their worker dies, which is safe because every task
is idempotent (unique evaluations per product and date, at most one unresolved alert per
product and kind, runs that count each chunk once). They retry with exponential backoff on
database and broker errors only; anything else fails the run with its error. Every countdown
is capped so that it plus the hard time limit fits inside the Redis visibility timeout
(apps.core.task_budget): a retry waiting longer would be handed out twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import TypeVar

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from apps.core.task_budget import RETRYABLE_ERRORS, backoff, backoff_max
from apps.valuation.services import (
    READINESS_PART,
    evaluation_run_begin,
    evaluation_run_fail,
    evaluation_run_prepare,
    evaluation_run_start,
    run_part_execute,
)
from apps.valuation.services.evaluate import chunk_size_setting
from apps.valuation.services.runs import evaluation_runs_requeue

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Transient: the database or the broker went away for a moment. Everything else is a bug or bad data.
# Countdowns are capped at a few seconds (2, 4, then countdown_max()), so eight retries cover a
# database or Redis restart of about a minute.
MAX_RETRIES = 8
_TASK_OPTIONS = {
    # A run's row records how its parts went (status, chunks done, counts, error); nothing reads a
    # part's return value, so it is not written to the result backend.
    "ignore_result": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "max_retries": MAX_RETRIES,
    "soft_time_limit": settings.CELERY_TASK_SOFT_TIME_LIMIT,
    "time_limit": settings.CELERY_TASK_TIME_LIMIT,
}


def _backoff(retries: int) -> int:
    """Seconds before retry number `retries + 1`: 2, 4, 8, ... capped to fit the visibility timeout."""
    return backoff(retries, time_limit=settings.CELERY_TASK_TIME_LIMIT)


def _fail_run(run_id: int, error: BaseException) -> None:
    try:
        evaluation_run_fail(run_id=run_id, error=f"{type(error).__name__}: {error}")
    except RETRYABLE_ERRORS:  # the database is gone too: the log is all we can do
        logger.exception("could not record the failure of evaluation run %s", run_id)


def _or_retry(task, run_id: int | None, step: Callable[[], T]) -> T:
    """Do `step` of run `run_id`, retrying transient errors with backoff and failing the run for good otherwise."""
    try:
        return step()
    except RETRYABLE_ERRORS as error:
        if task.request.retries < MAX_RETRIES:
            raise task.retry(exc=error, countdown=_backoff(task.request.retries)) from error
        if run_id is not None:
            _fail_run(run_id, error)
        raise
    except Exception as error:
        if run_id is not None:
            _fail_run(run_id, error)
        raise


@shared_task(bind=True, **_TASK_OPTIONS)
def evaluation_run_execute(self, run_id: int) -> dict:
    """Start run `run_id`: split the active products into chunks, prepare them, and queue one task per part.

    The parts are queued once the run is prepared (the rollup refreshed, the KPI figures
    shared), the readiness part first: it reads the shared figures too, and takes a second
    worker a fraction of a chunk's time.
    """
    chunk_size = chunk_size_setting()
    run, parts = _or_retry(self, run_id, lambda: evaluation_run_begin(run_id=run_id, chunk_size=chunk_size))
    if run is None:
        logger.warning("evaluation run %s is gone; nothing to do", run_id)
        return {"run_id": run_id, "chunks": 0}
    as_of = run.as_of.isoformat()
    evaluation_chunks = [part for part in parts if part != READINESS_PART]
    if parts:
        _or_retry(self, run_id, lambda: evaluation_run_prepare(run=run, chunks=len(evaluation_chunks)))
    if READINESS_PART in parts:
        evaluation_readiness_record.delay_on_commit(run_id, as_of)
    for part in evaluation_chunks:
        evaluation_chunk_evaluate.delay_on_commit(run_id, as_of, part, chunk_size)
    return {"run_id": run_id, "chunks": len(parts)}


def _run_part(task, run_id: int | None, as_of: str, part: int, chunk_size: int) -> dict:
    """Do one part of a run (`_or_retry`)."""
    summary = _or_retry(
        task,
        run_id,
        lambda: run_part_execute(run_id=run_id, as_of=date.fromisoformat(as_of), part=part, chunk_size=chunk_size),
    )
    return {
        "run_id": run_id,
        "chunk": part,
        "products_evaluated": summary.products_evaluated,
        "alerts_opened": summary.alerts_opened,
        "alerts_resolved": summary.alerts_resolved,
    }


@shared_task(bind=True, **_TASK_OPTIONS)
def evaluation_chunk_evaluate(self, run_id: int | None, as_of: str, chunk: int, chunk_size: int) -> dict:
    """Evaluate one chunk of products (the ids of `chunk_bounds(chunk, chunk_size)`) as of `as_of`."""
    return _run_part(self, run_id, as_of, chunk, chunk_size)


@shared_task(bind=True, **_TASK_OPTIONS)
def evaluation_readiness_record(self, run_id: int, as_of: str) -> dict:
    """The readiness part of a run: store each domain's readiness as of `as_of`, beside the run's chunks."""
    return _run_part(self, run_id, as_of, READINESS_PART, 0)


@shared_task(
    bind=True,
    autoretry_for=RETRYABLE_ERRORS,
    retry_backoff=True,
    retry_backoff_max=backoff_max(),
    max_retries=MAX_RETRIES,
    acks_late=True,
    reject_on_worker_lost=True,
)
def portfolio_evaluate_scheduled(self) -> dict:
    """Beat's daily entry: evaluate the portfolio as of today (a run like any other, trigger `beat`)."""
    run = evaluation_run_start(as_of=timezone.localdate(), requested_by=None, trigger="beat")
    return {"run_id": run.pk, "as_of": run.as_of.isoformat()}


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=RETRYABLE_ERRORS,
    retry_backoff=True,
    retry_backoff_max=backoff_max(),
    max_retries=3,
)
def evaluation_runs_requeue_scheduled() -> dict:
    """Beat, every few minutes: send again the runs a broker outage or a lost worker left behind."""
    return {"requeued": evaluation_runs_requeue()}
