"""Issue 16: the executive's and governance lead's pages cost the same at any portfolio size.

Each page runs the same number of queries on a small and a larger portfolio (5 and 60 products, with
their alerts, decisions and bets), and no page's HTML grows with the portfolio beyond its page size.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import User
from tests import factories
from tests.apps.web.conftest import TODAY, Portfolio, build_portfolio

SIZES = (5, 60)
# Every page must stay well under this, whatever the portfolio (the bound is 300 KB).
PAGE_BYTES_LIMIT = 300_000


def _grow(*, size: int, decided_by: User) -> Portfolio:
    """`size` more products, each with an alert, a decision on it, a bet on the goal and a day of use."""
    portfolio = build_portfolio(products=size)
    for alert in portfolio.alerts:
        factories.DecisionFactory(alert=alert, data_product=alert.data_product, decided_by=decided_by)
        factories.ValueBetFactory(data_product=alert.data_product, goal=portfolio.goal)
        factories.UsageRecordFactory(data_product=alert.data_product, consumer="team-a", day=date(2026, 3, 3))
    return portfolio


def _measure(client: Client, path: str, **headers: str) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, **headers)
    assert response.status_code == 200, path
    return len(queries), len(response.content)


PAGES: dict[str, Callable[[Portfolio], str]] = {
    "dashboard": lambda portfolio: "/",
    "inbox": lambda portfolio: "/inbox/?status=all",
    "product page": lambda portfolio: f"/products/{portfolio.products[0].slug}/",
    "goal page": lambda portfolio: f"/goals/{portfolio.goal.slug}/",
    "decision log": lambda portfolio: "/inbox/decisions/",
    # Where the dashboard's recommendation tiles lead.
    "product list": lambda portfolio: "/products/?recommendation=hold",
}


@pytest.mark.django_db
@pytest.mark.parametrize("page", list(PAGES))
def test_each_page_runs_the_same_queries_on_a_small_and_a_larger_portfolio(client, admin_user, page):
    client.force_login(admin_user)
    measured = []
    for size in SIZES:
        portfolio = _grow(size=size, decided_by=admin_user)
        measured.append(_measure(client, PAGES[page](portfolio)))
    (small_queries, _), (large_queries, large_bytes) = measured
    assert small_queries == large_queries, measured
    assert large_bytes < PAGE_BYTES_LIMIT, measured


@pytest.mark.django_db
def test_the_table_partial_runs_the_same_queries_on_a_small_and_a_larger_portfolio(client, executive):
    client.force_login(executive)
    counts = []
    for size in SIZES:
        build_portfolio(products=size, with_alerts=False)
        queries, _ = _measure(
            client, "/?sort=-net&per_page=50", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="portfolio-products"
        )
        counts.append(queries)
    # Session, user and roles; the domains of the filter; on PostgreSQL the key of the cached latest
    # evaluations' ids and the ids (their number is the count); elsewhere the count; then the page.
    assert counts[0] == counts[1] == (7 if connection.vendor == "postgresql" else 6)


@pytest.mark.django_db
def test_the_map_data_is_one_query_and_compact(client, executive):
    client.force_login(executive)
    counts = []
    for size in SIZES:
        build_portfolio(products=size, with_alerts=False)
        queries, size_bytes = _measure(client, "/portfolio/map.json")
        counts.append(queries)
    # Session, user and roles, the latest evaluations' ids and the key they are cached under
    # (PostgreSQL only), then the points: about a name, a slug and four numbers per product.
    assert counts[0] == counts[1] == (6 if connection.vendor == "postgresql" else 4)
    assert size_bytes < 65 * 120


def _add_products(portfolio: Portfolio, count: int) -> None:
    """`count` more evaluated products in the portfolio's domain, serving its goal."""
    for _ in range(count):
        product = factories.DataProductFactory(domain=portfolio.domain, launched_on=date(2024, 1, 1))
        product.goals.add(portfolio.goal)
        factories.EvaluationFactory(
            data_product=product, as_of=TODAY, value=Decimal("6000.00"), cost=Decimal("3000.00")
        )
        factories.AlertFactory(data_product=product, evaluation=product.evaluations.get(), opened_on=date(2026, 3, 10))


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "bound"), [("/", 60_000), ("/inbox/", 90_000)])
def test_the_dashboard_and_the_inbox_do_not_grow_with_the_portfolio(client, admin_user, path, bound):
    """Past a page of products (25 in the table) and of alerts (20), more products add nothing but digits."""
    client.force_login(admin_user)
    portfolio = build_portfolio(products=30)
    _, thirty = _measure(client, path)
    _add_products(portfolio, 90)
    _, hundred_and_twenty = _measure(client, path)
    assert thirty < bound and hundred_and_twenty < bound
    # The totals, counts and "page 1 of n" have a digit more; nothing else changes.
    assert abs(hundred_and_twenty - thirty) < 300, (thirty, hundred_and_twenty)


@pytest.mark.django_db
def test_the_product_list_pages_with_its_filters_kept(client, executive):
    portfolio = build_portfolio(products=60, with_alerts=False)
    portfolio.products[0].evaluations.filter(as_of=TODAY).update(recommendation="retire")
    client.force_login(executive)
    first = client.get("/products/?recommendation=hold")
    assert len(first.context["rows"]) == 50 and first.context["page"].paginator.count == 59
    assert "59 products recommended to hold" in first.content.decode()
    assert 'href="?recommendation=hold&amp;page=2#main"' in first.content.decode()
    second = client.get("/products/?recommendation=hold&page=2")
    assert len(second.context["rows"]) == 9
    assert all(row.recommendation == "hold" for row in second.context["rows"])
    assert [row.product_id for row in client.get("/products/?recommendation=retire").context["rows"]] == [
        portfolio.products[0].pk
    ]
    assert client.get("/products/?page=zz&recommendation=%00").status_code == 200
