"""Starting evaluation runs: a row first, then a Celery task once that row is committed.

The run row is the outbox: if the broker is down when the task is sent, the run stays
`queued` and `evaluation_runs_requeue` (beat, every few minutes) sends it again, as it does
for a run whose worker died and whose message was lost with it.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerOperationalError
from redis.exceptions import RedisError

from apps.accounts.models import User
from apps.valuation.models import EvaluationRun, RunStatus

logger = logging.getLogger(__name__)

# A queued run older than this was never picked up.
QUEUED_GRACE = timedelta(minutes=2)


def _send(run_id: int) -> bool:
    """Queue the run's task; False (and a log line) when the broker cannot be reached."""
    from apps.valuation.tasks import evaluation_run_execute  # tasks import services: import here

    try:
        evaluation_run_execute.delay(run_id)
    except (BrokerOperationalError, RedisError, OSError):
        logger.warning("broker unreachable: evaluation run %s stays queued until the next requeue sweep", run_id)
        return False
    return True


@transaction.atomic
def evaluation_run_start(
    *, as_of: date | None = None, requested_by: User | None = None, trigger: str = "api"
) -> EvaluationRun:
    """Record a request to evaluate the portfolio as of `as_of` (default today) and queue it.

    The task is sent only after the transaction commits, so a worker never looks for a run
    that is not there yet; a broker outage leaves the run queued for the requeue sweep rather
    than failing the request. The run's status tells how it went.
    """
    run = EvaluationRun.objects.create(
        as_of=as_of or timezone.localdate(),
        requested_by=requested_by if requested_by is not None and requested_by.is_authenticated else None,
        trigger=trigger,
    )
    transaction.on_commit(lambda: _send(run.pk))
    return run


def evaluation_runs_requeue() -> list[int]:
    """Send again the runs that never reached a worker or whose worker vanished; returns their ids.

    Safe to repeat: a run counts each chunk once and every chunk is idempotent.
    """
    now = timezone.now()
    # A dead worker's chunk comes back by itself within the visibility timeout plus a restore
    # interval; only a running run older than that (and than the queued grace, so that a run
    # whose chunks merely wait behind other work is not sent twice) has lost its messages.
    transport = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    restored_within = timedelta(seconds=transport["visibility_timeout"] + transport["unacked_restore_interval"])
    stalled_after = max(QUEUED_GRACE, restored_within)
    stuck = list(
        EvaluationRun.objects.filter(
            Q(status=RunStatus.QUEUED, created_at__lt=now - QUEUED_GRACE)
            | Q(status=RunStatus.RUNNING, started_at__lt=now - stalled_after)
        )
        .order_by("id")
        .values_list("id", flat=True)
    )
    return [run_id for run_id in stuck if _send(run_id)]
