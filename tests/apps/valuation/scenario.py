"""A hand-computed portfolio, evaluated as of 2026-07-01 (windows: 365 days from 2025-07-01, 90 from 2026-04-02).

| product | what it has | value | cost | ratio | recent value | recent cost | recent ratio | recommendation | signals |
|---|---|---|---|---|---|---|---|---|---|
| alpha | 0.6 of revenue | 480 | 1800 | 0.2667 | 300 | 800 | 0.375 | retire | |
| beta | 0.4 of revenue + churn, used by carol only | 620 | 100 | 6.2 | 500 | 100 | 5 | invest | orphaned |
| gamma | launched 2026-05-01 | 0 | 0 | - | 0 | 0 | - | incubating | |
| delta | no KPI, a bet due on 2026-06-30 | 0 | 50 | 0 | 0 | 0 | - | review | bet_due |
| epsilon | quarterly KPI last measured 2025-10-01 | 1000 | 100 | 10 | 0 | 0 | - | hold | stale_kpi |
| zeta | KPI measured only in 2024 | 0 | 0 | - | 0 | 0 | - | review | stale_kpi |
| eta | deprecated, had an open retire alert | not evaluated; its alert resolves |
| theta (v2=True) | 0.5 of basket from 2026-02-15, baseline 18 | 20 | 20 | 1 | 10 | 20 | 0.5 | hold | debt_due |

Revenue (monthly, increase, baseline 100, 10 per unit): current values in the window 130 (2026-01, a
correction of 120), 110 (2026-05), 140 (2026-06) -> improvement 80 -> 800; recent 110 + 140 -> 500.
2025-06 (200) is before the window and 2026-07 (500) is on the evaluation date: both outside.
Churn (weekly, decrease, baseline 50, 20 per unit): 45 (2026-06-15) and 40 (2026-06-22) -> 15 -> 300.
Basket (monthly, increase, baseline 10, 5 per unit): 20 every month since 2024-07. Theta is credited
from 2026-03-01 (its attribution starts 2026-02-15) above 18: March to June, 2 units each, 8 units
-> 40, weight 0.5 -> 20; recent May and June -> 10. Its costs: 30 in May, a credit of -10 in June.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from apps.catalog.models import DataProduct, Lifecycle
from apps.governance.models import AlertKind
from apps.kpis.models import KPI
from tests import factories

AS_OF = date(2026, 7, 1)
D = Decimal


@dataclass
class Scenario:
    alpha: DataProduct
    beta: DataProduct
    gamma: DataProduct
    delta: DataProduct
    epsilon: DataProduct
    zeta: DataProduct
    eta: DataProduct
    theta: DataProduct | None
    revenue: KPI
    churn: KPI


def monthly_costs(product: DataProduct, amounts: dict[date, str]) -> None:
    for period_start, amount in amounts.items():
        factories.CostEntryFactory(data_product=product, period_start=period_start, amount=D(amount))


def build_scenario(*, v2: bool = False) -> Scenario:
    domain = factories.DomainFactory(name="Retail", slug="retail")
    goal = factories.BusinessGoalFactory(domain=domain)
    users = {name: factories.UserFactory(username=name) for name in ("alice", "bob", "carol", "erin")}

    def product(slug: str, owner: str = "alice", **kwargs) -> DataProduct:
        return factories.DataProductFactory(name=slug.title(), slug=slug, domain=domain, owner=users[owner], **kwargs)

    alpha, beta = product("alpha"), product("beta", owner="bob")
    gamma = product("gamma", launched_on=date(2026, 5, 1))
    delta, epsilon, zeta = product("delta"), product("epsilon", owner="erin"), product("zeta")
    eta = product("eta", lifecycle=Lifecycle.DEPRECATED, sunset_on=date(2026, 12, 31))
    theta = product("theta", launched_on=date(2025, 1, 1)) if v2 else None

    revenue = factories.KPIFactory(goal=goal, name="Revenue", cadence="monthly", baseline=D("100"))
    churn = factories.KPIFactory(
        goal=goal, name="Churn", cadence="weekly", direction="decrease", baseline=D("50"), value_per_unit=D("20")
    )
    quarterly = factories.KPIFactory(
        goal=goal, name="Orders", cadence="quarterly", baseline=D("0"), value_per_unit=D("1")
    )
    old = factories.KPIFactory(goal=goal, name="Old", cadence="monthly")
    for kpi, target, weight in [
        (revenue, alpha, "0.6"),
        (revenue, beta, "0.4"),
        (churn, beta, "1"),
        (quarterly, epsilon, "1"),
        (old, zeta, "1"),
        (revenue, gamma, "0"),
    ]:
        if D(weight) > 0:
            factories.AttributionFactory(kpi=kpi, data_product=target, weight=D(weight))

    for period_start, value in [
        (date(2025, 6, 1), "200"),
        (date(2026, 5, 1), "110"),
        (date(2026, 6, 1), "140"),
        (date(2026, 7, 1), "500"),
    ]:
        factories.MeasurementFactory(kpi=revenue, period_start=period_start, value=D(value))
    factories.MeasurementFactory(kpi=revenue, period_start=date(2026, 1, 1), value=D("120"), is_current=False)
    factories.MeasurementFactory(kpi=revenue, period_start=date(2026, 1, 1), value=D("130"), revision=2)
    factories.MeasurementFactory(kpi=churn, period_start=date(2026, 6, 15), value=D("45"))
    factories.MeasurementFactory(kpi=churn, period_start=date(2026, 6, 22), value=D("40"))
    factories.MeasurementFactory(kpi=quarterly, period_start=date(2025, 10, 1), value=D("1000"))
    factories.MeasurementFactory(kpi=old, period_start=date(2024, 3, 1), value=D("500"))

    alpha_costs = {date(2025, 6, 1): "1000", date(2026, 7, 1): "999"}
    for month in [*range(7, 13)]:
        alpha_costs[date(2025, month, 1)] = "100"
    for month in range(1, 5):
        alpha_costs[date(2026, month, 1)] = "100"
    alpha_costs[date(2026, 5, 1)] = "400"
    alpha_costs[date(2026, 6, 1)] = "400"
    monthly_costs(alpha, alpha_costs)
    monthly_costs(beta, {date(2026, 6, 1): "100"})
    monthly_costs(delta, {date(2026, 3, 1): "50"})
    monthly_costs(epsilon, {date(2026, 1, 1): "100"})

    factories.UsageRecordFactory(data_product=beta, consumer="carol", day=date(2026, 6, 10), count=4)
    factories.UsageRecordFactory(data_product=beta, consumer="bob", day=date(2026, 3, 1), count=9)  # > 90 days ago
    factories.UsageRecordFactory(data_product=epsilon, consumer="carol", day=date(2026, 6, 10), count=4)
    factories.UsageRecordFactory(data_product=epsilon, consumer="erin", day=date(2026, 6, 30), count=1)

    if theta is not None:
        basket = factories.KPIFactory(
            goal=goal, name="Basket", cadence="monthly", baseline=D("10"), value_per_unit=D("5")
        )
        factories.AttributionFactory(
            kpi=basket, data_product=theta, weight=D("0.5"), starts_on=date(2026, 2, 15), baseline=D("18")
        )
        for month_index in range(24):
            period_start = date(2024 + (6 + month_index) // 12, (6 + month_index) % 12 + 1, 1)
            factories.MeasurementFactory(kpi=basket, period_start=period_start, value=D("20"))
        factories.CostEntryFactory(data_product=theta, period_start=date(2026, 5, 1), amount=D("30"))
        factories.CostEntryFactory(
            data_product=theta, period_start=date(2026, 6, 1), amount=D("-10"), category="credit"
        )
        factories.ConsciousDebtFactory(data_product=theta, title="Manual basket export", revisit_on=date(2026, 6, 1))

    factories.ValueBetFactory(data_product=delta, goal=goal, opens_on=date(2025, 7, 1), review_on=date(2026, 6, 30))
    factories.ValueBetFactory(data_product=alpha, goal=goal, opens_on=date(2025, 7, 1), review_on=date(2026, 7, 2))
    factories.AlertFactory(data_product=eta, kind=AlertKind.RETIRE, opened_on=date(2026, 6, 1))
    return Scenario(alpha, beta, gamma, delta, epsilon, zeta, eta, theta, revenue, churn)
