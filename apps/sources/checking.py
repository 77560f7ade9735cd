"""What a query's rows would do to a KPI's outcomes: new, unchanged, a correction, or refused and why.

The same verdicts serve the Test button (a preview, nothing stored) and a pull (new rows and
corrections are stored through `apps.kpis.services.measurements_record_bulk`, so every rule of an
outcome typed in a form holds). A row is refused when its period cannot be read, is not aligned to
the KPI's cadence or lies in the future, when its value is not a number (or too large), and when
its period appears more than once in the answer (which of them would be right cannot be told).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from apps.kpis.models import KPI, Measurement
from apps.kpis.services import MeasurementInput, measurement_errors

_PLACES = Decimal(1).scaleb(-Measurement._meta.get_field("value").decimal_places)


class RowStatus(StrEnum):
    NEW = "new"
    UNCHANGED = "unchanged"
    CORRECTION = "correction"
    REFUSED = "refused"


@dataclass(frozen=True)
class RowVerdict:
    """One row of a query's answer and what storing it would do."""

    row: int  # from 1, in the order of the answer
    period_start: date | None
    value: Decimal | None
    status: RowStatus
    reason: str = ""
    previous: Decimal | None = None  # the stored current value a correction replaces
    shown_period: str = ""  # the raw cells, as text, for refused rows
    shown_value: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "period_start": self.period_start.isoformat() if self.period_start else self.shown_period,
            "value": f"{self.value.normalize():f}" if self.value is not None else self.shown_value,
            "status": self.status.value,
            "reason": self.reason,
            "previous": f"{self.previous.normalize():f}" if self.previous is not None else None,
        }


def _shown(cell: Any) -> str:
    text = "" if cell is None else str(cell)
    return text if len(text) <= 60 else text[:57] + "..."


def _period(cell: Any) -> tuple[date | None, str]:
    if isinstance(cell, datetime):
        if cell.time() != time(0):
            return None, "period_start has a time of day; return the date the period starts on"
        return cell.date(), ""
    if isinstance(cell, date):
        return cell, ""
    if isinstance(cell, str):
        try:
            return date.fromisoformat(cell.strip()), ""
        except ValueError:
            pass
    if cell is None:
        return None, "period_start is empty"
    return None, "period_start is not a date"


def _value(cell: Any) -> tuple[Decimal | None, str]:
    if cell is None:
        return None, "value is empty"
    if isinstance(cell, bool):
        return None, "value is not a number"
    number: Decimal
    try:
        if isinstance(cell, float):
            if not math.isfinite(cell):
                return None, "value is not a finite number"
            number = Decimal(repr(cell))
        elif isinstance(cell, int | Decimal):
            number = Decimal(cell)
        elif isinstance(cell, str):
            number = Decimal(cell.strip())
        else:
            return None, "value is not a number"
    except (InvalidOperation, ValueError):
        return None, "value is not a number"
    if not number.is_finite():
        return None, "value is not a finite number"
    try:
        return number.quantize(_PLACES, rounding=ROUND_HALF_EVEN), ""
    except InvalidOperation:
        return None, "value is too large"


def rows_check(
    *, kpi: KPI, rows: Sequence[Sequence[Any]], current: Mapping[date, Decimal], today: date
) -> list[RowVerdict]:
    """The verdict on each (period_start, value) row of an answer, against the KPI's current outcomes."""
    parsed: list[tuple[date | None, Decimal | None, list[str]]] = []
    for cell_period, cell_value in rows:
        reasons: list[str] = []
        start, period_problem = _period(cell_period)
        value, value_problem = _value(cell_value)
        reasons += [problem for problem in (period_problem, value_problem) if problem]
        if start is not None:
            if start > today:
                reasons.append(f"{start.isoformat()} is in the future")
            probe = MeasurementInput(kpi=kpi, period_start=start, value=value if value is not None else Decimal(0))
            errors = measurement_errors(probe)
            if "period_start" in errors:
                reasons.append(errors["period_start"])
            if value is not None and "value" in errors:
                reasons.append(errors["value"])
        parsed.append((start, value, reasons))

    times_seen = Counter(start for start, _, _ in parsed if start is not None)
    verdicts = []
    for index, ((start, value, reasons), (cell_period, cell_value)) in enumerate(zip(parsed, rows, strict=True), 1):
        if start is not None and times_seen[start] > 1:
            reasons.append(f"the period {start.isoformat()} appears {times_seen[start]} times in the answer")
        if reasons:
            verdicts.append(
                RowVerdict(
                    row=index,
                    period_start=start,
                    value=value,
                    status=RowStatus.REFUSED,
                    reason="; ".join(reasons),
                    shown_period=_shown(cell_period),
                    shown_value=_shown(cell_value),
                )
            )
            continue
        assert start is not None and value is not None
        stored = current.get(start)
        if stored is None:
            status, previous = RowStatus.NEW, None
        elif stored == value:
            status, previous = RowStatus.UNCHANGED, None
        else:
            status, previous = RowStatus.CORRECTION, stored
        verdicts.append(RowVerdict(row=index, period_start=start, value=value, status=status, previous=previous))
    return verdicts
