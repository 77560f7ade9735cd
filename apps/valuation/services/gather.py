"""The set-based reads of an evaluation: a fixed number of queries whatever the portfolio's size.

Every query covers the whole scope (the active products whose ids fall in one chunk's range)
at once and groups in the database; nothing here runs a query per product or per KPI.
Measurements are summed per KPI *before* they meet the attributions, which is the fast order
on PostgreSQL (see STACK.md). On PostgreSQL the sums per product are done there too, in exact
`numeric`, so Python reads one row per product; elsewhere (SQLite, the demo) each KPI is summed
once in Python, in `Decimal`, and shared by the products it serves. Both give the same figures
(tests/apps/valuation/test_gather_paths.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.db import connection
from django.db.models import Count, F, Max, Q, QuerySet, Sum

from apps.bets.models import BetStatus, ValueBet
from apps.catalog.models import DataProduct, Lifecycle
from apps.costs.models import CostEntry
from apps.governance.models import UNRESOLVED_STATUSES
from apps.kpis.models import KPI, Attribution, Measurement
from apps.usage.models import UsageRecord
from apps.valuation.models import Evaluation, EvaluationPolicy
from meshvalue.periods import Cadence, cadence_days
from meshvalue.valuation import (
    NO_USAGE,
    USAGE_DAYS,
    ZERO,
    Direction,
    DueBet,
    KpiEvidence,
    Policy,
    UsageFacts,
    attributed_sums,
    stale_kpis,
    summed_value,
)

ALL_PRODUCTS = (0, 2**62)


@dataclass(frozen=True)
class Scope:
    """The products one evaluation pass covers: active products with `first_id <= id < last_id`."""

    as_of: date
    first_id: int = ALL_PRODUCTS[0]
    last_id: int = ALL_PRODUCTS[1]

    @property
    def is_whole(self) -> bool:
        return (self.first_id, self.last_id) == ALL_PRODUCTS

    def products(self, prefix: str = "") -> Q:
        """Products (or rows whose `{prefix}id` names a product) in the scope's id range."""
        if self.is_whole:
            return Q()
        return Q(**{f"{prefix}id__gte": self.first_id, f"{prefix}id__lt": self.last_id})


class ProductInputs(NamedTuple):
    """What the rules (`meshvalue.valuation.evaluate_summed`) need about one product, summed.

    A named tuple rather than a frozen dataclass: one is built per product of the portfolio.
    """

    product_id: int
    policy: Policy
    launched_on: date | None
    owner: str
    kpi_count: int
    kpi_names: Sequence[str]  # read only when there is no evidence
    evidence: bool
    stale: Sequence[KpiEvidence]
    value: Decimal
    recent_value: Decimal
    cost: Decimal
    recent_cost: Decimal
    usage: UsageFacts
    due_bets: tuple[DueBet, ...]


@dataclass(frozen=True)
class PortfolioFacts:
    """What one pass read: the inputs of the rules for every product in scope."""

    products: list[ProductInputs]
    later_evaluated: frozenset[int]  # products with an evaluation after as_of: alerts are theirs


def rows(queryset: QuerySet) -> list[tuple]:
    """The rows of a `values_list` queryset as plain tuples.

    On PostgreSQL psycopg already returns Decimal, date and int, so the rows are fetched in one
    go without Django's per-row converters (a fifth of the evaluation's time at 10,000 products).
    Other databases need the converters (SQLite returns decimals as text or float).
    """
    if connection.vendor != "postgresql":
        return list(queryset)
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _policy(row: EvaluationPolicy) -> Policy:
    return Policy(
        window_days=row.window_days,
        recent_days=row.recent_days,
        grace_days=row.grace_days,
        retire_below=row.retire_below,
        invest_above=row.invest_above,
        stale_periods=row.stale_periods,
    )


def policies_by_domain() -> tuple[Policy, dict[int, Policy]]:
    """The default policy and the overrides by domain id (one query)."""
    default = Policy()
    by_domain: dict[int, Policy] = {}
    for row in EvaluationPolicy.objects.all():
        if row.is_default:
            default = _policy(row)
        elif row.domain_id is not None:
            by_domain[row.domain_id] = _policy(row)
    return default, by_domain


def _window_lengths(policies: list[Policy]) -> list[int]:
    return sorted({p.window_days for p in policies} | {p.recent_days for p in policies})


def _horizon_days(policies: list[Policy]) -> int:
    """How far back any rule looks: the longest window or staleness horizon."""
    longest_stale = max(p.stale_periods for p in policies) * max(cadence_days(c) for c in Cadence)
    return max([*_window_lengths(policies), longest_stale])


