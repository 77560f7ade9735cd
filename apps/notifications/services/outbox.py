"""The outbox: notifications are rows first, Celery messages second.

Rows are written in the caller's transaction; their messages are published after commit. If
the broker is down then, nothing is lost: the sweep publishes again every row whose message
is overdue. A duplicate message is harmless, because sending locks the row and checks its
state first (apps.notifications.services.sending).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import redis
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.notifications.models import Delivery, DeliveryStatus

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class NewDelivery:
    """One outbox row to write; `status` is `skipped` (with `reason`) when nobody can receive it."""

    event: str
    event_key: str
    channel: str
    recipient: str
    user_id: int | None = None
    subscription_id: int | None = None
    alert_id: int | None = None
    decision_id: int | None = None
    data_product_id: int | None = None
    payload: dict = field(default_factory=dict)
    skipped_reason: str = ""
    batch_key: str = ""


def deliveries_create(*, deliveries: Sequence[NewDelivery]) -> list[int]:
    """Write outbox rows, ignoring any that already exist, and publish the new ones after commit.

    The unique constraint on (event, event_key, channel, recipient) makes a second row for the
    same notification impossible, so calling this twice for the same thing sends nothing new.
    Returns the ids of the rows created as pending. Two queries, whatever the number of rows:
    one INSERT for them all on PostgreSQL (SQLite's parameter limit makes Django split it there).
    """
    if not deliveries:
        return []
    now = timezone.now()
    rows = [
        Delivery(
            uid=uuid.uuid4(),
            event=new.event,
            event_key=new.event_key,
            channel=new.channel,
            recipient=new.recipient,
            user_id=new.user_id,
            subscription_id=new.subscription_id,
            alert_id=new.alert_id,
            decision_id=new.decision_id,
            data_product_id=new.data_product_id,
            payload=new.payload,
            batch_key=new.batch_key,
            status=DeliveryStatus.SKIPPED if new.skipped_reason else DeliveryStatus.PENDING,
            last_error=new.skipped_reason,
            next_attempt_at=now,
            message_due_at=None if new.skipped_reason else now,
        )
        for new in deliveries
    ]
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    # ignore_conflicts gives no ids back; the uids generated here find exactly the rows inserted.
    created = list(
        Delivery.objects.filter(uid__in=[row.uid for row in rows], status=DeliveryStatus.PENDING)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if created:
        transaction.on_commit(lambda: deliveries_dispatch(delivery_ids=created))
    return created


def deliveries_dispatch(*, delivery_ids: Iterable[int], countdown: float | None = None) -> int:
    """Publish one send message per delivery; returns how many reached the broker.

    Never raises for a broker that is down: the rows are committed already and the sweep
    publishes them again later. Stops at the first failure so that a dead broker costs one
    connection attempt, not one per row.
    """
    from apps.notifications.tasks import delivery_send

    published = 0
    ids = list(delivery_ids)
    if ids and not _broker_answers():
        logger.warning("broker unreachable: %d notification(s) left for the outbox sweep", len(ids))
        return 0
    for delivery_id in ids:
        try:
            # No publish retries here: the sweep is the retry, and a request must not hang on Redis.
            delivery_send.apply_async(args=[delivery_id], countdown=countdown, retry=False)
        except Exception as error:  # kombu/redis raise various connection errors; all mean "not published"
            logger.warning(
                "broker unreachable (%s): %d notification(s) left for the outbox sweep",
                error.__class__.__name__,
                len(ids) - published,
            )
            break
        published += 1
    return published


def _broker_answers() -> bool:
    """Whether the Redis broker answers a ping within half a second.

    Publishing to a dead Redis makes kombu retry its connection for seconds; a request or an
    evaluation committing alerts must not wait for that when the sweep will publish anyway.
    """
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return True
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


def deliveries_sweep(*, now: datetime | None = None, limit: int = 1000) -> list[int]:
    """Publish again the deliveries whose message was lost, and those whose sender died.

    A pending row is overdue when it is due and either has no message in flight (a retry too
    far ahead for a Celery countdown, see apps.core.task_budget) or its last message should
    have run more than `NOTIFICATION_SWEEP_GRACE_SECONDS` ago (e.g. Redis was down when it was
    published); a `sending` row whose lease expired belongs to a worker that died mid-send. Rows locked by
    a concurrent sweep are skipped, so overlapping runs publish each row once.
    """
    now = now or timezone.now()
    grace = timedelta(seconds=settings.NOTIFICATION_SWEEP_GRACE_SECONDS)
    overdue = (
        Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        & (Q(message_due_at__isnull=True) | Q(message_due_at__lte=now - grace))
    ) | Q(status=DeliveryStatus.SENDING, lease_expires_at__lte=now)
    with transaction.atomic():
        ids = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(overdue)
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            Delivery.objects.filter(pk__in=ids).update(message_due_at=now)
            transaction.on_commit(lambda: deliveries_dispatch(delivery_ids=ids))
    if ids:
        logger.info("outbox sweep: %d notification(s) published again", len(ids))
    return ids


@transaction.atomic
def deliveries_retry_failed(*, delivery_ids: Iterable[int]) -> int:
    """Give failed deliveries a fresh set of attempts now (the admin's "retry" action)."""
    now = timezone.now()
    ids = list(
        Delivery.objects.select_for_update()
        .filter(pk__in=list(delivery_ids), status=DeliveryStatus.FAILED)
        .values_list("pk", flat=True)
    )
    if ids:
        Delivery.objects.filter(pk__in=ids).update(
            status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now, message_due_at=now, lease_expires_at=None
        )
        transaction.on_commit(lambda: deliveries_dispatch(delivery_ids=ids))
    return len(ids)
