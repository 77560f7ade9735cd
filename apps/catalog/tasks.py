"""Celery tasks of the catalog: thin wrappers taking ISO dates."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.utils import timezone

from apps.catalog.services import data_products_retire_due
from apps.core.task_budget import RETRYABLE_ERRORS, backoff_max


@shared_task(
    autoretry_for=RETRYABLE_ERRORS,
    retry_backoff=True,
    # A retry's countdown plus the run must fit inside the Redis visibility timeout.
    retry_backoff_max=backoff_max(),
    max_retries=8,
    acks_late=True,
    reject_on_worker_lost=True,
)
def data_products_retire_due_scheduled(as_of: str | None = None) -> list[int]:
    """Beat, daily just after midnight: deprecated products whose sunset date has come become `retired`.

    Idempotent: a product retired once is not due again.
    """
    return data_products_retire_due(as_of=date.fromisoformat(as_of) if as_of else timezone.localdate())