def portfolio_facts_gather(scope: Scope) -> PortfolioFacts:
    """Read everything the rules need about the products in `scope` in seven queries (eight off PostgreSQL)."""
    as_of = scope.as_of
    default, by_domain = policies_by_domain()
    all_policies = [default, *by_domain.values()]
    lengths = _window_lengths(all_policies)
    horizon = as_of - timedelta(days=_horizon_days(all_policies))
    # Rows of products outside the scope (or not active) are simply not looked up below, which
    # keeps joins to the product table out of the big scans.
    in_range = scope.products("data_product_")

    products = rows(
        DataProduct.objects.filter(scope.products(), lifecycle=Lifecycle.ACTIVE)
        .order_by("id")
        .values_list("id", "domain_id", "launched_on", "owner__username")
    )

    if _sums_in_database():
        summed = _product_kpis_summed(scope, lengths, horizon, all_policies)
        by_product: dict[int, list[tuple[Decimal, KpiEvidence]]] = {}
    else:
        summed = None
        by_product = _product_kpis_portable(scope, lengths, horizon)

    # The longest window is the scan's own bounds: no filter for it.
    cost_aggregates = {
        f"cost_{length}": Sum("amount", filter=Q(period_start__gte=as_of - timedelta(days=length)))
        if length < max(lengths)
        else Sum("amount")
        for length in lengths
    }
    costs = {
        product_id: sums
        for product_id, *sums in rows(
            CostEntry.objects.filter(
                in_range, period_start__gte=as_of - timedelta(days=max(lengths)), period_start__lt=as_of
            )
            .order_by()
            .values("data_product_id")
            .annotate(**cost_aggregates)
            .values_list("data_product_id", *cost_aggregates)
        )
    }

    by_owner = Q(consumer=F("data_product__owner__username")) | (
        Q(consumer=F("data_product__owner__team")) & ~Q(data_product__owner__team="")
    )
    usage = {
        product_id: UsageFacts(total_uses=total or 0, owner_uses=owner or 0, consumers=consumers)
        for product_id, total, owner, consumers in rows(
            UsageRecord.objects.filter(
                in_range, day__gte=as_of - timedelta(days=USAGE_DAYS), day__lt=as_of, count__gt=0
            )
            .order_by()
            .values("data_product_id")
            .annotate(
                total_uses=Sum("count"),
                owner_uses=Sum("count", filter=by_owner),
                consumers=Count("consumer", distinct=True),
            )
            .values_list("data_product_id", "total_uses", "owner_uses", "consumers")
        )
    }

    due_bets: dict[int, list[DueBet]] = defaultdict(list)
    for product_id, bet_id, review_on, expected_value, realised_value in (
        ValueBet.objects.filter(in_range, status=BetStatus.OPEN, review_on__lte=as_of)
        .order_by("review_on", "id")
        .values_list("data_product_id", "id", "review_on", "expected_value", "realised_value")
    ):
        due_bets[product_id].append(DueBet(bet_id, review_on, expected_value, realised_value))

    later_evaluated = frozenset(
        Evaluation.objects.filter(in_range, as_of__gt=as_of).order_by().values_list("data_product_id", flat=True)
    )

    inputs: list[ProductInputs] = []
    length_index = {length: index for index, length in enumerate(lengths)}
    no_costs = [None] * len(lengths)
    no_kpis = (0, [ZERO] * len(lengths), [0] * len(lengths), None, None)
    no_attributions: list[tuple[Decimal, KpiEvidence]] = []
    for product_id, domain_id, launched_on, owner in products:
        policy = by_domain.get(domain_id, default)
        window, recent = length_index[policy.window_days], length_index[policy.recent_days]
        if summed is not None:
            kpi_count, values, measured, names, stale_candidates = summed.get(product_id, no_kpis)
            value, recent_value, evidence = values[window], values[recent], measured[window] > 0
            stale = stale_kpis(stale_candidates, as_of, policy.stale_periods) if stale_candidates else ()
        else:
            pairs = by_product.get(product_id, no_attributions)
            value, recent_value, evidence, stale = attributed_sums(pairs, policy, as_of)
            kpi_count, names = len(pairs), None if evidence else [kpi.name for _, kpi in pairs]
        cost = costs.get(product_id, no_costs)
        inputs.append(
            ProductInputs(
                product_id,
                policy,
                launched_on,
                owner,
                kpi_count,
                names or (),
                evidence,
                stale,
                value,
                recent_value,
                cost[window] or ZERO,
                cost[recent] or ZERO,
                usage.get(product_id, NO_USAGE),
                tuple(due_bets.get(product_id, ())),
            )
        )
    return PortfolioFacts(products=inputs, later_evaluated=later_evaluated)


