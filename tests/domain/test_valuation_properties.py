"""Properties of the valuation core, checked with hypothesis."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from meshvalue.periods import Cadence
from meshvalue.valuation import (
    AttributedKpi,
    Direction,
    KpiTerms,
    Policy,
    ProductFacts,
    Window,
    cost_total,
    evaluate_product,
    measurement_totals,
    product_value,
)

AS_OF = date(2026, 6, 30)
POLICY = Policy()

amounts = st.decimals(min_value=-10_000, max_value=10_000, places=4, allow_nan=False, allow_infinity=False)
prices = st.decimals(min_value=0, max_value=1_000, places=4, allow_nan=False, allow_infinity=False)
weights = st.decimals(min_value=Decimal("0.0001"), max_value=1, places=4, allow_nan=False, allow_infinity=False)
kpis = st.builds(
    KpiTerms,
    kpi_id=st.integers(1, 1000),
    name=st.just("k"),
    direction=st.sampled_from(Direction),
    baseline=amounts,
    value_per_unit=prices,
    cadence=st.sampled_from(Cadence),
)
days_in_window = st.integers(min_value=1, max_value=365)
days_outside = st.one_of(st.integers(min_value=-400, max_value=0), st.integers(min_value=366, max_value=2000))
measurements_in = st.lists(st.tuples(days_in_window, amounts), max_size=8)


def at(days_before: int) -> date:
    return AS_OF - timedelta(days=days_before)


@given(kpi=kpis, values=st.lists(amounts, max_size=8), weight=weights, factor=st.integers(min_value=0, max_value=50))
def test_value_is_linear_in_the_weights(kpi, values, weight, factor):
    totals = measurement_totals([(at(1), v) for v in values], Window(AS_OF, 365))
    single = product_value([(kpi, weight, totals)])
    assert product_value([(kpi, weight * factor, totals)]) == single * factor


@given(kpi=kpis, values=st.lists(amounts, max_size=8), first=weights, second=weights)
def test_value_is_additive_in_the_weights(kpi, values, first, second):
    totals = measurement_totals([(at(1), v) for v in values], Window(AS_OF, 365))
    assert product_value([(kpi, first + second, totals)]) == product_value([(kpi, first, totals)]) + product_value(
        [(kpi, second, totals)]
    )


@given(
    kpi=kpis,
    weight=weights,
    inside=measurements_in,
    outside=st.lists(st.tuples(days_outside, amounts), max_size=8),
    costs_inside=st.lists(st.tuples(days_in_window, prices), max_size=6),
    costs_outside=st.lists(st.tuples(days_outside, prices), max_size=6),
)
def test_entries_outside_the_window_never_change_the_figures(kpi, weight, inside, outside, costs_inside, costs_outside):
    def evaluate(measurements, cost_entries):
        dated = [(at(days), value) for days, value in measurements]
        dated_costs = [(at(days), amount) for days, amount in cost_entries]
        window, recent = Window(AS_OF, POLICY.window_days), Window(AS_OF, POLICY.recent_days)
        attributed = AttributedKpi(
            kpi=kpi,
            weight=weight,
            window=measurement_totals(dated, window),
            recent=measurement_totals(dated, recent),
            latest_period_start=max((d for d, _ in dated if d < AS_OF), default=None),
        )
        facts = ProductFacts(
            product_id=1,
            launched_on=date(2020, 1, 1),
            owner="o",
            attributions=(attributed,),
            cost=cost_total(dated_costs, window),
            recent_cost=cost_total(dated_costs, recent),
        )
        return evaluate_product(facts, POLICY, AS_OF)

    with_outside = evaluate(inside + outside, costs_inside + costs_outside)
    without = evaluate(inside, costs_inside)
    assert (with_outside.value, with_outside.cost, with_outside.ratio, with_outside.recommendation) == (
        without.value,
        without.cost,
        without.ratio,
        without.recommendation,
    )
    assert (with_outside.recent_value, with_outside.recent_cost, with_outside.recent_ratio) == (
        without.recent_value,
        without.recent_cost,
        without.recent_ratio,
    )


@given(kpi=kpis, weight=weights, measurements=measurements_in, cost=prices)
def test_net_is_value_minus_cost(kpi, weight, measurements, cost):
    dated = [(at(days), value) for days, value in measurements]
    attributed = AttributedKpi(kpi=kpi, weight=weight, window=measurement_totals(dated, Window(AS_OF, 365)))
    facts = ProductFacts(product_id=1, launched_on=date(2020, 1, 1), owner="o", attributions=(attributed,), cost=cost)
    valuation = evaluate_product(facts, POLICY, AS_OF)
    assert abs(valuation.net - (valuation.value - valuation.cost)) <= Decimal("0.01")
