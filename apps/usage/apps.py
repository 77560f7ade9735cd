from django.apps import AppConfig


class UsageConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.usage"
    verbose_name = "Usage"

    def ready(self) -> None:
        """Declare which rows a user owns (what `Scope.OWN` reaches in `apps.core.api.access`)."""
        from django.db.models import Q

        from apps.core.api import access
        from apps.usage.models import UsageRecord

        access.register_owned(UsageRecord, lambda user: Q(data_product__owner=user))
