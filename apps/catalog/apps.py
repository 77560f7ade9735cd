from django.apps import AppConfig


class CatalogConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.catalog"
    verbose_name = "Catalog"

    def ready(self) -> None:
        """Declare which rows a user owns (what `Scope.OWN` reaches in `apps.core.api.access`)."""
        from django.db.models import Q

        from apps.catalog.models import DataProduct
        from apps.core.api import access

        access.register_owned(DataProduct, lambda user: Q(owner=user))
