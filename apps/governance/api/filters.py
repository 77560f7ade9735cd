import django_filters

from apps.core.api.filters import ApiFilterSet, IdFilter
from apps.governance.models import Alert, AlertKind, AlertStatus, Decision, DecisionAction


class AlertFilter(ApiFilterSet):
    status = django_filters.ChoiceFilter(choices=AlertStatus.choices)
    kind = django_filters.ChoiceFilter(choices=AlertKind.choices)
    data_product = IdFilter(field_name="data_product_id")
    domain = IdFilter(field_name="data_product__domain_id")

    class Meta:
        model = Alert
        fields = ["status", "kind", "data_product", "domain"]


class DecisionFilter(ApiFilterSet):
    data_product = IdFilter(field_name="data_product_id")
    alert = IdFilter(field_name="alert_id")
    action = django_filters.ChoiceFilter(choices=DecisionAction.choices)

    class Meta:
        model = Decision
        fields = ["data_product", "alert", "action"]
