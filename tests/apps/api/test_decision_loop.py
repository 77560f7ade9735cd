"""GET /api/v1/portfolio/decision-loop/: hand-computed figures on a small portfolio we set."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.bets.models import BetStatus
from apps.governance.models import Alert, AlertKind, AlertStatus, Decision
from apps.valuation.models import EvaluationPolicy
from tests import factories

URL = "/api/v1/portfolio/decision-loop/"


def at(*args) -> datetime:
    return timezone.make_aware(datetime(*args))


def _bet(product, status, expected, realised, expected_cost, realised_cost, settled_on, review_on=date(2026, 1, 1)):
    return factories.ValueBetFactory(
        data_product=product,
        status=status,
        expected_value=Decimal(expected),
        realised_value=None if realised is None else Decimal(realised),
        expected_cost=Decimal(expected_cost),
        realised_cost=None if realised_cost is None else Decimal(realised_cost),
        settled_on=settled_on,
        opens_on=date(2025, 1, 1),
        review_on=review_on,
    )


def _decided(product, raised, decided, action="keep", sunset_on=None, kind=AlertKind.RETIRE):
    """An alert raised at `raised` (None: a decision on no alert) and decided at `decided`."""
    alert = None
    if raised is not None:
        alert = factories.AlertFactory(
            data_product=product, kind=kind, status=AlertStatus.RESOLVED, resolution="decided", resolved_at=decided
        )
        Alert.objects.filter(pk=alert.pk).update(created_at=raised)
    decision = factories.DecisionFactory(data_product=product, alert=alert, action=action, sunset_on=sunset_on)
    Decision.objects.filter(pk=decision.pk).update(decided_at=decided)
    return decision


def _open_alert(product, raised, kind=AlertKind.REVIEW):
    alert = factories.AlertFactory(data_product=product, kind=kind, opened_on=raised.date())
    Alert.objects.filter(pk=alert.pk).update(created_at=raised)
    return alert


def _cost(product, month, amount):
    factories.CostEntryFactory(data_product=product, period_start=month, amount=Decimal(amount))


@pytest.fixture
def loop_portfolio(db):
    retail = factories.DomainFactory(name="Retail", slug="retail")
    finance = factories.DomainFactory(name="Finance", slug="finance")
    zoo = factories.DomainFactory(name="Zoo", slug="zoo")
    EvaluationPolicy.objects.create(domain=finance, is_default=False, decision_sla_days=30)
    churn = factories.DataProductFactory(domain=retail, name="Churn")
    old_orders = factories.DataProductFactory(domain=retail, name="Old orders")
    ledger = factories.DataProductFactory(domain=finance, name="Ledger")
    old_ledger = factories.DataProductFactory(domain=finance, name="Old ledger")

    # Bets. Retail: won (100 -> 150, cost 40 -> 50) and lost (200 -> 50, realised cost unknown).
    _bet(churn, BetStatus.WON, "100", "150", "40", "50", date(2026, 3, 1))
    _bet(churn, BetStatus.LOST, "200", "50", "60", None, date(2026, 6, 1))
    _bet(churn, BetStatus.WON, "999", "999", "1", "1", date(2025, 11, 1))  # settled before the period
    _bet(churn, BetStatus.VOID, "999", None, "1", None, date(2026, 5, 1))  # void: left out
    _bet(churn, BetStatus.OPEN, "999", None, "1", None, None)  # open: left out
    # Finance: lost (300 -> 0, cost 100 -> 120), settled before settled_on was recorded: its review date counts.
    _bet(ledger, BetStatus.LOST, "300", "0", "100", "120", None, review_on=date(2026, 4, 1))

    # Decisions on alerts: 3 days (within 14), 20 days (past 14), Finance 20 days (within its 30).
    _decided(churn, at(2026, 2, 1), at(2026, 2, 4))
    _decided(
        old_orders, at(2026, 3, 1), at(2026, 3, 21), action="retire", sunset_on=date(2026, 6, 15), kind=AlertKind.REVIEW
    )
    _decided(ledger, at(2026, 5, 1), at(2026, 5, 21), action="retire", sunset_on=date(2027, 1, 1))
    _decided(churn, at(2025, 9, 1), at(2025, 10, 1), kind=AlertKind.INVEST)  # before the period
    # A retirement decided on no alert: not a time to decision, but an avoided cost.
    _decided(old_ledger, None, at(2026, 1, 10), action="retire", sunset_on=date(2026, 2, 1))

    # Costs before the retire decisions: Old orders 300/600/900 over Dec-Feb (600 a month; March after the
    # decision does not count); Old ledger 100 a month over Oct-Dec.
    for month, amount in [(date(2025, 12, 1), "300"), (date(2026, 1, 1), "600"), (date(2026, 2, 1), "900")]:
        _cost(old_orders, month, amount)
    _cost(old_orders, date(2026, 3, 1), "999")
    for month in (date(2025, 10, 1), date(2025, 11, 1), date(2025, 12, 1)):
        _cost(old_ledger, month, "100")

    # Open alerts on 1 Dec 2026: 21 days old in Retail (past 14), in Finance (within 30); 11 days in Retail.
    overdue = _open_alert(churn, at(2026, 11, 10))
    _open_alert(ledger, at(2026, 11, 10))
    _open_alert(old_orders, at(2026, 11, 20), kind=AlertKind.STALE_KPI)
    return {"retail": retail, "finance": finance, "zoo": zoo, "overdue": overdue, "churn": churn}


def _by_slug(body):
    return {domain["slug"]: domain for domain in body["domains"]}


def test_figures_are_the_hand_computed_ones(as_executive, loop_portfolio):
    response = as_executive.get(URL, {"to": "2026-12-01"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["from"] == "2025-12-02"
    assert body["to"] == "2026-12-01"
    assert body["decision_sla_days"] == 14
    totals = body["totals"]
    assert (totals["settled_bets"], totals["won"], totals["lost"]) == (3, 1, 2)
    assert totals["win_rate"] == "0.3333"
    assert totals["calibration"] == "0.3333"  # (150 + 50 + 0) / (100 + 200 + 300)
    assert totals["cost_accuracy"] == "1.2143"  # (50 + 120) / (40 + 100): the bet with no realised cost left out
    assert totals["avoided_cost"] == "4000.00"  # 600 x 5 months + 100 x 10 months
    assert totals["retirements"] == 2
    assert totals["decisions"] == 3
    assert totals["median_time_to_decision"] == "20.0"  # of 3, 20, 20 days
    assert totals["decided_within_sla"] == "0.6667"
    assert totals["alerts_past_sla"] == 1

    domains = _by_slug(body)
    retail, finance, zoo = domains["retail"], domains["finance"], domains["zoo"]
    assert (retail["win_rate"], retail["calibration"], retail["cost_accuracy"]) == ("0.5000", "0.6667", "1.2500")
    assert retail["avoided_cost"] == "3000.00"
    assert retail["median_time_to_decision"] == "11.5"
    assert retail["decided_within_sla"] == "0.5000"
    assert retail["alerts_past_sla"] == 1
    assert (finance["win_rate"], finance["calibration"], finance["cost_accuracy"]) == ("0.0000", "0.0000", "1.2000")
    assert finance["decision_sla_days"] == 30
    assert finance["avoided_cost"] == "1000.00"
    assert finance["median_time_to_decision"] == "20.0"
    assert finance["decided_within_sla"] == "1.0000"
    assert finance["alerts_past_sla"] == 0
    # A domain with nothing settled or decided has no figures rather than zeros.
    assert zoo["win_rate"] is None and zoo["calibration"] is None and zoo["cost_accuracy"] is None
    assert zoo["median_time_to_decision"] is None and zoo["decided_within_sla"] is None
    assert zoo["avoided_cost"] == "0.00"

    [overdue] = body["alerts_past_sla"]
    assert overdue["alert"] == loop_portfolio["overdue"].pk
    assert overdue["data_product_name"] == "Churn"
    assert overdue["days_open"] == 21
    assert overdue["raised_on"] == "2026-11-10"


def test_the_oldest_alerts_past_the_sla_are_listed_and_every_one_on_request(as_executive, loop_portfolio, monkeypatch):
    from apps.valuation.api import insights

    monkeypatch.setattr(insights, "ROWS_LISTED", 2)
    churn = loop_portfolio["churn"]
    ledger = Alert.objects.filter(data_product__name="Ledger").first().data_product
    oldest = _open_alert(churn, at(2026, 10, 1), kind=AlertKind.STALE_KPI)
    past_thirty = _open_alert(ledger, at(2026, 10, 20), kind=AlertKind.STALE_KPI)  # 42 days: past Finance's 30
    listed = as_executive.get(URL, {"to": "2026-12-01"}).json()
    assert listed["totals"]["alerts_past_sla"] == 3
    assert [row["alert"] for row in listed["alerts_past_sla"]] == [oldest.pk, past_thirty.pk]
    every = as_executive.get(URL, {"to": "2026-12-01", "alerts": "all"}).json()
    assert [row["alert"] for row in every["alerts_past_sla"]] == [
        oldest.pk,
        past_thirty.pk,
        loop_portfolio["overdue"].pk,
    ]
    assert every["totals"] == listed["totals"]
    bad = as_executive.get(URL, {"alerts": "some"})
    assert bad.status_code == 400 and "alerts" in bad.json()


def test_a_period_with_nothing_settled_gives_none(as_executive, loop_portfolio):
    response = as_executive.get(URL, {"from": "2024-01-01", "to": "2024-06-30"})
    assert response.status_code == 200
    totals = response.json()["totals"]
    assert totals["win_rate"] is None
    assert totals["calibration"] is None
    assert totals["median_time_to_decision"] is None
    assert totals["settled_bets"] == 0


def test_domain_filter_and_an_explicit_period(as_governance, loop_portfolio):
    response = as_governance.get(URL, {"from": "2026-03-01", "to": "2026-12-01", "domain": loop_portfolio["retail"].pk})
    assert response.status_code == 200
    body = response.json()
    assert [domain["slug"] for domain in body["domains"]] == ["retail"]
    # From 1 March: the won bet (settled 1 March) and the lost one; the 1 Feb alert's decision is out.
    assert body["totals"]["settled_bets"] == 2
    assert body["totals"]["decisions"] == 1
    assert body["totals"]["median_time_to_decision"] == "20.0"
    assert body["totals"]["decided_within_sla"] == "0.0000"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-13-01"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2026-06-01", "to": "2026-01-01"}, "from"),
        ({"to": "1066-10-14"}, "to"),
        ({"domain": "0"}, "domain"),
        ({"domain": "north"}, "domain"),
    ],
)
def test_bad_parameters_get_a_message_per_field(as_executive, params, field):
    response = as_executive.get(URL, params)
    assert response.status_code == 400
    assert field in response.json(), response.json()


def test_a_domain_that_does_not_exist_is_a_404(as_executive):
    response = as_executive.get(URL, {"domain": "999999"})
    assert response.status_code == 404
    assert response.json() == {"detail": "There is no domain 999999."}


def test_who_may_read(api_client, as_owner, as_governance, as_admin):
    assert api_client.get(URL).status_code == 401
    assert as_owner.get(URL).status_code == 403
    # Permission before validation: a product owner with a bad date still gets 403.
    assert as_owner.get(URL, {"from": "garbage"}).status_code == 403
    assert as_governance.get(URL).status_code == 200
    assert as_admin.get(URL).status_code == 200


def _grow(count: int) -> None:
    """`count` more domains, each with a settled bet, a decided alert, a retirement and an open alert."""
    for _ in range(count):
        domain = factories.DomainFactory()
        product = factories.DataProductFactory(domain=domain)
        _bet(product, BetStatus.WON, "10", "12", "5", "4", date(2026, 6, 1))
        _decided(product, at(2026, 4, 1), at(2026, 4, 9), action="retire", sunset_on=date(2026, 5, 1))
        _cost(product, date(2026, 3, 1), "30")
        _open_alert(product, at(2026, 1, 1), kind=AlertKind.STALE_KPI)


@pytest.mark.parametrize("size", [1, 12])
def test_a_fixed_number_of_queries(as_executive, loop_portfolio, size, django_assert_max_num_queries):
    _grow(size)
    # Authentication (token, groups) and the domain parameter, then the seven reads of the selector.
    with django_assert_max_num_queries(11):
        response = as_executive.get(URL, {"to": "2026-12-01"})
    assert response.status_code == 200
    assert response.json()["totals"]["retirements"] == 2 + size
