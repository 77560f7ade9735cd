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
from typing import Any

from django.db.models import Count, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import TruncMonth

from apps.catalog.models import DataProduct
from apps.costs.models import CostEntry
from apps.kpis.models import KPI, Attribution, Measurement
from apps.valuation.models import Recommendation
from meshvalue.periods import add_months
from meshvalue.valuation import Direction, credited_from, money, summed_value

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
        if product_id is not None:
            by_month = figures.get(product_id, {})
            return [money(by_month.get(month, ZERO)) for month in self.months]
        return [money(sum((f.get(month, ZERO) for f in figures.values()), ZERO)) for month in self.months]


def monthly_value_cost(*, as_of: date, months: int, products: QuerySet[DataProduct]) -> MonthlyValueCost:
    """Realised value and cost of `products` per month, for the `months` complete months before `as_of`.

    Value follows DESIGN.md v2: for each attribution (KPI, weight) of a product, weight times the
    value of the KPI's current measurements whose period starts in the month and on or after the
    attribution's `credited_from`, measured from the attribution's baseline. The database sums
    measurements per (KPI, month) before anything is joined to attributions (far fewer rows to
    carry; see STACK.md) for the attributions credited since before the first month; those
    credited from a later date read their KPI's measurements per period. The valuation core turns
    (count, sum) into money, so these figures follow the same arithmetic as the evaluations. A
    quarterly KPI's value lands in the first month of its quarter, a weekly KPI's in the month its
    week starts. Four queries, whatever the number of products, KPIs and measurements.
    """
    month_list = month_starts(as_of=as_of, count=months)
    result = MonthlyValueCost(months=month_list)
    start, end = month_list[0], add_months(month_list[-1], 1)
    product_ids = products.values("pk")

    # (product, weight, kpi, direction, baseline, value per unit, credited from)
    whole: list[tuple[Any, ...]] = []
    late: list[tuple[Any, ...]] = []
    for (
        product_id,
        launched_on,
        weight,
        starts_on,
        baseline,
        kpi_id,
        direction,
        kpi_baseline,
        value_per_unit,
    ) in Attribution.objects.filter(data_product__in=product_ids).values_list(
        "data_product_id",
        "data_product__launched_on",
        "weight",
        "starts_on",
        "baseline",
        "kpi_id",
        "kpi__direction",
        "kpi__baseline",
        "kpi__value_per_unit",
    ):
        since = credited_from(launched_on, starts_on)
        terms = (product_id, weight, kpi_id, Direction(direction), kpi_baseline if baseline is None else baseline)
        (late if since is not None and since > start else whole).append((*terms, value_per_unit, since))

    current = Measurement.objects.filter(is_current=True, period_start__gte=start, period_start__lt=end)
    by_month: dict[int, dict[date, tuple[int, Decimal]]] = defaultdict(dict)
    whole_kpis = {row[2] for row in whole}
    if whole_kpis:
        for kpi_id, month, count, value_sum in (
            current.filter(kpi_id__in=whole_kpis)
            .annotate(month=TruncMonth("period_start"))
            .values_list("kpi_id", "month")
            .annotate(count=Count("pk"), value_sum=Sum("value"))
            .order_by()
        ):
            by_month[kpi_id][_as_date(month)] = (count, Decimal(value_sum))
    for product_id, weight, kpi_id, direction, baseline, value_per_unit, _ in whole:
        product_months = result.value[product_id]
        for month, (count, value_sum) in by_month.get(kpi_id, {}).items():
            value = summed_value(direction, baseline, value_per_unit, count, value_sum)
            product_months[month] = product_months.get(month, ZERO) + weight * value

    by_period: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
    late_kpis = {row[2] for row in late}
    if late_kpis:
        for kpi_id, period_start, value in current.filter(kpi_id__in=late_kpis).values_list(
            "kpi_id", "period_start", "value"
        ):
            by_period[kpi_id].append((period_start, value))
    for product_id, weight, kpi_id, direction, baseline, value_per_unit, since in late:
        product_months = result.value[product_id]
        for period_start, measured in by_period.get(kpi_id, ()):
            if period_start >= since:
                month = period_start.replace(day=1)
                value = summed_value(direction, baseline, value_per_unit, 1, measured)
                product_months[month] = product_months.get(month, ZERO) + weight * value

    for product_id, month, amount in (
        CostEntry.objects.filter(
            is_current=True, data_product__in=product_ids, period_start__gte=start, period_start__lt=end
        )
        .values_list("data_product_id", "period_start")
        .annotate(amount=Sum("amount"))
        .order_by()
    ):
        result.cost[product_id][month] = result.cost[product_id].get(month, ZERO) + Decimal(amount)
    return result


def _as_date(value: date) -> date:
    # TruncMonth over a DateField gives a date on PostgreSQL and SQLite alike; be strict anyway.
    return value if type(value) is date else value.date()  # type: ignore[attr-defined]


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
