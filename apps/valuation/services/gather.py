"""The set-based reads of an evaluation: one `ProductInput` per product, a fixed number of queries.

`product_inputs_gather(scope)` is the one way in. Every query covers the whole scope (the active
products whose ids fall in one chunk's range) at once and groups in the database; nothing here
runs a query per product or per KPI. Two paths produce the same inputs for the core
(`meshvalue.valuation.evaluate`), tested equal in tests/apps/valuation/test_gather_paths.py:

- PostgreSQL sums in exact `numeric`. Measurements are summed per KPI *before* they meet the
  attributions (the fast order, STACK.md), and those sums are shared by every attribution that is
  credited for the whole window. Only attributions credited from a date inside the window (a
  product launched, or linked, late) sum their own measurements since `credited_from`. Python
  reads one row per product.
- Elsewhere (SQLite, the demo) the current measurements in the horizon are read once and the
  core's `attribution_value` sums them in Decimal.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Count, F, Q, Sum

from apps.bets.models import BetStatus, ValueBet
from apps.catalog.models import ConsciousDebt, DataProduct, Lifecycle
from apps.core.sql import plain_rows
from apps.costs.models import CostEntry
from apps.governance.models import UNRESOLVED_STATUSES, Decision
from apps.kpis.models import KPI, Attribution, Measurement
from apps.sources.selectors import kpi_sources_failing
from apps.usage.models import UsageRecord
from apps.valuation.models import Evaluation, EvaluationRun, RunStatus
from apps.valuation.selectors import policies_by_domain
from apps.valuation.services import kpi_totals
from apps.valuation.services.locks import evaluation_session_tune
from meshvalue.periods import Cadence, cadence_days
from meshvalue.valuation import (
    NO_USAGE,
    USAGE_DAYS,
    ZERO,
    AttributionTerms,
    DecisionOnKind,
    Direction,
    DueBet,
    DueDebt,
    FailingSource,
    KpiFreshness,
    KpiTerms,
    Policy,
    ProductInput,
    UsageFacts,
    Window,
    attribution_value,
    credited_from,
    fresh_since,
    is_stale,
)

logger = logging.getLogger(__name__)

ALL_PRODUCTS = (0, 2**62)


@dataclass(frozen=True)
class Scope:
    """The products one evaluation pass covers: active products with `first_id <= id < last_id`."""

    as_of: date
    first_id: int = ALL_PRODUCTS[0]
    last_id: int = ALL_PRODUCTS[1]
    # The run whose shared KPI figures (`kpi_figures_share`) this chunk reads instead of summing for itself.
    run_id: int | None = None

    @property
    def is_whole(self) -> bool:
        return (self.first_id, self.last_id) == ALL_PRODUCTS

    @property
    def product_range(self) -> tuple[int, int] | None:
        """`(first_id, last_id)`, or None for the whole portfolio."""
        return None if self.is_whole else (self.first_id, self.last_id)

    def products(self, prefix: str = "") -> Q:
        """Products (or rows whose `{prefix}id` names a product) in the scope's id range."""
        if self.is_whole:
            return Q()
        return Q(**{f"{prefix}id__gte": self.first_id, f"{prefix}id__lt": self.last_id})


@dataclass(frozen=True)
class GatheredInputs:
    """What one pass read: the core's input for every product in scope."""

    products: list[ProductInput]
    later_evaluated: frozenset[int]  # products with an evaluation after as_of: alerts are theirs


def _window_lengths(policies: list[Policy]) -> list[int]:
    return sorted({p.window_days for p in policies} | {p.recent_days for p in policies})


def _windows(as_of: date, policies: list[Policy]) -> tuple[list[int], date]:
    """A pass's window lengths and the oldest period any of its rules reads (the same for every chunk)."""
    return _window_lengths(policies), as_of - timedelta(days=_horizon_days(policies))


def _horizon_days(policies: list[Policy]) -> int:
    """How far back any rule looks: the longest window or staleness horizon."""
    longest_stale = max(p.stale_periods for p in policies) * max(cadence_days(c) for c in Cadence)
    return max([*_window_lengths(policies), longest_stale])


@dataclass(frozen=True, slots=True)
class _KpiFigures:
    """A product's attributed KPIs, summed: values and measured-KPI counts per window length."""

    kpi_count: int
    values: Sequence[Decimal]
    measured: Sequence[int]
    names: tuple[str, ...]
    freshness: tuple[KpiFreshness, ...]


