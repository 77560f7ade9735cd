"""Core's access rules know no model: each app declares which of its rows a user owns."""

import pytest

from apps.bets.models import ValueBet
from apps.catalog.models import DataProduct, Domain
from apps.core.api import access
from apps.costs.models import CostEntry
from apps.kpis.models import KPI, Measurement
from apps.usage.models import UsageRecord
from tests.factories import AttributionFactory, DataProductFactory, KPIFactory, UserFactory


def test_every_owned_model_is_declared_by_its_app():
    assert access.owned_models() == {DataProduct, KPI, Measurement, CostEntry, UsageRecord, ValueBet}


@pytest.mark.django_db
def test_a_model_without_owners_owns_nothing_and_a_kpi_belongs_to_the_owners_it_is_attributed_to():
    owner, other = UserFactory(), UserFactory()
    product = DataProductFactory(owner=owner)
    kpi, unlinked = KPIFactory(), KPIFactory()
    AttributionFactory(data_product=product, kpi=kpi)

    assert set(KPI.objects.filter(access.owned_filter(KPI, owner))) == {kpi}
    assert not KPI.objects.filter(access.owned_filter(KPI, other)).exists()
    assert set(DataProduct.objects.filter(access.owned_filter(DataProduct, owner))) == {product}
    assert not Domain.objects.filter(access.owned_filter(Domain, owner)).exists()
    assert unlinked not in KPI.objects.filter(access.owned_filter(KPI, owner))
