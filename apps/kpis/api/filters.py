import django_filters

from apps.core.api.filters import ApiFilterSet, DateFilter, IdFilter
from apps.kpis.models import KPI, CadenceChoices, Measurement, MeasurementSource


class KPIFilter(ApiFilterSet):
    goal = IdFilter(field_name="goal_id")
    data_product = IdFilter(field_name="attributions__data_product_id", distinct=True)
    cadence = django_filters.ChoiceFilter(choices=CadenceChoices.choices)

    class Meta:
        model = KPI
        fields = ["goal", "data_product", "cadence"]


class MeasurementFilter(ApiFilterSet):
    kpi = IdFilter(field_name="kpi_id")
    data_product = IdFilter(field_name="kpi__attributions__data_product_id", distinct=True)
    is_current = django_filters.BooleanFilter()
    source = django_filters.ChoiceFilter(choices=MeasurementSource.choices)
    period_start = DateFilter()
    period_start_after = DateFilter(field_name="period_start", lookup_expr="gte")
    period_start_before = DateFilter(field_name="period_start", lookup_expr="lt")

    class Meta:
        model = Measurement
        fields = ["kpi", "data_product", "is_current", "source", "period_start"]
