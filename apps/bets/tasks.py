"""Celery tasks of value bets."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerOperationalError

from apps.bets.services import bets_settle_due
from apps.core.task_budget import backoff_max


@shared_task(
    autoretry_for=(OperationalError, InterfaceError, BrokerOperationalError),
    retry_backoff=True,
    # A retry's countdown plus the run must fit inside the Redis visibility timeout.
    retry_backoff_max=backoff_max(),
    max_retries=8,
    acks_late=True,
    reject_on_worker_lost=True,
)
def bets_settle_due_scheduled() -> dict:
    """Beat's daily entry: measure the open bets due for review (idempotent; confirmation stays with people)."""
    bet_ids = bets_settle_due()
    return {"bets_measured": len(bet_ids)}