def product_inputs_gather(
    scope: Scope,
    *,
    policy_overrides: dict[int | None, Policy] | None = None,
    bets_measure: Callable[[], object] | None = None,
    sums_aside: bool = False,
) -> GatheredInputs:
    """Read everything the rules need about the products in `scope`: the core's input per product.

    A fixed number of queries, whatever the number of products. `policy_overrides` replaces the
    stored policies (key None: the default; an int: a domain's), for previews that store nothing.
    `bets_measure`, the pass's measurement of due bets, runs before their figures are read, while
    the KPI sums are read. `sums_aside`: the caller's transaction is its own, begun for this pass
    (nobody else's uncommitted rows in it), so the sums may be read on a second connection
    (`_KpiSumsAside`).
    """
    as_of = scope.as_of
    default, by_domain = policies_by_domain()
    if policy_overrides:
        default = policy_overrides.get(None, default)
        by_domain.update({domain_id: p for domain_id, p in policy_overrides.items() if domain_id is not None})
    all_policies = [default, *by_domain.values()]
    lengths, horizon = _windows(as_of, all_policies)
    # Rows of products outside the scope (or not active) are simply not looked up below, which
    # keeps joins to the product table out of the big scans.
    in_range = scope.products("data_product_")

    def products_read() -> list[tuple]:
        return plain_rows(
            DataProduct.objects.filter(scope.products(), lifecycle=Lifecycle.ACTIVE)
            .order_by("id")
            .values_list("id", "domain_id", "launched_on", "owner__username")
        )

    products: list[tuple] | None = None
    kpi_figures: dict[int, _KpiFigures] | None = None
    aside: _KpiSumsAside | None = None
    if _sums_in_database():
        if scope.run_id is not None and not policy_overrides:
            window_key = _window_key(as_of, lengths, horizon, all_policies)
            products = products_read()
            kpi_figures = _kpi_figures_shared(scope, window_key, len(lengths), products)
        if kpi_figures is None and sums_aside and settings.MESHVALUE_EVALUATION_SUMS_ASIDE:
            # The longest read of the pass: on a second connection, while this one reads the rest
            # (the products too: the sums do not need them).
            aside = _KpiSumsAside.start(_kpi_figures_sql(scope, lengths, horizon, all_policies), width=len(lengths))
    else:
        kpi_figures = _kpi_figures_portable(scope, lengths, horizon, default, by_domain)
    if products is None:
        products = products_read()
    if bets_measure is not None:
        bets_measure()
    costs = _costs(scope, lengths)
    usage = _usage(scope)
    due_bets = _due_bets(scope)
    due_debts = _due_debts(scope)
    decisions = _decisions(scope)
    failing_sources = _failing_sources(scope)
    later_evaluated = frozenset(
        Evaluation.objects.filter(in_range, as_of__gt=as_of).order_by().values_list("data_product_id", flat=True)
    )
    if kpi_figures is None:
        kpi_figures = (
            aside.figures() if aside is not None else _kpi_figures_summed(scope, lengths, horizon, all_policies)
        )

    length_index = {length: index for index, length in enumerate(lengths)}
    no_costs = [None] * len(lengths)
    inputs: list[ProductInput] = []
    for product_id, domain_id, launched_on, owner in products:
        policy = by_domain.get(domain_id, default)
        window, recent = length_index[policy.window_days], length_index[policy.recent_days]
        figures = kpi_figures.get(product_id)
        cost = costs.get(product_id, no_costs)
        inputs.append(
            ProductInput(
                product_id=product_id,
                policy=policy,
                launched_on=launched_on,
                owner=owner,
                kpi_count=figures.kpi_count if figures else 0,
                value=figures.values[window] if figures else ZERO,
                recent_value=figures.values[recent] if figures else ZERO,
                measured_kpis=figures.measured[window] if figures else 0,
                kpi_names=figures.names if figures else (),
                freshness=figures.freshness if figures else (),
                cost=cost[window] or ZERO,
                recent_cost=cost[recent] or ZERO,
                usage=usage.get(product_id, NO_USAGE),
                due_bets=due_bets.get(product_id, ()),
                due_debts=due_debts.get(product_id, ()),
                failing_sources=failing_sources.get(product_id, ()),
                decisions=decisions.get(product_id, ()),
            )
        )
    return GatheredInputs(products=inputs, later_evaluated=later_evaluated)


def _sums_in_database() -> bool:
    """Whether the database sums per product exactly (PostgreSQL's numeric; SQLite's decimals are floats)."""
    return connection.vendor == "postgresql"


def _costs(scope: Scope, lengths: list[int]) -> dict[int, list[Decimal | None]]:
    """Each product's current cost entries summed per window length (credits included; one query)."""
    as_of = scope.as_of
    # The longest window is the scan's own bounds: no filter for it.
    aggregates = {
        f"cost_{length}": Sum("amount", filter=Q(period_start__gte=as_of - timedelta(days=length)))
        if length < max(lengths)
        else Sum("amount")
        for length in lengths
    }
    return {
        product_id: sums
        for product_id, *sums in plain_rows(
            CostEntry.objects.filter(
                scope.products("data_product_"),
                is_current=True,
                period_start__gte=as_of - timedelta(days=max(lengths)),
                period_start__lt=as_of,
            )
            .order_by()
            .values("data_product_id")
            .annotate(**aggregates)
            .values_list("data_product_id", *aggregates)
        )
    }


