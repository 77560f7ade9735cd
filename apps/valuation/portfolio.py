"""The portfolio summary: totals and per-domain figures as of a date, from the evaluations.

The portfolio as of A is every product's latest evaluation on or before A, leaving out
products retired by then (lifecycle `retired` with a sunset date on or before A, or none).
Figures are sums of the evaluations' own figures (`value`, `cost`, `net`, `recent_value`,
`recent_cost`); ratios are recomputed from the sums, never averaged. A fixed number of
queries (four) whatever the number of products; on PostgreSQL the latest evaluations are
found and summed in one pass (`latest_figures_by_domain`), and those sums are cached until a
write that could change them commits (`PortfolioChange`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery, Sum

from apps.bets.models import BetStatus, ValueBet
from apps.catalog.models import DataProduct, Domain, Lifecycle
from apps.core.sql import IdArray
from apps.governance.models import Alert, AlertKind, AlertStatus
from apps.valuation.models import Evaluation, PortfolioChange, Recommendation
from meshvalue.valuation import ratio, stored_ratio

T = TypeVar("T")

ZERO = Decimal("0.00")
# The figures of an evaluation that add up over products (ratios are recomputed from the sums).
SUMMED_FIGURES = ("value", "cost", "net", "recent_value", "recent_cost")


def _ratio(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    return stored_ratio(ratio(numerator, denominator))


@dataclass
class Figures:
    """Sums over a set of evaluations, and the ratios of those sums."""

    products: int = 0
    value: Decimal = ZERO
    cost: Decimal = ZERO
    net: Decimal = ZERO
    recent_value: Decimal = ZERO
    recent_cost: Decimal = ZERO
    recommendations: dict[str, int] = field(default_factory=lambda: dict.fromkeys(Recommendation.values, 0))

    @property
    def ratio(self) -> Decimal | None:
        """value / cost (None when the cost is not positive)."""
        return _ratio(self.value, self.cost)

    @property
    def roi(self) -> Decimal | None:
        """Return on investment: net / cost (None when the cost is not positive)."""
        return _ratio(self.net, self.cost)

    @property
    def recent_ratio(self) -> Decimal | None:
        return _ratio(self.recent_value, self.recent_cost)

    def add(self, row: Mapping[str, Any]) -> None:
        self.products += row["products"]
        for name in SUMMED_FIGURES:
            setattr(self, name, getattr(self, name) + (row[name] or ZERO))
        self.recommendations[row["recommendation"]] += row["products"]


@dataclass
class DomainFigures(Figures):
    domain: int = 0
    name: str = ""
    slug: str = ""


@dataclass
class BetFigures:
    count: int = 0
    expected_value: Decimal = ZERO
    realised_value: Decimal = ZERO


@dataclass
class PortfolioSummary:
    as_of: date
    currency: str
    evaluated_on: date | None
    totals: Figures
    domains: list[DomainFigures]
    bets: dict[str, BetFigures]
    open_alerts: dict[str, int]


def retired_by(as_of: date) -> Q:
    """Products retired by `as_of`: out of the portfolio from then on."""
    return Q(lifecycle=Lifecycle.RETIRED) & (Q(sunset_on__isnull=True) | Q(sunset_on__lte=as_of))


def portfolio_products(*, as_of: date) -> QuerySet[DataProduct]:
    """The products in the portfolio as of `as_of`: all but those retired by then."""
    return DataProduct.objects.exclude(retired_by(as_of))


def latest_evaluations(*, as_of: date) -> QuerySet[Evaluation]:
    """Each portfolio product's latest evaluation on or before `as_of` (one query; two on PostgreSQL)."""
    return latest_evaluations_counted(as_of=as_of)[0]


