"""The data product page and the goal page."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Count, F, OuterRef, Q, Subquery, Sum, Window
from django.db.models.functions import Coalesce, RowNumber
from django.urls import reverse

from apps.accounts.models import user_display_name
from apps.bets.models import ValueBet
from apps.catalog.models import BusinessGoal, DataProduct, Lifecycle
from apps.costs.models import CostCategory, CostEntry
from apps.governance.models import Alert, Decision
from apps.kpis.models import KPI, Attribution, Measurement
from apps.usage.models import UsageRecord
from apps.valuation.models import Evaluation, EvaluationPolicy, Recommendation
from apps.valuation.portfolio import Figures, latest_evaluations_of, portfolio_cached, products_recommended
from apps.web.selectors.common import (
    ZERO,
    KpiProgress,
    kpi_history_chart,
    kpis_with_progress,
    monthly_value_cost,
)
from meshvalue.periods import Cadence, add_months
from meshvalue.valuation import Policy, is_stale

HISTORY_MONTHS = 24
# The goal page's lists are pages: a goal may be measured by thousands of KPIs and served by thousands of products.
GOAL_KPIS_PER_PAGE = 12
GOAL_PRODUCTS_PER_PAGE = 25
GOAL_BETS_SHOWN = 20
CATALOG_PER_PAGE = 50
PRODUCTS_PER_KPI = 8
USAGE_DAYS = 90
COST_CATEGORY_MONTHS = 12


@dataclass(frozen=True)
class AttributedKpi:
    """A KPI credited (with `weight`) to the product, with its progress and chart id."""

    progress: KpiProgress
    weight: Decimal
    goal_name: str
    goal_slug: str
    chart_id: str
    chart: dict
    value_per_unit: Decimal
    # No current outcome within the policy's stale window (DESIGN.md `stale_kpi`, the core's rule).
    stale: bool = False


def product_page(*, product: DataProduct, as_of: date) -> dict:
    """Everything the data product page shows, in a fixed number of queries.

    `product` comes with its domain and owner (select_related). Figures are as of `as_of`.
    """
    currency = settings.MESHVALUE_CURRENCY
    evaluations = list(Evaluation.objects.filter(data_product=product, as_of__lte=as_of).order_by("-as_of")[:12])
    attributions = list(
        Attribution.objects.filter(data_product=product)
        .select_related("kpi__goal")
        .order_by("kpi__goal__name", "kpi__name")
    )
    progress = {
        p.kpi_id: p
        for p in kpis_with_progress(kpis=KPI.objects.filter(attributions__data_product=product), as_of=as_of)
    }
    charts = kpi_history_chart(kpis=progress.values(), as_of=as_of, months=HISTORY_MONTHS)
    # The product's domain policy, else the default: one query (the stale window's periods).
    policy = (
        EvaluationPolicy.objects.filter(Q(domain_id=product.domain_id) | Q(is_default=True))
        .order_by("is_default")
        .first()
    )
    stale_periods = policy.stale_periods if policy is not None else Policy().stale_periods
    stale_ids = {
        p.kpi_id for p in progress.values() if is_stale(p.latest_period, Cadence(p.cadence), as_of, stale_periods)
    }
    kpis = [
        AttributedKpi(
            progress=progress[a.kpi_id],
            weight=a.weight,
            goal_name=a.kpi.goal.name,
            goal_slug=a.kpi.goal.slug,
            chart_id=f"chart-kpi-{a.kpi_id}",
            chart=charts[a.kpi_id],
            value_per_unit=a.kpi.value_per_unit,
            stale=a.kpi_id in stale_ids,
        )
        for a in attributions
        if a.kpi_id in progress
    ]

    monthly = monthly_value_cost(as_of=as_of, months=HISTORY_MONTHS, products=DataProduct.objects.filter(pk=product.pk))
    monthly_chart = {
        "months": [m.isoformat() for m in monthly.months],
        "value": [float(v) for v in monthly.value_series(product.pk)],
        "cost": [float(c) for c in monthly.cost_series(product.pk)],
        "currency": currency,
    }

    category_totals = dict(
        CostEntry.objects.filter(
            is_current=True,
            data_product=product,
            # This month and the 11 before it: a breakdown, so the month in progress counts.
            period_start__gte=add_months((as_of - timedelta(days=1)).replace(day=1), 1 - COST_CATEGORY_MONTHS),
            period_start__lt=as_of,
        )
        .values_list("category")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    categories = [
        {"key": key, "label": label, "amount": category_totals.get(key, ZERO)} for key, label in CostCategory.choices
    ]
    category_chart = {
        "categories": [c["label"] for c in categories],
        "amounts": [float(c["amount"]) for c in categories],
        "currency": currency,
    }

    usage_since = as_of - timedelta(days=USAGE_DAYS)
    owner_names = {product.owner.username, product.owner.team} - {""}
    usage = [
        {"consumer": consumer, "uses": uses, "is_owner": consumer in owner_names}
        for consumer, uses in UsageRecord.objects.filter(data_product=product, day__gte=usage_since, day__lt=as_of)
        .values_list("consumer")
        .annotate(uses=Sum("count"))
        .order_by("-uses", "consumer")
    ]
    usage_chart = {
        "consumers": [u["consumer"] for u in usage[:15]],
        "counts": [u["uses"] for u in usage[:15]],
        "owner_marks": [u["is_owner"] for u in usage[:15]],
    }

    recent_outcomes = list(
        Measurement.objects.filter(kpi__attributions__data_product=product)
        .select_related("kpi", "recorded_by")
        .order_by("-recorded_at", "-period_start", "-id")[:10]
    )
    return {
        "currency": currency,
        "as_of": as_of,
        "evaluation": evaluations[0] if evaluations else None,
        # Evaluations store the net of the whole window only; the recent one follows from its figures.
        "recent_net": evaluations[0].recent_value - evaluations[0].recent_cost if evaluations else None,
        "evaluations": evaluations,
        "goals": list(product.goals.order_by("name").values("name", "slug")),
        "kpis": kpis,
        "monthly_chart": monthly_chart,
        "monthly_has_data": any(monthly_chart["value"]) or any(monthly_chart["cost"]),
        "categories": categories,
        "category_chart": category_chart,
        "category_total": sum((c["amount"] for c in categories), ZERO),
        "alerts": list(Alert.objects.filter(data_product=product).select_related("evaluation")[:20]),
        "decisions": list(
            Decision.objects.filter(data_product=product).select_related("decided_by", "new_owner", "alert")[:20]
        ),
        "bets": list(ValueBet.objects.filter(data_product=product).select_related("goal").order_by("-review_on")),
        "usage": usage,
        "usage_chart": usage_chart,
        "usage_days": USAGE_DAYS,
        "usage_total": sum(u["uses"] for u in usage),
        "owner_uses": sum(u["uses"] for u in usage if u["is_owner"]),
        "recent_outcomes": recent_outcomes,
    }


def goal_serving_product_ids(goal_id: int) -> list[int]:
    """The ids of the products serving a goal, by name: linked to it, or credited with one of its KPIs.

    Cached under the portfolio's change log on PostgreSQL (`portfolio_cached`; its triggers count
    every write that changes this set or its order): a goal measured by 20,000 KPIs takes 50 ms
    to join its 26,667 attributions, and the page needs the count as well as a page of them.
    """

    def serving() -> list[int]:
        return list(
            DataProduct.objects.filter(
                Q(pk__in=DataProduct.goals.through.objects.filter(businessgoal_id=goal_id).values("dataproduct_id"))
                | Q(pk__in=Attribution.objects.filter(kpi__goal_id=goal_id).values("data_product_id"))
            )
            .order_by("name", "pk")
            .values_list("pk", flat=True)
        )

    return portfolio_cached("goal-serving", str(goal_id), serving)


def goal_page(
    *,
    goal: BusinessGoal,
    as_of: date,
    kpi_page: str | int | None = 1,
    product_page: str | int | None = 1,
) -> dict:
    """The goal page: a page of its KPIs with progress and history, the products credited with each
    (the heaviest first), a page of the products serving it, and its latest bets.

    A goal measured by thousands of KPIs, or served by thousands of products, gives the same page
    size and the same number of queries as a small one: each list is a page, and each KPI names
    at most `PRODUCTS_PER_KPI` products (with how many more there are).
    """
    # Counted per KPI of the page only (a correlated count runs after the LIMIT, not for every KPI).
    attributions = (
        Attribution.objects.filter(kpi=OuterRef("pk")).order_by().values("kpi").annotate(n=Count("pk")).values("n")
    )
    kpi_rows = Paginator(
        KPI.objects.filter(goal=goal)
        .annotate(credited=Coalesce(Subquery(attributions), 0))
        .order_by("name", "pk")
        .values_list("pk", "credited"),
        GOAL_KPIS_PER_PAGE,
    ).get_page(kpi_page)
    credited = dict(kpi_rows.object_list)
    kpis = kpis_with_progress(kpis=KPI.objects.filter(pk__in=list(credited)).order_by("name", "pk"), as_of=as_of)
    charts = kpi_history_chart(kpis=kpis, as_of=as_of, months=HISTORY_MONTHS)
    newest = Evaluation.objects.filter(data_product=OuterRef("data_product_id"), as_of__lte=as_of).order_by("-as_of")
    heaviest = Attribution.objects.filter(kpi_id__in=list(credited)).annotate(
        rank=Window(
            RowNumber(),
            partition_by=F("kpi_id"),
            order_by=(F("weight").desc(), F("data_product__name").asc(), F("pk").asc()),
        )
    )
    attributed: dict[int, list[dict]] = defaultdict(list)
    for attribution in (
        Attribution.objects.filter(pk__in=heaviest.filter(rank__lte=PRODUCTS_PER_KPI).values("pk"))
        .select_related("data_product")
        .annotate(recommendation=Subquery(newest.values("recommendation")[:1]))
        .order_by("-weight", "data_product__name", "pk")
    ):
        attributed[attribution.kpi_id].append(
            {
                "product": attribution.data_product,
                "weight": attribution.weight,
                "recommendation": attribution.recommendation,
            }
        )
    products = Paginator(goal_serving_product_ids(goal.pk), GOAL_PRODUCTS_PER_PAGE).get_page(product_page)
    newest_for_product = Evaluation.objects.filter(data_product=OuterRef("pk"), as_of__lte=as_of).order_by("-as_of")
    listed = (
        DataProduct.objects.filter(pk__in=list(products.object_list))
        .select_related("owner", "domain")
        .annotate(
            recommendation=Subquery(newest_for_product.values("recommendation")[:1]),
            value=Subquery(newest_for_product.values("value")[:1]),
            cost=Subquery(newest_for_product.values("cost")[:1]),
            ratio=Subquery(newest_for_product.values("ratio")[:1]),
        )
        .order_by("name", "pk")
    )
    bets = ValueBet.objects.filter(goal=goal)
    return {
        "as_of": as_of,
        "kpi_page": kpi_rows,
        "kpis": [
            {
                "progress": kpi,
                "chart_id": f"chart-kpi-{kpi.kpi_id}",
                "chart": charts[kpi.kpi_id],
                "products": attributed.get(kpi.kpi_id, []),
                "more_products": credited[kpi.kpi_id] - len(attributed.get(kpi.kpi_id, [])),
            }
            for kpi in kpis
        ],
        "product_page": products,
        "products": list(listed),
        "bets": list(bets.select_related("data_product").order_by("-review_on", "-pk")[:GOAL_BETS_SHOWN]),
        "bet_count": bets.count(),
    }


@dataclass(frozen=True)
class CatalogFilters:
    recommendation: str = ""
    lifecycle: str = ""
    domain: str = ""


@dataclass(frozen=True, slots=True)
class CatalogRow:
    """One line of the catalog, plain values only: a page of 50 model rows (product, domain, owner,
    evaluation) cost more to build and to render than its queries."""

    product_id: int
    name: str
    url: str
    domain: str
    owner: str
    lifecycle: str
    lifecycle_label: str
    recommendation: str | None
    recommendation_label: str | None
    value: Decimal | None
    cost: Decimal | None
    ratio: Decimal | None
    roi: Decimal | None


def catalog_page(*, filters: CatalogFilters, as_of: date, page_number: str | int | None = 1) -> dict:
    """The catalog: a page of the products not retired (or of the chosen lifecycle), each with its latest evaluation.

    A recommendation filter lists exactly the products the dashboard's tile counted (the portfolio's
    latest evaluations as of `as_of`). Filtered and paged by the database (`CATALOG_PER_PAGE` a
    page): three queries whatever the number of products (the count, the page, its evaluations),
    plus the cached ids of a recommendation filter, the tile of 5,000 retire products included.
    """
    products = DataProduct.objects.order_by("name", "pk")
    if filters.lifecycle:
        products = products.filter(lifecycle=filters.lifecycle)
    else:
        products = products.exclude(lifecycle=Lifecycle.RETIRED)
    if filters.domain:
        products = products.filter(domain__slug=filters.domain)
    if filters.recommendation:
        products = products.filter(products_recommended(as_of=as_of, recommendation=filters.recommendation))
    paginator = Paginator(
        products.values_list(
            "pk",
            "name",
            "slug",
            "lifecycle",
            "domain__name",
            "owner__first_name",
            "owner__last_name",
            "owner__username",
        ),
        CATALOG_PER_PAGE,
    )
    # Counted on the products alone: every product has a domain and an owner, so the page's joins
    # to them drop no row, and counting 4,716 filtered products without them saves a quarter.
    paginator.count = products.count()
    page = paginator.get_page(page_number)
    listed = list(page.object_list)
    # (recommendation, value, cost, net, ratio) by product
    evaluations: dict[int, tuple[Any, ...]] = {
        product_id: tuple(figures)
        for product_id, *figures in latest_evaluations_of(
            as_of=as_of, product_ids=[row[0] for row in listed]
        ).values_list("data_product_id", "recommendation", "value", "cost", "net", "ratio")
    }
    rows = []
    for product_id, name, slug, lifecycle, domain, first_name, last_name, username in listed:
        recommendation, value, cost, net, ratio = evaluations.get(product_id, (None, None, None, None, None))
        rows.append(
            CatalogRow(
                product_id=product_id,
                name=name,
                url=reverse("product_detail", args=[slug]),
                domain=domain,
                owner=user_display_name(first_name=first_name, last_name=last_name, username=username),
                lifecycle=lifecycle,
                lifecycle_label=Lifecycle(lifecycle).label,
                recommendation=recommendation,
                recommendation_label=Recommendation(recommendation).label if recommendation else None,
                value=value,
                cost=cost,
                ratio=ratio,
                roi=Figures(value=value, cost=cost, net=net).roi if recommendation else None,
            )
        )
    return {"rows": rows, "page": page, "as_of": as_of}
