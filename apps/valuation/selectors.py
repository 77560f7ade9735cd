"""Valuation reads: evaluations, runs and the policy that applies to a product."""

from __future__ import annotations

from datetime import date

from django.db.models import Max, QuerySet

from apps.catalog.models import DataProduct
from apps.valuation.models import Evaluation, EvaluationPolicy, EvaluationRun


def evaluation_list(*, as_of: date | None = None, data_product_id: int | None = None) -> QuerySet[Evaluation]:
    """Evaluations, newest first, optionally of one date and/or one product (with the product joined)."""
    evaluations = Evaluation.objects.select_related("data_product", "data_product__domain")
    if as_of is not None:
        evaluations = evaluations.filter(as_of=as_of)
    if data_product_id is not None:
        evaluations = evaluations.filter(data_product_id=data_product_id)
    return evaluations.order_by("-as_of", "data_product__name", "id")


def evaluation_latest_date() -> date | None:
    """The most recent evaluation date, or None if nothing was ever evaluated."""
    return Evaluation.objects.aggregate(latest=Max("as_of"))["latest"]


def evaluation_latest_list() -> QuerySet[Evaluation]:
    """The evaluations of the most recent evaluation date (the portfolio's current picture)."""
    latest = evaluation_latest_date()
    if latest is None:
        return Evaluation.objects.none()
    return evaluation_list(as_of=latest)


def evaluation_run_list() -> QuerySet[EvaluationRun]:
    return EvaluationRun.objects.select_related("requested_by").order_by("-created_at", "-id")


def policy_for_product(*, data_product: DataProduct) -> EvaluationPolicy | None:
    """The policy that applies to a product: its domain's override, else the default."""
    override = EvaluationPolicy.objects.filter(domain_id=data_product.domain_id).first()
    return override or EvaluationPolicy.objects.filter(is_default=True).first()
