"""The time budget every Celery task lives in, derived from the Redis visibility timeout.

kombu's Redis transport timestamps a message when it is delivered to a worker, and hands it out
again once it has stayed unacknowledged for `CELERY_VISIBILITY_TIMEOUT` seconds. With
`acks_late` a message is acknowledged when its task ends, so what must fit inside the timeout
is the countdown (a retry's ETA is held by the worker, unacknowledged) plus the task's run (at
most its hard time limit) plus a margin for clock skew between hosts and time spent in the
worker's prefetch buffer. See README, "Celery and reliability".
"""

from __future__ import annotations

from django.conf import settings
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerOperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

# Transient failures of the database or the broker: the only errors a task retries on.
RETRYABLE_ERRORS = (OperationalError, InterfaceError, BrokerOperationalError, RedisConnectionError, RedisTimeoutError)

# Clock skew between the worker that took a message and the one that restores it, plus the
# moment a message may wait in the worker before a pool process takes it.
DELIVERY_MARGIN_SECONDS = 3


def visibility_timeout() -> int:
    """The broker's visibility timeout in seconds."""
    return settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]


def countdown_max(*, time_limit: float | None = None) -> float:
    """The longest countdown a task with hard limit `time_limit` (default: the project's) may be published with.

    A longer one would leave its message unacknowledged past the visibility timeout, and Redis
    would deliver it again while the first copy still waits for its time.
    """
    limit = settings.CELERY_TASK_TIME_LIMIT if time_limit is None else time_limit
    return visibility_timeout() - limit - DELIVERY_MARGIN_SECONDS


def countdown_fits(countdown: float, *, time_limit: float | None = None) -> bool:
    """Whether a message with this countdown is acknowledged before Redis would hand it out again."""
    return countdown <= countdown_max(time_limit=time_limit)


def backoff_max(*, time_limit: float | None = None) -> int:
    """`countdown_max()` as the whole seconds Celery's `retry_backoff_max` wants (at least 1)."""
    return max(1, int(countdown_max(time_limit=time_limit)))


def backoff(retries: int, *, time_limit: float | None = None) -> int:
    """Seconds before retry number `retries + 1`: 2, 4, 8, ... capped to fit the visibility timeout (at least 1)."""
    return min(2 ** (retries + 1), backoff_max(time_limit=time_limit))