def _sums_in_database() -> bool:
    """Whether the database sums per product exactly (PostgreSQL's numeric; SQLite's decimals are floats)."""
    return connection.vendor == "postgresql"


def _product_kpis_portable(
    scope: Scope, lengths: list[int], horizon: date
) -> dict[int, list[tuple[Decimal, KpiEvidence]]]:
    """Each product's (weight, KPI) pairs, every KPI summed once (two queries, any database)."""
    as_of = scope.as_of
    in_range = scope.products("data_product_")
    kpi_terms: dict[int, tuple[str, Direction, Decimal, Decimal, Cadence]] = {}
    attributions: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
    for product_id, kpi_id, weight, name, direction, baseline, value_per_unit, cadence in rows(
        Attribution.objects.filter(in_range)
        .order_by("data_product_id", "kpi_id")
        .values_list(
            "data_product_id",
            "kpi_id",
            "weight",
            "kpi__name",
            "kpi__direction",
            "kpi__baseline",
            "kpi__value_per_unit",
            "kpi__cadence",
        )
    ):
        if kpi_id not in kpi_terms:
            kpi_terms[kpi_id] = (name, _DIRECTIONS[direction], baseline, value_per_unit, _CADENCES[cadence])
        attributions[product_id].append((kpi_id, weight))

    # Sum per KPI first (STACK.md: before meeting the attributions), over every window length any
    # policy uses, in one grouped query. A whole-portfolio pass reads every KPI: filtering on the
    # attributed ones would cost a join per measurement row for nothing.
    measurements = Measurement.objects.filter(is_current=True, period_start__gte=horizon, period_start__lt=as_of)
    if not scope.is_whole:
        measurements = measurements.filter(
            kpi_id__in=Attribution.objects.filter(scope.products("data_product_")).values("kpi_id")
        )
    measurement_aggregates: dict[str, Count | Sum | Max] = {"latest": Max("period_start")}
    for length in lengths:
        since = Q(period_start__gte=as_of - timedelta(days=length))
        measurement_aggregates[f"count_{length}"] = Count("id", filter=since)
        measurement_aggregates[f"sum_{length}"] = Sum("value", filter=since)
    kpi_totals: dict[int, tuple] = {
        kpi_id: totals
        for kpi_id, *totals in rows(
            measurements.order_by()
            .values("kpi_id")
            .annotate(**measurement_aggregates)
            .values_list("kpi_id", *measurement_aggregates)
        )
    }
    # Each KPI's value per window length, once per pass, shared by every product it serves.
    never_measured = (None, *[0, None] * len(lengths))
    evidence: dict[int, KpiEvidence] = {}
    for kpi_id, (name, direction, baseline, value_per_unit, cadence) in kpi_terms.items():
        latest, *sums = kpi_totals.get(kpi_id, never_measured)
        counts = {length: sums[2 * index] for index, length in enumerate(lengths)}
        values = {
            length: summed_value(direction, baseline, value_per_unit, sums[2 * index], sums[2 * index + 1])
            for index, length in enumerate(lengths)
        }
        evidence[kpi_id] = KpiEvidence(kpi_id, name, cadence, latest, counts, values)

    return {
        product_id: [(weight, evidence[kpi_id]) for kpi_id, weight in pairs]
        for product_id, pairs in attributions.items()
    }


