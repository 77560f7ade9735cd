"""The data product page and the goal page: their content and a query count independent of size."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.kpis.services import measurement_record
from tests import factories
from tests.apps.web.conftest import ROLLUP_REFRESH_QUERIES, TODAY, build_portfolio

# Session, user and roles, then the page's reads (evaluations, attributions, KPIs, outcomes, costs, alerts...),
# +1: the policy whose stale window marks stale KPIs; its six readiness checks (3: the product with five
# EXISTS, its attributions, the policies).

# then its History: the versions of the product (and its goals), attributions and bets (4), and one query per
# model they name (domains, users, goals, KPIs, products: 5).
# + a refresh of the monthly rollup when writes are pending (ROLLUP_REFRESH_QUERIES)
PRODUCT_PAGE_QUERY_BUDGET = 31 + ROLLUP_REFRESH_QUERIES
# Session, user and roles, the goal; its KPIs (count and page), their progress and history, the heaviest
# products credited with each; the products serving it (the change log's key, their ids, the page's rows); its
# latest bets and their count.
GOAL_PAGE_QUERY_BUDGET = 14


@pytest.mark.django_db
def test_product_page_shows_figures_reasons_kpis_costs_alerts_decisions_bets_and_usage(client, governance_lead):
    portfolio = build_portfolio(products=1)
    product = portfolio.products[0]
    product.evaluations.filter(as_of=TODAY).update(recommendation="retire", reasons=["value/cost 0.40 below 1.00"])
    factories.DecisionFactory(data_product=product, action="keep", rationale="Finance still needs it.")
    factories.ValueBetFactory(data_product=product, goal=portfolio.goal, hypothesis="Faster closes save overtime.")
    factories.UsageRecordFactory(data_product=product, consumer="finance-team", day=date(2026, 3, 1), count=40)
    factories.UsageRecordFactory(data_product=product, consumer=product.owner.username, day=date(2026, 3, 2), count=2)
    factories.UsageRecordFactory(data_product=product, consumer="old-team", day=date(2025, 10, 1), count=99)
    client.force_login(governance_lead)
    response = client.get(f"/products/{product.slug}/")
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        product.name,
        "value/cost 0.40 below 1.00",
        "€6,000",
        "Finance still needs it.",
        "Faster closes save overtime.",
        "KPI of product 0",
        portfolio.alerts[0].message,
    ):
        assert text in html
    assert response.context["usage"] == [
        {"consumer": "finance-team", "uses": 40, "is_owner": False},
        {"consumer": product.owner.username, "uses": 2, "is_owner": True},
    ]
    categories = {c["key"]: c["amount"] for c in response.context["categories"]}
    assert categories["infrastructure"] == Decimal("3000.00")
    kpi = response.context["kpis"][0]
    assert kpi.chart["x"] == ["2025-12-01", "2026-01-01", "2026-02-01"]
    assert (kpi.chart["baseline"], kpi.chart["target"]) == (100.0, 150.0)
    # Governance leads get a way to the product's alerts; they do not own it, so no logging buttons.
    assert "Alerts in inbox" in html and "Log outcome" not in html


@pytest.mark.django_db
def test_the_owner_sees_logging_actions_and_a_correction_in_recent_outcomes(client, product_owner):
    portfolio = build_portfolio(products=1, owner=product_owner)
    measurement_record(
        kpi=portfolio.kpis[0], period_start=date(2026, 2, 1), value=Decimal("131.5"), recorded_by=product_owner
    )
    client.force_login(product_owner)
    response = client.get(f"/products/{portfolio.products[0].slug}/")
    html = response.content.decode()
    assert "Log outcome" in html and "Record cost" in html
    newest = response.context["recent_outcomes"][0]
    assert (newest.value, newest.revision, newest.is_current) == (Decimal("131.5000"), 2, True)
    assert "correction 2" in html and "superseded" in html


@pytest.mark.django_db
def test_product_page_without_evaluation_or_kpis_explains_itself(client, executive):
    product = factories.DataProductFactory(lifecycle="proposed", launched_on=None)
    client.force_login(executive)
    html = client.get(f"/products/{product.slug}/").content.decode()
    assert "Not evaluated: only active products are evaluated, and this one is proposed." in html
    assert "No KPIs are attributed to this product yet" in html


@pytest.mark.django_db
def test_product_page_query_count_does_not_grow_with_kpis_alerts_or_history(client, executive):
    counts = []
    for size in (1, 6):
        portfolio = build_portfolio(products=1)
        product = portfolio.products[0]
        for index in range(size):
            kpi = factories.KPIFactory(goal=portfolio.goal, cadence="weekly")
            factories.AttributionFactory(kpi=kpi, data_product=product, weight=Decimal("0.5"))
            factories.MeasurementFactory(kpi=kpi, period_start=date(2026, 3, 2), value=Decimal("101"))
            factories.DecisionFactory(data_product=product)
            factories.ValueBetFactory(data_product=product, goal=portfolio.goal)
            factories.UsageRecordFactory(data_product=product, consumer=f"team-{index}", day=date(2026, 3, 3))
            factories.AlertFactory(data_product=product, kind="review" if index % 2 else "invest", status="resolved")
        client.force_login(executive)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/products/{product.slug}/")
        assert response.status_code == 200
        assert len(response.context["kpis"]) == size + 1
        counts.append(len(queries))
    assert counts[0] == counts[1] <= PRODUCT_PAGE_QUERY_BUDGET


@pytest.mark.django_db
def test_goal_page_lists_kpis_with_progress_and_attributed_products(client, executive):
    portfolio = build_portfolio(products=2)
    client.force_login(executive)
    response = client.get(f"/goals/{portfolio.goal.slug}/")
    assert response.status_code == 200
    items = response.context["kpis"]
    assert [item["progress"].progress for item in items] == [Decimal("60.0"), Decimal("60.0")]
    assert [a["product"].pk for a in items[0]["products"]] == [portfolio.products[0].pk]
    assert items[0]["products"][0]["recommendation"] == "hold"
    assert {p.pk for p in response.context["products"]} == {p.pk for p in portfolio.products}


@pytest.mark.django_db
def test_goal_page_query_count_does_not_grow_with_products(client, executive):
    counts = []
    for size in (2, 12):
        portfolio = build_portfolio(products=size)
        client.force_login(executive)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/goals/{portfolio.goal.slug}/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] <= GOAL_PAGE_QUERY_BUDGET


@pytest.mark.django_db
def test_the_catalog_lists_each_products_latest_figures_owner_and_lifecycle(client, executive):
    domain = factories.DomainFactory(name="Sales")
    named = factories.UserFactory(username="ada", first_name="Ada", last_name="Lovelace")
    evaluated = factories.DataProductFactory(name="Churn scores", domain=domain, owner=named, lifecycle="deprecated")
    factories.EvaluationFactory(data_product=evaluated, as_of=date(2026, 1, 1), recommendation="retire")
    factories.EvaluationFactory(
        data_product=evaluated,
        as_of=date(2026, 2, 1),
        recommendation="invest",
        value=Decimal("12500.40"),
        cost=Decimal("2500.00"),
    )
    factories.DataProductFactory(name="Zeta feed", domain=domain, owner=factories.UserFactory(username="bob"))
    client.force_login(executive)

    page = client.get("/products/").content.decode()

    churn = page[page.index("Churn scores") - 200 : page.index("</tr>", page.index("Churn scores"))]
    assert f'href="/products/{evaluated.slug}/"' in churn
    for shown in ("Sales", "Ada Lovelace", "life-deprecated", "Deprecated", "rec-invest", "Invest"):
        assert shown in churn
    assert "€12,500" in churn and "€2,500" in churn and "5.00\N{MULTIPLICATION SIGN}" in churn and "400%" in churn
    zeta = page[page.index("Zeta feed") : page.index("</tr>", page.index("Zeta feed"))]
    assert "bob" in zeta and "not evaluated" in zeta
