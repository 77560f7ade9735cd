import django_filters

from apps.core.api.filters import DateFilter, IdFilter
from apps.valuation.models import Evaluation, EvaluationRun, Recommendation, RunStatus


class EvaluationFilter(django_filters.FilterSet):
    as_of = DateFilter()
    data_product = IdFilter(field_name="data_product_id")
    domain = IdFilter(field_name="data_product__domain_id")
    recommendation = django_filters.ChoiceFilter(choices=Recommendation.choices)

    class Meta:
        model = Evaluation
        fields = ["as_of", "data_product", "domain", "recommendation"]


class EvaluationRunFilter(django_filters.FilterSet):
    as_of = DateFilter()
    status = django_filters.ChoiceFilter(choices=RunStatus.choices)

    class Meta:
        model = EvaluationRun
        fields = ["as_of", "status"]
