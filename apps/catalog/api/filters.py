import django_filters

from apps.catalog.models import BusinessGoal, DataProduct, Domain, GoalStatus, Lifecycle
from apps.core.api.filters import ApiFilterSet, IdFilter


class DomainFilter(ApiFilterSet):
    owner = IdFilter(field_name="owner_id")

    class Meta:
        model = Domain
        fields = ["owner"]


class GoalFilter(ApiFilterSet):
    domain = IdFilter(field_name="domain_id")
    sponsor = IdFilter(field_name="sponsor_id")
    status = django_filters.ChoiceFilter(choices=GoalStatus.choices)

    class Meta:
        model = BusinessGoal
        fields = ["domain", "sponsor", "status"]


class DataProductFilter(ApiFilterSet):
    domain = IdFilter(field_name="domain_id")
    owner = IdFilter(field_name="owner_id")
    goal = IdFilter(field_name="goals", distinct=True)
    lifecycle = django_filters.ChoiceFilter(choices=Lifecycle.choices)

    class Meta:
        model = DataProduct
        fields = ["domain", "owner", "goal", "lifecycle"]
