from django.apps import AppConfig
from django.core import checks


class CoreConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.core"
    verbose_name = "Core"

    def ready(self) -> None:
        from apps.core import sql  # noqa: F401  (registers the `any_of` lookup)
        from apps.core.checks import celery_time_budget_check

        checks.register(celery_time_budget_check, checks.Tags.compatibility)
