import django_filters

from apps.core.api.filters import ApiFilterSet, DateFilter, IdFilter
from apps.valuation.models import Evaluation, EvaluationPolicy, EvaluationRun, Recommendation, RunStatus


class EvaluationFilter(ApiFilterSet):
    as_of = DateFilter()
    data_product = IdFilter(field_name="data_product_id")
    domain = IdFilter(field_name="data_product__domain_id")
    recommendation = django_filters.ChoiceFilter(choices=Recommendation.choices)

    class Meta:
        model = Evaluation
        fields = ["as_of", "data_product", "domain", "recommendation"]


class EvaluationRunFilter(ApiFilterSet):
    as_of = DateFilter()
    status = django_filters.ChoiceFilter(choices=RunStatus.choices)

    class Meta:
        model = EvaluationRun
        fields = ["as_of", "status"]


class EvaluationPolicyFilter(ApiFilterSet):
    domain = IdFilter(field_name="domain_id")
    is_default = django_filters.BooleanFilter()

    class Meta:
        model = EvaluationPolicy
        fields = ["domain", "is_default"]
