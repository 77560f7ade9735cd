"""GET /api/v1/portfolio/summary/: totals and per-domain figures from each product's latest evaluation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from apps.bets.models import BetStatus
from apps.catalog.models import Lifecycle
from apps.governance.models import AlertKind, AlertStatus
from tests import factories


def _evaluate(product, as_of, value, cost, recent_value="0.00", recent_cost="0.00", recommendation="hold"):
    return factories.EvaluationFactory(
        data_product=product,
        as_of=as_of,
        value=Decimal(value),
        cost=Decimal(cost),
        recent_value=Decimal(recent_value),
        recent_cost=Decimal(recent_cost),
        recommendation=recommendation,
    )


def test_summary_sums_each_products_latest_evaluation(as_executive):
    retail = factories.DomainFactory(name="Retail", slug="retail")
    finance = factories.DomainFactory(name="Finance", slug="finance")
    empty = factories.DomainFactory(name="Zoo", slug="zoo")
    churn = factories.DataProductFactory(domain=retail)
    orders = factories.DataProductFactory(domain=retail)
    ledger = factories.DataProductFactory(domain=finance)
    gone = factories.DataProductFactory(domain=finance, lifecycle=Lifecycle.RETIRED, sunset_on=date(2026, 2, 15))

    _evaluate(churn, date(2026, 1, 1), "100.00", "100.00")  # superseded by the next one
    _evaluate(churn, date(2026, 2, 1), "3000.00", "1000.00", "900.00", "300.00", "invest")
    _evaluate(churn, date(2026, 4, 1), "9999.00", "1.00")  # after as_of: ignored
    _evaluate(orders, date(2026, 3, 1), "500.00", "1000.00", "100.00", "250.00", "retire")
    _evaluate(ledger, date(2026, 1, 1), "0.00", "0.00", recommendation="review")
    _evaluate(gone, date(2026, 1, 1), "7777.00", "1.00")  # retired on 2026-02-15: out of the portfolio

    factories.ValueBetFactory(data_product=churn, status=BetStatus.WON, realised_value=Decimal("60000.00"))
    factories.ValueBetFactory(data_product=orders, status=BetStatus.LOST, realised_value=Decimal("1000.00"))
    factories.ValueBetFactory(data_product=orders)
    factories.AlertFactory(data_product=orders, kind=AlertKind.RETIRE)
    factories.AlertFactory(data_product=ledger, kind=AlertKind.REVIEW, status=AlertStatus.RESOLVED, resolution="x")

    response = as_executive.get("/api/v1/portfolio/summary/?as_of=2026-03-01")
    assert response.status_code == 200
    body = response.json()
    assert (body["as_of"], body["evaluated_on"], body["currency"]) == ("2026-03-01", "2026-03-01", "EUR")
    assert body["totals"] == {
        "products": 3,
        "value": "3500.00",
        "cost": "2000.00",
        "net": "1500.00",
        "ratio": "1.7500",
        "roi": "0.7500",
        "recent_value": "1000.00",
        "recent_cost": "550.00",
        "recent_ratio": "1.8182",
        "recommendations": {"incubating": 0, "review": 1, "hold": 0, "retire": 1, "invest": 1},
    }
    domains = {row["slug"]: row for row in body["domains"]}
    # Every domain is listed, by name (the bets' goals brought domains of their own).
    assert [row["name"] for row in body["domains"]] == sorted(row["name"] for row in body["domains"])
    assert {"finance", "retail", "zoo"} <= set(domains)
    assert (domains["retail"]["products"], domains["retail"]["value"], domains["retail"]["cost"]) == (
        2,
        "3500.00",
        "2000.00",
    )
    assert domains["retail"]["domain"] == retail.pk
    assert (domains["finance"]["products"], domains["finance"]["ratio"]) == (1, None)
    assert (domains["zoo"]["products"], domains["zoo"]["value"], domains["zoo"]["domain"]) == (0, "0.00", empty.pk)
    assert body["bets"]["won"] == {"count": 1, "expected_value": "50000.00", "realised_value": "60000.00"}
    assert body["bets"]["lost"]["count"] == 1
    assert body["bets"]["open"]["count"] == 1
    assert body["open_alerts"]["retire"] == 1
    assert body["open_alerts"]["review"] == 0


def test_summary_before_any_evaluation(as_executive):
    body = as_executive.get("/api/v1/portfolio/summary/?as_of=2026-03-01").json()
    assert body["evaluated_on"] is None
    assert body["totals"]["products"] == 0
    assert body["totals"]["ratio"] is None


def test_summary_checks_the_date(as_executive):
    response = as_executive.get("/api/v1/portfolio/summary/?as_of=yesterday")
    assert response.status_code == 400
    assert "as_of" in response.json()
