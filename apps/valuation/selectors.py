"""Valuation reads: evaluations, runs and the policy that applies to a product."""

from __future__ import annotations

from datetime import date

from django.db.models import Max, OuterRef, QuerySet, Subquery

from apps.catalog.models import DataProduct
from apps.valuation.models import Evaluation, EvaluationPolicy, EvaluationRun
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
