"""The executive dashboard: figures, charts' data, the as-of picker, and a query count that does not grow."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.catalog.models import DataProduct, Lifecycle
from apps.kpis.services import measurement_record
from apps.valuation.portfolio import portfolio_summary
from tests import factories
from tests.apps.web.conftest import ROLLUP_REFRESH_QUERIES, TODAY, build_portfolio

# Session, user and roles (3); the API's portfolio summary now (4) and its totals a quarter ago (1), each plus
# the key of the cached figures on PostgreSQL (apps.valuation.portfolio); the domains of the
# table's filter, the latest evaluations' ids (PostgreSQL), the count and the page of the product table; the
# domains' monthly totals and the retired products' months; goals
# and KPIs; bets by status and recent bets; the last cloud bill; the decision loop of the last twelve months (7,
# apps.valuation.decision_loop). The map's points are fetched apart (/portfolio/map.json).
# + a refresh of the monthly rollup when writes are pending (ROLLUP_REFRESH_QUERIES)
DASHBOARD_QUERY_BUDGET = 26 + 2 + ROLLUP_REFRESH_QUERIES


def _chart(response, element_id: str) -> dict:
    html = response.content.decode()
    start = html.index(f'<script id="{element_id}" type="application/json">') + len(
        f'<script id="{element_id}" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


@pytest.mark.django_db
def test_totals_change_against_the_previous_quarter(client, executive):
    build_portfolio(products=3)
    client.force_login(executive)
    response = client.get("/")
    assert response.status_code == 200
    totals = response.context["totals"]
    assert (totals.value, totals.cost, totals.net, totals.ratio, totals.products) == (
        Decimal("18000.00"),
        Decimal("9000.00"),
        Decimal("9000.00"),
        Decimal("2.00"),
        3,
    )
    previous = response.context["previous"]
    assert (previous.value, previous.cost) == (Decimal("12000.00"), Decimal("6000.00"))
    assert response.context["changes"]["value"]["percent"] == Decimal("50.0")
    assert response.context["changes"]["ratio"]["percent"] == Decimal("0.0")
    html = response.content.decode()
    assert "€18,000" in html and "€9,000" in html and "2.00\u00d7" in html
    assert "+50.0%" in html


@pytest.mark.django_db
def test_the_portfolio_is_the_apis_latest_evaluations_without_retired_products(client, executive):
    portfolio = build_portfolio(products=3)
    deprecated, retired = portfolio.products[1], portfolio.products[2]
    deprecated.lifecycle, deprecated.sunset_on = Lifecycle.DEPRECATED, date(2026, 6, 30)
    deprecated.save()
    retired.lifecycle, retired.sunset_on = Lifecycle.RETIRED, date(2026, 3, 1)
    retired.save()
    # An older evaluation of a product must not be added to its latest one.
    factories.EvaluationFactory(data_product=portfolio.products[0], as_of=date(2026, 3, 1), value=Decimal("1"))
    client.force_login(executive)
    response = client.get("/")
    totals = response.context["totals"]
    assert (totals.products, totals.value) == (2, Decimal("12000.00"))
    # The same figures as the API's portfolio summary.
    summary = portfolio_summary(as_of=TODAY).totals
    assert (summary.products, summary.value, summary.cost) == (totals.products, totals.value, totals.cost)
    # Before its sunset the retired product was still in the portfolio.
    assert client.get("/?as_of=2026-01-05").context["totals"].products == 3


@pytest.mark.django_db
def test_monthly_chart_is_value_of_current_outcomes_times_weight_and_cost_per_month(client, executive):
    portfolio = build_portfolio(products=2)
    kpi = portfolio.kpis[0]
    # A correction: only the current revision counts (125 replaces 120 for January).
    measurement_record(kpi=kpi, period_start=date(2026, 1, 1), value=Decimal("125"))
    # A second product credited with half of the first KPI.
    half = factories.DataProductFactory(domain=portfolio.domain)
    factories.AttributionFactory(kpi=kpi, data_product=half, weight=Decimal("0.5"))
    client.force_login(executive)
    chart = _chart(client.get("/"), "chart-monthly")
    assert len(chart["months"]) == 24
    # The 24 complete months before March 2026 (the month in progress is left out).
    assert chart["months"][0] == "2024-03-01" and chart["months"][-1] == "2026-02-01"
    by_month = dict(zip(chart["months"], zip(chart["value"], chart["cost"], strict=True), strict=True))
    # Dec: product 0 (10 units x 10) + half of it for `half` + product 1 (100) = 250.
    assert by_month["2025-12-01"] == (250.0, 2000.0)
    # Jan: product 0's corrected 125 → 250, half → 125, product 1's 120 → 200.
    assert by_month["2026-01-01"] == (575.0, 2000.0)
    assert by_month["2026-02-01"] == (750.0, 2000.0)
    assert by_month["2025-11-01"] == (0.0, 0.0)


@pytest.mark.django_db
def test_map_places_each_product_with_its_figures_and_link(client, executive):
    portfolio = build_portfolio(products=2)
    portfolio.products[0].evaluations.filter(as_of=TODAY).update(recommendation="invest")
    client.force_login(executive)
    response = client.get("/")
    # The page carries where to fetch the map and how to build a product's URL, not the points.
    html = response.content.decode()
    assert 'data-url="/portfolio/map.json"' in html and 'data-product-url="/products/product-slug/"' in html
    chart = client.get("/portfolio/map.json").json()
    traces = {trace["label"]: trace for trace in chart["traces"]}
    assert set(traces) == {"Invest", "Hold"}
    invest = traces["Invest"]
    assert invest["x"] == [3000] and invest["y"] == [6000] and invest["ratio"] == [2.0]
    assert invest["slug"] == [portfolio.products[0].slug] and invest["name"] == [portfolio.products[0].name]
    assert chart["domains"][invest["domain"][0]] == portfolio.domain.name
    counts = {c["key"]: c["count"] for c in response.context["recommendation_counts"]}
    assert counts == {"retire": 0, "invest": 1, "review": 0, "hold": 1, "incubating": 0}


@pytest.mark.django_db
def test_the_map_data_follows_the_as_of_date_and_needs_a_dashboard_role(client, executive, product_owner):
    build_portfolio(products=1)
    assert client.get("/portfolio/map.json").status_code == 302  # to the login page
    client.force_login(product_owner)
    assert client.get("/portfolio/map.json").status_code == 403
    client.force_login(executive)
    # On 5 January the latest evaluation was the one of 18 December; a bad date falls back to today.
    assert client.get("/portfolio/map.json?as_of=2026-01-05").json()["traces"][0]["y"] == [4000]
    assert client.get("/portfolio/map.json?as_of=garbage").json()["traces"][0]["y"] == [6000]


@pytest.mark.django_db
def test_goals_show_each_kpi_progress_from_baseline_to_target(client, executive):
    portfolio = build_portfolio(products=1)
    decrease = factories.KPIFactory(
        goal=portfolio.goal, name="Cost per order", direction="decrease", baseline=Decimal("10"), target=Decimal("6")
    )
    factories.MeasurementFactory(kpi=decrease, period_start=date(2026, 2, 1), value=Decimal("9"))
    client.force_login(executive)
    goals = client.get("/").context["goals"]
    kpis = {k.name: k for k in goals[0].kpis}
    # 130 of baseline 100 → target 150: 60 %; 9 of baseline 10 → target 6: 25 %.
    assert kpis["KPI of product 0"].progress == Decimal("60.0")
    assert kpis["KPI of product 0"].latest_value == Decimal("130")
    assert kpis["Cost per order"].progress == Decimal("25.0")


@pytest.mark.django_db
def test_bets_as_of_the_date_with_expected_and_realised(client, executive):
    product = factories.DataProductFactory()
    factories.ValueBetFactory(
        data_product=product, status="won", realised_value=Decimal("70000"), settled_on=date(2026, 1, 10)
    )
    factories.ValueBetFactory(data_product=product, status="lost", realised_value=Decimal("100"), settled_on=TODAY)
    factories.ValueBetFactory(data_product=product)
    client.force_login(executive)
    statuses = {s["key"]: s for s in client.get("/?as_of=2026-03-01").context["bets"]["statuses"]}
    # On 1 March the lost bet was not settled yet: it was still open.
    assert (statuses["won"]["count"], statuses["won"]["realised_value"]) == (1, Decimal("70000.00"))
    assert statuses["lost"]["count"] == 0
    assert (statuses["open"]["count"], statuses["open"]["expected_value"]) == (2, Decimal("100000.00"))


@pytest.mark.django_db
def test_as_of_picker_moves_the_date_and_refuses_the_future(client, executive):
    build_portfolio(products=1)
    client.force_login(executive)
    response = client.get("/?as_of=2026-01-05")
    assert response.context["as_of"] == date(2026, 1, 5)
    # On 5 January the latest evaluation was the one of 18 December.
    assert response.context["totals"].value == Decimal("4000.00")
    future = client.get("/?as_of=2027-01-01")
    assert future.status_code == 200
    assert future.context["as_of"] == TODAY
    assert "the future has not been measured yet" in future.content.decode()
    garbage = client.get("/?as_of=not-a-date")
    assert garbage.status_code == 200 and garbage.context["as_of"] == TODAY
    assert "Enter a valid date" in garbage.content.decode()


@pytest.mark.django_db
def test_empty_portfolio_says_what_to_do(client, executive):
    client.force_login(executive)
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "No evaluations yet" in html
    assert 'data-chart="map"' not in html


@pytest.mark.django_db
def test_dashboard_query_count_does_not_grow_with_the_portfolio(client, executive, django_assert_max_num_queries):
    client.force_login(executive)
    counts = []
    for size in (5, 40):
        build_portfolio(products=size)
        for product_index in range(3):
            factories.ValueBetFactory(data_product=factories.DataProductFactory(), goal=factories.BusinessGoalFactory())
            del product_index
        with django_assert_max_num_queries(DASHBOARD_QUERY_BUDGET), CaptureQueriesContext(connection) as queries:
            response = client.get("/")
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert response.context["totals"].products == 45


def _table_names(response) -> list[str]:
    return [row.name for row in response.context["table_rows"]]


@pytest.mark.django_db
def test_the_product_table_sorts_filters_searches_and_pages_on_the_server(client, executive):
    portfolio = build_portfolio(products=4)
    other = build_portfolio(products=2)
    first, second, third, fourth = portfolio.products
    for product, value, recommendation in (
        (first, "100", "retire"),
        (second, "9000", "invest"),
        (third, "4000", "hold"),
        (fourth, "7000", "invest"),
    ):
        product.evaluations.filter(as_of=TODAY).update(
            value=Decimal(value), net=Decimal(value) - 3000, ratio=Decimal(value) / 3000, recommendation=recommendation
        )
    client.force_login(executive)
    # By name by default, in the database's collation.
    names = list(DataProduct.objects.order_by("name").values_list("name", flat=True))
    assert _table_names(client.get("/")) == names
    assert _table_names(client.get("/?sort=-value"))[:2] == [second.name, fourth.name]  # then 6000s
    assert _table_names(client.get("/?sort=ratio"))[0] == first.name
    assert _table_names(client.get("/?sort=net&recommendation=invest")) == [fourth.name, second.name]
    assert set(_table_names(client.get(f"/?domain={other.domain.slug}"))) == {p.name for p in other.products}
    DataProduct.objects.filter(pk=third.pk).update(name="Footfall Forecast")
    assert _table_names(client.get("/?q=FOOTFALL")) == ["Footfall Forecast"]
    # A page of 25 by default; the links keep the state (sort, filters, the as-of date) and move the page.
    response = client.get("/?sort=-value&recommendation=invest&as_of=2026-03-18")
    html = response.content.decode()
    assert 'href="?as_of=2026-03-18&amp;sort=value&amp;recommendation=invest"' in html  # the value column flips
    assert response.context["table_query"].per_page == 25


@pytest.mark.django_db
def test_the_product_table_pages_and_answers_htmx_with_the_table_alone(client, executive):
    build_portfolio(products=30)
    client.force_login(executive)
    response = client.get("/?page=2&sort=-name")
    assert response.context["table_page"].number == 2 and len(response.context["table_rows"]) == 5
    html = response.content.decode()
    assert 'href="?sort=-name"' in html and "Page 2 of 2" in html  # previous: page 1 is the default
    partial = client.get("/?page=2&sort=-name", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="portfolio-products")
    body = partial.content.decode()
    assert partial.status_code == 200 and "<html" not in body
    assert body.startswith('<div id="portfolio-products"') and "Page 2 of 2" in body
    assert "HX-Request" in partial["Vary"]
    fifty = client.get("/?per_page=50")
    assert len(fifty.context["table_rows"]) == 30 and not fifty.context["table_page"].has_other_pages()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "sort=bogus",
        "sort=-",
        "sort=--value",
        "page=zz",
        "page=-4",
        "page=99999999999999999999",
        "per_page=7",
        "per_page=x",
        "domain=%00",
        "domain=999",
        "recommendation=sell",
        "q=" + "x" * 500,
        "q=%00",
    ],
)
def test_bad_table_input_falls_back_to_the_default(client, executive, query):
    build_portfolio(products=3)
    client.force_login(executive)
    response = client.get(f"/?{query}")
    assert response.status_code == 200
    assert response.context["table_page"].number >= 1
    partial = client.get(f"/?{query}", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="portfolio-products")
    assert partial.status_code == 200
