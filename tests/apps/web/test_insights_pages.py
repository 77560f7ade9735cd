"""The decision-loop page, the readiness page, the dashboard's decision-loop section and a product's checks."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.valuation.services import readiness_record
from apps.web.selectors import insights
from tests import factories
from tests.apps.api import test_decision_loop as loop_scenario
from tests.apps.api import test_readiness as readiness_scenario

# The hand-computed portfolios of the API tests, as fixtures here too.
loop_portfolio = loop_scenario.loop_portfolio
readiness_portfolio = readiness_scenario.readiness_portfolio
_bet, _decided, at, ready_product = (
    loop_scenario._bet,
    loop_scenario._decided,
    loop_scenario.at,
    readiness_scenario.ready_product,
)


def _json(response, element_id: str) -> dict:
    html = response.content.decode()
    marker = f'<script id="{element_id}" type="application/json">'
    start = html.index(marker) + len(marker)
    return json.loads(html[start : html.index("</script>", start)])


def test_decision_loop_page_shows_the_figures_and_the_rows_behind_them(client, executive, loop_portfolio):
    client.force_login(executive)
    response = client.get("/decision-loop/", {"date_from": "2025-12-02", "date_to": "2026-12-01"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-figure="win_rate">33%<' in html
    assert 'data-figure="avoided_cost">€4,000<' in html
    assert 'data-figure="median_time_to_decision">20 days<' in html
    assert 'href="#bets"' in html and 'id="bets"' in html
    assert 'id="alerts-past-sla"' in html and "Churn" in html
    calibration = _json(response, "chart-calibration")
    dots = {trace["name"]: list(zip(trace["x"], trace["y"], strict=True)) for trace in calibration["traces"]}
    assert sorted(dots["Retail"]) == [(100.0, 150.0), (200.0, 50.0)]
    assert dots["Finance"] == [(300.0, 0.0)]
    ttd = _json(response, "chart-ttd")
    assert ttd["quarters"] == ["2026 Q1", "2026 Q2"]
    assert ttd["median_days"] == [11.5, 20.0]
    assert ttd["sla_days"] == 14
    # CSP: no inline script code, no style attributes.
    assert "style=" not in html.split("<main", 1)[1]


def test_decision_loop_period_errors_are_shown(client, executive, db):
    client.force_login(executive)
    response = client.get("/decision-loop/", {"date_from": "2026-06-01", "date_to": "2026-01-01"})
    assert response.status_code == 200
    assert "The period must start on or before its last day." in response.content.decode()


def test_pages_are_for_executives_and_governance_leads(client, product_owner, governance_lead, db):
    client.force_login(product_owner)
    assert client.get("/decision-loop/").status_code == 403
    assert client.get("/readiness/").status_code == 403
    client.force_login(governance_lead)
    assert client.get("/decision-loop/").status_code == 200
    assert client.get("/readiness/").status_code == 200


def test_dashboard_has_the_decision_loop_section(client, executive, loop_portfolio):
    client.force_login(executive)
    html = client.get("/", {"as_of": "2026-03-01"}).content.decode()
    assert 'id="decision-loop"' in html
    assert "/decision-loop/?date_from=2025-03-02&amp;date_to=2026-03-01" in html


def test_readiness_page_lists_shares_failing_products_and_the_trend(
    client, governance_lead, readiness_portfolio, time_machine
):
    time_machine.move_to("2026-12-02 12:00", tick=False)
    readiness_record(as_of=date(2026, 11, 1))
    readiness_record(as_of=date(2026, 12, 1))
    client.force_login(governance_lead)
    response = client.get("/readiness/", {"as_of": "2026-12-01"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "stored by the evaluation of 1 Dec 2026" in html
    assert f"/products/{readiness_portfolio['no_goal'].slug}/#readiness" in html
    assert 'data-check="has_goal">67%<' in html
    trend = _json(response, "chart-readiness-trend")
    sales = next(trace for trace in trend["traces"] if trace["name"] == "Sales")
    assert sales["x"] == ["2026-11-01", "2026-12-01"]


def test_product_page_shows_its_checks_with_remedies(client, executive, readiness_portfolio, time_machine):
    time_machine.move_to("2026-12-01 12:00", tick=False)
    client.force_login(executive)
    html = client.get(f"/products/{readiness_portfolio['others'].slug}/").content.decode()
    assert 'id="readiness"' in html
    assert 'class="check check-fail" data-check="owner_uses"' in html
    assert 'class="check check-pass" data-check="has_goal"' in html
    assert "Record last month&#x27;s cost" in html


@pytest.mark.parametrize("page", ["/decision-loop/?date_to=2026-12-01", "/readiness/?as_of=2026-12-01"])
def test_page_queries_do_not_grow(client, executive, loop_portfolio, page):
    client.force_login(executive)
    counts = []
    for _ in range(2):
        for _ in range(6):
            product = factories.DataProductFactory(domain=factories.DomainFactory())
            ready_product(product.domain)
            _bet(product, "won", "10", "12", "5", "4", date(2026, 6, 1))
            _decided(product, at(2026, 4, 1), at(2026, 4, 9), action="retire", sunset_on=date(2026, 5, 1))
        with CaptureQueriesContext(connection) as queries:
            assert client.get(page).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_readiness_page_names_the_first_failing_products_and_counts_the_rest(
    client, executive, readiness_portfolio, monkeypatch
):
    monkeypatch.setattr(insights, "FAILING_SHOWN", 2)
    ops = readiness_portfolio["ops"]
    # Registered in this order; the ones shown are the first two registered, listed by name.
    for name in ("Ops C", "Ops A", "Ops B"):
        factories.DataProductFactory(domain=ops, name=name)
    client.force_login(executive)
    response = client.get("/readiness/", {"as_of": "2026-12-01"})
    assert response.status_code == 200
    ops_row = next(row for row in response.context["domains"] if row.name == "Ops")
    has_goal = next(check for check in ops_row.checks if check.key == "has_goal")
    assert [product.name for product in has_goal.failing] == ["Ops A", "Ops C"]
    assert has_goal.failing_count == 3
    assert "and 1 more" in response.content.decode()


def test_decision_loop_page_lists_the_first_rows_and_counts_them_all(client, executive, loop_portfolio, monkeypatch):
    client.force_login(executive)
    period = {"date_from": "2025-12-02", "date_to": "2026-12-01"}
    full = client.get("/decision-loop/", period).context
    monkeypatch.setattr(insights, "ROWS_SHOWN", 1)
    response = client.get("/decision-loop/", period)
    html = response.content.decode()
    for rows in ("settled", "decisions", "retirements", "overdue"):
        assert response.context[f"{rows}_total"] == len(full[rows])
        assert len(response.context[rows]) == min(1, len(full[rows]))
    assert len(full["settled"]) > 1  # the scenario has more than one row to leave out
    assert f"Bets settled in the period ({len(full['settled'])})" in html
    assert f"The first 1 of {len(full['settled'])} are listed here" in html
