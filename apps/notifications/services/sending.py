"""Sending one delivery, exactly as its row says, at most once per attempt.

1. Claim: lock the row; go on only if it is pending and due, or `sending` with an expired
   lease (the previous sender died mid-send). Mark it `sending` with a lease and commit.
2. Send, outside any transaction (a slow receiver must not hold a row lock).
3. Record: sent, failed, or pending again with a backoff, unless someone else took over.

A message for a row that is sent, failed, not yet due or leased to a live sender does nothing,
so duplicate Celery messages (sweep, redelivery after a visibility timeout) cannot send twice.
A sender killed between 1 and 3 leaves the row `sending`; once the lease ends the sweep sends
it again with the same `webhook-id`/Message-ID, so a receiver can recognise the repeat.
"""

from __future__ import annotations

import logging
import secrets
import smtplib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from requests_hardened.ip_filter import InvalidIPAddress

from apps.core.task_budget import countdown_fits
from apps.notifications.models import Channel, Delivery, DeliveryStatus, Event
from apps.notifications.services.messages import (
    EVENT_TYPES,
    alert_link,
    email_message,
)
from apps.notifications.services.webhooks import (
    alert_event_data,
    alert_slack_message,
    webhook_body,
    webhook_post,
    webhook_signature,
)

logger = logging.getLogger(__name__)

# HTTP answers worth trying again: timeouts, rate limits, server trouble.
RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class Outcome:
    """How one attempt went."""

    ok: bool = False
    skipped: bool = False
    permanent: bool = False
    error: str = ""
    status_code: int | None = None


@dataclass(frozen=True)
class SendResult:
    """What the task should do next: nothing, or send again in `retry_in` seconds.

    `retry_by_message` says whether the retry goes out now as a message with that countdown;
    otherwise the countdown is too long for Redis to hold (apps.core.task_budget) and the row
    waits, pending, for the outbox sweep to publish it when it is due.
    """

    status: str
    retry_in: float | None = None
    retry_by_message: bool = False


def retry_delay(attempt: int) -> float:
    """Seconds before attempt `attempt + 1`: exponential, capped, with jitter.

    "Equal jitter": half the exponential delay plus a random share of the other half, so
    retries of many deliveries to one receiver spread out yet still back off.
    """
    ceiling = min(
        settings.NOTIFICATION_RETRY_MAX_SECONDS, settings.NOTIFICATION_RETRY_BASE_SECONDS * 2 ** (attempt - 1)
    )
    return ceiling / 2 + secrets.SystemRandom().uniform(0, ceiling / 2)


@dataclass(frozen=True)
class _Claim:
    """The rows one attempt sends (the claimed row first, then its batch siblings), or why none."""

    deliveries: tuple[Delivery, ...] = ()
    lease: datetime | None = None
    status: str = ""

    @property
    def delivery(self) -> Delivery | None:
        return self.deliveries[0] if self.deliveries else None


_CLAIM_RELATED = (
    "user",
    "subscription",
    "alert__data_product__domain",
    "alert__data_product__owner",
    "alert__evaluation",
    "decision__data_product",
    "decision__decided_by",
    "data_product",
)


def _claimable(now: datetime) -> Q:
    """Rows a sender may take now: pending and due, or `sending` by a sender whose lease ended."""
    return Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=DeliveryStatus.SENDING,
        lease_expires_at__lte=now,
        attempts__lt=settings.NOTIFICATION_MAX_ATTEMPTS,
    )


def _batch_siblings(delivery: Delivery, now: datetime) -> list[Delivery]:
    """The other alert e-mails to the same person from the same evaluation run, ready to go with this one.

    One message lists them all; each row stays the record that its alert reached that person
    (the outbox's unique constraint), so the batch never sends an alert twice. Rows another
    sender holds are skipped, not waited for: they go out in that sender's message.
    """
    if delivery.channel != Channel.EMAIL or delivery.event != Event.ALERT_OPENED or not delivery.batch_key:
        return []
    if delivery.user_id is None:
        return []
    return list(
        Delivery.objects.select_for_update(of=("self",), skip_locked=True)
        .select_related(*_CLAIM_RELATED)
        .filter(
            _claimable(now),
            channel=Channel.EMAIL,
            event=Event.ALERT_OPENED,
            user_id=delivery.user_id,
            batch_key=delivery.batch_key,
        )
        .exclude(pk=delivery.pk)
        .order_by("pk")
    )


