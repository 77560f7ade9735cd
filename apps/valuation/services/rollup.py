"""The maintained monthly rollup: each product's value and cost per calendar month (`MonthlyFigure`).

How it stays exact:

- Database triggers (migration 0008) mark, in the writer's own transaction, the KPI months and
  product months every write touches, and every month of a product whose attributions or launch
  changed or of a KPI whose terms changed (`RollupChange`). No write path can forget: bulk
  inserts, COPY, corrections, restated cost imports, the admin.
- `monthly_rollup_refresh` takes the rollup's lock, then *takes* the marks (PostgreSQL:
  `DELETE ... RETURNING`, so exactly the committed marks it saw, and a mark committed a moment
  later stays for the next refresh), then recomputes those products' months from the raw rows
  and replaces them. A write that commits while a refresh runs has its own mark, so the next
  refresh recomputes what this one may have half seen. One lock, so two refreshes never write
  the same product out of order.
- The daily evaluation pass refreshes it; so do the pages that read it, when marks are pending
  and no refresh is running (`monthly_rollup_refresh(wait=False)`).
- `manage.py rollup_check` recomputes everything from the raw rows and lists any difference.

The arithmetic is the valuation core's (`meshvalue.valuation.summed_value`, `credited_from`), on
sums the database groups per KPI and month: the same figures the evaluations use.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth

from apps.catalog.models import DataProduct
from apps.core.locks import job_lock, job_try_lock
from apps.costs.models import CostEntry
from apps.kpis.models import KPI, Attribution, Measurement
from apps.valuation.models import DomainMonthlyFigure, MonthlyFigure, RollupChange
from apps.valuation.services.kpi_totals import kpi_totals_rebuild, kpi_totals_refresh
from apps.valuation.services.locks import evaluation_session_tune
from meshvalue.periods import add_months
from meshvalue.valuation import ZERO, Direction, credited_from, summed_value

ROLLUP_JOB = "valuation.rollup"
_BATCH = 2_000

Figures = dict[tuple[int, date], tuple[Decimal, Decimal]]


@dataclass(frozen=True)
class RollupRefresh:
    """What one refresh did: the marks it took, the products and the product months it rewrote."""

    changes: int
    products: int
    months_written: int


def monthly_figures_compute(
    *, product_ids: Collection[int] | None = None, start: date | None = None, end: date | None = None
) -> Figures:
    """Value and cost per (product, month) from the raw rows, for months in `[start, end)` (None: unbounded).

    `product_ids` None means every product. A fixed number of queries (four): the attributions,
    the current measurements summed per KPI and month, the measurements of the months in which an
    attribution starts mid-month (only those periods on or after `credited_from` count), and the
    current costs summed per product and month. Months with neither value nor cost are left out.
    """
    in_products = Q() if product_ids is None else Q(data_product_id__in=list(product_ids))
    in_months = Q()
    if start is not None:
        in_months &= Q(period_start__gte=start)
    if end is not None:
        in_months &= Q(period_start__lt=end)

    # (product, weight, kpi, direction, baseline, value per unit, first whole month, partial month, since)
    terms: list[tuple[Any, ...]] = []
    for product_id, launched_on, weight, starts_on, baseline, kpi_id, direction, kpi_baseline, value_per_unit in (
        Attribution.objects.filter(in_products)
        .order_by()
        .values_list(
            "data_product_id",
            "data_product__launched_on",
            "weight",
            "starts_on",
            "baseline",
            "kpi_id",
            "kpi__direction",
            "kpi__baseline",
            "kpi__value_per_unit",
        )
    ):
        since = credited_from(launched_on, starts_on)
        first_month, partial = None, None
        if since is not None:
            first_month = since if since.day == 1 else add_months(since.replace(day=1), 1)
            partial = None if since.day == 1 else since.replace(day=1)
        terms.append(
            (
                product_id,
                weight,
                kpi_id,
                Direction(direction),
                kpi_baseline if baseline is None else baseline,
                value_per_unit,
                first_month,
                partial,
                since,
            )
        )

    current = Measurement.objects.filter(in_months, is_current=True)
    kpis = None if product_ids is None else sorted({row[2] for row in terms})
    by_month: dict[int, list[tuple[date, int, Decimal]]] = defaultdict(list)
    if kpis is None or kpis:
        scoped = current if kpis is None else current.filter(kpi_id__in=kpis)
        for kpi_id, month, count, value_sum in (
            scoped.annotate(month=TruncMonth("period_start"))
            .values_list("kpi_id", "month")
            .annotate(count=Count("pk"), value_sum=Sum("value"))
            .order_by()
        ):
            by_month[kpi_id].append((_as_date(month), count, Decimal(value_sum)))

    partial_months = {(row[2], row[7]) for row in terms if row[7] is not None}
    by_period: dict[tuple[int, date], list[tuple[date, Decimal]]] = defaultdict(list)
    if partial_months:
        first = min(month for _, month in partial_months)
        last = add_months(max(month for _, month in partial_months), 1)
        for kpi_id, period_start, measured in current.filter(
            kpi_id__in=sorted({kpi for kpi, _ in partial_months}), period_start__gte=first, period_start__lt=last
        ).values_list("kpi_id", "period_start", "value"):
            key = (kpi_id, period_start.replace(day=1))
            if key in partial_months:
                by_period[key].append((period_start, measured))

    value: dict[tuple[int, date], Decimal] = defaultdict(lambda: ZERO)
    for product_id, weight, kpi_id, direction, baseline, value_per_unit, first_month, partial, since in terms:
        for month, count, value_sum in by_month.get(kpi_id, ()):
            if first_month is None or month >= first_month:
                value[product_id, month] += weight * summed_value(direction, baseline, value_per_unit, count, value_sum)
        if partial is not None:
            counted = [
                measured for period_start, measured in by_period.get((kpi_id, partial), ()) if period_start >= since
            ]
            if counted:
                value[product_id, partial] += weight * summed_value(
                    direction, baseline, value_per_unit, len(counted), sum(counted, ZERO)
                )

    cost: dict[tuple[int, date], Decimal] = {}
    for product_id, month, amount in (
        CostEntry.objects.filter(in_products, in_months, is_current=True)
        .values_list("data_product_id", "period_start")
        .annotate(amount=Sum("amount"))
        .order_by()
    ):
        cost[product_id, month] = cost.get((product_id, month), ZERO) + Decimal(amount)

    wanted = None if product_ids is None else set(product_ids)
    figures: Figures = {}
    for key in value.keys() | cost.keys():
        if wanted is not None and key[0] not in wanted:
            continue
        month_value, month_cost = value.get(key, ZERO), cost.get(key, ZERO)
        if month_value or month_cost:
            figures[key] = (month_value, month_cost)
    return figures


def _as_date(value: date) -> date:
    # TruncMonth over a DateField gives a date on PostgreSQL and SQLite alike; be strict anyway.
    return value if type(value) is date else value.date()  # type: ignore[attr-defined]


def _take_changes() -> list[tuple[int | None, int | None, date | None]]:
    """Remove the pending marks and return them (distinct). Call with the rollup's lock held."""
    table = RollupChange._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"WITH taken AS (DELETE FROM {table} RETURNING kpi_id, data_product_id, month)"  # noqa: S608
                " SELECT DISTINCT kpi_id, data_product_id, month FROM taken"
            )
            return list(cursor.fetchall())
    # SQLite has one writer, and the lock above took its write lock: nothing commits in between.
    marks = list(RollupChange.objects.values_list("kpi_id", "data_product_id", "month").distinct())
    RollupChange.objects.all().delete()
    return marks


