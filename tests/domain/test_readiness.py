"""Value-tracking readiness: the six checks and the shares per domain, no database."""

from datetime import date
from decimal import Decimal as D

import pytest

from meshvalue.periods import Cadence
from meshvalue.readiness import (
    CHECK_DEFINITIONS,
    CHECK_LABELS,
    CHECK_REMEDIES,
    CHECKS,
    AttributedKpiFacts,
    Check,
    ReadinessFacts,
    domain_readiness,
    last_full_month,
    outcome_fresh,
    product_readiness,
    total_readiness,
)

AS_OF = date(2026, 12, 1)


def facts(product_id=1, domain_id=1, **overrides):
    values = {
        "has_goal": True,
        "has_defined_kpi": True,
        "kpis": (AttributedKpiFacts(Cadence.MONTHLY, date(2026, 11, 1)),),
        "has_cost_last_month": True,
        "has_usage": True,
        "owner_used": True,
    }
    values.update(overrides)
    return ReadinessFacts(product_id=product_id, domain_id=domain_id, **values)


def test_every_check_has_a_label_a_definition_and_a_remedy():
    assert set(CHECK_LABELS) == set(CHECK_DEFINITIONS) == set(CHECK_REMEDIES) == set(CHECKS)
    assert len(CHECKS) == 6


@pytest.mark.parametrize(
    ("as_of", "month"),
    [
        (date(2026, 12, 1), date(2026, 11, 1)),
        (date(2026, 12, 31), date(2026, 11, 1)),
        (date(2026, 1, 15), date(2025, 12, 1)),
    ],
)
def test_last_full_month(as_of, month):
    assert last_full_month(as_of) == month


@pytest.mark.parametrize(
    ("cadence", "latest", "fresh"),
    [
        (Cadence.MONTHLY, None, False),
        (Cadence.MONTHLY, date(2026, 9, 30), True),  # 1 Dec - 62 days = 30 Sep
        (Cadence.MONTHLY, date(2026, 9, 29), False),
        (Cadence.WEEKLY, date(2026, 11, 17), True),  # 1 Dec - 14 days
        (Cadence.WEEKLY, date(2026, 11, 16), False),
        (Cadence.QUARTERLY, date(2026, 7, 1), True),  # 1 Dec - 184 days = 31 May
        (Cadence.QUARTERLY, date(2026, 4, 1), False),
    ],
)
def test_outcome_fresh(cadence, latest, fresh):
    assert outcome_fresh(cadence=cadence, latest_period_start=latest, as_of=AS_OF, stale_periods=2) is fresh


@pytest.mark.parametrize(
    ("overrides", "failing"),
    [
        ({}, set()),
        ({"has_goal": False}, {Check.HAS_GOAL}),
        ({"has_defined_kpi": False}, {Check.KPI_DEFINED}),
        ({"kpis": ()}, {Check.OUTCOMES_CURRENT}),  # nothing attributed: nothing measured
        (
            {
                "kpis": (
                    AttributedKpiFacts(Cadence.MONTHLY, date(2026, 11, 1)),
                    AttributedKpiFacts(Cadence.WEEKLY, None),
                )
            },
            {Check.OUTCOMES_CURRENT},  # every KPI must be current, not just one
        ),
        ({"has_cost_last_month": False}, {Check.COST_LAST_MONTH}),
        ({"has_usage": False, "owner_used": False}, {Check.USAGE_RECORDED, Check.OWNER_USES}),
    ],
)
def test_product_checks(overrides, failing):
    readiness = product_readiness(facts(**overrides), AS_OF)
    assert {check for check, ok in readiness.checks.items() if not ok} == failing
    assert readiness.passed == 6 - len(failing)
    assert readiness.ready is (not failing)


def test_stale_periods_come_from_the_policy():
    product = facts(kpis=(AttributedKpiFacts(Cadence.MONTHLY, date(2026, 8, 1)),), stale_periods=4)
    assert product_readiness(product, AS_OF).checks[Check.OUTCOMES_CURRENT] is True


def test_domain_shares_and_failing_products():
    products = [
        product_readiness(facts(1, 10), AS_OF),
        product_readiness(facts(2, 10, has_goal=False), AS_OF),
        product_readiness(facts(3, 10, has_goal=False, has_usage=False), AS_OF),
        product_readiness(facts(4, 20, has_cost_last_month=False), AS_OF),
    ]
    domains = domain_readiness(products, domain_ids=[10, 20, 30])
    sales = domains[10]
    assert sales.products == 3
    assert sales.passing[Check.HAS_GOAL] == 1
    assert sales.share(Check.HAS_GOAL) == D("0.3333")
    assert sales.failing[Check.HAS_GOAL] == (2, 3)
    assert sales.failing[Check.USAGE_RECORDED] == (3,)
    assert sales.share(Check.KPI_DEFINED) == D("1.0000")
    assert sales.ready == 1
    assert domains[20].share(Check.COST_LAST_MONTH) == D("0.0000")
    # A domain with no active product has no share (not 0%).
    assert domains[30].products == 0
    assert domains[30].share(Check.HAS_GOAL) is None
    total = total_readiness(domains.values())
    assert total.products == 4
    assert total.share(Check.HAS_GOAL) == D("0.5000")
    assert total.failing[Check.HAS_GOAL] == (2, 3)
    assert total.ready_share == D("0.2500")