def _claim(delivery_id: int) -> _Claim:
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related(*_CLAIM_RELATED)
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None:
            return _Claim(status="gone")
        if delivery.status in (DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.SKIPPED):
            return _Claim(status=delivery.status)
        if delivery.status == DeliveryStatus.SENDING:
            if delivery.lease_expires_at and delivery.lease_expires_at > now:
                return _Claim(status="busy")
            # The previous sender died mid-send: its attempt counted; the receiver may have the message.
            delivery.last_error = "The previous attempt was interrupted (worker lost); sent again with the same id."
            if delivery.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
                delivery.status = DeliveryStatus.FAILED
                delivery.lease_expires_at = None
                delivery.save(update_fields=["status", "lease_expires_at", "last_error", "updated_at"])
                return _Claim(status=DeliveryStatus.FAILED)
        elif delivery.next_attempt_at > now:
            return _Claim(status="not_due")
        # The lease's end doubles as this claim's token: _record only touches rows that still carry it.
        lease = now + timedelta(seconds=settings.NOTIFICATION_SEND_LEASE_SECONDS)
        deliveries = [delivery, *_batch_siblings(delivery, now)]
        for row in deliveries:
            row.status = DeliveryStatus.SENDING
            row.attempts += 1
            row.lease_expires_at = lease
            row.save(update_fields=["status", "attempts", "lease_expires_at", "last_error", "updated_at"])
        return _Claim(tuple(deliveries), lease=lease)


def _send_email(deliveries: Sequence[Delivery]) -> Outcome:
    delivery = deliveries[0]
    user = delivery.user
    if user is None or not user.is_active or not user.email:
        return Outcome(skipped=True, error="The recipient has no active account with an e-mail address.")
    if delivery.event == Event.ALERT_OPENED:
        deliveries = [row for row in deliveries if row.alert is not None]
        if not deliveries:
            return Outcome(skipped=True, error="The alert no longer exists.")
    try:
        # The SMTP backend reads EMAIL_TIMEOUT: a hung server cannot hold the worker past its lease.
        email_message(deliveries, to=user.email, connection=get_connection(fail_silently=False)).send()
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        return Outcome(permanent=all(code >= 500 for code in codes), error=f"Recipient refused: {error.recipients}")
    except smtplib.SMTPResponseException as error:
        return Outcome(permanent=error.smtp_code >= 500, error=f"SMTP {error.smtp_code}: {error.smtp_error!r}")
    except (smtplib.SMTPException, OSError) as error:
        return Outcome(error=f"{error.__class__.__name__}: {error}")
    return Outcome(ok=True)


def _send_webhook(deliveries: Sequence[Delivery]) -> Outcome:
    [delivery] = deliveries  # webhooks are never batched: one event per request
    subscription = delivery.subscription
    if subscription is None or not subscription.is_active:
        return Outcome(skipped=True, error="The subscription was deleted or paused.")
    alert = delivery.alert
    if alert is None:
        return Outcome(skipped=True, error="The alert no longer exists.")
    link = alert_link(alert.pk)
    timestamp = int(time.time())
    body = webhook_body(
        subscription=subscription,
        event_type=EVENT_TYPES[Event(delivery.event)],
        data=alert_event_data(alert=alert, link=link),
        slack=alert_slack_message(alert=alert, link=link),
        sent_at=timezone.now(),
    )
    msg_id = f"msg_{delivery.uid.hex}"
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": webhook_signature(
            secret=subscription.secret, msg_id=msg_id, timestamp=timestamp, body=body
        ),
    }
    try:
        response = webhook_post(url=subscription.url, body=body, headers=headers)
    except InvalidIPAddress as error:
        return Outcome(permanent=True, error=f"Refused: the target resolves to a non-public address ({error}).")
    except requests.exceptions.InvalidURL as error:
        return Outcome(permanent=True, error=f"Invalid URL: {error}")
    except requests.RequestException as error:
        return Outcome(error=f"{error.__class__.__name__}: {error}")
    code = response.status_code
    if 200 <= code < 300:
        return Outcome(ok=True, status_code=code)
    if 300 <= code < 400:
        return Outcome(permanent=True, status_code=code, error=f"HTTP {code}: redirects are not followed.")
    return Outcome(
        permanent=code not in RETRYABLE_STATUS, status_code=code, error=f"HTTP {code}: {response.text[:300]}"
    )