def latest_evaluations_counted(*, as_of: date) -> tuple[QuerySet[Evaluation], int | None]:
    """`latest_evaluations`, and how many there are on PostgreSQL (None elsewhere: count them).

    On PostgreSQL the length of the cached ids: a table's unfiltered count without counting.
    """
    if connection.vendor == "postgresql":
        ids = portfolio_cached("ids", as_of.isoformat(), lambda: _latest_evaluation_ids(as_of))
        return Evaluation.objects.filter(pk__any_of=ids), ids.size
    newest = Evaluation.objects.filter(data_product=OuterRef("pk"), as_of__lte=as_of).order_by("-as_of")
    latest_ids = portfolio_products(as_of=as_of).annotate(latest=Subquery(newest.values("pk")[:1])).values("latest")
    return Evaluation.objects.filter(pk__in=latest_ids), None


def latest_evaluations_of(*, as_of: date, product_ids: list[int]) -> QuerySet[Evaluation]:
    """`latest_evaluations` of a few products (a page of them): one query.

    On PostgreSQL each product's latest is found by its own index range (`DISTINCT ON`), not by
    filtering the portfolio's cached ids: that sent a 10,000-id array with every page (3 ms). The
    queryset's order picks the latest: do not reorder it.
    """
    if connection.vendor != "postgresql":
        return latest_evaluations(as_of=as_of).filter(data_product_id__in=product_ids)
    in_portfolio = portfolio_products(as_of=as_of).filter(pk__any_of=product_ids).values("pk")
    return (
        Evaluation.objects.filter(data_product_id__in=in_portfolio, as_of__lte=as_of)
        .order_by("data_product_id", "-as_of")
        .distinct("data_product_id")
    )


def _latest_per_product(
    as_of: date, evaluation_columns: list[str], product_columns: tuple[str, ...] = ()
) -> tuple[str, list[Any]]:
    """PostgreSQL: `FROM` each portfolio product's latest evaluation on or before `as_of`, as `e`
    (its `evaluation_columns` and the products' `product_columns`). With its parameters.

    Most products were evaluated on the newest date: those come from one range of that date
    (`evaluation_date_product`); only the others, not evaluated then, probe back for their own
    latest (`evaluation_unique_product_date`). A backward probe for every product cost 35-40 ms at
    10,000 products, and the dashboard reads this three times. Only the columns asked for are
    carried: an evaluation's row is wide (its reasons). Who is in the portfolio stays written
    once: the products' query is `portfolio_products`' own SQL.
    """
    products_sql, products_params = (
        portfolio_products(as_of=as_of).order_by().values("id", *product_columns).query.sql_with_params()
    )
    table = Evaluation._meta.db_table
    chosen = ", ".join(
        [
            *(f"coalesce(on_newest.{c}, older.{c}) AS {c}" for c in evaluation_columns),
            *(f"p.{c}" for c in product_columns),
        ]
    )
    older_columns = ", ".join(sorted({"id", *evaluation_columns}))
    source = f"""(
        SELECT {chosen}
        FROM ({products_sql}) p
        CROSS JOIN (SELECT max(as_of) AS as_of FROM {table} WHERE as_of <= %s) newest
        LEFT JOIN {table} on_newest ON on_newest.data_product_id = p.id AND on_newest.as_of = newest.as_of
        LEFT JOIN LATERAL (
            SELECT {older_columns} FROM {table} latest
            WHERE on_newest.id IS NULL AND latest.data_product_id = p.id AND latest.as_of < newest.as_of
            ORDER BY latest.as_of DESC LIMIT 1
        ) older ON true
        WHERE on_newest.id IS NOT NULL OR older.id IS NOT NULL
    ) e"""  # noqa: S608 (table and column names of our own models; values are parameters)
    return source, [*products_params, as_of]


def _latest_evaluation_ids(as_of: date) -> IdArray:
    """PostgreSQL: the ids, read first in one pass (`_latest_per_product`).

    As a subquery of the evaluations' query, the correlated form made the planner run the probe
    three times per product and join the evaluations twice (0.13 s at 10,000 products), and a
    page and its count paid that twice; the ids then travel back as one array parameter. Cached
    with the figures (`portfolio_cached`): 50 ms at 10,000 products, read by the dashboard's table
    and map and the products list.
    """
    source, params = _latest_per_product(as_of, ["id"])
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT e.id FROM {source}", params)  # noqa: S608 (see _latest_per_product)
        return IdArray.of([row[0] for row in cursor.fetchall()])


