import django_filters

from apps.core.api.filters import ApiFilterSet, DateFilter, IdFilter
from apps.costs.models import CostCategory, CostEntry


class CostEntryFilter(ApiFilterSet):
    data_product = IdFilter(field_name="data_product_id")
    domain = IdFilter(field_name="data_product__domain_id")
    category = django_filters.ChoiceFilter(choices=CostCategory.choices)
    period_start = DateFilter()
    period_start_after = DateFilter(field_name="period_start", lookup_expr="gte")
    period_start_before = DateFilter(field_name="period_start", lookup_expr="lt")
    external_id = django_filters.CharFilter()
    source = django_filters.CharFilter()
    cost_import = IdFilter(field_name="cost_import_id")
    is_current = django_filters.BooleanFilter(help_text="Lists show current entries unless this is given.")

    class Meta:
        model = CostEntry
        fields = [
            "data_product",
            "domain",
            "category",
            "period_start",
            "external_id",
            "source",
            "cost_import",
            "is_current",
        ]
