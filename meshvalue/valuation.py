"""The valuation rules of DESIGN.md as pure functions on frozen dataclasses and Decimal.

The database side (apps.valuation) only gathers sums: for each KPI, the count and the sum
of the values of its current measurements in a window. Because the value of one
measurement is linear in its value, the value of all of them is

    value_per_unit * (sum - count * baseline)      for a KPI where an increase is better
    value_per_unit * (count * baseline - sum)      for a KPI where a decrease is better

so nothing per measurement has to leave the database. Everything here is exact Decimal
arithmetic; figures are rounded (half up) only when a `Valuation` is built.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from functools import lru_cache

from meshvalue.periods import CADENCE_DAYS, Cadence, cadence_days

ZERO = Decimal(0)
CENTS = Decimal("0.01")
RATIO_PLACES = Decimal("0.0001")
# DESIGN.md: "the product was used in the last 90 days, but not by its owner".
USAGE_DAYS = 90


class Direction(StrEnum):
    INCREASE = "increase"
    DECREASE = "decrease"


class Recommendation(StrEnum):
    INCUBATING = "incubating"
    REVIEW = "review"
    HOLD = "hold"
    RETIRE = "retire"
    INVEST = "invest"


class SignalKind(StrEnum):
    STALE_KPI = "stale_kpi"
    ORPHANED = "orphaned"
    BET_DUE = "bet_due"


@dataclass(frozen=True)
class Policy:
    """The thresholds of the rules (an EvaluationPolicy's values)."""

    window_days: int = 365
    recent_days: int = 90
    grace_days: int = 90
    retire_below: Decimal = Decimal("1.0")
    invest_above: Decimal = Decimal("3.0")
    stale_periods: int = 2


@dataclass(frozen=True)
class Window:
    """The half-open window of `days` days that ends at `as_of`: `as_of - days <= period_start < as_of`."""

    as_of: date
    days: int

    @property
    def start(self) -> date:
        return self.as_of - timedelta(days=self.days)

    def __contains__(self, period_start: object) -> bool:
        return isinstance(period_start, date) and self.start <= period_start < self.as_of


@dataclass(frozen=True)
class KpiTerms:
    """What one KPI needs for valuation: how to read a measurement and what a unit is worth."""

    kpi_id: int
    name: str
    direction: Direction
    baseline: Decimal
    value_per_unit: Decimal
    cadence: Cadence = Cadence.MONTHLY


@dataclass(frozen=True)
class MeasurementTotals:
    """The count and the sum of the values of a KPI's current measurements in a window."""

    count: int = 0
    value_sum: Decimal = ZERO


@dataclass(frozen=True)
class AttributedKpi:
    """A KPI credited to a product with `weight`, with its totals over both windows."""

    kpi: KpiTerms
    weight: Decimal
    window: MeasurementTotals = MeasurementTotals()
    recent: MeasurementTotals = MeasurementTotals()
    # The latest period with a current measurement before the evaluation date (None: none found).
    latest_period_start: date | None = None


@dataclass(frozen=True)
class KpiEvidence:
    """One KPI's current measurements as of a date, summed once and shared by every product it serves.

    `counts` and `values` are keyed by window length in days: how many current measurements fall
    in the window and what they are worth together (`totals_value`, before any weight).
    """

    kpi_id: int
    name: str
    cadence: Cadence
    latest_period_start: date | None
    counts: Mapping[int, int]
    values: Mapping[int, Decimal]


@dataclass(frozen=True)
class DueBet:
    """An open bet whose review date has come."""

    bet_id: int
    review_on: date
    expected_value: Decimal
    realised_value: Decimal | None = None


@dataclass(frozen=True)
class UsageFacts:
    """Uses of a product in the last USAGE_DAYS days."""

    total_uses: int = 0
    owner_uses: int = 0
    consumers: int = 0


@dataclass(frozen=True)
class ProductFacts:
    """Everything the rules need to know about one product as of a date."""

    product_id: int
    launched_on: date | None
    owner: str
    attributions: tuple[AttributedKpi, ...] = ()
    cost: Decimal = ZERO
    recent_cost: Decimal = ZERO
    usage: UsageFacts = UsageFacts()
    due_bets: tuple[DueBet, ...] = ()


@dataclass(frozen=True)
class Signal:
    """A condition besides the recommendation that opens an alert of `kind`."""

    kind: SignalKind
    message: str


@dataclass(frozen=True)
class Valuation:
    """One product's figures, recommendation and signals as of a date."""

    product_id: int
    as_of: date
    value: Decimal
    cost: Decimal
    ratio: Decimal | None
    net: Decimal
    recent_value: Decimal
    recent_cost: Decimal
    recent_ratio: Decimal | None
    recommendation: Recommendation
    reasons: tuple[str, ...]
    signals: tuple[Signal, ...] = field(default=())

    @property
    def alert_kinds(self) -> frozenset[str]:
        """The kinds of alert this valuation asks for (recommendations retire/invest/review and each signal)."""
        if not self.signals:
            return _ALERT_KINDS_OF[self.recommendation]
        kinds = {signal.kind.value for signal in self.signals}
        if self.recommendation in ALERTING_RECOMMENDATIONS:
            kinds.add(self.recommendation.value)
        return frozenset(kinds)


ALERTING_RECOMMENDATIONS = frozenset({Recommendation.RETIRE, Recommendation.INVEST, Recommendation.REVIEW})
_ALERT_KINDS_OF = {
    recommendation: frozenset({recommendation.value}) if recommendation in ALERTING_RECOMMENDATIONS else frozenset()
    for recommendation in Recommendation
}
NO_USAGE = UsageFacts()


# --- arithmetic -------------------------------------------------------------------------------


def improvement(kpi: KpiTerms, value: Decimal) -> Decimal:
    """How much better than the baseline a measured value is (negative when things got worse)."""
    if kpi.direction is Direction.DECREASE:
        return kpi.baseline - value
    return value - kpi.baseline


def measurement_value(kpi: KpiTerms, value: Decimal) -> Decimal:
    """The money a measured value is worth: improvement times value per unit."""
    return improvement(kpi, value) * kpi.value_per_unit


def summed_value(
    direction: Direction, baseline: Decimal, value_per_unit: Decimal, count: int, value_sum: Decimal
) -> Decimal:
    """The summed value of `count` measurements of one KPI whose values sum to `value_sum`."""
    if count == 0:
        return ZERO
    improvement_sum = value_sum - count * baseline
    if direction is Direction.DECREASE:
        improvement_sum = -improvement_sum
    return improvement_sum * value_per_unit


def totals_value(kpi: KpiTerms, totals: MeasurementTotals) -> Decimal:
    """The summed value of `totals.count` measurements whose values sum to `totals.value_sum`."""
    return summed_value(kpi.direction, kpi.baseline, kpi.value_per_unit, totals.count, totals.value_sum)


def measurement_totals(measurements: Iterable[tuple[date, Decimal]], window: Window) -> MeasurementTotals:
    """The totals of the (period_start, value) pairs of current measurements that fall in `window`."""
    count, value_sum = 0, ZERO
    for period_start, value in measurements:
        if period_start in window:
            count += 1
            value_sum += value
    return MeasurementTotals(count=count, value_sum=value_sum)


def cost_total(cost_entries: Iterable[tuple[date, Decimal]], window: Window) -> Decimal:
    """The sum of the (period_start, amount) cost entries that fall in `window`."""
    return sum((amount for period_start, amount in cost_entries if period_start in window), ZERO)


def product_value(attributions: Iterable[tuple[KpiTerms, Decimal, MeasurementTotals]]) -> Decimal:
    """A product's value: the sum over its (KPI, weight, totals) of weight times the KPI's value."""
    return sum((weight * totals_value(kpi, totals) for kpi, weight, totals in attributions), ZERO)


def ratio(value: Decimal, cost: Decimal) -> Decimal | None:
    """value / cost, or None when nothing was spent."""
    if cost == 0:
        return None
    return value / cost


def money(amount: Decimal) -> Decimal:
    return amount.quantize(CENTS, rounding=ROUND_HALF_UP)


def _stored_ratio(amount: Decimal | None) -> Decimal | None:
    return None if amount is None else amount.quantize(RATIO_PLACES, rounding=ROUND_HALF_UP)


def _fmt(amount: Decimal) -> str:
    return f"{amount.quantize(CENTS, rounding=ROUND_HALF_UP):.2f}"


@lru_cache(maxsize=64)
def _fmt_threshold(amount: Decimal) -> str:
    """A policy threshold as text: a pass has a few thresholds and 10,000s of reasons that quote them."""
    return _fmt(amount)


# --- rules ---------------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _stale_horizons(as_of: date, stale_periods: int) -> dict[Cadence, date]:
    """The oldest period start that still counts as fresh, per cadence (the same for a whole pass)."""
    return {cadence: as_of - timedelta(days=stale_periods * days) for cadence, days in CADENCE_DAYS.items()}


def stale_kpis(kpis: Iterable[KpiEvidence], as_of: date, stale_periods: int) -> list[KpiEvidence]:
    """The KPIs with no current measurement since `stale_periods` periods of their cadence."""
    horizons = _stale_horizons(as_of, stale_periods)
    return [kpi for kpi in kpis if kpi.latest_period_start is None or kpi.latest_period_start < horizons[kpi.cadence]]


def _signals(
    *, stale: Sequence[KpiEvidence], usage: UsageFacts, owner: str, due_bets: Sequence[DueBet], policy: Policy
) -> tuple[Signal, ...]:
    """The stale_kpi, orphaned and bet_due signals of a product, in that order."""
    signals: list[Signal] = []
    if stale:
        parts = []
        for kpi in stale:
            horizon_days = policy.stale_periods * cadence_days(kpi.cadence)
            last = kpi.latest_period_start
            since = f"last measured for the period of {last.isoformat()}" if last else "no current measurement"
            parts.append(f"{kpi.name} ({kpi.cadence.value}): {since}, none in the last {horizon_days} days")
        signals.append(Signal(SignalKind.STALE_KPI, "Stale KPI evidence: " + "; ".join(parts) + "."))
    if usage.total_uses > 0 and usage.owner_uses == 0:
        signals.append(
            Signal(
                SignalKind.ORPHANED,
                f"Used {usage.total_uses} times by {usage.consumers} consumer(s) in the last {USAGE_DAYS} days, "
                f"but not by its owner {owner}: it may need a new owner.",
            )
        )
    if due_bets:
        parts = []
        for bet in sorted(due_bets, key=lambda bet: (bet.review_on, bet.bet_id)):
            part = f"bet #{bet.bet_id} was due for review on {bet.review_on.isoformat()}"
            if bet.realised_value is not None:
                outcome = settle_bet(realised_value=bet.realised_value, expected_value=bet.expected_value)
                part += (
                    f" (realised value {_fmt(bet.realised_value)} against {_fmt(bet.expected_value)} expected:"
                    f" proposed outcome {outcome})"
                )
            parts.append(part)
        signals.append(
            Signal(SignalKind.BET_DUE, "Open bet due: " + "; ".join(parts) + ". Deciding this alert confirms it.")
        )
    return tuple(signals)


def _recommend(
    *,
    policy: Policy,
    as_of: date,
    launched_on: date | None,
    kpi_count: int,
    kpi_names: Sequence[str],
    evidence: bool,
    value: Decimal,
    cost: Decimal,
    window_ratio: Decimal | None,
    recent_value: Decimal,
    recent_cost: Decimal,
    recent_ratio: Decimal | None,
) -> tuple[Recommendation, tuple[str, ...]]:
    window, recent = policy.window_days, policy.recent_days
    # 1. incubating
    if launched_on is None:
        return Recommendation.INCUBATING, ("not launched yet: no launch date",)
    age = (as_of - launched_on).days
    if age < 0:
        return Recommendation.INCUBATING, (f"not launched yet: launches on {launched_on.isoformat()}",)
    if age < policy.grace_days:
        return Recommendation.INCUBATING, (
            f"launched on {launched_on.isoformat()}, {age} days ago, within the {policy.grace_days}-day grace period",
        )
    # 2. review
    if not kpi_count:
        return Recommendation.REVIEW, ("no KPI is attributed to this product: its value cannot be measured",)
    if not evidence:
        names = ", ".join(sorted(kpi_names))
        return Recommendation.REVIEW, (
            f"no current measurement of its KPIs ({names}) in the last {window} days: no evidence of value",
        )
    # 3. hold when nothing was spent
    if window_ratio is None:
        return Recommendation.HOLD, (f"no cost recorded over {window} days: value/cost is undefined",)
    recent_text = (
        f"{_fmt(recent_ratio)} over the last {recent} days"
        if recent_ratio is not None
        else f"no cost over the last {recent} days"
    )
    # 4. retire: compare exactly (value < threshold * cost) so a ratio at the threshold never retires.
    retire_below, invest_above = policy.retire_below, policy.invest_above
    retire_text, invest_text = _fmt_threshold(retire_below), _fmt_threshold(invest_above)
    if value < retire_below * cost and recent_ratio is not None and recent_value < retire_below * recent_cost:
        return Recommendation.RETIRE, (
            f"value/cost {_fmt(window_ratio)} below {retire_text} over {window} days and {recent_text}",
        )
    # 5. invest
    if value >= invest_above * cost and recent_ratio is not None and recent_value >= invest_above * recent_cost:
        return Recommendation.INVEST, (
            f"value/cost {_fmt(window_ratio)} at or above {invest_text} over {window} days and {recent_text}",
        )
    # 6. hold
    return Recommendation.HOLD, (
        f"value/cost {_fmt(window_ratio)} over {window} days and {recent_text}: neither below {retire_text}"
        f" on both (retire) nor at or above {invest_text} on both (invest)",
    )


def attributed_sums(
    attributions: Iterable[tuple[Decimal, KpiEvidence]], policy: Policy, as_of: date
) -> tuple[Decimal, Decimal, bool, list[KpiEvidence]]:
    """A product's value over the policy window and the recent window, whether any of its KPIs has a
    current measurement in the window (evidence), and its stale KPIs.

    `attributions` are the product's (weight, KPI) pairs; each `KpiEvidence` has `counts` and
    `values` for at least the policy's two window lengths. Each attribution is read once.
    """
    window, recent = policy.window_days, policy.recent_days
    horizons = _stale_horizons(as_of, policy.stale_periods)
    value = recent_value = ZERO
    evidence = False
    stale: list[KpiEvidence] = []
    for weight, kpi in attributions:
        values = kpi.values
        value += weight * values[window]
        recent_value += weight * values[recent]
        if kpi.counts[window]:
            evidence = True
        latest = kpi.latest_period_start
        if latest is None or latest < horizons[kpi.cadence]:
            stale.append(kpi)
    return value, recent_value, evidence, stale


def evaluate_summed(
    *,
    product_id: int,
    as_of: date,
    policy: Policy,
    launched_on: date | None,
    owner: str,
    kpi_count: int,
    kpi_names: Sequence[str],
    evidence: bool,
    stale: Sequence[KpiEvidence],
    value: Decimal,
    recent_value: Decimal,
    cost: Decimal = ZERO,
    recent_cost: Decimal = ZERO,
    usage: UsageFacts = NO_USAGE,
    due_bets: Sequence[DueBet] = (),
) -> Valuation:
    """Apply the valuation rules of DESIGN.md to one product whose figures are already summed.

    `value` and `recent_value` are the sums over the product's attributed KPIs of weight times the
    KPI's value in each window (`attributed_sums`, or the same sum done by the database);
    `kpi_count` is how many KPIs are attributed to it; `evidence` says whether one of them has a
    current measurement in the policy window; `kpi_names` (their names) is read only when none
    has; `stale` are the attributed KPIs that are stale under `policy` (`stale_kpis`).
    This runs once per product of the portfolio and builds one object.
    """
    window_ratio = value / cost if cost else None
    recent_ratio = recent_value / recent_cost if recent_cost else None
    recommendation, reasons = _recommend(
        policy=policy,
        as_of=as_of,
        launched_on=launched_on,
        kpi_count=kpi_count,
        kpi_names=kpi_names,
        evidence=evidence,
        value=value,
        cost=cost,
        window_ratio=window_ratio,
        recent_value=recent_value,
        recent_cost=recent_cost,
        recent_ratio=recent_ratio,
    )
    signals = (
        _signals(stale=stale, usage=usage, owner=owner, due_bets=due_bets, policy=policy)
        if stale or due_bets or (usage.total_uses > 0 and usage.owner_uses == 0)
        else ()
    )
    return Valuation(
        product_id,
        as_of,
        value.quantize(CENTS, ROUND_HALF_UP),
        cost.quantize(CENTS, ROUND_HALF_UP),
        None if window_ratio is None else window_ratio.quantize(RATIO_PLACES, ROUND_HALF_UP),
        (value - cost).quantize(CENTS, ROUND_HALF_UP),
        recent_value.quantize(CENTS, ROUND_HALF_UP),
        recent_cost.quantize(CENTS, ROUND_HALF_UP),
        None if recent_ratio is None else recent_ratio.quantize(RATIO_PLACES, ROUND_HALF_UP),
        recommendation,
        reasons,
        signals,
    )


def evaluate_attributed(
    *,
    product_id: int,
    as_of: date,
    policy: Policy,
    launched_on: date | None,
    owner: str,
    attributions: Sequence[tuple[Decimal, KpiEvidence]],
    cost: Decimal = ZERO,
    recent_cost: Decimal = ZERO,
    usage: UsageFacts = NO_USAGE,
    due_bets: Sequence[DueBet] = (),
) -> Valuation:
    """Apply the valuation rules of DESIGN.md to one product from its (weight, KPI) pairs."""
    value, recent_value, evidence, stale = attributed_sums(attributions, policy, as_of)
    return evaluate_summed(
        product_id=product_id,
        as_of=as_of,
        policy=policy,
        launched_on=launched_on,
        owner=owner,
        kpi_count=len(attributions),
        kpi_names=[kpi.name for _, kpi in attributions] if not evidence else (),
        evidence=evidence,
        stale=stale,
        value=value,
        recent_value=recent_value,
        cost=cost,
        recent_cost=recent_cost,
        usage=usage,
        due_bets=due_bets,
    )


def kpi_evidence(attributed: AttributedKpi, policy: Policy) -> KpiEvidence:
    """The `KpiEvidence` of one attributed KPI whose totals were gathered for `policy`'s two windows."""
    kpi = attributed.kpi
    # Recent first: were both lengths equal, the policy window's totals stand for both.
    lengths = ((policy.recent_days, attributed.recent), (policy.window_days, attributed.window))
    return KpiEvidence(
        kpi_id=kpi.kpi_id,
        name=kpi.name,
        cadence=kpi.cadence,
        latest_period_start=attributed.latest_period_start,
        counts={days: totals.count for days, totals in lengths},
        values={days: totals_value(kpi, totals) for days, totals in lengths},
    )


def evaluate_product(facts: ProductFacts, policy: Policy, as_of: date) -> Valuation:
    """Apply the valuation rules of DESIGN.md to one product as of `as_of` (see `evaluate_attributed`)."""
    return evaluate_attributed(
        product_id=facts.product_id,
        as_of=as_of,
        policy=policy,
        launched_on=facts.launched_on,
        owner=facts.owner,
        attributions=tuple((attributed.weight, kpi_evidence(attributed, policy)) for attributed in facts.attributions),
        cost=facts.cost,
        recent_cost=facts.recent_cost,
        usage=facts.usage,
        due_bets=facts.due_bets,
    )


def settle_bet(*, realised_value: Decimal, expected_value: Decimal) -> str:
    """The outcome of a bet: `won` when the realised value reaches the expected value, else `lost`."""
    return "won" if realised_value >= expected_value else "lost"