def latest_evaluations_recommending(*, as_of: date, recommendation: str) -> QuerySet[Evaluation]:
    """The latest evaluations (`latest_evaluations`) that recommend `recommendation` (one query).

    On PostgreSQL their ids come from the cache (`portfolio_cached`, with their products' ids for
    `products_recommended`): filtering the 10,000 cached ids by recommendation scanned every
    evaluation (12 ms at 10,000 products), for a page and again for its count.
    """
    if connection.vendor != "postgresql":
        return latest_evaluations(as_of=as_of).filter(recommendation=recommendation)
    return Evaluation.objects.filter(pk__any_of=_recommending(as_of, recommendation)[0])


def products_recommended(*, as_of: date, recommendation: str) -> Q:
    """Products whose latest evaluation (`latest_evaluations`) recommends `recommendation`, as a filter."""
    if connection.vendor != "postgresql":
        return Q(
            pk__in=latest_evaluations_recommending(as_of=as_of, recommendation=recommendation).values("data_product_id")
        )
    return Q(pk__any_of=_recommending(as_of, recommendation)[1])


def _recommending(as_of: date, recommendation: str) -> tuple[IdArray, IdArray]:
    """PostgreSQL, cached: the ids of the latest evaluations recommending `recommendation`, and of their products."""

    def compute() -> tuple[IdArray, IdArray]:
        rows = list(
            latest_evaluations(as_of=as_of)
            .filter(recommendation=recommendation)
            .order_by("pk")
            .values_list("pk", "data_product_id")
        )
        return IdArray.of(pk for pk, _ in rows), IdArray.of(sorted(product for _, product in rows))

    return portfolio_cached("recommending", f"{as_of.isoformat()}:{recommendation}", compute)


def latest_figures_by_domain(*, as_of: date) -> list[dict[str, Any]]:
    """The latest evaluations on or before `as_of` summed per domain and recommendation (one query).

    A row per (domain, recommendation): `data_product__domain_id`, `recommendation`, `products`, the
    sums of SUMMED_FIGURES and `evaluated_on` (the newest date summed). On PostgreSQL the rows are
    cached under a key of the portfolio's change log (`_portfolio_cache_key`): 80 ms at 10,000
    products, and the dashboard reads two dates on every view.
    """
    if connection.vendor != "postgresql":
        grouped = (
            latest_evaluations(as_of=as_of)
            .order_by()
            .values("data_product__domain_id", "recommendation")
            .annotate(
                products=Count("id"),
                **{name: Sum(name) for name in SUMMED_FIGURES},
                evaluated_on=Max("as_of"),
            )
        )
        return [dict(row) for row in grouped]
    return portfolio_cached("figures", as_of.isoformat(), lambda: _latest_figures_summed(as_of))


# Cached figures are keyed by the change log, so they are never stale; the timeout only frees memory.
PORTFOLIO_CACHE_SECONDS = 6 * 3600


