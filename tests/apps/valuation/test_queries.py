"""The evaluation runs a fixed number of queries whatever the number of products."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.bets.models import ValueBet
from apps.catalog.models import DataProduct, Lifecycle
from apps.costs.models import CostEntry
from apps.governance.models import Alert
from apps.kpis.models import KPI, Attribution, Measurement
from apps.notifications.models import Delivery, Event
from apps.usage.models import UsageRecord
from apps.valuation.models import Evaluation
from apps.valuation.services import portfolio_chunk_evaluate
from tests import factories

pytestmark = pytest.mark.django_db
AS_OF = date(2026, 7, 1)


def build_portfolio(size: int, prefix: str) -> None:
    """`size` products, each with a KPI measured monthly, costs, use by others and a due bet."""
    owner = factories.UserFactory(username=f"{prefix}-owner")
    goal = factories.BusinessGoalFactory()
    products = DataProduct.objects.bulk_create(
        DataProduct(
            name=f"{prefix} {n}",
            slug=f"{prefix}-{n}",
            domain=goal.domain,
            owner=owner,
            lifecycle=Lifecycle.ACTIVE,
            launched_on=date(2024, 1, 1),
        )
        for n in range(size)
    )
    kpis = KPI.objects.bulk_create(
        KPI(goal=goal, name=f"{prefix} kpi {n}", unit="x", baseline=100, target=200, value_per_unit=10)
        for n in range(size)
    )
    Attribution.objects.bulk_create(
        Attribution(kpi=kpi, data_product=product, weight=Decimal("0.5"))
        for kpi, product in zip(kpis, products, strict=True)
    )
    months = [date(2025, month, 1) for month in range(7, 13)] + [date(2026, month, 1) for month in range(1, 7)]
    Measurement.objects.bulk_create(
        Measurement(kpi=kpi, period_start=month, value=105) for kpi in kpis for month in months
    )
    CostEntry.objects.bulk_create(
        CostEntry(data_product=product, period_start=month, amount=1000, currency="EUR")
        for product in products
        for month in months
    )
    UsageRecord.objects.bulk_create(
        UsageRecord(data_product=product, consumer="someone-else", day=date(2026, 6, 1), count=3)
        for product in products
    )
    for product in products[:3]:
        factories.ValueBetFactory(data_product=product, goal=goal, review_on=date(2026, 6, 1))


def queries_of_an_evaluation(size: int, prefix: str) -> tuple[int, int]:
    build_portfolio(size, prefix)
    with CaptureQueriesContext(connection) as first:
        summary = portfolio_chunk_evaluate(as_of=AS_OF)
    assert summary.products_evaluated == size
    assert summary.recommendations == {"retire": size}
    # retire and orphaned on each product, bet_due on 3: each e-mailed to the owner once, on opening.
    assert Delivery.objects.filter(event=Event.ALERT_OPENED).count() == size * 2 + 3
    with CaptureQueriesContext(connection) as again:
        portfolio_chunk_evaluate(as_of=AS_OF)
    assert Delivery.objects.filter(event=Event.ALERT_OPENED).count() == size * 2 + 3  # nothing new
    # Start the next size from an empty portfolio.
    Delivery.objects.all().delete()
    Alert.objects.all().delete()
    Evaluation.objects.all().delete()
    for model in (UsageRecord, CostEntry, Measurement, Attribution, ValueBet, DataProduct):
        model.objects.all().delete()
    KPI.objects.all().delete()
    return len(first.captured_queries), len(again.captured_queries)


@pytest.mark.usefixtures("postgres")  # SQLite: Django splits bulk writes into statements of 999 parameters
def test_query_count_does_not_grow_with_the_number_of_products():
    # With the real notification hook: its outbox rows go in as one INSERT whatever their number.
    small = queries_of_an_evaluation(10, "small")
    large = queries_of_an_evaluation(300, "large")
    print(f"queries: first run {small[0]}, re-run {small[1]}")
    assert small == large
    first, again = small
    # tune, lock, measuring the due bets (3, and 2 for their audit trail: the rows read, their history
    # INSERT), 12 reads (the 12th: KPIs whose last pull failed; their attributions are a 13th only when
    # there are any) and whether the KPIs' running totals are current (the sums' source), the write's
    # 4 on a new date (whether the date has evaluations, the ids, a savepoint and its release, + a
    # COPY), alert lock, alert read and insert; then the hook:
    # alerts, governance leads (3), opt-outs, subscriptions, the outbox INSERT and its ids.
    assert first <= 37, first
    assert again < first  # nothing to open on the re-run