def _pending() -> bool:
    return RollupChange.objects.exists()


def monthly_rollup_refresh(*, wait: bool = True) -> RollupRefresh | None:
    """Recompute the product months marked as changed since the last refresh; None if skipped.

    `wait=False` (the pages): skip at once when nothing is pending or another refresh runs (the
    page then shows the figures of the last refresh). A fixed number of queries: the marks, the
    KPIs' products, two recomputes (products with every month marked, and the rest over the span
    of their marked months) and their replacement, in batches of ids.
    """
    if not wait and not _pending():
        return None
    with transaction.atomic():
        if wait:
            job_lock(ROLLUP_JOB)
        elif not job_try_lock(ROLLUP_JOB):
            return None
        marks = _take_changes()
        if not marks:
            return RollupRefresh(changes=0, products=0, months_written=0)
        kpi_totals_refresh(marks)  # the KPIs' running totals, from the same marks (PostgreSQL)
        kpi_ids = sorted({kpi_id for kpi_id, _, _ in marks if kpi_id is not None})
        products_of_kpi: dict[int, list[int]] = defaultdict(list)
        for kpi_id, product_id in _in_batches(
            kpi_ids, lambda batch: Attribution.objects.filter(kpi_id__in=batch).values_list("kpi_id", "data_product_id")
        ):
            products_of_kpi[kpi_id].append(product_id)

        every_month: set[int] = set()
        some_months: dict[int, set[date]] = defaultdict(set)
        for kpi_id, product_id, month in marks:
            for target in products_of_kpi.get(kpi_id, ()) if kpi_id is not None else (product_id,):
                if target is None:
                    continue
                if month is None:
                    every_month.add(target)
                else:
                    some_months[target].add(month)
        for product_id in every_month:
            some_months.pop(product_id, None)

        written = 0
        span: tuple[date | None, date | None] = (None, None)
        if every_month:
            written += _replace(every_month, None, None)
        if some_months:
            first = min(min(months) for months in some_months.values())
            last = add_months(max(max(months) for months in some_months.values()), 1)
            written += _replace(set(some_months), first, last)
            if not every_month:
                span = (first, last)
        _domain_totals_replace(*span)
        return RollupRefresh(changes=len(marks), products=len(every_month) + len(some_months), months_written=written)