def _product_kpis_summed(
    scope: Scope, lengths: list[int], horizon: date, policies: list[Policy]
) -> dict[int, tuple[int, list[Decimal], list[int], list[str] | None, list[KpiEvidence] | None]]:
    """Per product, its KPIs summed by PostgreSQL in one grouped query (exact `numeric` arithmetic).

    For each window length: the product's value (the sum over its attributions of weight times
    `meshvalue.valuation.summed_value` of the KPI) and how many of its KPIs have a current
    measurement in the window; how many KPIs are attributed to it; the names of those with no
    measurement in the shortest policy window (all of them whenever the review rule needs their
    names, since every window ends at the evaluation date); and, with their latest
    period, the KPIs that are stale under the smallest `stale_periods` of any policy (a superset:
    the rules narrow it to the product's own policy). Measurements are summed per KPI before
    they meet the attributions (STACK.md); everything per KPI and per product stays in the
    database, so Python reads one row per product.
    """
    as_of = scope.as_of
    min_stale_periods = min(p.stale_periods for p in policies)
    shortest_window = lengths.index(min(p.window_days for p in policies))
    params: dict[str, object] = {"as_of": as_of, "horizon": horizon}
    kpi_sums, product_sums = [], []
    for index, length in enumerate(lengths):
        params[f"since_{index}"] = as_of - timedelta(days=length)
        # A window that reaches back to the horizon needs no filter: the scan's own bounds are its bounds.
        since = "" if params[f"since_{index}"] <= horizon else f" FILTER (WHERE period_start >= %(since_{index})s)"
        kpi_sums.append(f"count(*){since} AS count_{index}, sum(value){since} AS sum_{index}")
        improvement = (
            f"CASE WHEN k.direction = %(decrease)s THEN k.baseline * s.count_{index} - s.sum_{index}"
            f" ELSE s.sum_{index} - k.baseline * s.count_{index} END"
        )
        product_sums.append(
            f"coalesce(sum(a.weight * k.value_per_unit * {improvement}) FILTER (WHERE s.count_{index} > 0), 0)"
            f" AS value_{index}, count(*) FILTER (WHERE s.count_{index} > 0) AS measured_{index}"
        )
    params["decrease"] = Direction.DECREASE.value
    for cadence in Cadence:
        params[f"fresh_{cadence.value}"] = as_of - timedelta(days=min_stale_periods * cadence_days(cadence))
    fresh_since = " ".join(f"WHEN %({c.value})s THEN %(fresh_{c.value})s::date" for c in Cadence)
    params.update({cadence.value: cadence.value for cadence in Cadence})
    in_range, kpis_in_range = "", ""
    if not scope.is_whole:
        params.update(first_id=scope.first_id, last_id=scope.last_id)
        in_range = "AND a.data_product_id >= %(first_id)s AND a.data_product_id < %(last_id)s"
        kpis_in_range = (
            f"AND kpi_id IN (SELECT kpi_id FROM {Attribution._meta.db_table}"  # noqa: S608 (see below)
            " WHERE data_product_id >= %(first_id)s AND data_product_id < %(last_id)s)"
        )
    # Only our models' table names and generated placeholders go into the text; values are parameters.
    sql = f"""
        WITH s AS (
            SELECT kpi_id, max(period_start) AS latest, {", ".join(kpi_sums)}
            FROM {Measurement._meta.db_table}
            WHERE is_current AND period_start >= %(horizon)s AND period_start < %(as_of)s {kpis_in_range}
            GROUP BY kpi_id
        )
        SELECT a.data_product_id, count(*), {", ".join(product_sums)},
            array_agg(k.name) FILTER (WHERE coalesce(s.count_{shortest_window}, 0) = 0),
            json_agg(json_build_array(a.kpi_id, k.name, k.cadence, s.latest) ORDER BY a.kpi_id)
                FILTER (WHERE s.latest IS NULL OR s.latest < CASE k.cadence {fresh_since} END)
        FROM {Attribution._meta.db_table} a
        JOIN {KPI._meta.db_table} k ON k.id = a.kpi_id
        LEFT JOIN s ON s.kpi_id = a.kpi_id
        WHERE true {in_range}
        GROUP BY a.data_product_id
    """  # noqa: S608
    summed = {}
    width = len(lengths)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for product_id, kpi_count, *columns in cursor.fetchall():
            names, stale = columns[2 * width], columns[2 * width + 1]
            summed[product_id] = (
                kpi_count,
                columns[0 : 2 * width : 2],
                columns[1 : 2 * width : 2],
                names,
                [
                    KpiEvidence(
                        kpi_id, name, _CADENCES[cadence], date.fromisoformat(latest) if latest else None, {}, {}
                    )
                    for kpi_id, name, cadence, latest in stale
                ]
                if stale
                else None,
            )
    return summed


_DIRECTIONS = {direction.value: direction for direction in Direction}
_CADENCES = {cadence.value: cadence for cadence in Cadence}


def product_buckets(*, chunk_size: int) -> list[int]:
    """The chunk numbers (`id // chunk_size`) with an active product or an unresolved alert (one query).

    Chunks are ranges of ids, not positions, so the same chunk of two runs covers the same
    products even if products were added in between: the per-chunk lock then keeps them apart.
    """
    ids = (
        DataProduct.objects.filter(Q(lifecycle=Lifecycle.ACTIVE) | Q(alerts__status__in=UNRESOLVED_STATUSES))
        .order_by()
        .values_list("id", flat=True)
        .distinct()
    )
    return sorted({product_id // chunk_size for product_id in ids})
