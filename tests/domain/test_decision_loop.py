"""Decision-loop figures: hand-computed cases, no database."""

from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from meshvalue.decision_loop import (
    BetTotals,
    Retirement,
    avoided_cost,
    calibration,
    cost_accuracy,
    decided_within_sla,
    decision_loop_figures,
    default_period,
    full_months_between,
    median_days,
    median_days_per_quarter,
    months_before_decision,
    past_sla_cutoff,
    total_avoided_cost,
    win_rate,
)


@pytest.mark.parametrize(
    ("bets", "expected_win_rate", "expected_calibration", "expected_cost_accuracy"),
    [
        # No settled bet: no figure at all (not 0, not a division error).
        (BetTotals(), None, None, None),
        # 3 won, 1 lost; expected 400, realised 300; expected cost 100, realised 150.
        (BetTotals(3, 1, D("400"), D("300"), D("100"), D("150")), D("0.7500"), D("0.7500"), D("1.5000")),
        # Only lost bets: win rate 0 (a real zero), calibration 0.
        (BetTotals(0, 2, D("1000"), D("0"), D("50"), D("50")), D("0.0000"), D("0.0000"), D("1.0000")),
        # Over-delivery: realised 3x expected, 1 of 3 won.
        (BetTotals(1, 2, D("100"), D("300"), D("0"), D("0")), D("0.3333"), D("3.0000"), None),
        # Settled bets all expecting nothing: no calibration (nothing to divide by).
        (BetTotals(1, 0, D("0"), D("10"), D("10"), D("5")), D("1.0000"), None, D("0.5000")),
    ],
)
def test_bet_figures(bets, expected_win_rate, expected_calibration, expected_cost_accuracy):
    assert win_rate(bets) == expected_win_rate
    assert calibration(bets) == expected_calibration
    assert cost_accuracy(bets) == expected_cost_accuracy


def test_bet_totals_add():
    total = BetTotals(1, 0, D("10"), D("20"), D("1"), D("2")) + BetTotals(0, 1, D("5"), D("0"), D("3"), D("3"))
    assert total == BetTotals(1, 1, D("15"), D("20"), D("4"), D("5"))
    assert total.settled == 2


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        (date(2026, 3, 15), date(2026, 6, 14), 2),
        (date(2026, 3, 15), date(2026, 6, 15), 3),
        (date(2026, 1, 31), date(2026, 2, 28), 0),
        (date(2026, 6, 1), date(2026, 5, 1), 0),  # end before start
        (date(2025, 1, 1), date(2027, 1, 1), 24),
    ],
)
def test_full_months_between(start, end, months):
    assert full_months_between(start, end) == months


def test_months_before_decision():
    assert months_before_decision(date(2026, 3, 10)) == [date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)]


@pytest.mark.parametrize(
    ("costs", "decided_on", "sunset_on", "as_of", "expected"),
    [
        # 300 + 600 + 900 over Dec-Feb: 600 a month; sunset 1 Apr, as of 1 Sep: 5 months: 3000.
        (
            ((date(2025, 12, 1), D("300")), (date(2026, 1, 1), D("600")), (date(2026, 2, 1), D("900"))),
            date(2026, 3, 10),
            date(2026, 4, 1),
            date(2026, 9, 1),
            D("3000.00"),
        ),
        # The decision month and earlier months do not count; a missing month costs nothing.
        (
            ((date(2025, 11, 1), D("999")), (date(2026, 2, 1), D("300")), (date(2026, 3, 1), D("999"))),
            date(2026, 3, 10),
            date(2026, 4, 1),
            date(2026, 5, 1),
            D("100.00"),
        ),
        # At most 12 months are counted: 100 a month for 30 months after the sunset gives 1200.
        (
            tuple((date(2024, m, 1), D("100")) for m in (1, 2, 3)),
            date(2024, 4, 2),
            date(2024, 5, 1),
            date(2026, 11, 1),
            D("1200.00"),
        ),
        # Sunset not yet a full month ago: nothing saved yet.
        (((date(2026, 2, 1), D("300")),), date(2026, 3, 10), date(2026, 4, 1), date(2026, 4, 30), D("0.00")),
        # Credits lower the average: (100 - 40 + 0) / 3 = 20 a month, 2 months: 40.
        (
            ((date(2026, 1, 1), D("100")), (date(2026, 2, 1), D("-40"))),
            date(2026, 4, 1),
            date(2026, 4, 15),
            date(2026, 6, 20),
            D("40.00"),
        ),
    ],
)
def test_avoided_cost(costs, decided_on, sunset_on, as_of, expected):
    retirement = Retirement(product_id=1, decided_on=decided_on, sunset_on=sunset_on, monthly_costs=costs)
    assert avoided_cost(retirement, as_of) == expected