def _replace(product_ids: set[int], start: date | None, end: date | None) -> int:
    """Recompute `product_ids` over `[start, end)` and replace their rollup rows there; rows written."""
    if connection.vendor == "postgresql":
        return _replace_in_database(product_ids, start, end)
    figures = monthly_figures_compute(product_ids=product_ids, start=start, end=end)
    for batch in _batches(sorted(product_ids)):
        MonthlyFigure.objects.filter(_months(start, end), data_product_id__in=batch).delete()
    rows = [
        MonthlyFigure(data_product_id=product_id, month=month, value=_stored(value), cost=_stored(cost))
        for (product_id, month), (value, cost) in figures.items()
    ]
    MonthlyFigure.objects.bulk_create(rows, batch_size=_BATCH)
    return len(rows)


def _replace_in_database(product_ids: set[int], start: date | None, end: date | None) -> int:
    """`_replace` on PostgreSQL: the same figures as `monthly_figures_compute`, summed in exact numeric.

    Two statements whatever the number of products (their ids go as one array, joined): a delete,
    and one `INSERT ... SELECT` that sums per KPI and month before meeting the attributions (whole
    months on or after `credited_from`), adds the measurements of each mid-month start's own month
    from that day on, and joins the costs.
    `rollup_check` compares the result with the Python arithmetic of `monthly_figures_compute`.
    """
    params: dict[str, Any] = {
        "products": sorted(product_ids),
        "start": start,
        "end": end,
        "decrease": Direction.DECREASE.value,
    }
    in_period, month_in_range = "", ""
    if start is not None:
        in_period += " AND period_start >= %(start)s"
        month_in_range += " AND date_trunc('month', a.since) >= %(start)s"
    if end is not None:
        in_period += " AND period_start < %(end)s"
        month_in_range += " AND date_trunc('month', a.since) < %(end)s"
    figure_table, measurement_table = MonthlyFigure._meta.db_table, Measurement._meta.db_table
    # Only our models' table names and fixed fragments go into the text; values are parameters.
    insert = f"""
        WITH a AS (
            SELECT a.data_product_id AS product_id, a.kpi_id, a.weight, k.value_per_unit,
                coalesce(a.baseline, k.baseline) AS baseline, k.direction = %(decrease)s AS decrease,
                CASE WHEN p.launched_on IS NULL THEN a.starts_on WHEN a.starts_on IS NULL THEN p.launched_on
                     ELSE greatest(p.launched_on, a.starts_on) END AS since
            FROM {Attribution._meta.db_table} a
            JOIN {DataProduct._meta.db_table} p ON p.id = a.data_product_id
            JOIN {KPI._meta.db_table} k ON k.id = a.kpi_id
            JOIN unnest(%(products)s::bigint[]) wanted(id) ON wanted.id = a.data_product_id
        ),
        s AS (
            SELECT kpi_id, date_trunc('month', period_start)::date AS month, count(*) AS n, sum(value) AS total
            FROM {measurement_table}
            WHERE is_current {in_period} AND kpi_id IN (SELECT kpi_id FROM a)
            GROUP BY 1, 2
        ),
        v AS (
            SELECT product_id, month, sum(value) AS value FROM (
                SELECT a.product_id, s.month, a.weight * a.value_per_unit
                    * CASE WHEN a.decrease THEN a.baseline * s.n - s.total ELSE s.total - a.baseline * s.n END AS value
                FROM a JOIN s ON s.kpi_id = a.kpi_id
                WHERE a.since IS NULL OR s.month >= a.since
                UNION ALL
                SELECT a.product_id, date_trunc('month', a.since)::date, a.weight * a.value_per_unit
                    * CASE WHEN a.decrease THEN a.baseline - m.value ELSE m.value - a.baseline END
                FROM a JOIN {measurement_table} m ON m.kpi_id = a.kpi_id AND m.is_current
                    AND m.period_start >= a.since AND m.period_start < date_trunc('month', a.since) + interval '1 month'
                WHERE extract(day FROM a.since) <> 1 {month_in_range}
            ) credited
            GROUP BY 1, 2
        ),
        c AS (
            SELECT data_product_id AS product_id, period_start AS month, sum(amount) AS cost
            FROM {CostEntry._meta.db_table}
            JOIN unnest(%(products)s::bigint[]) wanted(id) ON wanted.id = data_product_id
            WHERE is_current {in_period}
            GROUP BY 1, 2
        )
        INSERT INTO {figure_table} (data_product_id, month, value, cost)
        SELECT coalesce(v.product_id, c.product_id), coalesce(v.month, c.month),
            round(coalesce(v.value, 0), 10), round(coalesce(c.cost, 0), 10)
        FROM v FULL JOIN c ON c.product_id = v.product_id AND c.month = v.month
        WHERE coalesce(v.value, 0) <> 0 OR coalesce(c.cost, 0) <> 0
    """  # noqa: S608
    delete_months = in_period.replace("period_start", "month")
    evaluation_session_tune()  # the same big grouped sums as an evaluation's
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {figure_table} USING unnest(%(products)s::bigint[]) wanted(id)"  # noqa: S608
            f" WHERE data_product_id = wanted.id {delete_months}",
            params,
        )
        cursor.execute(insert, params)
        return cursor.rowcount


