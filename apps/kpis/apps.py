from __future__ import annotations

from django.apps import AppConfig


class KpisConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.kpis"
    verbose_name = "KPIs and outcomes"

    def ready(self) -> None:
        """Declare which rows a user owns (what `Scope.OWN` reaches in `apps.core.api.access`), and the counts kept."""
        from django.db.models import Q, QuerySet

        from apps.accounts.models import User
        from apps.core.api import access
        from apps.kpis.models import KPI, Attribution, Measurement

        # A KPI (and its measurements) belongs to every owner of a product it is attributed to.
        def attributed(user: User) -> QuerySet[Attribution, int]:
            return Attribution.objects.filter(data_product__owner=user).values_list("kpi_id", flat=True)

        access.register_owned(KPI, lambda user: Q(pk__in=attributed(user)))
        access.register_owned(Measurement, lambda user: Q(kpi_id__in=attributed(user)))
        self._count_measurements()

    @staticmethod
    def _count_measurements() -> None:
        """The measurements list's count comes from the kept counts (`apps.core.counts`)."""
        from apps.core.counts import MaintainedCount, maintained_count_register
        from apps.kpis.models import Measurement, MeasurementCount
        from apps.kpis.selectors import measurement_list

        maintained_count_register(
            MaintainedCount(Measurement, MeasurementCount, "kpi_id", condition="true", whole_list=measurement_list)
        )