def test_total_avoided_cost_of_nothing_is_zero():
    assert total_avoided_cost([], date(2026, 1, 1)) == D("0.00")


@pytest.mark.parametrize(
    ("durations", "median"),
    [
        ([], None),
        ([timedelta(days=3)], D("3.0")),
        ([timedelta(days=1), timedelta(days=10), timedelta(days=4)], D("4.0")),
        ([timedelta(days=1), timedelta(days=2), timedelta(days=4), timedelta(days=30)], D("3.0")),
        ([timedelta(hours=36)], D("1.5")),
    ],
)
def test_median_days(durations, median):
    assert median_days(durations) == median


@pytest.mark.parametrize(
    ("durations", "share"),
    [
        ([], None),
        ([(timedelta(days=14), 14)], D("1.0000")),  # exactly the SLA is within it
        ([(timedelta(days=14, seconds=1), 14)], D("0.0000")),
        ([(timedelta(days=3), 14), (timedelta(days=20), 14), (timedelta(days=20), 30)], D("0.6667")),
    ],
)
def test_decided_within_sla(durations, share):
    assert decided_within_sla(durations) == share


@pytest.mark.parametrize(
    ("raised_on", "as_of", "sla", "past"),
    [
        (date(2026, 1, 1), date(2026, 1, 15), 14, False),
        (date(2026, 1, 1), date(2026, 1, 16), 14, True),
        (date(2026, 1, 1), date(2026, 1, 2), 0, True),
    ],
)
def test_past_sla(raised_on, as_of, sla, past):
    assert (raised_on < past_sla_cutoff(as_of, sla)) is past


def test_figures_of_an_empty_period():
    figures = decision_loop_figures(
        bets=BetTotals(), retirements=[], durations=[], alerts_past_sla=0, as_of=date(2026, 12, 1)
    )
    assert figures.win_rate is None
    assert figures.calibration is None
    assert figures.cost_accuracy is None
    assert figures.median_time_to_decision is None
    assert figures.decided_within_sla is None
    assert figures.avoided_cost == D("0.00")
    assert figures.decisions == 0


@pytest.mark.parametrize(
    ("to", "first"),
    [
        (date(2026, 12, 1), date(2025, 12, 2)),
        (date(2026, 11, 15), date(2025, 11, 16)),
        (date(2026, 12, 31), date(2026, 1, 1)),
        (date(2028, 2, 29), date(2027, 3, 1)),  # 28 Feb 2027 is the day a year before
    ],
)
def test_default_period_is_twelve_months_inclusive(to, first):
    assert default_period(to) == (first, to)


def test_median_days_per_quarter():
    rows = median_days_per_quarter(
        [
            (date(2026, 2, 1), timedelta(days=2)),
            (date(2026, 1, 5), timedelta(days=6)),
            (date(2026, 3, 31), timedelta(days=40)),
            (date(2025, 12, 31), timedelta(days=1)),
        ]
    )
    assert rows == [("2025 Q4", D("1.0"), 1), ("2026 Q1", D("6.0"), 3)]
