"""Cadence and period arithmetic: no database."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meshvalue.periods import (
    Cadence,
    add_months,
    alignment_error,
    cadence_days,
    is_aligned,
    next_period_start,
    period_start,
    period_starts,
    previous_period_start,
    recent_period_starts,
)


@pytest.mark.parametrize(
    ("cadence", "day", "expected"),
    [
        ("weekly", date(2026, 11, 18), date(2026, 11, 16)),  # Wednesday -> Monday
        ("weekly", date(2026, 11, 16), date(2026, 11, 16)),  # already a Monday
        ("weekly", date(2026, 1, 1), date(2025, 12, 29)),  # crosses the year
        ("monthly", date(2026, 2, 28), date(2026, 2, 1)),
        ("monthly", date(2026, 3, 1), date(2026, 3, 1)),
        ("quarterly", date(2026, 3, 31), date(2026, 1, 1)),
        ("quarterly", date(2026, 4, 1), date(2026, 4, 1)),
        ("quarterly", date(2026, 12, 31), date(2026, 10, 1)),
    ],
)
def test_period_start(cadence, day, expected):
    assert period_start(cadence, day) == expected


@pytest.mark.parametrize(
    ("cadence", "start", "following", "preceding"),
    [
        ("weekly", date(2026, 12, 28), date(2027, 1, 4), date(2026, 12, 21)),
        ("monthly", date(2026, 12, 1), date(2027, 1, 1), date(2026, 11, 1)),
        ("monthly", date(2026, 1, 1), date(2026, 2, 1), date(2025, 12, 1)),
        ("quarterly", date(2026, 10, 1), date(2027, 1, 1), date(2026, 7, 1)),
        ("quarterly", date(2026, 1, 1), date(2026, 4, 1), date(2025, 10, 1)),
    ],
)
def test_next_and_previous_period(cadence, start, following, preceding):
    assert next_period_start(cadence, start) == following
    assert previous_period_start(cadence, start) == preceding


def test_cadence_days_match_design():
    assert [cadence_days(c) for c in Cadence] == [7, 31, 92]


@pytest.mark.parametrize(
    ("cadence", "day", "fragment"),
    [
        ("weekly", date(2026, 11, 18), "must be a Monday"),
        ("monthly", date(2026, 11, 18), "must be the 1st of a month"),
        ("quarterly", date(2026, 2, 1), "must be the 1st of January, April, July or October"),
    ],
)
def test_alignment_error_names_the_rule_and_the_right_day(cadence, day, fragment):
    message = alignment_error(cadence, day)
    assert message is not None
    assert fragment in message
    assert period_start(cadence, day).isoformat() in message


def test_alignment_error_is_none_for_aligned_days():
    assert alignment_error("weekly", date(2026, 11, 16)) is None
    assert alignment_error("monthly", date(2026, 11, 1)) is None
    assert alignment_error("quarterly", date(2026, 10, 1)) is None


def test_period_starts_and_recent_periods():
    assert list(period_starts("monthly", date(2026, 1, 15), date(2026, 4, 1))) == [
        date(2026, 1, 1),
        date(2026, 2, 1),
        date(2026, 3, 1),
        date(2026, 4, 1),
    ]
    assert recent_period_starts("quarterly", date(2026, 5, 5), 3) == [
        date(2026, 4, 1),
        date(2026, 1, 1),
        date(2025, 10, 1),
    ]


def test_add_months_handles_year_boundaries():
    assert add_months(date(2026, 11, 21), 2) == date(2027, 1, 1)
    assert add_months(date(2026, 1, 31), -1) == date(2025, 12, 1)


@given(st.sampled_from(list(Cadence)), st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 1, 1)))
def test_every_day_lies_in_exactly_its_period(cadence, day):
    start = period_start(cadence, day)
    assert is_aligned(cadence, start)
    assert start <= day < next_period_start(cadence, start)
    assert previous_period_start(cadence, next_period_start(cadence, start)) == start
