"""Who hears about what, and the outbox of every notification sent or to be sent.

A notification is a `Delivery` row before it is a Celery message: the row is written in the
same transaction as the alert or decision that caused it, and its unique constraint makes a
second send of the same thing to the same recipient impossible.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.governance.models import AlertKind

# Topics a user can turn e-mail off for: every alert kind, and the weekly digest.
WEEKLY_DIGEST_TOPIC = "weekly_digest"
TOPIC_CHOICES = [*AlertKind.choices, (WEEKLY_DIGEST_TOPIC, "Weekly digest")]


class NotificationPreference(models.Model):
    """A user's choice for one topic. No row means the default: e-mail on."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_prefs")
    topic = models.CharField(max_length=20, choices=TOPIC_CHOICES)
    email_enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["user_id", "topic"]
        constraints = [
            models.UniqueConstraint(fields=["user", "topic"], name="notification_pref_unique_user_topic"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.topic}: {'on' if self.email_enabled else 'off'}"


class DomainGovernanceLead(models.Model):
    """Ties a governance lead to a domain, so the domain's alerts reach that person.

    The governance leads of a domain are the members of the `governance_lead` group who are
    the domain's owner or are tied to it here; a domain with none falls back to every
    governance lead, so that no alert goes unheard (see apps.notifications.selectors).
    """

    domain = models.ForeignKey("catalog.Domain", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["domain_id", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["domain", "user"], name="domain_governance_lead_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} leads governance of {self.domain}"


class WebhookFormat(models.TextChoices):
    STANDARD = "standard", "Standard Webhooks JSON"
    SLACK = "slack", "Slack incoming webhook"


class WebhookSubscription(models.Model):
    """A receiver of alert events over HTTP. Empty `kinds` or `domains` means all of them."""

    name = models.CharField(max_length=120, blank=True)
    url = models.URLField(max_length=500)
    # Kept in clear: signing needs it. Never shown again after creation (API write-only, admin masked).
    secret = models.CharField(max_length=200)
    format = models.CharField(max_length=10, choices=WebhookFormat.choices, default=WebhookFormat.STANDARD)
    kinds = models.JSONField(default=list, blank=True, help_text="Alert kinds to send; empty for all.")
    domains = models.ManyToManyField("catalog.Domain", blank=True, related_name="+", help_text="Empty for all.")
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name or self.url


class Channel(models.TextChoices):
    EMAIL = "email", "E-mail"
    WEBHOOK = "webhook", "Webhook"


class Event(models.TextChoices):
    ALERT_OPENED = "alert_opened", "Alert opened"
    RETIREMENT_NOTICE = "retirement_notice", "Retirement notice"
    SUNSET_REMINDER = "sunset_reminder", "Sunset reminder"
    EXECUTIVE_DIGEST = "executive_digest", "Executive weekly digest"
    GOVERNANCE_DIGEST = "governance_digest", "Governance weekly digest"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class Delivery(models.Model):
    """One notification to one recipient over one channel: the outbox row.

    `event` + `event_key` name what happened ("alert:42", "decision:7", "2026-11-16"),
    `recipient` who hears it ("user:7", "webhook:3", "consumer:team-x"). State machine:
    pending -> sending -> sent | pending (retry later) | failed; skipped when there is nobody
    to send to. `uid` is stable across retries: it is the webhook-id and the Message-ID, so a
    receiver can drop a repeat after a worker died mid-send.
    """

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event = models.CharField(max_length=20, choices=Event.choices)
    event_key = models.CharField(max_length=120)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    recipient = models.CharField(max_length=200)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries"
    )
    alert = models.ForeignKey(
        "governance.Alert", on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries"
    )
    decision = models.ForeignKey(
        "governance.Decision", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    data_product = models.ForeignKey(
        "catalog.DataProduct", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # Alert e-mails to one person with the same batch key (one evaluation run) go out as one message
    # listing their alerts; each row still records that its alert reached that person.
    batch_key = models.CharField(max_length=120, blank=True, default="")
    # What the message says when it cannot be rebuilt from rows at send time (digests, notices).
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(help_text="Not sent before this time.")
    # While `sending`, no other worker touches the row before the lease ends; the task's hard time
    # limit is shorter than the lease, so an expired lease means the sender died.
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # When the last Celery message for this row should have run; the sweep re-sends overdue ones.
    # None while no message is in flight (a retry too far ahead for a countdown): the sweep
    # publishes the row as soon as it is due.
    message_due_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_status_next_attempt"),
            models.Index(fields=["user", "batch_key"], name="delivery_user_batch", condition=~Q(batch_key="")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "event_key", "channel", "recipient"], name="delivery_once_per_event_recipient"
            ),
            models.CheckConstraint(
                condition=~Q(status=DeliveryStatus.SENDING) | Q(lease_expires_at__isnull=False),
                name="delivery_sending_has_lease",
            ),
            models.CheckConstraint(
                condition=~Q(status=DeliveryStatus.SENT) | Q(sent_at__isnull=False),
                name="delivery_sent_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()} {self.event_key} to {self.recipient} by {self.channel} ({self.status})"
