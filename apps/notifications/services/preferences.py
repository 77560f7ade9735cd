"""A user's choices about which e-mails to receive."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.accounts.models import User
from apps.notifications.models import TOPIC_CHOICES, NotificationPreference

TOPICS = [topic for topic, _ in TOPIC_CHOICES]


@transaction.atomic
def notification_preferences_set(*, user: User, email_topics: Iterable[str]) -> dict[str, bool]:
    """Turn e-mail on for the topics in `email_topics` and off for every other topic.

    Topics are the alert kinds and the weekly digest. Returns the choice per topic.
    """
    wanted = set(email_topics)
    unknown = sorted(wanted - set(TOPICS))
    if unknown:
        raise ValidationError({"email_topics": f"Unknown topic(s): {', '.join(unknown)}."})
    choices = {topic: topic in wanted for topic in TOPICS}
    NotificationPreference.objects.bulk_create(
        [NotificationPreference(user=user, topic=topic, email_enabled=on) for topic, on in choices.items()],
        update_conflicts=True,
        unique_fields=["user", "topic"],
        update_fields=["email_enabled", "updated_at"],
    )
    return choices
