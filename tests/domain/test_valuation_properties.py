"""Properties of the valuation core, checked with hypothesis."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from meshvalue.periods import Cadence
from meshvalue.valuation import (
    AttributionTerms,
    Direction,
    KpiTerms,
    Policy,
    ProductInput,
    Window,
    attribution_value,
    evaluate,
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


def _cost_in(dated_costs: list[tuple[date, Decimal]], window: Window) -> Decimal:
    """What the gather paths sum for a window: the entries whose period starts in it, credits included."""
    return sum((amount for period_start, amount in dated_costs if period_start in window), Decimal(0))


def product(attribution: AttributionTerms, dated: list[tuple[date, Decimal]], dated_costs: list) -> ProductInput:
    """The core's input for a product with one attribution, summed by the core's Python path."""
    window, recent = Window(AS_OF, POLICY.window_days), Window(AS_OF, POLICY.recent_days)
    count, value = attribution_value(attribution, dated, window)
    _, recent_value = attribution_value(attribution, dated, recent)
    return ProductInput(
        product_id=1,
        policy=POLICY,
        launched_on=date(2020, 1, 1),
        owner="o",
        kpi_count=1,
        value=attribution.weight * value,
        recent_value=attribution.weight * recent_value,
        measured_kpis=1 if count else 0,
        kpi_names=("k",),
        cost=_cost_in(dated_costs, window),
        recent_cost=_cost_in(dated_costs, recent),
    )


@given(kpi=kpis, values=st.lists(amounts, max_size=8), weight=weights, factor=st.integers(min_value=0, max_value=50))
def test_value_is_linear_in_the_baseline_shift(kpi, values, weight, factor):
    # Moving the attribution's baseline by `factor` units changes the value by factor * count * vpu.
    dated = [(at(1 + index), v) for index, v in enumerate(values)]
    window = Window(AS_OF, 365)
    count, base = attribution_value(AttributionTerms(kpi, weight, baseline=kpi.baseline), dated, window)
    _, shifted = attribution_value(AttributionTerms(kpi, weight, baseline=kpi.baseline - factor), dated, window)
    sign = 1 if kpi.direction is Direction.INCREASE else -1
    assert shifted - base == sign * factor * count * kpi.value_per_unit


@given(kpi=kpis, values=measurements_in, start=st.integers(min_value=0, max_value=400))
def test_a_later_credited_from_never_counts_more_measurements(kpi, values, start):
    dated = [(at(days), v) for days, v in values]
    window = Window(AS_OF, 365)
    whole, _ = attribution_value(AttributionTerms(kpi, Decimal(1)), dated, window)
    late, _ = attribution_value(AttributionTerms(kpi, Decimal(1), credited_from=at(start)), dated, window)
    assert late == sum(1 for day, _ in dated if window.start <= day < AS_OF and day >= at(start))
    assert late <= whole


@given(
    kpi=kpis,
    weight=weights,
    inside=measurements_in,
    outside=st.lists(st.tuples(days_outside, amounts), max_size=8),
    costs_inside=st.lists(st.tuples(days_in_window, prices), max_size=6),
    costs_outside=st.lists(st.tuples(days_outside, prices), max_size=6),
)
def test_entries_outside_the_window_never_change_the_figures(kpi, weight, inside, outside, costs_inside, costs_outside):
    def valuation(measurements, cost_entries):
        dated = [(at(days), value) for days, value in measurements]
        dated_costs = [(at(days), amount) for days, amount in cost_entries]
        return evaluate(product(AttributionTerms(kpi, weight), dated, dated_costs), AS_OF)

    with_outside = valuation(inside + outside, costs_inside + costs_outside)
    without = valuation(inside, costs_inside)
    figures = ("value", "cost", "ratio", "recommendation", "recent_value", "recent_cost", "recent_ratio")
    assert [getattr(with_outside, name) for name in figures] == [getattr(without, name) for name in figures]


@given(kpi=kpis, weight=weights, measurements=measurements_in, cost=amounts)
def test_net_is_value_minus_cost_and_ratio_needs_a_positive_cost(kpi, weight, measurements, cost):
    dated = [(at(days), value) for days, value in measurements]
    valuation = evaluate(product(AttributionTerms(kpi, weight), dated, [(at(2), cost)]), AS_OF)
    assert abs(valuation.net - (valuation.value - valuation.cost)) <= Decimal("0.01")
    if cost <= 0:
        assert valuation.ratio is None
