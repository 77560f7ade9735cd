"""Reads shared by several pages: latest evaluations, value and cost per month, KPI progress.

Every function here runs a fixed number of queries whatever the number of products, KPIs or
measurements; the pages that use them assert that with `django_assert_max_num_queries`.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import OuterRef, QuerySet, Subquery

from apps.catalog.models import DataProduct
from apps.kpis.models import KPI, Measurement
from apps.valuation.models import Recommendation
from apps.valuation.selectors import monthly_figures, portfolio_monthly_totals
from apps.valuation.services.rollup import monthly_rollup_refresh
from meshvalue.periods import add_months
from meshvalue.valuation import money

ZERO = Decimal("0")

# One colour per recommendation, used by the badges (CSS classes rec-*) and by the charts.
# Kept here so the scatter map, the legend and the badges can never disagree.
RECOMMENDATION_COLOURS: dict[str, str] = {
    Recommendation.INVEST: "#0f9d58",
    Recommendation.HOLD: "#3b6fd8",
    Recommendation.REVIEW: "#e08a00",
    Recommendation.RETIRE: "#d93f3f",
    Recommendation.INCUBATING: "#8b5cf6",
}
# The order in which recommendations are listed: what needs a decision first.
RECOMMENDATION_ORDER: list[str] = [
    Recommendation.RETIRE,
    Recommendation.INVEST,
    Recommendation.REVIEW,
    Recommendation.HOLD,
    Recommendation.INCUBATING,
]


def months_before(day: date, months: int) -> date:
    """The same day `months` months earlier, clamped to the end of a shorter month."""
    first = add_months(day, -months)
    last_day = calendar.monthrange(first.year, first.month)[1]
    return first.replace(day=min(day.day, last_day))


def month_starts(*, as_of: date, count: int) -> list[date]:
    """The `count` complete months before the month of `as_of`, oldest first.

    The month in progress is left out: its outcomes are mostly not logged yet, and a month
    that looks like a collapse of value would mislead more than it informs.
    """
    last = add_months(as_of.replace(day=1), -1)
    return [add_months(last, -offset) for offset in range(count - 1, -1, -1)]


# The key of the figures summed over all products, when only the total was read.
TOTAL = 0


@dataclass
class MonthlyValueCost:
    """Value and cost per month per product (`None` key: the total of all products)."""

    months: list[date]
    value: dict[int, dict[date, Decimal]] = field(default_factory=lambda: defaultdict(dict))
    cost: dict[int, dict[date, Decimal]] = field(default_factory=lambda: defaultdict(dict))

    def value_series(self, product_id: int | None = None) -> list[Decimal]:
        return self._series(self.value, product_id)

    def cost_series(self, product_id: int | None = None) -> list[Decimal]:
        return self._series(self.cost, product_id)

    def _series(self, figures: dict[int, dict[date, Decimal]], product_id: int | None) -> list[Decimal]:
        if product_id is None and TOTAL in figures:
            product_id = TOTAL
        if product_id is not None:
            by_month = figures.get(product_id, {})
            return [money(by_month.get(month, ZERO)) for month in self.months]
        return [money(sum((f.get(month, ZERO) for f in figures.values()), ZERO)) for month in self.months]


def monthly_value_cost(
    *, as_of: date, months: int, products: QuerySet[DataProduct], per_product: bool = True
) -> MonthlyValueCost:
    """Realised value and cost of `products` per month, for the `months` complete months before `as_of`.

    Read from the maintained monthly rollup (`apps.valuation.services.rollup`: DESIGN.md v2's
    value, credited from each attribution's start and measured from its baseline, and the
    current costs, credits included), refreshed first when writes are pending and no other
    refresh runs. `per_product=False` gives only the total of all `products` (summed in the
    database: a portfolio chart without a row per product). A quarterly KPI's value lands in the
    month its quarter starts, a weekly KPI's in the month its week starts. A fixed number of
    queries, whatever the number of products, KPIs and measurements.
    """
    month_list = month_starts(as_of=as_of, count=months)
    result = MonthlyValueCost(months=month_list)
    monthly_rollup_refresh(wait=False)
    figures = monthly_figures(
        products=products, start=month_list[0], end=add_months(month_list[-1], 1), per_product=per_product
    )
    for product_id, by_month in figures.items():
        key = TOTAL if product_id is None else product_id
        for month, (value, cost) in by_month.items():
            result.value[key][month] = value
            result.cost[key][month] = cost
    return result


def portfolio_monthly_value_cost(*, as_of: date, months: int) -> MonthlyValueCost:
    """The portfolio's total value and cost per month (what `monthly_value_cost` of every product in
    the portfolio as of `as_of` sums to), from the domains' maintained totals: a few rows per
    month whatever the number of products."""
    month_list = month_starts(as_of=as_of, count=months)
    result = MonthlyValueCost(months=month_list)
    monthly_rollup_refresh(wait=False)
    for month, (value, cost) in portfolio_monthly_totals(
        as_of=as_of, start=month_list[0], end=add_months(month_list[-1], 1)
    ).items():
        result.value[TOTAL][month] = value
        result.cost[TOTAL][month] = cost
    return result


@dataclass(frozen=True)
class KpiProgress:
    """A KPI with its latest current measurement and how far it has come from baseline to target."""

    kpi_id: int
    name: str
    unit: str
    direction: str
    cadence: str
    baseline: Decimal
    target: Decimal
    target_date: date | None
    goal_id: int
    latest_value: Decimal | None
    latest_period: date | None
    # Share of the way from baseline to target, in percent (may be below 0 or above 100).
    progress: Decimal | None

    @property
    def bar_width(self) -> int:
        """The progress clamped to 0..100, for the width of a progress bar."""
        if self.progress is None:
            return 0
        return int(max(ZERO, min(Decimal(100), self.progress)))

    @property
    def reached(self) -> bool:
        return self.progress is not None and self.progress >= 100


def progress_percent(*, baseline: Decimal, target: Decimal, latest: Decimal | None) -> Decimal | None:
    """How far `latest` has moved from `baseline` toward `target`, in percent.

    Works for both directions: with a target below the baseline (decrease is better), a
    value below the baseline is progress. None without a measurement or when target = baseline.
    """
    if latest is None or target == baseline:
        return None
    return ((latest - baseline) / (target - baseline) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def kpis_with_progress(*, kpis: QuerySet[KPI], as_of: date) -> list[KpiProgress]:
    """`kpis` with their latest current measurement before `as_of` and their progress. One query."""
    latest = Measurement.objects.filter(kpi=OuterRef("pk"), is_current=True, period_start__lt=as_of).order_by(
        "-period_start"
    )
    rows = kpis.annotate(
        latest_value=Subquery(latest.values("value")[:1]),
        latest_period=Subquery(latest.values("period_start")[:1]),
    ).values(
        "pk",
        "name",
        "unit",
        "direction",
        "cadence",
        "baseline",
        "target",
        "target_date",
        "goal_id",
        "latest_value",
        "latest_period",
    )
    return [
        KpiProgress(
            kpi_id=row["pk"],
            name=row["name"],
            unit=row["unit"],
            direction=row["direction"],
            cadence=row["cadence"],
            baseline=row["baseline"],
            target=row["target"],
            target_date=row["target_date"],
            goal_id=row["goal_id"],
            latest_value=row["latest_value"],
            latest_period=row["latest_period"],
            progress=progress_percent(baseline=row["baseline"], target=row["target"], latest=row["latest_value"]),
        )
        for row in rows
    ]


def kpi_history_chart(*, kpis: Iterable[KpiProgress], as_of: date, months: int = 24) -> dict[int, dict[str, object]]:
    """Chart data per KPI: its current measurements over the last `months` months, baseline and target.

    One query for all the KPIs together.
    """
    kpis = list(kpis)
    start = add_months(as_of.replace(day=1), -months)
    points: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
    for kpi_id, period_start, value in (
        Measurement.objects.filter(
            kpi_id__in=[k.kpi_id for k in kpis], is_current=True, period_start__gte=start, period_start__lt=as_of
        )
        .order_by("kpi_id", "period_start")
        .values_list("kpi_id", "period_start", "value")
    ):
        points[kpi_id].append((period_start, value))
    return {
        kpi.kpi_id: {
            "x": [p.isoformat() for p, _ in points[kpi.kpi_id]],
            "y": [float(v) for _, v in points[kpi.kpi_id]],
            "baseline": float(kpi.baseline),
            "target": float(kpi.target),
            "unit": kpi.unit,
            "name": kpi.name,
        }
        for kpi in kpis
    }


def change(current: Decimal | None, previous: Decimal | None) -> dict[str, Decimal | None]:
    """The change from `previous` to `current`: absolute and in percent of |previous| (None when unknown)."""
    if current is None or previous is None:
        return {"absolute": None, "percent": None}
    absolute = current - previous
    percent = None if previous == 0 else (absolute / abs(previous) * 100).quantize(Decimal("0.1"), ROUND_HALF_UP)
    return {"absolute": absolute, "percent": percent}