def _record(delivery_ids: Sequence[int], lease: datetime, outcome: Outcome) -> SendResult:
    """Write the outcome of one attempt on the rows it sent; the first row's status is the answer."""
    now = timezone.now()
    retry_in, retry_by_message = None, False
    with transaction.atomic():
        rows = {
            row.pk: row
            for row in Delivery.objects.select_for_update().filter(
                pk__in=list(delivery_ids), status=DeliveryStatus.SENDING, lease_expires_at=lease
            )
        }
        if delivery_ids[0] not in rows:
            # Someone took over after our lease ended; their outcome is the one that counts.
            return SendResult(status="superseded")
        if not (outcome.ok or outcome.skipped or outcome.permanent):
            # One delay for the whole batch, so that its rows go out together again.
            retry_in = retry_delay(rows[delivery_ids[0]].attempts)
            retry_by_message = countdown_fits(retry_in)
        for delivery in rows.values():
            delivery.lease_expires_at = None
            delivery.last_status_code = outcome.status_code
            if outcome.ok:
                delivery.status, delivery.sent_at, delivery.last_error = DeliveryStatus.SENT, now, ""
            elif outcome.skipped:
                delivery.status, delivery.last_error = DeliveryStatus.SKIPPED, outcome.error
            elif outcome.permanent or delivery.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
                delivery.status, delivery.last_error = DeliveryStatus.FAILED, outcome.error
            else:
                assert retry_in is not None  # a transient failure: set above
                delivery.status, delivery.last_error = DeliveryStatus.PENDING, outcome.error
                delivery.next_attempt_at = now + timedelta(seconds=retry_in)
                # No message in flight (None) makes the sweep publish the row as soon as it is due;
                # a message's due time makes it wait NOTIFICATION_SWEEP_GRACE_SECONDS for that message
                # (the first row's; its batch siblings go out with it).
                delivery.message_due_at = delivery.next_attempt_at if retry_by_message else None
            delivery.save()
    status = rows[delivery_ids[0]].status
    if status != DeliveryStatus.PENDING:
        retry_in, retry_by_message = None, False
    if not outcome.ok:
        logger.warning("delivery %s attempt: %s -> %s", list(delivery_ids), outcome.error, status)
    return SendResult(status=status, retry_in=retry_in, retry_by_message=retry_by_message)


SENDERS = {Channel.EMAIL: _send_email, Channel.WEBHOOK: _send_webhook}


def delivery_send(*, delivery_id: int) -> SendResult:
    """Make one attempt at a delivery if it is due; idempotent by the row's state.

    Returns the new status and, when a transient failure leaves it pending, the seconds until
    the next attempt (the task schedules it; the sweep covers a schedule that got lost).
    """
    claim = _claim(delivery_id)
    if claim.delivery is None or claim.lease is None:
        return SendResult(status=claim.status)
    try:
        outcome = SENDERS[Channel(claim.delivery.channel)](claim.deliveries)
    except Exception as error:
        # A bug in rendering must not leave the row leased until the sweep; record it and retry.
        logger.exception("delivery %s: unexpected error while sending", delivery_id)
        outcome = Outcome(error=f"{error.__class__.__name__}: {error}")
    return _record([row.pk for row in claim.deliveries], claim.lease, outcome)
