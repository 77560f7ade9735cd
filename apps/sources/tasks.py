"""Celery tasks of KPI sources: one pull per KPI, and beat's entries that queue them by cadence.

`kpi_pull` is idempotent (a re-pull of unchanged rows stores nothing; a run is written with the
outcomes it stored, in one transaction), so `acks_late` with `reject_on_worker_lost` is safe: a
worker killed mid-pull rolls everything back and the message comes back to another worker.
Retries happen for meshvalue's own database and broker errors only; an error of the source is
recorded on the run and is not retried (the next scheduled pull tries again).
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from apps.core.task_budget import RETRYABLE_ERRORS, backoff_max
from apps.kpis.selectors import sourced_kpis
from apps.sources.models import PullTrigger
from apps.sources.services import kpi_pull as kpi_pull_service

# The query must end before the task's soft time limit, leaving room to connect and to store.
QUERY_MARGIN_SECONDS = 5


def query_timeout_on_worker() -> float:
    """The longest a source's query may run inside a task (the source's own timeout may be lower)."""
    return max(1.0, float(settings.CELERY_TASK_SOFT_TIME_LIMIT - QUERY_MARGIN_SECONDS))


@shared_task(
    autoretry_for=RETRYABLE_ERRORS,
    retry_backoff=True,
    retry_backoff_max=backoff_max(),
    max_retries=8,
    acks_late=True,
    reject_on_worker_lost=True,
)
def kpi_pull(kpi_id: int, trigger: str = PullTrigger.SCHEDULED) -> dict:
    """Pull one KPI from its source (a KPI gone or without a source any more is skipped)."""
    run = kpi_pull_service(kpi_id=kpi_id, trigger=trigger, timeout_s=query_timeout_on_worker())
    if run is None:
        return {"kpi_id": kpi_id, "status": "skipped"}
    return {"kpi_id": kpi_id, "run_id": run.pk, "status": run.status, "stored": run.rows_stored}


@shared_task(
    autoretry_for=RETRYABLE_ERRORS,
    retry_backoff=True,
    retry_backoff_max=backoff_max(),
    max_retries=8,
    acks_late=True,
    reject_on_worker_lost=True,
)
def kpis_pull_scheduled(cadence: str) -> dict:
    """Beat's entry for one cadence: queue a pull of every sourced KPI of that cadence."""
    kpi_ids = list(sourced_kpis(cadence=cadence).values_list("id", flat=True))
    for kpi_id in kpi_ids:
        kpi_pull.delay(kpi_id, PullTrigger.SCHEDULED)
    return {"cadence": cadence, "queued": len(kpi_ids)}