def _usage(scope: Scope) -> dict[int, UsageFacts]:
    """Uses of each product in the last USAGE_DAYS days, by anyone and by its owner (one query)."""
    as_of = scope.as_of
    by_owner = Q(consumer=F("data_product__owner__username")) | (
        Q(consumer=F("data_product__owner__team")) & ~Q(data_product__owner__team="")
    )
    return {
        product_id: UsageFacts(total_uses=total or 0, owner_uses=owner or 0, consumers=consumers)
        for product_id, total, owner, consumers in plain_rows(
            UsageRecord.objects.filter(
                scope.products("data_product_"),
                day__gte=as_of - timedelta(days=USAGE_DAYS),
                day__lt=as_of,
                count__gt=0,
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


def _due_bets(scope: Scope) -> dict[int, tuple[DueBet, ...]]:
    """The open bets due for review, with what they realised (measured earlier in the pass; one query)."""
    due: dict[int, list[DueBet]] = defaultdict(list)
    for product_id, *bet in (
        ValueBet.objects.filter(scope.products("data_product_"), status=BetStatus.OPEN, review_on__lte=scope.as_of)
        .order_by("review_on", "id")
        .values_list(
            "data_product_id", "id", "review_on", "expected_value", "realised_value", "expected_cost", "realised_cost"
        )
    ):
        due[product_id].append(DueBet(*bet))  # type: ignore[arg-type]  # the columns of DueBet, in order
    return {product_id: tuple(bets) for product_id, bets in due.items()}


def _due_debts(scope: Scope) -> dict[int, tuple[DueDebt, ...]]:
    """The unresolved conscious debts whose revisit date has come (one query)."""
    due: dict[int, list[DueDebt]] = defaultdict(list)
    for product_id, debt_id, title, revisit_on in ConsciousDebt.objects.filter(
        scope.products("data_product_"), resolved_at__isnull=True, revisit_on__lte=scope.as_of
    ).values_list("data_product_id", "id", "title", "revisit_on"):
        due[product_id].append(DueDebt(debt_id, title, revisit_on))
    return {product_id: tuple(debts) for product_id, debts in due.items()}


def _decisions(scope: Scope) -> dict[int, tuple[DecisionOnKind, ...]]:
    """The latest decision on an alert of each kind, per product, made by the evaluation date (one query)."""
    latest: dict[int, dict[str, DecisionOnKind]] = defaultdict(dict)
    for product_id, kind, decision_id, action, decided_at, revisit_on, rationale in (
        Decision.objects.filter(scope.products("data_product_"), alert__isnull=False)
        .order_by("data_product_id", "decided_at", "id")
        .values_list("data_product_id", "alert__kind", "id", "action", "decided_at", "revisit_on", "rationale")
    ):
        decided_on = decided_at.date()
        if decided_on <= scope.as_of:
            latest[product_id][kind] = DecisionOnKind(kind, decision_id, action, decided_on, revisit_on, rationale)
    return {product_id: tuple(by_kind.values()) for product_id, by_kind in latest.items()}


def _failing_sources(scope: Scope) -> dict[int, tuple[FailingSource, ...]]:
    """The KPIs attributed to each product whose last pull (scheduled, manual or by the command) failed.

    One query for the failing KPIs (apps.sources), and one for their attributions when there are any.
    """
    failing = kpi_sources_failing(as_of=scope.as_of)
    if not failing:
        return {}
    by_product: dict[int, list[FailingSource]] = defaultdict(list)
    for product_id, kpi_id in (
        Attribution.objects.filter(scope.products("data_product_"), kpi_id__in=sorted(failing))
        .order_by("data_product_id", "kpi_id")
        .values_list("data_product_id", "kpi_id")
    ):
        kpi_name, source_name, error = failing[kpi_id]
        by_product[product_id].append(FailingSource(kpi_name, source_name, error))
    return {product_id: tuple(sources) for product_id, sources in by_product.items()}


def _kpi_figures_portable(
    scope: Scope, lengths: list[int], horizon: date, default: Policy, by_domain: dict[int, Policy]
) -> dict[int, _KpiFigures]:
    """Each product's KPIs summed by the core in Decimal (two queries, any database)."""
    as_of = scope.as_of
    attributions: dict[int, list[AttributionTerms]] = defaultdict(list)
    stale_periods: dict[int, int] = {}
    kpi_terms: dict[int, KpiTerms] = {}
    for (
        product_id,
        domain_id,
        launched_on,
        kpi_id,
        weight,
        starts_on,
        baseline,
        name,
        direction,
        kpi_baseline,
        value_per_unit,
        cadence,
    ) in plain_rows(
        Attribution.objects.filter(scope.products("data_product_"), data_product__lifecycle=Lifecycle.ACTIVE)
        .order_by("data_product_id", "kpi_id")
        .values_list(
            "data_product_id",
            "data_product__domain_id",
            "data_product__launched_on",
            "kpi_id",
            "weight",
            "starts_on",
            "baseline",
            "kpi__name",
            "kpi__direction",
            "kpi__baseline",
            "kpi__value_per_unit",
            "kpi__cadence",
        )
    ):
        kpi = kpi_terms.get(kpi_id)
        if kpi is None:
            kpi = kpi_terms[kpi_id] = KpiTerms(
                kpi_id, name, _DIRECTIONS[direction], kpi_baseline, value_per_unit, _CADENCES[cadence]
            )
        attributions[product_id].append(AttributionTerms(kpi, weight, credited_from(launched_on, starts_on), baseline))
        stale_periods[product_id] = by_domain.get(domain_id, default).stale_periods

    measurements: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
    if kpi_terms:
        for kpi_id, period_start, value in Measurement.objects.filter(
            kpi_id__in=list(kpi_terms), is_current=True, period_start__gte=horizon, period_start__lt=as_of
        ).values_list("kpi_id", "period_start", "value"):
            measurements[kpi_id].append((period_start, value))
    latest = {kpi_id: max(period for period, _ in pairs) for kpi_id, pairs in measurements.items()}

    windows = [Window(as_of, length) for length in lengths]
    figures = {}
    for product_id, terms in attributions.items():
        values, measured = [], []
        for window in windows:
            value, count = ZERO, 0
            for attribution in terms:
                counted, attribution_total = attribution_value(
                    attribution, measurements.get(attribution.kpi.kpi_id, ()), window
                )
                value += attribution.weight * attribution_total
                count += counted > 0
            values.append(value)
            measured.append(count)
        figures[product_id] = _KpiFigures(
            kpi_count=len(terms),
            values=values,
            measured=measured,
            names=tuple(attribution.kpi.name for attribution in terms),
            freshness=tuple(
                KpiFreshness(kpi.kpi_id, kpi.name, kpi.cadence, latest.get(kpi.kpi_id))
                for kpi in (attribution.kpi for attribution in terms)
                if is_stale(latest.get(kpi.kpi_id), kpi.cadence, as_of, stale_periods[product_id])
            ),
        )
    return figures


def _kpi_figures_summed(
    scope: Scope, lengths: list[int], horizon: date, policies: list[Policy]
) -> dict[int, _KpiFigures]:
    """Per product, its KPIs summed by PostgreSQL in one grouped query (exact `numeric` arithmetic)."""
    return _kpi_figures_read(_kpi_figures_sql(scope, lengths, horizon, policies), width=len(lengths))


def _kpi_figures_read(query: _KpiFiguresQuery, *, width: int) -> dict[int, _KpiFigures]:
    """Run `_kpi_figures_sql`'s query on this thread's connection and read its rows by product."""
    with connection.cursor() as cursor:
        return _kpi_figures_of(query.rows(cursor), width=width)


_SNAPSHOT_ID = re.compile(r"[0-9A-F]+-[0-9A-F]+(-[0-9]+)?")


class _KpiSumsAside:
    """The KPI sums of a pass (`_kpi_figures_sql`), run on a second connection in a thread.

    That query is half of a pass; the pass's other reads (costs, usage, bets, decisions) and its
    Python work need the server and the client while it runs, so running it aside overlaps them
    (on two cores, the parallel scan of the measurements still takes both for most of it). The
    second connection reads exactly what this transaction reads: it imports this transaction's
    snapshot (`pg_export_snapshot`, then `SET TRANSACTION SNAPSHOT` in a read-only repeatable-read
    transaction), which sees every committed row this one sees and none committed since.

    Only when the pass's transaction is its own (`portfolio_chunk_evaluate` began it): an
    imported snapshot cannot see a transaction's uncommitted writes, so inside a caller's
    transaction (a test's, a command's) the sums stay on this connection. Off with
    `MESHVALUE_EVALUATION_SUMS_ASIDE=false` (a server short of connections). If the second
    connection fails (refused, too many clients), the pass sums on its own connection: slower,
    never wrong.
    """

    def __init__(self, snapshot: str, query: _KpiFiguresQuery, width: int) -> None:
        self._snapshot, self._query, self._width = snapshot, query, width
        self._rows: list[tuple] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._sum, name="meshvalue-kpi-sums", daemon=True)

    @classmethod
    def start(cls, query: _KpiFiguresQuery, *, width: int) -> _KpiSumsAside:
        """Start summing aside (this connection must be in the pass's own transaction)."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            (snapshot,) = cursor.fetchone()
        aside = cls(snapshot, query, width)
        aside._thread.start()
        return aside

    def _sum(self) -> None:
        aside = connections.create_connection(DEFAULT_DB_ALIAS)
        try:
            if not _SNAPSHOT_ID.fullmatch(self._snapshot):  # it goes into the text: only what the server makes
                raise ValueError(f"unexpected snapshot id {self._snapshot!r}")
            with aside.cursor() as cursor:
                cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                cursor.execute(f"SET TRANSACTION SNAPSHOT '{self._snapshot}'")
                evaluation_session_tune(aside)
                self._rows = self._query.rows(cursor)
                cursor.execute("COMMIT")
        except BaseException as error:  # handed to the pass, which sums on its own connection
            self._error = error
        finally:
            aside.close()

    def figures(self) -> dict[int, _KpiFigures]:
        """Wait for the sums; summed here on this connection instead if the second one failed."""
        self._thread.join()
        if self._rows is None:
            logger.warning("KPI sums aside failed (%s); summing on the pass's connection", type(self._error).__name__)
            return _kpi_figures_read(self._query, width=self._width)
        return _kpi_figures_of(self._rows, width=self._width)


def _kpi_figures_of(rows: list[tuple], *, width: int) -> dict[int, _KpiFigures]:
    """Rows laid out as `_kpi_figures_sql` selects them, by product id (rows with no KPI left out)."""
    figures = {}
    for product_id, kpi_count, *columns in rows:
        if not kpi_count:
            continue
        names, stale = columns[2 * width], columns[2 * width + 1]
        figures[product_id] = _KpiFigures(
            kpi_count=kpi_count,
            values=columns[0 : 2 * width : 2],
            measured=columns[1 : 2 * width : 2],
            names=tuple(names or ()),
            freshness=_freshness_of(stale),
        )
    return figures


def _freshness_of(stale: list[list] | None) -> tuple[KpiFreshness, ...]:
    """The `stale` column of `_kpi_figures_sql` (JSON `[kpi_id, name, cadence, latest]` lists) as the core's facts."""
    if not stale:
        return ()
    return tuple(
        KpiFreshness(kpi_id, name, _CADENCES[cadence], date.fromisoformat(latest) if latest else None)
        for kpi_id, name, cadence, latest in stale
    )


@dataclass(frozen=True)
class _KpiFiguresQuery:
    """`_kpi_figures_sql`'s query in its two forms: over the raw outcomes, and over the KPIs' running totals."""

    raw: str
    from_totals: str
    params: dict[str, Any]

    def rows(self, cursor: Any) -> list[tuple]:
        """Its rows, read from the running totals when they hold every outcome the cursor's snapshot sees.

        Asked on the same cursor (the same snapshot, on the pass's second connection): an outcome
        written since the last refresh sends this pass to the raw rows, which are never behind.
        """
        sql = self.from_totals if kpi_totals.kpi_totals_current(cursor) else self.raw
        cursor.execute(sql, self.params)
        return list(cursor.fetchall())


def _kpi_figures_sql(scope: Scope, lengths: list[int], horizon: date, policies: list[Policy]) -> _KpiFiguresQuery:
    """The query behind `_kpi_figures_summed`: one row per product with attributions in scope.

    Its columns: `product_id`, `kpi_count`, then for each window length i `value_i` (the sum over
    the product's attributions of weight times `meshvalue.valuation.summed_value` from the
    attribution's baseline) and `measured_i` (how many of its KPIs have a measurement that counts
    for it in the window); `names`, those with no such measurement in the shortest window
    (all of them whenever the review rule needs their names, since every window ends at the
    evaluation date); and `stale`, with their latest period, the KPIs that are stale under the
    smallest `stale_periods` of any policy (a superset: the core narrows it to the product's own).
    """
    as_of = scope.as_of
    min_stale_periods = min(p.stale_periods for p in policies)
    shortest_window = lengths.index(min(p.window_days for p in policies))
    params: dict[str, Any] = {
        "as_of": as_of,
        "horizon": horizon,
        "active": Lifecycle.ACTIVE.value,
        "decrease": Direction.DECREASE.value,
        "longest_since": as_of - timedelta(days=max(lengths)),
    }
    window_sums = []
    for index, length in enumerate(lengths):
        params[f"since_{index}"] = as_of - timedelta(days=length)
        # An attribution credited from inside this window counts its own measurements since then.
        late = f"a.credited_from > %(since_{index})s"
        count = f"(CASE WHEN {late} THEN coalesce(l.count, 0) ELSE coalesce(s.count_{index}, 0) END)"
        total = f"(CASE WHEN {late} THEN l.sum ELSE s.sum_{index} END)"
        improvement = (
            f"CASE WHEN k.direction = %(decrease)s THEN a.baseline * {count} - {total}"
            f" ELSE {total} - a.baseline * {count} END"
        )
        window_sums.append(
            f"coalesce(sum(a.weight * k.value_per_unit * ({improvement})) FILTER (WHERE {count} > 0), 0)"
            f" AS value_{index}, count(*) FILTER (WHERE {count} > 0) AS measured_{index}"
        )
        if index == shortest_window:
            shortest_count = count
    for cadence in Cadence:
        params[f"fresh_{cadence.value}"] = fresh_since(as_of, min_stale_periods)[cadence]
    fresh = " ".join(f"WHEN %({c.value})s THEN %(fresh_{c.value})s::date" for c in Cadence)
    params.update({cadence.value: cadence.value for cadence in Cadence})
    params.update(kpi_totals.kpi_totals_params(as_of, lengths))
    in_range, kpis_in_range = "", ""
    if not scope.is_whole:
        params.update(first_id=scope.first_id, last_id=scope.last_id)
        in_range = "AND p.id >= %(first_id)s AND p.id < %(last_id)s"
        kpis_in_range = (
            f"AND {{kpi}} IN (SELECT kpi_id FROM {Attribution._meta.db_table}"  # noqa: S608 (see below)
            " WHERE data_product_id >= %(first_id)s AND data_product_id < %(last_id)s)"
        )
    # Only our models' table names and generated placeholders go into the text; values are parameters.
    measurement_table = Measurement._meta.db_table
    raw_sums = _kpi_window_sums_select(as_of, lengths, horizon, kpis_in_range.format(kpi="kpi_id"))
    raw_late = f"""
            SELECT a.id, count(*) AS count, sum(m.value) AS sum
            FROM a JOIN {measurement_table} m ON m.kpi_id = a.kpi_id AND m.is_current
                AND m.period_start >= a.credited_from AND m.period_start < %(as_of)s
            WHERE a.credited_from > %(longest_since)s
            GROUP BY a.id"""  # noqa: S608
    totals_sums = kpi_totals.kpi_window_sums_from_totals(as_of, lengths, horizon, kpis_in_range.format(kpi="t.kpi_id"))
    start_row, count_before, sum_before = kpi_totals.late_totals_before("a.kpi_id", "a.credited_from")
    # A late attribution's own periods: every outcome before the date less those before its start.
    totals_late = f"""
            SELECT a.id, CASE WHEN a.credited_from < %(as_of)s THEN s.count_end - {count_before} ELSE 0 END AS count,
                CASE WHEN a.credited_from < %(as_of)s THEN s.sum_end - {sum_before} END AS sum
            FROM a JOIN s ON s.kpi_id = a.kpi_id
            JOIN {kpi_totals.TOTALS} t ON t.kpi_id = a.kpi_id
            {start_row}
            WHERE a.credited_from > %(longest_since)s"""  # noqa: S608
    return _KpiFiguresQuery(
        raw=_kpi_figures_select(raw_sums, raw_late, in_range, window_sums, shortest_count, fresh),
        from_totals=_kpi_figures_select(totals_sums, totals_late, in_range, window_sums, shortest_count, fresh),
        params=params,
    )


def _kpi_figures_select(
    kpi_sums: str, late_sums: str, in_range: str, window_sums: list[str], shortest_count: str, fresh: str
) -> str:
    """`_kpi_figures_sql`'s text around its per-KPI sums `s` and its late attributions' own sums `l`."""
    return f"""
        WITH s AS ({kpi_sums}),
        a AS (
            SELECT a.id, a.kpi_id, a.data_product_id, a.weight, coalesce(a.baseline, k.baseline) AS baseline,
                greatest(p.launched_on, a.starts_on) AS credited_from
            FROM {Attribution._meta.db_table} a
            JOIN {DataProduct._meta.db_table} p ON p.id = a.data_product_id
            JOIN {KPI._meta.db_table} k ON k.id = a.kpi_id
            WHERE p.lifecycle = %(active)s {in_range}
        ),
        l AS ({late_sums})
        SELECT a.data_product_id AS product_id, count(*) AS kpi_count,
            {", ".join(window_sums)},
            array_agg(k.name) FILTER (WHERE {shortest_count} = 0) AS names,
            json_agg(json_build_array(a.kpi_id, k.name, k.cadence, s.latest) ORDER BY a.kpi_id)
                FILTER (WHERE s.latest IS NULL OR s.latest < CASE k.cadence {fresh} END) AS stale
        FROM a
        JOIN {KPI._meta.db_table} k ON k.id = a.kpi_id
        LEFT JOIN s ON s.kpi_id = a.kpi_id
        LEFT JOIN l ON l.id = a.id
        GROUP BY a.data_product_id
    """  # noqa: S608


def _kpi_window_sums_select(as_of: date, lengths: list[int], horizon: date, kpis_in_range: str = "") -> str:
    """The per-KPI sums of current measurements over each window length, and the latest period.

    Parameters: `as_of`, `horizon` and `since_{i}` (the start of window i).
    """
    sums = []
    for index, length in enumerate(lengths):
        # A window that reaches back to the horizon needs no filter: the scan's own bounds are its bounds.
        reaches_horizon = as_of - timedelta(days=length) <= horizon
        since = "" if reaches_horizon else f" FILTER (WHERE period_start >= %(since_{index})s)"
        sums.append(f"count(*){since} AS count_{index}, sum(value){since} AS sum_{index}")
    return f"""
        SELECT kpi_id, max(period_start) AS latest, {", ".join(sums)}
        FROM {Measurement._meta.db_table}
        WHERE is_current AND period_start >= %(horizon)s AND period_start < %(as_of)s {kpis_in_range}
        GROUP BY kpi_id"""  # noqa: S608


_DIRECTIONS = {direction.value: direction for direction in Direction}
_CADENCES = {cadence.value: cadence for cadence in Cadence}


RUN_FIGURES_TABLE = "valuation_run_kpi_figures"  # PostgreSQL only, unlogged (migration 0012)


def _window_key(as_of: date, lengths: list[int], horizon: date, policies: list[Policy]) -> str:
    """What shared figures were summed over: a chunk reads them only if its own windows and rules are the same."""
    shortest = min(p.window_days for p in policies)
    min_stale = min(p.stale_periods for p in policies)
    return f"{as_of.isoformat()}/{horizon.isoformat()}/{','.join(map(str, lengths))}/{shortest}/{min_stale}"


def _kpi_figures_shared(
    scope: Scope, window_key: str, width: int, products: list[tuple]
) -> dict[int, _KpiFigures] | None:
    """The KPI figures of the scope's products as the run summed them when it began, or None.

    None (the chunk sums for itself) when the run shared none for these windows, or when an
    active product of the scope was not in the portfolio then (created or reactivated since).
    """
    params: dict[str, Any] = {"run_id": scope.run_id, "window_key": window_key}
    in_range = ""
    if not scope.is_whole:
        params.update(first_id=scope.first_id, last_id=scope.last_id)
        in_range = "AND product_id >= %(first_id)s AND product_id < %(last_id)s"
    # The same layout as `_kpi_figures_sql`'s rows; numbers read one by one (psycopg parses a numeric[] in Python).
    columns = ", ".join(f"figure_values[{i + 1}], measured[{i + 1}]" for i in range(width))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT product_id, kpi_count, {columns}, names, stale FROM {RUN_FIGURES_TABLE}"  # noqa: S608 (ours)
            f" WHERE run_id = %(run_id)s AND window_key = %(window_key)s {in_range}",
            params,
        )
        shared = cursor.fetchall()
    covered = {row[0] for row in shared}
    if not shared or any(product[0] not in covered for product in products):
        return None
    return _kpi_figures_of(shared, width=width)


def kpi_freshness_shared(*, run_id: int, as_of: date) -> dict[int, tuple[int, tuple[KpiFreshness, ...]]] | None:
    """Per active product, from the figures run `run_id` shared: how many KPIs it has, and those that may be stale.

    What readiness needs of the outcomes (`meshvalue.readiness`, "outcomes current"), without
    probing each KPI's latest outcome again: the shared figures list, with its latest period in
    the run's horizon, every KPI stale under the smallest `stale_periods` of any policy, a
    superset of those stale under a product's own (the horizon reaches back past every policy's
    stale window, so a KPI with nothing in it is stale under all of them). None when the run
    shared no figures for today's policies, or an active product is not among them (created or
    reactivated since): the caller then reads the facts itself. One query (two with the policies).
    """
    if not _sums_in_database():
        return None
    default, by_domain = policies_by_domain()
    policies = [default, *by_domain.values()]
    lengths, horizon = _windows(as_of, policies)
    params: dict[str, Any] = {
        "run_id": run_id,
        "window_key": _window_key(as_of, lengths, horizon, policies),
        "active": Lifecycle.ACTIVE.value,
    }
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT p.id, f.product_id IS NOT NULL, f.kpi_count, f.stale"  # noqa: S608 (our table names only)
            f" FROM {DataProduct._meta.db_table} p LEFT JOIN {RUN_FIGURES_TABLE} f"
            " ON f.product_id = p.id AND f.run_id = %(run_id)s AND f.window_key = %(window_key)s"
            " WHERE p.lifecycle = %(active)s",
            params,
        )
        rows = cursor.fetchall()
    if not all(shared for _, shared, _, _ in rows):
        return None  # none shared for these policies, or an active product the run did not sum
    return {product_id: (kpi_count, _freshness_of(stale)) for product_id, _, kpi_count, stale in rows if kpi_count}


