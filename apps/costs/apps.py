from django.apps import AppConfig


class CostsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.costs"
    verbose_name = "Costs"

    def ready(self) -> None:
        """Declare which rows a user owns (what `Scope.OWN` reaches in `apps.core.api.access`), and the counts kept."""
        from django.db.models import Q

        from apps.core.api import access
        from apps.costs.models import CostEntry

        access.register_owned(CostEntry, lambda user: Q(data_product__owner=user))

        from apps.core.counts import MaintainedCount, maintained_count_register
        from apps.costs.models import CostEntryCount
        from apps.costs.selectors import cost_entry_list

        # The costs list's count (current entries) comes from the kept counts (`apps.core.counts`).
        maintained_count_register(
            MaintainedCount(CostEntry, CostEntryCount, "data_product_id", "is_current", whole_list=cost_entry_list)
        )
