"""Celery tasks of costs: thin wrappers that take ids and call the import service.

`cost_import_execute` is acknowledged late and rejected back to the queue when its worker dies:
the import is idempotent (a succeeded import is not run again; everything is written in one
transaction under an advisory lock per file checksum and month), so a redelivered import
finishes exactly once. Transient database and broker errors are retried with backoff; anything
else marks the import failed with the error. The task lives in the project's time budget (the
Redis visibility timeout): a month's bill of millions of lines belongs to `manage.py
import_costs` or to a deployment that raises CELERY_TASK_TIME_LIMIT and the timeout together.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from apps.core.task_budget import RETRYABLE_ERRORS, backoff
from apps.costs.imports import cost_import_fail, cost_import_run

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=8,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
)
def cost_import_execute(self, import_id: int) -> dict:
    """Run billing import `import_id` (tolerates a row that is gone)."""
    try:
        cost_import = cost_import_run(import_id=import_id)
    except RETRYABLE_ERRORS as error:
        raise self.retry(
            exc=error, countdown=backoff(self.request.retries, time_limit=settings.CELERY_TASK_TIME_LIMIT)
        ) from error
    except Exception as error:
        logger.exception("cost import %s failed", import_id)
        cost_import_fail(import_id=import_id, error=f"{type(error).__name__}: {error}")
        raise
    if cost_import is None:
        return {"import_id": import_id, "status": "gone"}
    return {"import_id": import_id, "status": cost_import.status}