def monthly_rollup_rebuild() -> int:
    """Recompute the whole rollup from the raw rows (after a restore, or to repair it); rows written."""
    with transaction.atomic():
        job_lock(ROLLUP_JOB)
        _take_changes()
        MonthlyFigure.objects.all().delete()
        kpi_totals_rebuild()
        written = _replace(set(DataProduct.objects.values_list("pk", flat=True)), None, None)
        _domain_totals_replace(None, None)
        return written


def _domain_totals_replace(start: date | None, end: date | None) -> None:
    """Re-sum every domain's months in `[start, end)` (None: unbounded) from the product rows (two queries)."""
    DomainMonthlyFigure.objects.filter(_months(start, end)).delete()
    DomainMonthlyFigure.objects.bulk_create(
        [
            DomainMonthlyFigure(domain_id=domain_id, month=month, value=value, cost=cost)
            for domain_id, month, value, cost in _domain_sums(start, end)
        ],
        batch_size=_BATCH,
    )


def _domain_sums(start: date | None, end: date | None) -> list[tuple[int, date, Decimal, Decimal]]:
    return list(
        MonthlyFigure.objects.filter(_months(start, end))
        .values("data_product__domain_id", "month")
        .annotate(value_sum=Sum("value"), cost_sum=Sum("cost"))
        .order_by()
        .values_list("data_product__domain_id", "month", "value_sum", "cost_sum")
    )


