"""Costs recorded after a sunset are flagged on the product page and in the governance inbox."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.urls import reverse

from apps.catalog.models import Lifecycle
from tests import factories


def retired_with_late_costs(people):
    product = people["product"]
    product.lifecycle, product.sunset_on = Lifecycle.RETIRED, date(2026, 3, 15)
    product.save()
    factories.CostEntryFactory(data_product=product, period_start=date(2026, 3, 1), amount=Decimal("100"))
    factories.CostEntryFactory(data_product=product, period_start=date(2026, 4, 1), amount=Decimal("1250.50"))
    return product


def test_the_product_page_flags_costs_after_the_sunset(client, people):
    product = retired_with_late_costs(people)
    client.force_login(people["owner"])
    page = client.get(reverse("product_detail", args=[product.slug])).content.decode()
    assert 'id="late-costs-flag"' in page
    assert "1,250.50 EUR in 1 entry for months from Apr 2026, after the sunset on 15 Mar 2026" in page


def test_a_product_without_late_costs_has_no_flag(client, people):
    product = people["product"]
    factories.CostEntryFactory(data_product=product, period_start=date(2026, 4, 1))
    client.force_login(people["owner"])
    page = client.get(reverse("product_detail", args=[product.slug])).content.decode()
    assert "late-costs-flag" not in page


def test_the_governance_inbox_lists_products_with_late_costs(client, people):
    retired_with_late_costs(people)
    client.force_login(people["lead"])
    response = client.get(reverse("inbox"))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="late-costs-notice"' in page
    assert "Churn features</a> (retired, sunset 15 Mar 2026): 1,250.50 EUR in 1 entry" in page
