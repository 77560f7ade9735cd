from django.apps import AppConfig
from django.core import checks


class NotificationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        checks.register(notification_settings_check, checks.Tags.compatibility)


def notification_settings_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Settings whose combination would send twice or lose track of a send.

    Retry delays may be as long as they like (NOTIFICATION_RETRY_MAX_SECONDS): one too long for
    a Celery countdown waits in the outbox for the sweep instead (apps.core.task_budget).
    """
    from django.conf import settings

    from apps.notifications.tasks import SEND_SOFT_TIME_LIMIT, SEND_TIME_LIMIT

    errors: list[checks.CheckMessage] = []
    if settings.NOTIFICATION_SEND_LEASE_SECONDS <= SEND_TIME_LIMIT:
        errors.append(
            checks.Error(
                f"NOTIFICATION_SEND_LEASE_SECONDS must exceed the send task's hard time limit ({SEND_TIME_LIMIT} s), "
                "or a second worker could send while the first is still sending.",
                id="notifications.E001",
            )
        )
    if settings.EMAIL_TIMEOUT is None or settings.EMAIL_TIMEOUT >= SEND_SOFT_TIME_LIMIT:
        errors.append(
            checks.Error(
                f"EMAIL_TIMEOUT ({settings.EMAIL_TIMEOUT}) must be set and below the send task's soft time limit "
                f"({SEND_SOFT_TIME_LIMIT} s), so that a hung SMTP server is a timeout retried later.",
                id="notifications.E002",
            )
        )
    if settings.NOTIFICATION_MAX_ATTEMPTS < 1:
        errors.append(checks.Error("NOTIFICATION_MAX_ATTEMPTS must be at least 1.", id="notifications.E003"))
    webhook_timeout = settings.WEBHOOK_CONNECT_TIMEOUT + settings.WEBHOOK_READ_TIMEOUT
    if webhook_timeout >= SEND_SOFT_TIME_LIMIT:
        errors.append(
            checks.Error(
                f"WEBHOOK_CONNECT_TIMEOUT + WEBHOOK_READ_TIMEOUT ({webhook_timeout:g} s) must stay below the send "
                f"task's soft time limit ({SEND_SOFT_TIME_LIMIT} s), so that a slow receiver is a timeout retried "
                "later.",
                id="notifications.E004",
            )
        )
    return errors
