"""Lists cost a fixed number of queries, whatever the page size (no query per row)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.roles import Role
from apps.governance.models import AlertKind
from apps.valuation.models import EvaluationPolicy, EvaluationRun
from tests import factories
from tests.apps.api.conftest import client_for

ROWS = 12
LIST_PATHS = [
    "/api/v1/users/",
    "/api/v1/domains/",
    "/api/v1/goals/",
    "/api/v1/data-products/",
    "/api/v1/kpis/",
    "/api/v1/measurements/",
    "/api/v1/costs/",
    "/api/v1/bets/",
    "/api/v1/usage/",
    "/api/v1/evaluations/",
    "/api/v1/evaluation-runs/",
    "/api/v1/policies/",
    "/api/v1/alerts/",
    "/api/v1/decisions/",
]
# Token and roles (2), count (1), page (1), prefetched relations (at most 2).
MAX_QUERIES = 6


def make_rows(count: int) -> None:
    """`count` of everything, each with related rows, so a query per row would show."""
    group = Group.objects.get(name=Role.PRODUCT_OWNER.value)
    for index in range(count):
        owner = factories.UserFactory()
        owner.groups.add(group)
        goal = factories.BusinessGoalFactory()
        product = factories.DataProductFactory(owner=owner, domain=goal.domain)
        product.goals.add(goal)
        kpi = factories.KPIFactory(goal=goal)
        factories.AttributionFactory(kpi=kpi, data_product=product, weight=Decimal("0.5"))
        factories.AttributionFactory(kpi=kpi, data_product=factories.DataProductFactory(), weight=Decimal("0.5"))
        factories.MeasurementFactory(kpi=kpi)
        factories.CostEntryFactory(data_product=product)
        factories.ValueBetFactory(data_product=product, goal=goal)
        factories.UsageRecordFactory(data_product=product, day=date(2026, 1, 1) + timedelta(days=index))
        evaluation = factories.EvaluationFactory(data_product=product)
        factories.AlertFactory(data_product=product, kind=AlertKind.RETIRE, evaluation=evaluation)
        factories.DecisionFactory(data_product=product)
        EvaluationRun.objects.create(as_of=date(2026, 1, 1), requested_by=owner)
        if index < 2:
            EvaluationPolicy.objects.create(domain=goal.domain)


@pytest.fixture
def many_rows(db):
    make_rows(ROWS)


def _queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, response.content[:300]
    return len(captured)


@pytest.mark.parametrize("path", LIST_PATHS)
def test_list_queries_do_not_grow_with_the_page(path, many_rows, executive, django_assert_max_num_queries):
    client = client_for(executive)
    with django_assert_max_num_queries(MAX_QUERIES):
        small = client.get(f"{path}?page_size=5")
    assert small.status_code == 200
    assert len(small.json()["results"]) == (5 if path != "/api/v1/policies/" else 3)
    big = client.get(f"{path}?page_size=50")
    if path != "/api/v1/policies/":
        assert len(big.json()["results"]) >= ROWS
    assert _queries(client, f"{path}?page_size=5") == _queries(client, f"{path}?page_size=50")


@pytest.mark.parametrize("path", ["/api/v1/kpis/", "/api/v1/data-products/", "/api/v1/measurements/"])
def test_csv_export_queries_do_not_grow_with_the_rows(path, many_rows, executive):
    client = client_for(executive)

    def export() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"{path}?format=csv")
            lines = b"".join(response.streaming_content).decode().splitlines()
        return len(captured), len(lines)

    queries, lines = export()
    make_rows(ROWS)
    more_queries, more_lines = export()
    assert more_lines > lines > ROWS
    assert more_queries == queries


def test_portfolio_summary_queries_are_fixed(many_rows, executive, django_assert_max_num_queries):
    client = client_for(executive)
    with django_assert_max_num_queries(7):  # with the key of the cached figures (apps.valuation.portfolio)
        response = client.get("/api/v1/portfolio/summary/?as_of=2026-02-01")
    assert response.json()["totals"]["products"] == ROWS
