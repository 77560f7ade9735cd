"""What an export writes: each product with its domain, owner, goals, KPIs, attributions and latest evaluation.

Set-based: five queries whatever the number of products (products with domain and owner, their
goals, their attributions with KPIs and goals, their latest evaluations), read through the
owning apps' selectors.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from apps.catalog.selectors import data_product_export_list
from apps.governance.selectors import decided_product_ids
from apps.kpis.selectors import attribution_list_for_products
from apps.valuation.selectors import evaluation_latest_per_product


@dataclass(frozen=True)
class KpiExport:
    goal: str
    name: str
    description: str
    unit: str
    direction: str
    cadence: str
    baseline: Decimal
    target: Decimal
    target_date: date | None
    value_per_unit: Decimal
    weight: Decimal
    starts_on: date | None
    attribution_baseline: Decimal | None


@dataclass(frozen=True)
class EvaluationExport:
    as_of: date
    recommendation: str
    value: Decimal
    cost: Decimal
    ratio: Decimal | None
    net: Decimal
    recent_value: Decimal
    recent_cost: Decimal
    recent_ratio: Decimal | None


@dataclass(frozen=True)
class ProductExport:
    slug: str
    name: str
    description: str
    lifecycle: str
    launched_on: date | None
    sunset_on: date | None
    domain_slug: str
    domain_name: str
    owner_username: str
    owner_name: str
    owner_email: str
    goals: tuple[str, ...]
    kpis: tuple[KpiExport, ...]
    evaluation: EvaluationExport | None


def product_exports(
    *, domain_slug: str | None = None, lifecycle: str | None = None, decided_since: date | None = None
) -> list[ProductExport]:
    """The products to export, by slug: all, or those of a domain, a lifecycle, or decided on since a date."""
    ids = decided_product_ids(since=decided_since) if decided_since is not None else None
    products = list(data_product_export_list(domain_slug=domain_slug, lifecycle=lifecycle, ids=ids))
    product_ids = [product.pk for product in products]
    kpis_by_product: dict[int, list[KpiExport]] = {pk: [] for pk in product_ids}
    for attribution in attribution_list_for_products(product_ids=product_ids):
        kpi = attribution.kpi
        kpis_by_product[attribution.data_product_id].append(
            KpiExport(
                goal=kpi.goal.slug,
                name=kpi.name,
                description=kpi.description,
                unit=kpi.unit,
                direction=kpi.direction,
                cadence=kpi.cadence,
                baseline=kpi.baseline,
                target=kpi.target,
                target_date=kpi.target_date,
                value_per_unit=kpi.value_per_unit,
                weight=attribution.weight,
                starts_on=attribution.starts_on,
                attribution_baseline=attribution.baseline,
            )
        )
    evaluations = evaluation_latest_per_product(product_ids=product_ids)
    exports = []
    for product in products:
        evaluation = evaluations.get(product.pk)
        exports.append(
            ProductExport(
                slug=product.slug,
                name=product.name,
                description=product.description,
                lifecycle=product.lifecycle,
                launched_on=product.launched_on,
                sunset_on=product.sunset_on,
                domain_slug=product.domain.slug,
                domain_name=product.domain.name,
                owner_username=product.owner.username,
                owner_name=product.owner.get_full_name(),
                owner_email=product.owner.email,
                goals=tuple(goal.slug for goal in product.goals.all()),
                kpis=tuple(kpis_by_product[product.pk]),
                evaluation=None
                if evaluation is None
                else EvaluationExport(
                    as_of=evaluation.as_of,
                    recommendation=evaluation.recommendation,
                    value=evaluation.value,
                    cost=evaluation.cost,
                    ratio=evaluation.ratio,
                    net=evaluation.net,
                    recent_value=evaluation.recent_value,
                    recent_cost=evaluation.recent_cost,
                    recent_ratio=evaluation.recent_ratio,
                ),
            )
        )
    return exports