def kpi_figures_share(*, run_id: int, as_of: date) -> int:
    """Sum every active product's KPIs once, when a run in chunks begins, for all its chunks (PostgreSQL).

    The expensive part of a pass is the scan of the measurements and the sums per product;
    chunks that each did their own would repeat the scan, filtering to their KPIs only
    afterwards. So the run's chunks read these figures by product id instead: a run counts the
    outcomes and attributions as they were when it began (a write after that counts from the
    next run). Every active product gets a row, one with no attribution too, so that a chunk can
    tell a product created since (it then sums for itself). Stored in an unlogged table (derived,
    recomputed by the next run after a crash) under the run and what they were summed over;
    `kpi_figures_forget` drops them when the run ends. Returns the products covered (0 elsewhere).
    """
    if not _sums_in_database():
        return 0
    evaluation_session_tune()  # work_mem and no JIT, as in a chunk: without them this query took 4x as long
    default, by_domain = policies_by_domain()
    policies = [default, *by_domain.values()]
    lengths, horizon = _windows(as_of, policies)
    query = _kpi_figures_sql(Scope(as_of), lengths, horizon, policies)
    window_key, width = _window_key(as_of, lengths, horizon, policies), len(lengths)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {RUN_FIGURES_TABLE} WHERE run_id = %s", [run_id])  # noqa: S608
        if kpi_totals.kpi_totals_current(cursor):  # no scan to run in parallel: straight into the table
            return _kpi_figures_share_from_totals(cursor, query, run_id=run_id, window_key=window_key, width=width)
        # Read, then COPY back: PostgreSQL plans an INSERT ... SELECT without parallel workers,
        # which made the scan three times slower than the same SELECT (10,000 rows are cheap to copy).
        cursor.execute(query.raw, query.params)
        summed = {row[0]: row for row in cursor.fetchall()}
        active = list(
            DataProduct.objects.filter(lifecycle=Lifecycle.ACTIVE).order_by("id").values_list("id", flat=True)
        )
        copied = "run_id, window_key, product_id, kpi_count, figure_values, measured, names, stale"
        with cursor.cursor.copy(f"COPY {RUN_FIGURES_TABLE} ({copied}) FROM STDIN") as copy:
            for product_id in active:
                figures = summed.get(product_id)
                if figures is None:
                    copy.write_row((run_id, window_key, product_id, 0, None, None, None, None))
                    continue
                _, kpi_count, *columns = figures
                names, stale = columns[2 * width], columns[2 * width + 1]
                stale_text = json.dumps(stale, separators=(",", ":")) if stale is not None else None
                # Array literals of plain numbers, written directly: psycopg's list dumper was most of the copy.
                values = "{" + ",".join(map(str, columns[0 : 2 * width : 2])) + "}"
                measured = "{" + ",".join(map(str, columns[1 : 2 * width : 2])) + "}"
                copy.write_row((run_id, window_key, product_id, kpi_count, values, measured, names, stale_text))
        return len(active)


