from django.apps import AppConfig


class BetsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.bets"
    verbose_name = "Value bets"

    def ready(self) -> None:
        """Declare which rows a user owns (what `Scope.OWN` reaches in `apps.core.api.access`)."""
        from django.db.models import Q

        from apps.bets.models import ValueBet
        from apps.core.api import access

        access.register_owned(ValueBet, lambda user: Q(data_product__owner=user))
