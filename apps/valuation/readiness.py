"""Value-tracking readiness: the facts of every active product gathered set-based, and the stored trend.

`readiness_facts` reads what the six checks need for every active product in five queries,
whatever the number of products (domains, policies, one row per product with five `EXISTS`,
one per attribution, one row per attributed KPI with its latest current outcome);
`meshvalue.readiness` decides.
`readiness_report` answers for a date from the rows the evaluation pass stored
(`DomainReadiness`, the latest on or before the date), or computes them when none was stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Exists, F, Max, OuterRef, Q, QuerySet, Subquery

from apps.catalog.models import DataProduct, Domain, Lifecycle
from apps.core.sql import IdArray, plain_rows
from apps.costs.models import CostEntry
from apps.kpis.models import KPI, Attribution, Measurement
from apps.usage.models import UsageRecord
from apps.valuation.models import DomainReadiness as StoredReadiness
from apps.valuation.models import EvaluationPolicy
from meshvalue.periods import Cadence
from meshvalue.readiness import (
    CHECKS,
    USAGE_DAYS,
    AttributedKpiFacts,
    Check,
    DomainReadiness,
    ReadinessFacts,
    domain_readiness,
    last_full_month,
    product_readiness,
    total_readiness,
)
from meshvalue.valuation import KpiFreshness

DEFAULT_STALE_PERIODS = 2

# Per product id: how many KPIs are attributed to it, and those of them that may be stale.
KpiFreshnessByProduct = Mapping[int, tuple[int, tuple[KpiFreshness, ...]]]


def current_cost_entries() -> QuerySet[CostEntry]:
    """Cost entries that count: the current revision of each."""
    return CostEntry.objects.filter(is_current=True)


def stale_periods_by_domain() -> tuple[int, dict[int, int]]:
    """The default policy's stale periods and each domain override's. One query."""
    default, overrides = DEFAULT_STALE_PERIODS, {}
    for domain_id, stale_periods in EvaluationPolicy.objects.values_list("domain_id", "stale_periods"):
        if domain_id is None:
            default = stale_periods
        else:
            overrides[domain_id] = stale_periods
    return default, overrides


def _active_products(domain_id: int | None, product_id: int | None) -> QuerySet[DataProduct]:
    products = DataProduct.objects.filter(lifecycle=Lifecycle.ACTIVE)
    if domain_id is not None:
        products = products.filter(domain_id=domain_id)
    if product_id is not None:
        products = products.filter(pk=product_id)
    return products


def readiness_facts(
    *,
    as_of: date,
    domain_id: int | None = None,
    product_id: int | None = None,
    kpi_freshness: KpiFreshnessByProduct | None = None,
) -> list[ReadinessFacts]:
    """What exists for every active product (of one domain, one product, or all) as of `as_of`. Four queries.

    `kpi_freshness` (an evaluation run's shared figures: per product, its KPI count and the
    KPIs that may be stale) stands in for the attributions and each KPI's latest outcome: two
    queries then.
    """
    usage_since = as_of - timedelta(days=USAGE_DAYS)
    used = UsageRecord.objects.filter(data_product_id=OuterRef("pk"), day__gte=usage_since, day__lt=as_of, count__gt=0)
    goals = DataProduct.goals.through.objects.filter(dataproduct_id=OuterRef("pk"))
    defined_kpis = Attribution.objects.filter(data_product_id=OuterRef("pk"), kpi__value_per_unit__gt=0).filter(
        ~Q(kpi__target=F("kpi__baseline"))
    )
    costs = current_cost_entries().filter(data_product_id=OuterRef("pk"), period_start=last_full_month(as_of))
    products = _active_products(domain_id, product_id)
    rows = (
        products.order_by()
        .annotate(
            has_goal=Exists(goals),
            has_defined_kpi=Exists(defined_kpis),
            has_cost=Exists(costs),
            has_usage=Exists(used),
            owner_used=Exists(used.filter(consumer=OuterRef("owner__username"))),
        )
        .values_list("pk", "domain_id", "has_goal", "has_defined_kpi", "has_cost", "has_usage", "owner_used")
    )
    kpis = _kpis_shared(kpi_freshness) if kpi_freshness is not None else _kpis_read(products, as_of)
    default_stale, stale_overrides = stale_periods_by_domain()
    return [
        ReadinessFacts(
            product_id=product_id,
            domain_id=product_domain,
            has_goal=has_goal,
            has_defined_kpi=has_defined_kpi,
            kpis=kpis.get(product_id, _NO_KPIS)[0],
            kpi_count=kpis.get(product_id, _NO_KPIS)[1],
            has_cost_last_month=has_cost,
            has_usage=has_usage,
            owner_used=owner_used,
            stale_periods=stale_overrides.get(product_domain, default_stale),
        )
        for product_id, product_domain, has_goal, has_defined_kpi, has_cost, has_usage, owner_used in plain_rows(rows)
    ]


# Per product: its KPI facts, and how many KPIs it has when those are only the ones that may be stale.
_KpiFactsByProduct = dict[int, tuple[tuple[AttributedKpiFacts, ...], int | None]]
_NO_KPIS: tuple[tuple[AttributedKpiFacts, ...], int | None] = ((), None)


def _kpis_shared(kpi_freshness: KpiFreshnessByProduct) -> _KpiFactsByProduct:
    return {
        product_id: (tuple(AttributedKpiFacts(kpi.cadence, kpi.latest_period_start) for kpi in maybe_stale), count)
        for product_id, (count, maybe_stale) in kpi_freshness.items()
    }


def _kpis_read(products: QuerySet[DataProduct], as_of: date) -> _KpiFactsByProduct:
    """Every attributed KPI of the products with its latest current outcome before `as_of`. Two queries."""
    latest = (
        Measurement.objects.filter(kpi_id=OuterRef("pk"), is_current=True, period_start__lt=as_of)
        .order_by("-period_start")
        .values("period_start")[:1]
    )
    attributions = list(
        Attribution.objects.filter(data_product__in=products).order_by().values_list("data_product_id", "kpi_id")
    )
    cadences = {cadence.value: cadence for cadence in Cadence}
    # Each attributed KPI's latest outcome once (a probe of its index), not once per attribution.
    kpi_facts = {
        kpi_id: AttributedKpiFacts(cadences[cadence], latest_period_start)
        for kpi_id, cadence, latest_period_start in plain_rows(
            KPI.objects.filter(pk__any_of=IdArray.of(sorted({kpi_id for _, kpi_id in attributions})))
            .order_by()
            .annotate(latest=Subquery(latest))
            .values_list("pk", "cadence", "latest")
        )
    }
    kpis: dict[int, list[AttributedKpiFacts]] = {}
    for product_id, kpi_id in attributions:
        if kpi_id in kpi_facts:  # a KPI deleted since the attributions were read took them with it
            kpis.setdefault(product_id, []).append(kpi_facts[kpi_id])
    return {product_id: (tuple(facts), None) for product_id, facts in kpis.items()}


def readiness_compute(
    *, as_of: date, domain_id: int | None = None, kpi_freshness: KpiFreshnessByProduct | None = None
) -> dict[int, DomainReadiness]:
    """Readiness per domain as of `as_of`, computed now (every domain listed, even with no product)."""
    domains = Domain.objects.order_by("id").values_list("id", flat=True)
    if domain_id is not None:
        domains = domains.filter(pk=domain_id)
    facts = readiness_facts(as_of=as_of, domain_id=domain_id, kpi_freshness=kpi_freshness)
    return domain_readiness((product_readiness(product, as_of) for product in facts), domain_ids=list(domains))


def product_checks(*, product: DataProduct, as_of: date) -> dict[Check, bool]:
    """The six checks of one product as of `as_of` (all failing for a product that is not active)."""
    facts = readiness_facts(as_of=as_of, product_id=product.pk)
    if not facts:
        return dict.fromkeys(CHECKS, False)
    return dict(product_readiness(facts[0], as_of).checks)


def _from_stored(row: StoredReadiness) -> DomainReadiness:
    return DomainReadiness(
        domain_id=row.domain_id,
        products=row.products,
        passing={check: int(row.passing.get(check.value, 0)) for check in CHECKS},
        failing={check: tuple(row.failing.get(check.value, ())) for check in CHECKS},
        ready=row.ready,
    )


@dataclass(frozen=True)
class ReadinessReport:
    """Readiness per domain and in total as of a date, and where it came from."""

    as_of: date
    evaluated_on: date | None  # the evaluation date the stored rows are of (None: computed now)
    domains: dict[int, DomainReadiness]
    total: DomainReadiness


def readiness_report(*, as_of: date, domain_id: int | None = None) -> ReadinessReport:
    """The readiness stored by the latest evaluation pass on or before `as_of`, else computed now.

    Two queries when stored; five when computed.
    """
    stored = StoredReadiness.objects.filter(as_of__lte=as_of)
    if domain_id is not None:
        stored = stored.filter(domain_id=domain_id)
    latest = stored.aggregate(latest=Max("as_of"))["latest"]
    if latest is not None:
        domains = {row.domain_id: _from_stored(row) for row in stored.filter(as_of=latest).order_by("domain_id")}
    else:
        domains = readiness_compute(as_of=as_of, domain_id=domain_id)
    return ReadinessReport(as_of=as_of, evaluated_on=latest, domains=domains, total=total_readiness(domains.values()))


def readiness_trend(*, domain_ids: Iterable[int] | None = None, limit: int = 60) -> dict[int, list[StoredReadiness]]:
    """The stored readiness per domain over the latest `limit` evaluation dates, oldest first. Two queries."""
    dates = list(StoredReadiness.objects.order_by("-as_of").values_list("as_of", flat=True).distinct()[:limit])
    rows = StoredReadiness.objects.filter(as_of__in=dates)
    if domain_ids is not None:
        rows = rows.filter(domain_id__in=list(domain_ids))
    trend: dict[int, list[StoredReadiness]] = {}
    for row in rows.order_by("as_of", "domain_id"):
        trend.setdefault(row.domain_id, []).append(row)
    return trend
