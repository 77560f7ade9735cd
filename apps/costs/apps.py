from django.apps import AppConfig


class CostsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.costs"
    verbose_name = "Costs"

    def ready(self) -> None:
        """Declare which rows a user owns (what `Scope.OWN` reaches in `apps.core.api.access`)."""
        from django.db.models import Q

        from apps.core.api import access
        from apps.costs.models import CostEntry

        access.register_owned(CostEntry, lambda user: Q(data_product__owner=user))
