"""Valuation reads: evaluations, runs and the policy that applies to a product."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import Max, OuterRef, QuerySet, Subquery, Sum

from apps.catalog.models import DataProduct
from apps.valuation.models import DomainMonthlyFigure, Evaluation, EvaluationPolicy, EvaluationRun, MonthlyFigure
from apps.valuation.portfolio import retired_by
from meshvalue.valuation import Policy, revisit_date


def evaluation_list(*, as_of: date | None = None, data_product_id: int | None = None) -> QuerySet[Evaluation]:
    """Evaluations, newest date first, then by product id, optionally of one date and/or one product.

    The order is the one the index `evaluation_date_product` holds, so a page of a date's 10,000
    evaluations is read from the index instead of sorting all of them (by product name, before).
    """
    evaluations = Evaluation.objects.all()
    if as_of is not None:
        evaluations = evaluations.filter(as_of=as_of)
    if data_product_id is not None:
        evaluations = evaluations.filter(data_product_id=data_product_id)
    return evaluations.order_by("-as_of", "data_product_id")


def evaluation_latest_date() -> date | None:
    """The most recent evaluation date, or None if nothing was ever evaluated."""
    return Evaluation.objects.aggregate(latest=Max("as_of"))["latest"]


def evaluation_run_list() -> QuerySet[EvaluationRun]:
    return EvaluationRun.objects.select_related("requested_by").order_by("-created_at", "-id")


def decision_revisit_default(
    *, domain_id: int | None, alert_kind: str, on: date, policies: tuple[Policy, dict[int, Policy]] | None = None
) -> date:
    """The revisit date a decision made `on` about an alert of `alert_kind` gets unless it names one.

    `policies` (from `policies_by_domain`) saves the query when a page shows many decide forms.
    """
    default, by_domain = policies if policies is not None else policies_by_domain()
    policy = by_domain.get(domain_id, default) if domain_id is not None else default
    return revisit_date(kind=alert_kind, decided_on=on, revisit_on=None, policy=policy)


def policy_of(row: EvaluationPolicy) -> Policy:
    """The core's `Policy` of a stored policy row."""
    return Policy(
        window_days=row.window_days,
        recent_days=row.recent_days,
        grace_days=row.grace_days,
        retire_below=row.retire_below,
        invest_above=row.invest_above,
        stale_periods=row.stale_periods,
        decision_quiet_days=row.decision_quiet_days,
        decision_sla_days=row.decision_sla_days,
    )


def policies_by_domain() -> tuple[Policy, dict[int, Policy]]:
    """The default policy and the overrides by domain id (one query)."""
    default = Policy()
    by_domain: dict[int, Policy] = {}
    for row in EvaluationPolicy.objects.all():
        if row.is_default:
            default = policy_of(row)
        elif row.domain_id is not None:
            by_domain[row.domain_id] = policy_of(row)
    return default, by_domain


def evaluation_latest_per_product(*, product_ids: list[int]) -> dict[int, Evaluation]:
    """Each product's most recent evaluation, by product id (one query)."""
    latest = (
        Evaluation.objects.filter(data_product_id=OuterRef("data_product_id")).order_by("-as_of").values("as_of")[:1]
    )
    evaluations = Evaluation.objects.filter(data_product_id__in=product_ids, as_of=Subquery(latest))
    return {evaluation.data_product_id: evaluation for evaluation in evaluations}


def monthly_figures(
    *, products: QuerySet[DataProduct], start: date, end: date, per_product: bool
) -> dict[int | None, dict[date, tuple[Decimal, Decimal]]]:
    """Value and cost per month in `[start, end)` from the maintained rollup (one query).

    `per_product`: keyed by product id; otherwise one entry, key None, summed in the database
    over `products` (what a portfolio chart needs, without one row per product).
    """
    rows = MonthlyFigure.objects.filter(data_product__in=products.values("pk"), month__gte=start, month__lt=end)
    figures: dict[int | None, dict[date, tuple[Decimal, Decimal]]] = {}
    if per_product:
        for product_id, month, value, cost in rows.values_list("data_product_id", "month", "value", "cost"):
            figures.setdefault(product_id, {})[month] = (value, cost)
        return figures
    totals = figures.setdefault(None, {})
    for month, value, cost in (
        rows.values("month")
        .annotate(value=Sum("value"), cost=Sum("cost"))
        .order_by()
        .values_list("month", "value", "cost")
    ):
        totals[month] = (Decimal(value), Decimal(cost))
    return figures


def portfolio_monthly_totals(*, as_of: date, start: date, end: date) -> dict[date, tuple[Decimal, Decimal]]:
    """The portfolio's value and cost per month in `[start, end)`, as of `as_of` (two queries).

    The domains' maintained totals, less the months of the products retired by `as_of` (few):
    a handful of rows per month whatever the number of products.
    """
    totals: dict[date, tuple[Decimal, Decimal]] = {}
    for month, value, cost in (
        DomainMonthlyFigure.objects.filter(month__gte=start, month__lt=end)
        .values("month")
        .annotate(value_sum=Sum("value"), cost_sum=Sum("cost"))
        .order_by()
        .values_list("month", "value_sum", "cost_sum")
    ):
        totals[month] = (Decimal(value), Decimal(cost))
    retired = monthly_figures(
        products=DataProduct.objects.filter(retired_by(as_of)), start=start, end=end, per_product=False
    ).get(None, {})
    for month, (value, cost) in retired.items():
        total_value, total_cost = totals.get(month, (Decimal(0), Decimal(0)))
        totals[month] = (total_value - value, total_cost - cost)
    return totals
