"""The valuation rules of DESIGN.md as pure functions on frozen dataclasses and Decimal.

One entry point: `evaluate(product, as_of)` takes one `ProductInput` (everything the rules need
about one product, already summed by the database side) and returns one `Valuation`: the
figures, the recommendation with its reasons, and the alerts it asks for.

The database side only gathers sums. For an attribution (KPI k, product P) the value of the
current measurements of k that count for P in a window is linear in their values, so with
`count` of them summing to `value_sum`, and b the attribution's baseline (the KPI's when it has
none),

    value_per_unit * (value_sum - count * b)      for a KPI where an increase is better
    value_per_unit * (count * b - value_sum)      for a KPI where a decrease is better

(`summed_value`), and nothing per measurement has to leave the database. A measurement counts
for P only when its period starts on or after `credited_from(P.launched_on, attribution.starts_on)`.
Everything is exact Decimal arithmetic; figures are rounded (half up) only when a `Valuation` is
built (`money`, `stored_ratio`).

Signals besides the recommendation (stale KPIs, orphaned products, due bets, due debts, failing
sources) are one function each in `SIGNALS`; adding one is a function there plus its input field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from functools import lru_cache
from typing import NamedTuple

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
    DEBT_DUE = "debt_due"
    SOURCE_FAILING = "source_failing"


ALERTING_RECOMMENDATIONS = frozenset({Recommendation.RETIRE, Recommendation.INVEST, Recommendation.REVIEW})
# Every kind of alert an evaluation can open: the alerting recommendations, then the signals.
ALERT_KINDS: tuple[str, ...] = (
    Recommendation.RETIRE.value,
    Recommendation.INVEST.value,
    Recommendation.REVIEW.value,
    *(kind.value for kind in SignalKind),
)


@dataclass(frozen=True)
class Policy:
    """The thresholds of the rules (an EvaluationPolicy's values)."""

    window_days: int = 365
    recent_days: int = 90
    grace_days: int = 90
    retire_below: Decimal = Decimal("1.0")
    invest_above: Decimal = Decimal("3.0")
    stale_periods: int = 2
    decision_quiet_days: int = 90
    decision_sla_days: int = 14


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


# --- what the rules read ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KpiFreshness:
    """An attributed KPI and the latest period with a current measurement before the evaluation date."""

    kpi_id: int
    name: str
    cadence: Cadence
    latest_period_start: date | None


@dataclass(frozen=True, slots=True)
class DueBet:
    """An open bet whose review date has come, with what it realised over its span (None: not measured)."""

    bet_id: int
    review_on: date
    expected_value: Decimal
    realised_value: Decimal | None = None
    expected_cost: Decimal | None = None
    realised_cost: Decimal | None = None


@dataclass(frozen=True, slots=True)
class DueDebt:
    """An unresolved conscious debt whose revisit date has come."""

    debt_id: int
    title: str
    revisit_on: date


@dataclass(frozen=True, slots=True)
class FailingSource:
    """A KPI attributed to the product whose last scheduled pull failed."""

    kpi_name: str
    source_name: str
    error: str  # the first line of the error, never a connection string


@dataclass(frozen=True, slots=True)
class DecisionOnKind:
    """The latest decision on an alert of `kind` for the product."""

    kind: str
    decision_id: int
    action: str
    decided_on: date
    revisit_on: date | None  # None: the policy's default (`revisit_date`)
    rationale: str


@dataclass(frozen=True, slots=True)
class UsageFacts:
    """Uses of a product in the last USAGE_DAYS days."""

    total_uses: int = 0
    owner_uses: int = 0
    consumers: int = 0


NO_USAGE = UsageFacts()


class ProductInput(NamedTuple):
    """Everything the rules need about one product as of a date, summed.

    A named tuple, immutable like a frozen dataclass but built in a third of the time: a pass
    builds one per product (10,000s), and a frozen dataclass sets each field through
    `object.__setattr__`. Change one with `_replace`.

    `value` and `recent_value` are the sums over the product's attributions of weight times the
    value of the measurements that count for it in each window; `measured_kpis` is how many of its
    KPIs have such a measurement in the policy window; `kpi_names` names its KPIs (read when none
    has); `freshness` lists attributed KPIs with their latest period (KPIs left out are fresh).
    `cost` and `recent_cost` sum its current cost entries, credits included.
    """

    product_id: int
    policy: Policy
    launched_on: date | None
    owner: str
    kpi_count: int = 0
    value: Decimal = ZERO
    recent_value: Decimal = ZERO
    measured_kpis: int = 0
    kpi_names: tuple[str, ...] = ()
    freshness: tuple[KpiFreshness, ...] = ()
    cost: Decimal = ZERO
    recent_cost: Decimal = ZERO
    usage: UsageFacts = NO_USAGE
    due_bets: tuple[DueBet, ...] = ()
    due_debts: tuple[DueDebt, ...] = ()
    failing_sources: tuple[FailingSource, ...] = ()
    decisions: tuple[DecisionOnKind, ...] = ()


# --- what the rules say ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Signal:
    """A condition besides the recommendation that opens an alert of `kind`."""

    kind: SignalKind
    message: str


@dataclass(frozen=True)
class Hold:
    """An alert kind the product's condition asks for, held quiet by a decision until `revisit_on`."""

    kind: str
    decision_id: int
    revisit_on: date


class Valuation(NamedTuple):
    """One product's figures, recommendation, signals and the alerts they ask for, as of a date.

    `alerts` maps each alert kind to open (unless one is unresolved already) to its message;
    `held` are kinds whose condition holds but a decision keeps quiet until its revisit date.
    A named tuple for the same reason as `ProductInput`: one per product per pass.
    """

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
    signals: tuple[Signal, ...] = ()
    alerts: dict[str, str] = {}
    held: tuple[Hold, ...] = ()

    @property
    def alert_kinds(self) -> frozenset[str]:
        """The kinds of alert whose condition holds (opened, or held by a decision)."""
        return frozenset(self.alerts) | {hold.kind for hold in self.held}


# --- arithmetic -----------------------------------------------------------------------------------


def money(amount: Decimal) -> Decimal:
    """Round to cents, half up: how every money figure is stored and shown."""
    return amount.quantize(CENTS, rounding=ROUND_HALF_UP)


def ratio(value: Decimal, cost: Decimal) -> Decimal | None:
    """value / cost, or None when the cost is not positive (nothing spent, or credits exceed charges)."""
    if cost <= 0:
        return None
    return value / cost


def stored_ratio(amount: Decimal | None) -> Decimal | None:
    """A ratio rounded to four places, half up, as evaluations store it."""
    return None if amount is None else amount.quantize(RATIO_PLACES, rounding=ROUND_HALF_UP)


def format_money(amount: Decimal) -> str:
    """A money figure as plain text with two decimals (reasons and alert messages)."""
    return f"{money(amount):.2f}"


@lru_cache(maxsize=64)
def _threshold_text(amount: Decimal) -> str:
    """A policy threshold as text: a pass has a few thresholds and 10,000s of reasons that quote them."""
    return format_money(amount)


def credited_from(launched_on: date | None, starts_on: date | None) -> date | None:
    """The first period start a product is credited for on a KPI: the later of its launch and the
    attribution's start (None when neither is known: nothing holds it back)."""
    if launched_on is None:
        return starts_on
    if starts_on is None:
        return launched_on
    return max(launched_on, starts_on)


def improvement(direction: Direction, baseline: Decimal, value: Decimal) -> Decimal:
    """How much better than the baseline a measured value is (negative when things got worse)."""
    if direction is Direction.DECREASE:
        return baseline - value
    return value - baseline


def summed_value(
    direction: Direction, baseline: Decimal, value_per_unit: Decimal, count: int, value_sum: Decimal | None
) -> Decimal:
    """The summed value of `count` measurements of one KPI whose values sum to `value_sum`,
    measured from `baseline` (the attribution's, or the KPI's)."""
    if count == 0 or value_sum is None:
        return ZERO
    improvement_sum = value_sum - count * baseline
    if direction is Direction.DECREASE:
        improvement_sum = -improvement_sum
    return improvement_sum * value_per_unit


# --- staleness --------------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def fresh_from(as_of: date, stale_periods: int, cadence: Cadence) -> date:
    """The oldest period start of `cadence` that still counts as fresh (the same for every KPI of a pass)."""
    return as_of - timedelta(days=stale_periods * CADENCE_DAYS[cadence])


@lru_cache(maxsize=64)
def fresh_since(as_of: date, stale_periods: int) -> dict[Cadence, date]:
    """The oldest period start that still counts as fresh, per cadence (the same for a whole pass)."""
    return {cadence: fresh_from(as_of, stale_periods, cadence) for cadence in CADENCE_DAYS}


def is_stale(latest_period_start: date | None, cadence: Cadence, as_of: date, stale_periods: int) -> bool:
    """Whether a KPI has no current measurement since `stale_periods` periods of its cadence (`stale_kpi`)."""
    return latest_period_start is None or latest_period_start < fresh_from(as_of, stale_periods, cadence)


# --- rules ------------------------------------------------------------------------------------------


def _recommend(product: ProductInput, as_of: date) -> tuple[Recommendation, tuple[str, ...]]:
    """DESIGN.md's numbered rules, first match wins."""
    policy = product.policy
    window, recent = policy.window_days, policy.recent_days
    launched_on = product.launched_on
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
    if not product.kpi_count:
        return Recommendation.REVIEW, ("no KPI is attributed to this product: its value cannot be measured",)
    if not product.measured_kpis:
        names = ", ".join(sorted(product.kpi_names))
        return Recommendation.REVIEW, (
            f"no current measurement of its KPIs ({names}) in the last {window} days that counts for this product:"
            " no evidence of value",
        )
    # 3. hold when nothing (or less than nothing, after credits) was spent
    value, cost, recent_value, recent_cost = product.value, product.cost, product.recent_value, product.recent_cost
    if cost <= 0:
        spent = "no cost recorded" if cost == 0 else f"credits exceed charges ({format_money(cost)})"
        return Recommendation.HOLD, (f"{spent} over {window} days: value/cost is undefined",)
    window_ratio = value / cost
    has_recent_ratio = recent_cost > 0
    recent_text = (
        f"{format_money(recent_value / recent_cost)} over the last {recent} days"
        if has_recent_ratio
        else f"no positive cost over the last {recent} days"
    )
    # 4. retire: compare exactly (value < threshold * cost) so a ratio at the threshold never retires.
    retire_below, invest_above = policy.retire_below, policy.invest_above
    retire_text, invest_text = _threshold_text(retire_below), _threshold_text(invest_above)
    if value < retire_below * cost and has_recent_ratio and recent_value < retire_below * recent_cost:
        return Recommendation.RETIRE, (
            f"value/cost {format_money(window_ratio)} below {retire_text} over {window} days and {recent_text}",
        )
    # 5. invest
    if value >= invest_above * cost and has_recent_ratio and recent_value >= invest_above * recent_cost:
        return Recommendation.INVEST, (
            f"value/cost {format_money(window_ratio)} at or above {invest_text} over {window} days and {recent_text}",
        )
    # 6. hold
    return Recommendation.HOLD, (
        f"value/cost {format_money(window_ratio)} over {window} days and {recent_text}: neither below {retire_text}"
        f" on both (retire) nor at or above {invest_text} on both (invest)",
    )


def settle_bet(*, realised_value: Decimal, expected_value: Decimal) -> str:
    """The outcome of a bet: `won` when the realised value reaches the expected value, else `lost`."""
    return "won" if realised_value >= expected_value else "lost"


def _stale_kpi(product: ProductInput, as_of: date) -> str | None:
    stale_periods = product.policy.stale_periods
    parts = []
    for kpi in product.freshness:
        if not is_stale(kpi.latest_period_start, kpi.cadence, as_of, stale_periods):
            continue
        horizon_days = stale_periods * cadence_days(kpi.cadence)
        last = kpi.latest_period_start
        since = f"last measured for the period of {last.isoformat()}" if last else "no current measurement"
        parts.append(f"{kpi.name} ({kpi.cadence.value}): {since}, none in the last {horizon_days} days")
    return "Stale KPI evidence: " + "; ".join(parts) + "." if parts else None


def _orphaned(product: ProductInput, as_of: date) -> str | None:
    usage = product.usage
    if usage.total_uses == 0 or usage.owner_uses > 0:
        return None
    return (
        f"Used {usage.total_uses} times by {usage.consumers} consumer(s) in the last {USAGE_DAYS} days, "
        f"but not by its owner {product.owner}: it may need a new owner."
    )


def _bet_due(product: ProductInput, as_of: date) -> str | None:
    if not product.due_bets:
        return None
    parts = []
    for bet in sorted(product.due_bets, key=lambda bet: (bet.review_on, bet.bet_id)):
        part = f"bet #{bet.bet_id} was due for review on {bet.review_on.isoformat()}"
        if bet.realised_value is not None:
            outcome = settle_bet(realised_value=bet.realised_value, expected_value=bet.expected_value)
            part += (
                f" (realised value {format_money(bet.realised_value)} against"
                f" {format_money(bet.expected_value)} expected: proposed outcome {outcome})"
            )
        parts.append(part)
    return "Open bet due: " + "; ".join(parts) + ". Deciding this alert confirms it."


def _debt_due(product: ProductInput, as_of: date) -> str | None:
    if not product.due_debts:
        return None
    parts = [
        f"{debt.title} (revisit on {debt.revisit_on.isoformat()})"
        for debt in sorted(product.due_debts, key=lambda debt: (debt.revisit_on, debt.debt_id))
    ]
    return "Conscious debt due for a revisit: " + "; ".join(parts) + "."


def _source_failing(product: ProductInput, as_of: date) -> str | None:
    if not product.failing_sources:
        return None
    parts = [
        f"{source.kpi_name} from {source.source_name}: {source.error}"
        for source in sorted(product.failing_sources, key=lambda source: (source.kpi_name, source.source_name))
    ]
    return "KPI source failing, outcomes are not being pulled: " + "; ".join(parts) + "."


# Each signal: its condition (a message when it holds, else None) and why its alert resolves
# when the condition goes away. In this order on a valuation.
SIGNALS: tuple[tuple[SignalKind, Callable[[ProductInput, date], str | None], str], ...] = (
    (SignalKind.STALE_KPI, _stale_kpi, "every attributed KPI has recent measurements"),
    (
        SignalKind.ORPHANED,
        _orphaned,
        f"no longer used only by others in the last {USAGE_DAYS} days (its owner uses it, or nobody does)",
    ),
    (SignalKind.BET_DUE, _bet_due, "no open bet is due for review any more"),
    (SignalKind.DEBT_DUE, _debt_due, "no unresolved conscious debt is due for a revisit"),
    (SignalKind.SOURCE_FAILING, _source_failing, "the KPI sources pulled successfully again"),
)
_RESOLVED_BECAUSE = {kind.value: because for kind, _, because in SIGNALS}


def resolution(kind: str, valuation: Valuation) -> str:
    """Why an unresolved alert of `kind` no longer holds for `valuation`."""
    on = valuation.as_of.isoformat()
    because = _RESOLVED_BECAUSE.get(kind)
    if because is None:
        because = f"the recommendation is now {valuation.recommendation.value} ({'; '.join(valuation.reasons)})"
    return f"Resolved automatically by the evaluation of {on}: {because}."


def revisit_date(*, kind: str, decided_on: date, revisit_on: date | None, policy: Policy) -> date:
    """Until when a decision on an alert of `kind` keeps that kind quiet (DESIGN.md v2).

    Its own revisit date, else the decision date plus the policy's quiet days. Deciding a
    `bet_due` alert settles the bets that were due, so a bet coming due later is a new question:
    no quiet period there by default.
    """
    if revisit_on is not None:
        return revisit_on
    if kind == SignalKind.BET_DUE:
        return decided_on
    return decided_on + timedelta(days=policy.decision_quiet_days)


def _earlier_decision_text(decision: DecisionOnKind, revisit_on: date) -> str:
    return (
        f" Earlier decision #{decision.decision_id} ({decision.action}, {decision.decided_on.isoformat()}) held this"
        f" until {revisit_on.isoformat()}: {decision.rationale}"
    )


def evaluate(product: ProductInput, as_of: date) -> Valuation:
    """Apply the valuation rules of DESIGN.md to one product as of `as_of`.

    This runs once per product of the portfolio: it reads the input once and builds one object.
    """
    recommendation, reasons = _recommend(product, as_of)
    signals = []
    for kind, condition, _ in SIGNALS:
        message = condition(product, as_of)
        if message is not None:
            signals.append(Signal(kind, message))
    asked: dict[str, str] = {}
    if recommendation in ALERTING_RECOMMENDATIONS:
        asked[recommendation.value] = f"{recommendation.value.capitalize()}: " + "; ".join(reasons) + "."
    for signal in signals:
        asked[signal.kind.value] = signal.message
    held: list[Hold] = []
    if asked and product.decisions:
        hold_reasons = []
        for decision in product.decisions:
            if decision.kind not in asked:
                continue
            revisit_on = revisit_date(
                kind=decision.kind,
                decided_on=decision.decided_on,
                revisit_on=decision.revisit_on,
                policy=product.policy,
            )
            if revisit_on > as_of:
                del asked[decision.kind]
                held.append(Hold(decision.kind, decision.decision_id, revisit_on))
                hold_reasons.append(
                    f"{decision.kind} held by decision {decision.decision_id} until {revisit_on.isoformat()}"
                )
            else:
                asked[decision.kind] += _earlier_decision_text(decision, revisit_on)
        reasons = (*reasons, *hold_reasons)
    cost, recent_cost = product.cost, product.recent_cost
    return Valuation(
        product_id=product.product_id,
        as_of=as_of,
        value=money(product.value),
        cost=money(cost),
        ratio=stored_ratio(ratio(product.value, cost)),
        net=money(product.value - cost),
        recent_value=money(product.recent_value),
        recent_cost=money(recent_cost),
        recent_ratio=stored_ratio(ratio(product.recent_value, recent_cost)),
        recommendation=recommendation,
        reasons=reasons,
        signals=tuple(signals),
        alerts=asked,
        held=tuple(held),
    )


# --- the Python side of gathering (any database; tests compare it with the SQL sums) -------------


@dataclass(frozen=True, slots=True)
class KpiTerms:
    """What one KPI needs for valuation: how to read a measurement and what a unit is worth."""

    kpi_id: int
    name: str
    direction: Direction
    baseline: Decimal
    value_per_unit: Decimal
    cadence: Cadence = Cadence.MONTHLY


@dataclass(frozen=True, slots=True)
class AttributionTerms:
    """One attribution of a KPI to a product: its weight, from when it counts and from what level."""

    kpi: KpiTerms
    weight: Decimal
    credited_from: date | None = None
    baseline: Decimal | None = None

    @property
    def effective_baseline(self) -> Decimal:
        return self.kpi.baseline if self.baseline is None else self.baseline


def attribution_value(
    attribution: AttributionTerms, measurements: Iterable[tuple[date, Decimal]], window: Window
) -> tuple[int, Decimal]:
    """How many current measurements (period_start, value) of the KPI count for the product in
    `window`, and their value before the weight."""
    start = window.start
    if attribution.credited_from is not None and attribution.credited_from > start:
        start = attribution.credited_from
    count, value_sum = 0, ZERO
    for period_start, value in measurements:
        if start <= period_start < window.as_of:
            count += 1
            value_sum += value
    kpi = attribution.kpi
    return count, summed_value(kpi.direction, attribution.effective_baseline, kpi.value_per_unit, count, value_sum)
