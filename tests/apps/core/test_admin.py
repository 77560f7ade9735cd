"""Every entity of the domain model is managed in the admin, with its list filters and search."""

import pytest
from django.contrib import admin

from apps.accounts.models import User
from apps.bets.models import ValueBet
from apps.catalog.models import BusinessGoal, DataProduct, Domain
from apps.costs.models import CostEntry
from apps.governance.models import Alert, Decision
from apps.kpis.models import KPI, Attribution, Measurement
from apps.usage.models import UsageRecord
from apps.valuation.models import Evaluation, EvaluationPolicy
from tests.factories import (
    AlertFactory,
    AttributionFactory,
    CostEntryFactory,
    DecisionFactory,
    MeasurementFactory,
    UsageRecordFactory,
    ValueBetFactory,
)

DOMAIN_MODELS = [
    User, Domain, BusinessGoal, DataProduct, KPI, Attribution, Measurement, CostEntry, ValueBet, UsageRecord,
    EvaluationPolicy, Evaluation, Alert, Decision,
]  # fmt: skip


@pytest.mark.parametrize("model", DOMAIN_MODELS, ids=lambda m: m.__name__)
@pytest.mark.django_db
def test_admin_changelist_search_and_filters_work(admin_client, model):
    AttributionFactory()
    MeasurementFactory()
    CostEntryFactory()
    ValueBetFactory()
    UsageRecordFactory()
    DecisionFactory(alert=AlertFactory())
    assert model in admin.site._registry, f"{model.__name__} is not in the admin"
    url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    assert admin_client.get(url).status_code == 200
    assert admin_client.get(url, {"q": "a"}).status_code == 200
    assert admin_client.get(f"{url}add/").status_code in {200, 403}
