"""Cadences and the periods they cut time into.

A KPI is measured once per period of its cadence. Periods start on a Monday (weekly),
on the 1st of a month (monthly) or on the 1st of January, April, July or October
(quarterly). Cost entries are monthly.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from enum import StrEnum


class Cadence(StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"


# The nominal length of one period, used for staleness windows (DESIGN.md: 7, 31, 92 days).
CADENCE_DAYS: dict[Cadence, int] = {Cadence.WEEKLY: 7, Cadence.MONTHLY: 31, Cadence.QUARTERLY: 92}

_ALIGNMENT_RULE: dict[Cadence, str] = {
    Cadence.WEEKLY: "a Monday",
    Cadence.MONTHLY: "the 1st of a month",
    Cadence.QUARTERLY: "the 1st of January, April, July or October",
}


def cadence_days(cadence: Cadence | str) -> int:
    """The nominal number of days in one period of `cadence`."""
    return CADENCE_DAYS[Cadence(cadence)]


def add_months(day: date, months: int) -> date:
    """The 1st of the month `months` after (or before, if negative) the month of `day`."""
    month_index = day.year * 12 + (day.month - 1) + months
    return date(month_index // 12, month_index % 12 + 1, 1)


def period_start(cadence: Cadence | str, day: date) -> date:
    """The start of the period of `cadence` that contains `day`."""
    cadence = Cadence(cadence)
    if cadence is Cadence.WEEKLY:
        return day - timedelta(days=day.weekday())
    if cadence is Cadence.MONTHLY:
        return day.replace(day=1)
    return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def is_aligned(cadence: Cadence | str, day: date) -> bool:
    """Whether `day` is the first day of a period of `cadence`."""
    return period_start(cadence, day) == day


def alignment_error(cadence: Cadence | str, day: date) -> str | None:
    """A message for a user when `day` does not start a period of `cadence`, else None."""
    cadence = Cadence(cadence)
    if is_aligned(cadence, day):
        return None
    nearest = period_start(cadence, day)
    return (
        f"{day.isoformat()} does not start a {cadence.value} period: it must be {_ALIGNMENT_RULE[cadence]} "
        f"(the period containing it starts on {nearest.isoformat()})."
    )


def next_period_start(cadence: Cadence | str, start: date) -> date:
    """The start of the period after the one starting at `start` (which must be aligned)."""
    cadence = Cadence(cadence)
    start = period_start(cadence, start)
    if cadence is Cadence.WEEKLY:
        return start + timedelta(days=7)
    if cadence is Cadence.MONTHLY:
        return add_months(start, 1)
    return add_months(start, 3)


def previous_period_start(cadence: Cadence | str, start: date) -> date:
    """The start of the period before the one containing `start`."""
    cadence = Cadence(cadence)
    start = period_start(cadence, start)
    if cadence is Cadence.WEEKLY:
        return start - timedelta(days=7)
    if cadence is Cadence.MONTHLY:
        return add_months(start, -1)
    return add_months(start, -3)


def period_starts(cadence: Cadence | str, first: date, last: date) -> Iterator[date]:
    """Every period start of `cadence` from the period containing `first` through `last`, in order."""
    current = period_start(cadence, first)
    while current <= last:
        yield current
        current = next_period_start(cadence, current)


def recent_period_starts(cadence: Cadence | str, as_of: date, count: int) -> list[date]:
    """The starts of the `count` most recent periods that began on or before `as_of`, newest first."""
    starts: list[date] = []
    current = period_start(cadence, as_of)
    for _ in range(count):
        starts.append(current)
        current = previous_period_start(cadence, current)
    return starts