def _portfolio_cache_key(kind: str, part: str) -> str:
    """PostgreSQL: the cache key of `kind` for `part` (a date, a goal) given the portfolio's change log.

    Every committed write that can change the portfolio's latest evaluations or their sums, or
    which products serve a goal (`PortfolioChange`), adds a row (triggers, any write path), so the
    count grows and the key changes; the newest id and time, and the database's own id, keep a
    key from recurring after a rolled-back write, an emptied table or a recreated database. Read
    it before computing what it keys: figures computed after it are at least as new as it says.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT oid FROM pg_database WHERE datname = current_database()), count(*), max(id),"  # noqa: S608
            f" max(changed_at) FROM {PortfolioChange._meta.db_table}"
        )
        database, changes, newest, changed_at = cursor.fetchone()
    stamp = changed_at.timestamp() if changed_at else 0
    return f"valuation:{kind}:v3:{database}:{changes}:{newest}:{stamp}:{part}"


def portfolio_cached(kind: str, part: str, compute: Callable[[], T]) -> T:
    """`compute()`, cached on PostgreSQL under `kind`, `part` and the portfolio's change log.

    For what only the writes the log counts can change (see `PortfolioChange`). Elsewhere (SQLite,
    the demo) there is no log: computed on every call.
    """
    if connection.vendor != "postgresql":
        return compute()
    key = _portfolio_cache_key(kind, part)
    cached = cache.get(key)
    if cached is None:
        cached = compute()
        cache.set(key, cached, timeout=PORTFOLIO_CACHE_SECONDS)
    return cached


def _latest_figures_summed(as_of: date) -> list[dict[str, Any]]:
    # PostgreSQL: the latest evaluations joined laterally and summed in the same pass. The
    # IN-subquery of `latest_evaluations` made the planner run its per-product subquery three times
    # and join the evaluations twice (0.1-0.2 s at 10,000 products against 0.04 s).
    source, params = _latest_per_product(as_of, ["recommendation", "as_of", *SUMMED_FIGURES], ("domain_id",))
    sums = ", ".join(f"SUM(e.{name}) AS {name}" for name in SUMMED_FIGURES)
    sql = f"""
        SELECT e.domain_id AS data_product__domain_id, e.recommendation, COUNT(*) AS products, {sums},
               MAX(e.as_of) AS evaluated_on
        FROM {source}
        GROUP BY e.domain_id, e.recommendation
    """  # noqa: S608 (see _latest_per_product)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [column.name for column in cursor.description or ()]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def portfolio_totals(*, as_of: date) -> Figures:
    """The summary's `totals` alone (no domains, bets or alerts): for a comparison with an earlier date."""
    totals = Figures()
    for row in latest_figures_by_domain(as_of=as_of):
        totals.add(row)
    return totals


def portfolio_summary(*, as_of: date) -> PortfolioSummary:
    """Totals and per-domain figures of the portfolio as of `as_of`, with bets and unresolved alerts."""
    rows = latest_figures_by_domain(as_of=as_of)
    totals = Figures()
    domains = {
        domain.pk: DomainFigures(domain=domain.pk, name=domain.name, slug=domain.slug)
        for domain in Domain.objects.order_by("name", "id")
    }
    evaluated_on: date | None = None
    for row in rows:
        totals.add(row)
        domain_id = row["data_product__domain_id"]
        # A domain created between the two queries has no name yet; its figures still count.
        domains.setdefault(domain_id, DomainFigures(domain=domain_id)).add(row)
        evaluated_on = max(evaluated_on or row["evaluated_on"], row["evaluated_on"])

    bets = {status: BetFigures() for status in BetStatus.values}
    for bet_row in (
        ValueBet.objects.filter(opens_on__lte=as_of)
        .order_by()
        .values("status")
        .annotate(count=Count("id"), expected_value=Sum("expected_value"), realised_value=Sum("realised_value"))
    ):
        bets[bet_row["status"]] = BetFigures(
            count=bet_row["count"],
            expected_value=bet_row["expected_value"] or ZERO,
            realised_value=bet_row["realised_value"] or ZERO,
        )

    open_alerts = dict.fromkeys(AlertKind.values, 0)
    open_alerts.update(
        Alert.objects.exclude(status=AlertStatus.RESOLVED)
        .order_by()
        .values("kind")
        .annotate(count=Count("id"))
        .values_list("kind", "count")
    )
    return PortfolioSummary(
        as_of=as_of,
        currency=settings.MESHVALUE_CURRENCY,
        evaluated_on=evaluated_on,
        totals=totals,
        domains=list(domains.values()),
        bets=bets,
        open_alerts=open_alerts,
    )
