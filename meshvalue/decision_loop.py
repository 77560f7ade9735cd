"""The decision loop: were our bets good, and do alerts become decisions in time (DESIGN.md v2).

Pure functions on plain values. The SQL side gathers counts, sums and durations; these
functions decide what the figures are. A figure with nothing to measure is None, never 0:
a period with no settled bet has no win rate, and dividing by it is never attempted.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from meshvalue.periods import add_months

ZERO = Decimal("0")
CENT = Decimal("0.01")
RATIO_PLACES = Decimal("0.0001")

# Months before the retire decision whose average cost a retirement saves, and the most
# months after the sunset that are counted as saved.
AVOIDED_COST_MONTHS_BEFORE = 3
AVOIDED_COST_MAX_MONTHS = 12
DEFAULT_PERIOD_MONTHS = 12


def _share(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """part / whole to four places, or None when there is nothing to divide by."""
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(RATIO_PLACES, rounding=ROUND_HALF_UP)


def default_period(to: date) -> tuple[date, date]:
    """The default period ending on `to`: the twelve months before it (both ends inclusive)."""
    first = add_months(to, -DEFAULT_PERIOD_MONTHS)
    # The same day a year earlier (28 February for a 29th), then the day after it.
    last_day = (add_months(first, 1) - timedelta(days=1)).day
    return first.replace(day=min(to.day, last_day)) + timedelta(days=1), to


@dataclass(frozen=True)
class BetTotals:
    """The bets settled in a period (won and lost; void bets are left out before this)."""

    won: int = 0
    lost: int = 0
    expected_value: Decimal = ZERO
    realised_value: Decimal = ZERO
    # Only bets whose realised cost is known count in the cost sums.
    expected_cost: Decimal = ZERO
    realised_cost: Decimal = ZERO

    def __add__(self, other: BetTotals) -> BetTotals:
        return BetTotals(
            won=self.won + other.won,
            lost=self.lost + other.lost,
            expected_value=self.expected_value + other.expected_value,
            realised_value=self.realised_value + other.realised_value,
            expected_cost=self.expected_cost + other.expected_cost,
            realised_cost=self.realised_cost + other.realised_cost,
        )

    @property
    def settled(self) -> int:
        return self.won + self.lost


def win_rate(bets: BetTotals) -> Decimal | None:
    """won / (won + lost) over the bets settled in the period (None when none was)."""
    return _share(bets.won, bets.settled)


def calibration(bets: BetTotals) -> Decimal | None:
    """Sum of realised value / sum of expected value of the settled bets (1 is perfectly called)."""
    if not bets.settled:
        return None
    return _share(bets.realised_value, bets.expected_value)


def cost_accuracy(bets: BetTotals) -> Decimal | None:
    """Sum of realised cost / sum of expected cost of the settled bets whose realised cost is known."""
    if not bets.settled:
        return None
    return _share(bets.realised_cost, bets.expected_cost)


def full_months_between(start: date, end: date) -> int:
    """Whole months from `start` to `end` (0 when `end` is not after `start`): 15 Mar to 14 Jun is 2."""
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if end.day < start.day:
        months -= 1
    return max(0, months)


def months_before_decision(decided_on: date) -> list[date]:
    """The first days of the full months before the month of `decided_on`, oldest first."""
    first = decided_on.replace(day=1)
    return [add_months(first, -offset) for offset in range(AVOIDED_COST_MONTHS_BEFORE, 0, -1)]


@dataclass(frozen=True)
class Retirement:
    """A product retired in the period: when retirement was decided, its sunset, its costs before."""

    product_id: int
    decided_on: date
    sunset_on: date
    # Current cost per month start (credits included); months with no entry cost nothing.
    monthly_costs: tuple[tuple[date, Decimal], ...] = ()


def avoided_cost(retirement: Retirement, as_of: date) -> Decimal:
    """Average monthly cost over the 3 full months before the decision, times the full months
    from the sunset to `as_of` (at most 12)."""
    months = set(months_before_decision(retirement.decided_on))
    before = sum((amount for month, amount in retirement.monthly_costs if month in months), ZERO)
    saved_months = min(AVOIDED_COST_MAX_MONTHS, full_months_between(retirement.sunset_on, as_of))
    return (before / AVOIDED_COST_MONTHS_BEFORE * saved_months).quantize(CENT, rounding=ROUND_HALF_UP)


def total_avoided_cost(retirements: Iterable[Retirement], as_of: date) -> Decimal:
    return sum((avoided_cost(retirement, as_of) for retirement in retirements), ZERO.quantize(CENT))


def median_days(durations: Sequence[timedelta]) -> Decimal | None:
    """The median of `durations` in days, to one place (None when there is none)."""
    if not durations:
        return None
    # Whole seconds, exactly: the median of an even count is the mean of the two middle ones.
    middle = statistics.median([Decimal(round(duration.total_seconds())) for duration in durations])
    return (middle / Decimal(86400)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def decided_within_sla(durations: Sequence[tuple[timedelta, int]]) -> Decimal | None:
    """The share of decisions made within the SLA of their domain (None when there is none).

    `durations` are (alert raised to decision, SLA days that applied); exactly the SLA is within it.
    """
    within = sum(1 for duration, sla_days in durations if duration <= timedelta(days=sla_days))
    return _share(within, len(durations))


def past_sla_cutoff(as_of: date, sla_days: int) -> date:
    """An alert still undecided on `as_of` is past the SLA when it was raised before this day.

    That is, more than `sla_days` days before `as_of`; exactly `sla_days` days is still within it.
    A date rather than a predicate, so the database can filter and count by it.
    """
    return as_of - timedelta(days=sla_days)


@dataclass(frozen=True)
class DecisionLoopFigures:
    """The decision-loop figures of a domain or of the whole portfolio over a period."""

    bets: BetTotals
    win_rate: Decimal | None
    calibration: Decimal | None
    cost_accuracy: Decimal | None
    retirements: int
    avoided_cost: Decimal
    decisions: int
    median_time_to_decision: Decimal | None
    decided_within_sla: Decimal | None
    alerts_past_sla: int


def decision_loop_figures(
    *,
    bets: BetTotals,
    retirements: Sequence[Retirement],
    durations: Sequence[tuple[timedelta, int]],
    alerts_past_sla: int,
    as_of: date,
) -> DecisionLoopFigures:
    """Every figure at once. `durations` are (alert raised to decision, SLA days that applied)."""
    return DecisionLoopFigures(
        bets=bets,
        win_rate=win_rate(bets),
        calibration=calibration(bets),
        cost_accuracy=cost_accuracy(bets),
        retirements=len(retirements),
        avoided_cost=total_avoided_cost(retirements, as_of),
        decisions=len(durations),
        median_time_to_decision=median_days([duration for duration, _ in durations]),
        decided_within_sla=decided_within_sla(durations),
        alerts_past_sla=alerts_past_sla,
    )


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def quarter_label(start: date) -> str:
    return f"{start.year} Q{(start.month - 1) // 3 + 1}"


def median_days_per_quarter(decisions: Iterable[tuple[date, timedelta]]) -> list[tuple[str, Decimal, int]]:
    """(quarter, median days to decision, decisions) per quarter of the decision date, oldest first."""
    by_quarter: dict[date, list[timedelta]] = {}
    for decided_on, duration in decisions:
        by_quarter.setdefault(quarter_start(decided_on), []).append(duration)
    rows = []
    for start in sorted(by_quarter):
        median = median_days(by_quarter[start])
        assert median is not None  # every quarter listed has at least one decision
        rows.append((quarter_label(start), median, len(by_quarter[start])))
    return rows
