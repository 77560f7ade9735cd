"""Billing imports, allocation rules and exchange rates are managed in the admin."""

from datetime import date
from decimal import Decimal

import pytest

from apps.costs.models import AllocationRule, AllocationTarget, CostImport, ExchangeRate
from tests.factories import DataProductFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", [CostImport, AllocationRule, ExchangeRate], ids=lambda m: m.__name__)
def test_admin_pages_of_billing_data(admin_client, model):
    rule = AllocationRule.objects.create(name="Orders", position=1, tag_key="product", tag_value="orders")
    AllocationTarget.objects.create(rule=rule, data_product=DataProductFactory())
    ExchangeRate.objects.create(currency="USD", month=date(2024, 9, 1), rate=Decimal("0.9"))
    cost_import = CostImport.objects.create(file_name="bill.csv", checksum="0" * 64)
    url = f"/admin/costs/{model._meta.model_name}/"
    assert admin_client.get(url).status_code == 200
    assert admin_client.get(url, {"q": "a"}).status_code == 200
    obj = {CostImport: cost_import, AllocationRule: rule, ExchangeRate: ExchangeRate.objects.get()}[model]
    assert admin_client.get(f"{url}{obj.pk}/change/").status_code == 200