def _months(start: date | None, end: date | None) -> Q:
    in_months = Q()
    if start is not None:
        in_months &= Q(month__gte=start)
    if end is not None:
        in_months &= Q(month__lt=end)
    return in_months


@dataclass(frozen=True)
class RollupDifference:
    """A product month whose stored figures differ from a recomputation (None: no row)."""

    product_id: int
    month: date
    stored: tuple[Decimal, Decimal] | None
    recomputed: tuple[Decimal, Decimal] | None


def monthly_rollup_differences(*, refresh: bool = True) -> list[RollupDifference]:
    """Every product month where the rollup and a recomputation from the raw rows disagree.

    With `refresh`, pending marks are applied first (what the pages would show); without, the
    differences include what is merely pending. Compared at the stored precision.
    """
    if refresh:
        monthly_rollup_refresh()
    recomputed = {key: (_stored(value), _stored(cost)) for key, (value, cost) in monthly_figures_compute().items()}
    stored = {
        (product_id, month): (value, cost)
        for product_id, month, value, cost in MonthlyFigure.objects.values_list(
            "data_product_id", "month", "value", "cost"
        )
    }
    return [
        RollupDifference(product_id=key[0], month=key[1], stored=stored.get(key), recomputed=recomputed.get(key))
        for key in sorted(stored.keys() | recomputed.keys())
        if stored.get(key) != recomputed.get(key)
    ]


def domain_rollup_differences() -> list[
    tuple[int, date, tuple[Decimal, Decimal] | None, tuple[Decimal, Decimal] | None]
]:
    """Domain months whose stored totals are not the sum of their products' rows: (domain, month, stored, summed)."""
    summed = {(domain_id, month): (value, cost) for domain_id, month, value, cost in _domain_sums(None, None)}
    stored = {
        (domain_id, month): (value, cost)
        for domain_id, month, value, cost in DomainMonthlyFigure.objects.values_list(
            "domain_id", "month", "value", "cost"
        )
    }
    return [
        (key[0], key[1], stored.get(key), summed.get(key))
        for key in sorted(stored.keys() | summed.keys())
        if stored.get(key) != summed.get(key)
    ]


_QUANTUM = Decimal("1e-10")  # MonthlyFigure's decimal places


def _stored(amount: Decimal) -> Decimal:
    """`amount` at the rollup's precision, rounded half away from zero as PostgreSQL's numeric does."""
    return amount.quantize(_QUANTUM, rounding=ROUND_HALF_UP)


def _batches(ids: list[int]) -> Iterable[list[int]]:
    for index in range(0, len(ids), _BATCH):
        yield ids[index : index + _BATCH]


def _in_batches(ids: list[int], query: Callable[[list[int]], Iterable[tuple]]) -> Iterable[tuple]:
    for batch in _batches(ids):
        yield from query(batch)
