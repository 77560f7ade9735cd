import django_filters

from apps.bets.models import BetStatus, ValueBet
from apps.core.api.filters import ApiFilterSet, DateFilter, IdFilter


class ValueBetFilter(ApiFilterSet):
    data_product = IdFilter(field_name="data_product_id")
    goal = IdFilter(field_name="goal_id")
    status = django_filters.ChoiceFilter(choices=BetStatus.choices)
    review_on_before = DateFilter(field_name="review_on", lookup_expr="lte")

    class Meta:
        model = ValueBet
        fields = ["data_product", "goal", "status"]
