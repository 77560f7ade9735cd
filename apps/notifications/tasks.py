"""Celery tasks of notifications: thin wrappers taking ids and ISO dates.

Every task is idempotent (outbox rows are unique per event, channel and recipient, and a
send checks the row's state under a lock), so `acks_late` with `reject_on_worker_lost` is
safe. Database and broker hiccups are retried with backoff; a receiver's failure is not a
task failure: the delivery row records it and schedules its own retry.

Every task runs within the project's time limits (CELERY_TASK_SOFT_TIME_LIMIT and
CELERY_TASK_TIME_LIMIT, seconds), below the Redis visibility timeout; countdowns are capped so
that a waiting retry is never handed out twice (apps.core.task_budget).
"""

from __future__ import annotations

import logging
from datetime import date

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from apps.core.task_budget import RETRYABLE_ERRORS, backoff
from apps.notifications.services import outbox, retirement, sending
from apps.notifications.services.digests import weekly_digests_queue

logger = logging.getLogger(__name__)

# Countdowns are capped at a few seconds (2, 4, then countdown_max()): eight retries ride out a
# database or Redis restart of about a minute.
MAX_RETRIES = 8
# One send: an SMTP operation (EMAIL_TIMEOUT) or an HTTP request (connect + read timeouts) fits
# inside the soft limit, which also ends a send whose many slow steps add up (it is recorded as
# a failed attempt and retried). The hard limit stays below NOTIFICATION_SEND_LEASE_SECONDS;
# apps.py checks both.
SEND_SOFT_TIME_LIMIT = settings.CELERY_TASK_SOFT_TIME_LIMIT
SEND_TIME_LIMIT = settings.CELERY_TASK_TIME_LIMIT
_TASK_OPTIONS = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "max_retries": MAX_RETRIES,
    "ignore_result": True,
    "soft_time_limit": settings.CELERY_TASK_SOFT_TIME_LIMIT,
    "time_limit": settings.CELERY_TASK_TIME_LIMIT,
}


def _backoff(retries: int) -> int:
    """Seconds before retry number `retries + 1`: 2, 4, 8, ... capped to fit the visibility timeout."""
    return backoff(retries, time_limit=settings.CELERY_TASK_TIME_LIMIT)


def _as_of(value: str | None) -> date:
    return date.fromisoformat(value) if value else timezone.localdate()


@shared_task(bind=True, **_TASK_OPTIONS)
def delivery_send(self, delivery_id: int) -> str:
    """Make one attempt at delivery `delivery_id` and schedule the next one if it failed for now.

    A retry due within a countdown Redis can hold (apps.core.task_budget) is published now; a
    later one stays a pending row with its `next_attempt_at`, which the every-minute sweep
    publishes when it is due.
    """
    try:
        result = sending.delivery_send(delivery_id=delivery_id)
    except RETRYABLE_ERRORS as error:
        raise self.retry(exc=error, countdown=_backoff(self.request.retries)) from error
    if result.retry_in is not None and result.retry_by_message:
        # The row already says when; if this message is lost, the sweep sends it then.
        outbox.deliveries_dispatch(delivery_ids=[delivery_id], countdown=result.retry_in)
    return result.status


@shared_task(bind=True, **_TASK_OPTIONS)
def deliveries_sweep(self) -> int:
    """Publish again deliveries whose message was lost or whose sender died (every minute)."""
    try:
        return len(outbox.deliveries_sweep())
    except RETRYABLE_ERRORS as error:
        logger.warning("outbox sweep skipped: %s", error)  # the next minute's run tries again
        return 0


@shared_task(bind=True, **_TASK_OPTIONS)
def weekly_digests_send(self, as_of: str | None = None) -> int:
    """Queue this week's digests for executives and governance leads (weekly)."""
    try:
        return len(weekly_digests_queue(as_of=_as_of(as_of)))
    except RETRYABLE_ERRORS as error:
        raise self.retry(exc=error, countdown=_backoff(self.request.retries)) from error


@shared_task(bind=True, **_TASK_OPTIONS)
def sunset_reminders_send(self, as_of: str | None = None) -> int:
    """Queue reminders of sunsets coming within NOTIFICATION_SUNSET_REMINDER_DAYS (daily)."""
    try:
        return len(retirement.sunset_reminders_queue(as_of=_as_of(as_of)))
    except RETRYABLE_ERRORS as error:
        raise self.retry(exc=error, countdown=_backoff(self.request.retries)) from error
