from django.apps import AppConfig
from django.core import checks


class NotificationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        checks.register(notification_settings_check, checks.Tags.compatibility)


def notification_settings_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Settings whose combination would send twice or lose track of a send."""
    from django.conf import settings

    from apps.notifications.tasks import SEND_TIME_LIMIT

    errors = []
    if settings.NOTIFICATION_SEND_LEASE_SECONDS <= SEND_TIME_LIMIT:
        errors.append(
            checks.Error(
                f"NOTIFICATION_SEND_LEASE_SECONDS must exceed the send task's hard time limit ({SEND_TIME_LIMIT} s), "
                "or a second worker could send while the first is still sending.",
                id="notifications.E001",
            )
        )
    if settings.NOTIFICATION_RETRY_MAX_SECONDS >= settings.CELERY_VISIBILITY_TIMEOUT:
        errors.append(
            checks.Error(
                "NOTIFICATION_RETRY_MAX_SECONDS must stay below CELERY_VISIBILITY_TIMEOUT: Redis hands out "
                "a message scheduled further ahead more than once.",
                id="notifications.E002",
            )
        )
    if settings.NOTIFICATION_MAX_ATTEMPTS < 1:
        errors.append(checks.Error("NOTIFICATION_MAX_ATTEMPTS must be at least 1.", id="notifications.E003"))
    return errors
