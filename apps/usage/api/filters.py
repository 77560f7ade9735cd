import django_filters

from apps.core.api.filters import ApiFilterSet, DateFilter, IdFilter
from apps.usage.models import UsageRecord


class UsageRecordFilter(ApiFilterSet):
    data_product = IdFilter(field_name="data_product_id")
    consumer = django_filters.CharFilter()
    day = DateFilter()
    day_after = DateFilter(field_name="day", lookup_expr="gte")
    day_before = DateFilter(field_name="day", lookup_expr="lt")

    class Meta:
        model = UsageRecord
        fields = ["data_product", "consumer", "day"]
