"""A small portfolio with known figures for the page tests, and a fixed today."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection

from apps.accounts.models import User
from apps.catalog.models import BusinessGoal, DataProduct, Domain
from apps.governance.models import Alert
from apps.kpis.models import KPI
from tests import factories

# What a refresh of the monthly rollup adds to a page when writes are pending (apps.valuation.services.rollup):
# 16 queries on PostgreSQL (set-based: 11, and 5 for the KPIs' running totals, apps.valuation.services.kpi_totals),
# 14 on SQLite (its Python path reads the attributions, outcomes and costs of the touched months apart, then
# writes; it keeps no running totals).
ROLLUP_REFRESH_QUERIES = 16 if connection.vendor == "postgresql" else 14

TODAY = date(2026, 3, 18)  # a Wednesday
QUARTER_AGO = date(2025, 12, 18)


@pytest.fixture(autouse=True)
def frozen_today():
    """Every web test runs on TODAY so that periods, windows and ages are predictable."""
    with time_machine.travel(datetime(2026, 3, 18, 10, 0, tzinfo=UTC), tick=True):
        yield


@dataclass
class Portfolio:
    domain: Domain
    goal: BusinessGoal
    products: list[DataProduct] = field(default_factory=list)
    kpis: list[KPI] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)


def build_portfolio(*, products: int, owner: User | None = None, with_alerts: bool = True) -> Portfolio:
    """`products` active products, each with its own monthly KPI (baseline 100, 10 per unit),
    three months of outcomes (110, 120, 130 → value 100 + 200 + 300), three months of cost
    (1000 each), an evaluation today and a quarter ago, and an open retire alert."""
    domain = factories.DomainFactory()
    goal = factories.BusinessGoalFactory(domain=domain)
    portfolio = Portfolio(domain=domain, goal=goal)
    for index in range(products):
        product = factories.DataProductFactory(
            domain=domain, owner=owner or factories.UserFactory(), launched_on=date(2024, 1, 1)
        )
        product.goals.add(goal)
        kpi = factories.KPIFactory(goal=goal, name=f"KPI of product {index}")
        factories.AttributionFactory(kpi=kpi, data_product=product, weight=Decimal("1"))
        for month, value in ((date(2025, 12, 1), "110"), (date(2026, 1, 1), "120"), (date(2026, 2, 1), "130")):
            factories.MeasurementFactory(kpi=kpi, period_start=month, value=Decimal(value))
            factories.CostEntryFactory(data_product=product, period_start=month, amount=Decimal("1000.00"))
        factories.EvaluationFactory(
            data_product=product, as_of=TODAY, value=Decimal("6000.00"), cost=Decimal("3000.00"), recommendation="hold"
        )
        factories.EvaluationFactory(
            data_product=product,
            as_of=QUARTER_AGO,
            value=Decimal("4000.00"),
            cost=Decimal("2000.00"),
            recommendation="hold",
        )
        if with_alerts:
            evaluation = product.evaluations.get(as_of=TODAY)
            portfolio.alerts.append(
                factories.AlertFactory(data_product=product, evaluation=evaluation, opened_on=date(2026, 3, 10))
            )
        portfolio.products.append(product)
        portfolio.kpis.append(kpi)
    return portfolio
