"""GET /api/v1/portfolio/readiness/ and readiness_record: the six checks per domain, computed and stored."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from apps.catalog.models import Lifecycle
from apps.valuation.api import insights
from apps.valuation.models import DomainReadiness, EvaluationPolicy
from apps.valuation.readiness import product_checks
from apps.valuation.services import readiness_record
from meshvalue.readiness import Check
from tests import factories

URL = "/api/v1/portfolio/readiness/"
AS_OF = date(2026, 12, 1)


def ready_product(domain, **overrides):
    """An active product passing all six checks as of 1 Dec 2026."""
    product = factories.DataProductFactory(domain=domain, **overrides)
    goal = factories.BusinessGoalFactory(domain=domain)
    product.goals.add(goal)
    kpi = factories.KPIFactory(goal=goal, cadence="monthly")
    factories.AttributionFactory(kpi=kpi, data_product=product)
    factories.MeasurementFactory(kpi=kpi, period_start=date(2026, 11, 1))
    factories.CostEntryFactory(data_product=product, period_start=date(2026, 11, 1))
    factories.UsageRecordFactory(data_product=product, consumer=product.owner.username, day=date(2026, 11, 20))
    return product, kpi


@pytest.fixture
def readiness_portfolio(db):
    sales = factories.DomainFactory(name="Sales", slug="sales")
    ops = factories.DomainFactory(name="Ops", slug="ops")
    empty = factories.DomainFactory(name="Zoo", slug="zoo")
    ok, _ = ready_product(sales)
    no_goal, _ = ready_product(sales)
    no_goal.goals.clear()
    # KPI with no value per unit, and its outcome stale (31 Aug is before 1 Dec - 62 days).
    flat, flat_kpi = ready_product(sales)
    flat_kpi.value_per_unit = Decimal("0")
    flat_kpi.save()
    flat_kpi.measurements.update(period_start=date(2026, 8, 1))
    # Used only by others, no cost for November (October's does not count).
    others, _ = ready_product(ops)
    others.usage_records.update(consumer="finance-team")
    others.cost_entries.update(period_start=date(2026, 10, 1))
    # Never used, and no KPI at all: no outcome can be current.
    bare = factories.DataProductFactory(domain=ops)
    bare.goals.add(factories.BusinessGoalFactory(domain=ops))
    factories.CostEntryFactory(data_product=bare, period_start=date(2026, 11, 1))
    # Not active: not counted.
    ready_product(ops, lifecycle=Lifecycle.DEPRECATED)
    return {
        "sales": sales,
        "ops": ops,
        "empty": empty,
        "ok": ok,
        "no_goal": no_goal,
        "flat": flat,
        "others": others,
        "bare": bare,
    }


def _checks(domain):
    return {check["check"]: check for check in domain["checks"]}


def test_shares_and_failing_products_per_domain(as_executive, readiness_portfolio):
    response = as_executive.get(URL, {"as_of": "2026-12-01"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["evaluated_on"] is None  # nothing stored yet: computed on request
    domains = {domain["slug"]: domain for domain in body["domains"]}
    p = readiness_portfolio

    sales = _checks(domains["sales"])
    assert domains["sales"]["products"] == 3
    assert domains["sales"]["ready"] == 1
    assert domains["sales"]["ready_share"] == "0.3333"
    assert sales["has_goal"]["share"] == "0.6667"
    assert sales["has_goal"]["failing"] == [p["no_goal"].pk]
    assert sales["kpi_defined"]["failing"] == [p["flat"].pk]
    assert sales["outcomes_current"]["failing"] == [p["flat"].pk]
    assert sales["cost_last_month"]["share"] == "1.0000"
    assert sales["owner_uses"]["failing"] == []

    ops = _checks(domains["ops"])
    assert domains["ops"]["products"] == 2
    assert ops["has_goal"]["share"] == "1.0000"
    assert ops["kpi_defined"]["failing"] == [p["bare"].pk]
    assert ops["outcomes_current"]["failing"] == [p["bare"].pk]
    assert ops["cost_last_month"]["failing"] == [p["others"].pk]
    assert ops["usage_recorded"]["failing"] == [p["bare"].pk]
    assert ops["owner_uses"]["failing"] == sorted([p["others"].pk, p["bare"].pk])
    assert ops["owner_uses"]["share"] == "0.0000"

    assert domains["zoo"]["products"] == 0
    assert _checks(domains["zoo"])["has_goal"]["share"] is None

    totals = body["totals"]
    assert totals["products"] == 5
    assert totals["ready"] == 1
    assert _checks(totals)["has_goal"]["share"] == "0.8000"


def test_the_policy_stale_periods_apply(as_executive, readiness_portfolio):
    EvaluationPolicy.objects.create(domain=readiness_portfolio["sales"], is_default=False, stale_periods=6)
    body = as_executive.get(URL, {"as_of": "2026-12-01", "domain": readiness_portfolio["sales"].pk}).json()
    [sales] = body["domains"]
    assert _checks(sales)["outcomes_current"]["failing"] == []


def test_stored_per_domain_and_date_and_served_from_storage(as_governance, readiness_portfolio):
    rows = readiness_record(as_of=AS_OF)
    assert len(rows) == 3
    stored = DomainReadiness.objects.get(domain=readiness_portfolio["sales"], as_of=AS_OF)
    assert (stored.products, stored.ready) == (3, 1)
    assert stored.passing["has_goal"] == 2
    assert stored.failing["has_goal"] == [readiness_portfolio["no_goal"].pk]
    # Idempotent: a second pass for the date rewrites the same rows.
    readiness_record(as_of=AS_OF)
    assert DomainReadiness.objects.filter(as_of=AS_OF).count() == 3

    # A later request reads the latest stored date, even after the facts changed.
    readiness_portfolio["no_goal"].goals.add(factories.BusinessGoalFactory(domain=readiness_portfolio["sales"]))
    body = as_governance.get(URL, {"as_of": "2026-12-05"}).json()
    assert body["evaluated_on"] == "2026-12-01"
    sales = next(domain for domain in body["domains"] if domain["slug"] == "sales")
    assert _checks(sales)["has_goal"]["failing"] == [readiness_portfolio["no_goal"].pk]
    # Before any stored date: computed now.
    assert as_governance.get(URL, {"as_of": "2026-11-30"}).json()["evaluated_on"] is None


def test_one_products_checks(readiness_portfolio):
    checks = product_checks(product=readiness_portfolio["others"], as_of=AS_OF)
    assert {check for check, ok in checks.items() if not ok} == {Check.COST_LAST_MONTH, Check.OWNER_USES}
    assert all(product_checks(product=readiness_portfolio["ok"], as_of=AS_OF).values())


def test_each_check_lists_its_first_failing_products_unless_all_are_asked_for(
    as_executive, readiness_portfolio, monkeypatch
):
    monkeypatch.setattr(insights, "ROWS_LISTED", 1)
    p = readiness_portfolio
    both = sorted([p["others"].pk, p["bare"].pk])

    def owner_uses(params):
        body = as_executive.get(URL, {"as_of": "2026-12-01", **params}).json()
        ops = next(domain for domain in body["domains"] if domain["slug"] == "ops")
        return _checks(ops)["owner_uses"], _checks(body["totals"])["owner_uses"]

    ops, totals = owner_uses({})
    assert (ops["failing"], ops["failing_count"]) == (both[:1], 2)
    assert (len(totals["failing"]), totals["failing_count"]) == (1, 2)
    ops, totals = owner_uses({"failing": "all"})
    assert (ops["failing"], ops["failing_count"]) == (both, 2)
    assert totals["failing"] == both


@pytest.mark.parametrize(
    ("params", "field"),
    [({"as_of": "2026-02-30"}, "as_of"), ({"domain": "x"}, "domain"), ({"failing": "some"}, "failing")],
)
def test_bad_parameters(as_executive, params, field):
    response = as_executive.get(URL, params)
    assert response.status_code == 400
    assert field in response.json()


def test_who_may_read(api_client, as_owner, as_executive, as_admin):
    assert api_client.get(URL).status_code == 401
    assert as_owner.get(URL, {"as_of": "bad"}).status_code == 403
    assert as_executive.get(URL).status_code == 200
    assert as_admin.get(URL).status_code == 200


@pytest.mark.parametrize("size", [1, 15])
def test_a_fixed_number_of_queries(as_executive, readiness_portfolio, size, django_assert_max_num_queries):
    for _ in range(size):
        ready_product(factories.DomainFactory())
    # Authentication, then computed: stored date, domains, policies, products, KPIs, attributions, names.
    with django_assert_max_num_queries(10):
        response = as_executive.get(URL, {"as_of": "2026-12-01"})
    assert response.json()["totals"]["products"] == 5 + size
    with django_assert_max_num_queries(9):  # with the session's tuning (no JIT), as an evaluation
        rows = readiness_record(as_of=AS_OF)
    assert len(rows) == 3 + size
    with django_assert_max_num_queries(7):
        response = as_executive.get(URL, {"as_of": "2026-12-01"})
    assert response.json()["totals"]["products"] == 5 + size


def test_the_evaluation_pass_stores_readiness(readiness_portfolio):
    from apps.valuation.models import EvaluationRun
    from apps.valuation.services import portfolio_evaluate

    portfolio_evaluate(as_of=AS_OF, chunk_size=2)
    assert DomainReadiness.objects.filter(as_of=AS_OF).count() == 3
    run = EvaluationRun.objects.create(as_of=date(2026, 12, 2))
    portfolio_evaluate(as_of=run.as_of, run=run, chunk_size=2)
    run.refresh_from_db()
    assert run.status == "succeeded"
    stored = DomainReadiness.objects.get(domain=readiness_portfolio["ops"], as_of=run.as_of)
    assert stored.products == 2
