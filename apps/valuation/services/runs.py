"""Starting evaluation runs: a row first, then a Celery task once that row is committed."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.valuation.models import EvaluationRun


@transaction.atomic
def evaluation_run_start(
    *, as_of: date | None = None, requested_by: User | None = None, trigger: str = "api"
) -> EvaluationRun:
    """Record a request to evaluate the portfolio as of `as_of` (default today) and queue it.

    The task is sent only after the transaction commits (`delay_on_commit`), so a worker never
    looks for a run that is not there yet. The run's status tells how it went.
    """
    from apps.valuation.tasks import evaluation_run_execute  # tasks import services: import here

    run = EvaluationRun.objects.create(
        as_of=as_of or timezone.localdate(),
        requested_by=requested_by if requested_by is not None and requested_by.is_authenticated else None,
        trigger=trigger,
    )
    evaluation_run_execute.delay_on_commit(run.pk)
    return run
