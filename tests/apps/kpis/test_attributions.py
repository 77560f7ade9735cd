"""Attribution weights: (0, 1] per row in the database, at most 1 per KPI in the service."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.kpis.models import Attribution
from apps.kpis.services import attributions_set
from tests.factories import AttributionFactory, DataProductFactory, KPIFactory

pytestmark = pytest.mark.django_db


def test_weights_are_replaced_as_a_whole():
    kpi = KPIFactory()
    first, second, third = DataProductFactory.create_batch(3)
    attributions_set(kpi=kpi, attributions=[(first, Decimal("0.5")), (second, Decimal("0.5"))])
    attributions_set(kpi=kpi, attributions=[(second, Decimal("0.25")), (third, Decimal("0.75"))])
    stored = {a.data_product_id: a.weight for a in Attribution.objects.filter(kpi=kpi)}
    assert stored == {second.pk: Decimal("0.2500"), third.pk: Decimal("0.7500")}


def test_weights_summing_above_one_are_refused_and_nothing_changes():
    kpi = KPIFactory()
    first, second = DataProductFactory.create_batch(2)
    attributions_set(kpi=kpi, attributions=[(first, Decimal("0.4"))])
    with pytest.raises(ValidationError) as raised:
        attributions_set(kpi=kpi, attributions=[(first, Decimal("0.6")), (second, Decimal("0.5"))])
    assert "sum to 1.1" in raised.value.message_dict["attributions"][0]
    assert list(Attribution.objects.filter(kpi=kpi).values_list("weight", flat=True)) == [Decimal("0.4000")]


@pytest.mark.parametrize("weight", [Decimal("0"), Decimal("-0.1"), Decimal("1.01"), Decimal("NaN")])
def test_a_weight_out_of_range_is_refused(weight):
    kpi = KPIFactory()
    with pytest.raises(ValidationError) as raised:
        attributions_set(kpi=kpi, attributions=[(DataProductFactory(), weight)])
    assert "attributions" in raised.value.message_dict
    assert not Attribution.objects.exists()


def test_the_same_product_twice_is_refused():
    kpi = KPIFactory()
    product = DataProductFactory()
    with pytest.raises(ValidationError):
        attributions_set(kpi=kpi, attributions=[(product, Decimal("0.2")), (product, Decimal("0.3"))])


def test_weights_summing_below_one_are_fine():
    kpi = KPIFactory()
    attributions_set(kpi=kpi, attributions=[(DataProductFactory(), Decimal("0.3"))])
    assert Attribution.objects.get(kpi=kpi).weight == Decimal("0.3")


@pytest.mark.parametrize("weight", [Decimal("0"), Decimal("1.5"), Decimal("-1")])
def test_database_refuses_weights_outside_zero_one(weight):
    with pytest.raises(IntegrityError), transaction.atomic():
        AttributionFactory(weight=weight)


def test_database_refuses_a_second_attribution_of_one_product_to_one_kpi():
    attribution = AttributionFactory(weight=Decimal("0.3"))
    with pytest.raises(IntegrityError), transaction.atomic():
        AttributionFactory(kpi=attribution.kpi, data_product=attribution.data_product, weight=Decimal("0.2"))