def _kpi_figures_share_from_totals(
    cursor: Any, query: _KpiFiguresQuery, *, run_id: int, window_key: str, width: int
) -> int:
    """`kpi_figures_share`'s rows in one `INSERT ... SELECT` over the running totals; the products covered."""
    values = ", ".join(f"f.value_{index}" for index in range(width))
    measured = ", ".join(f"f.measured_{index}" for index in range(width))
    cursor.execute(
        f"""INSERT INTO {RUN_FIGURES_TABLE}
            (run_id, window_key, product_id, kpi_count, figure_values, measured, names, stale)
        SELECT %(run_id)s, %(window_key)s, p.id, coalesce(f.kpi_count, 0),
            CASE WHEN f.product_id IS NOT NULL THEN ARRAY[{values}] END,
            CASE WHEN f.product_id IS NOT NULL THEN ARRAY[{measured}] END, f.names, f.stale
        FROM {DataProduct._meta.db_table} p LEFT JOIN ({query.from_totals}) f ON f.product_id = p.id
        WHERE p.lifecycle = %(active)s""",  # noqa: S608 (our table names and generated column names only)
        {**query.params, "run_id": run_id, "window_key": window_key},
    )
    return int(cursor.rowcount)


def kpi_figures_forget(*, run_id: int | None = None) -> None:
    """Drop the shared figures of `run_id`, or (None) of every run that is no longer queued or running."""
    if not _sums_in_database():
        return
    with connection.cursor() as cursor:
        if run_id is not None:
            cursor.execute(f"DELETE FROM {RUN_FIGURES_TABLE} WHERE run_id = %s", [run_id])  # noqa: S608
            return
        cursor.execute(
            f"DELETE FROM {RUN_FIGURES_TABLE} WHERE run_id NOT IN"  # noqa: S608
            f" (SELECT id FROM {EvaluationRun._meta.db_table} WHERE status IN (%s, %s))",
            [RunStatus.QUEUED.value, RunStatus.RUNNING.value],
        )


def chunk_bounds(*, chunk: int, chunk_size: int) -> tuple[int, int]:
    """The ids `[first, last)` of chunk `chunk`: `chunk * chunk_size + 1` up to the next chunk's first.

    Ids start at 1, so chunk 0 holds as many products as the others, and a portfolio of
    10,000 products numbered from 1 fills 5 chunks of 2,000, not 6 with one product in the last.
    """
    return chunk * chunk_size + 1, (chunk + 1) * chunk_size + 1


def product_buckets(*, chunk_size: int) -> list[int]:
    """The chunk numbers (`chunk_bounds`) with an active product or an unresolved alert (one query).

    Chunks are ranges of ids, not positions, so the same chunk of two runs covers the same
    products even if products were added in between: the per-chunk lock then keeps them apart.
    """
    ids = (
        DataProduct.objects.filter(Q(lifecycle=Lifecycle.ACTIVE) | Q(alerts__status__in=UNRESOLVED_STATUSES))
        .order_by()
        .values_list("id", flat=True)
        .distinct()
    )
    return sorted({(product_id - 1) // chunk_size for product_id in ids})
