"""KPI reads: KPIs with their attributions, and recorded outcomes."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from decimal import Decimal

from django.db import connection
from django.db.models import F, Func, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Window
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, RowNumber

from apps.core.sql import IdArray, int_array
from apps.kpis.models import KPI, Attribution, Measurement


def kpi_list() -> QuerySet[KPI]:
    """Every KPI, by goal id and name, with its attributions prefetched (one query per page).

    By the goal's id, not its name: a page is then read off the unique (goal, name) index, where
    sorting 20,000 KPIs by their goals' names took 37 ms for every page (issue 16).
    """
    return KPI.objects.prefetch_related(
        Prefetch("attributions", queryset=Attribution.objects.order_by("data_product_id"))
    ).order_by("goal_id", "name")


def measurement_list() -> QuerySet[Measurement]:
    """Every recorded outcome, every revision, newest period first."""
    return Measurement.objects.order_by("kpi_id", "-period_start", "-revision", "-id")


def measurements_by_ids(ids: Sequence[int]) -> list[Measurement]:
    """The measurements with `ids`, in that order (an id given twice is listed twice), in one query."""
    by_id = Measurement.objects.filter(pk__any_of=IdArray.of(sorted(set(ids)))).in_bulk()
    return [by_id[pk] for pk in ids]


def attribution_list_for_products(*, product_ids: list[int]) -> QuerySet[Attribution]:
    """The attributions of the given products with their KPI and its goal joined (one query)."""
    return (
        Attribution.objects.filter(data_product_id__in=product_ids)
        .select_related("kpi", "kpi__goal")
        .order_by("data_product_id", "kpi__goal__slug", "kpi__name", "kpi_id")
    )


def first_kpis_of_goals(*, goal_ids: Collection[int], per_goal: int) -> QuerySet[KPI]:
    """The first `per_goal` KPIs of each goal, by name (names are unique per goal), as one queryset.

    PostgreSQL probes each goal's KPIs off the unique (goal, name) index and stops after
    `per_goal`: ranking every KPI of a goal measured by 20,000 took 50 ms. Elsewhere a window
    ranks them (the demo's goals have a few KPIs each).
    """
    ids = sorted(set(goal_ids))
    if connection.vendor == "postgresql":
        first = RawSQL(  # noqa: S611 (our table name; the ids and the limit are parameters)
            f"SELECT first.id FROM unnest(%s::bigint[]) AS goal(id) CROSS JOIN LATERAL"  # noqa: S608 (our table)
            f" (SELECT id FROM {KPI._meta.db_table} WHERE goal_id = goal.id ORDER BY name LIMIT %s) first",
            [int_array(ids), per_goal],
        )
        return KPI.objects.filter(pk__in=first)
    ranked = KPI.objects.filter(goal_id__in=ids).annotate(
        rank=Window(RowNumber(), partition_by=F("goal_id"), order_by=F("name").asc())
    )
    return KPI.objects.filter(pk__in=ranked.filter(rank__lte=per_goal).values("pk"))


def kpi_count_of_goal() -> Coalesce:
    """An annotation for goals: how many KPIs measure each, counted per goal of the result (off the goal index)."""
    # A plain count(*) per goal, without the GROUP BY an aggregate would add: the planner then
    # counts off the goal index rather than scanning every KPI for each goal.
    counted = (
        KPI.objects.filter(goal=OuterRef("pk"))
        .order_by()
        .annotate(n=Func(function="COUNT", template="count(*)", output_field=IntegerField()))
    )
    return Coalesce(Subquery(counted.values("n")[:1]), 0)


def kpi_list_of_goals(*, goal_ids: Collection[int]) -> QuerySet[KPI]:
    """The KPIs of these goals with their attributions prefetched; two queries."""
    return (
        KPI.objects.filter(goal_id__in=list(goal_ids))
        .select_related("goal")
        .prefetch_related(Prefetch("attributions", queryset=Attribution.objects.order_by("data_product_id")))
        .order_by("goal_id", "name")
    )


def current_outcomes(*, kpi_id: int) -> dict[date, Decimal]:
    """The current value of each period of one KPI (one query)."""
    return dict(
        Measurement.objects.filter(kpi_id=kpi_id, is_current=True).values_list("period_start", "value").order_by()
    )


def sourced_kpis(*, cadence: str | None = None) -> QuerySet[KPI]:
    """The KPIs pulled from a data source (of one cadence when given), by id."""
    queryset = KPI.objects.filter(source__isnull=False).exclude(source_query="")
    if cadence is not None:
        queryset = queryset.filter(cadence=cadence)
    return queryset.order_by("id")


def kpi_latest_outcomes(kpi_ids: list[int]) -> dict[int, Measurement]:
    """The latest current outcome of each KPI (by period), the baseline a new attribution proposes. One query."""
    latest: dict[int, Measurement] = {}
    for measurement in (
        Measurement.objects.filter(kpi_id__in=kpi_ids, is_current=True)
        .order_by("kpi_id", "-period_start")
        .distinct("kpi_id")
        if connection.vendor == "postgresql"
        else Measurement.objects.filter(kpi_id__in=kpi_ids, is_current=True).order_by("kpi_id", "-period_start")
    ):
        latest.setdefault(measurement.kpi_id, measurement)
    return latest
