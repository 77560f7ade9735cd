"""Reads of the governance lead's pages: the policies and their preview, the retirement board."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Q, Sum

from apps.catalog.models import DataProduct, Domain, Lifecycle
from apps.notifications.models import Delivery, DeliveryStatus, Event
from apps.notifications.selectors import late_costs_by_product
from apps.usage.models import UsageRecord
from apps.valuation.models import Evaluation, EvaluationPolicy, Recommendation
from apps.valuation.selectors import evaluation_latest_date, evaluation_run_list
from apps.valuation.services import valuations_preview
from meshvalue.valuation import Policy

RETIREMENT_USAGE_DAYS = 30


@dataclass(frozen=True)
class PolicyRow:
    """The default policy, or one domain with its own policy (None: it follows the default)."""

    key: str
    label: str
    domain: Domain | None
    policy: EvaluationPolicy | None


def policy_rows() -> list[PolicyRow]:
    """The default policy first, then every domain with its override or none. Two queries."""
    policies = list(EvaluationPolicy.objects.select_related("domain"))
    by_domain = {p.domain_id: p for p in policies if p.domain_id is not None}
    default = next((p for p in policies if p.is_default), None)
    rows = [PolicyRow(key="default", label="Default policy", domain=None, policy=default)]
    rows += [
        PolicyRow(key=d.slug, label=d.name, domain=d, policy=by_domain.get(d.pk))
        for d in Domain.objects.order_by("name")
    ]
    return rows


def recent_runs(limit: int = 5) -> list:
    return list(evaluation_run_list()[:limit])


@dataclass(frozen=True)
class PreviewChange:
    product: DataProduct
    before: str | None
    after: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class PolicyPreview:
    as_of: date | None
    available: bool
    products: int
    changes: list[PreviewChange]


def policy_preview(*, domain_id: int | None, policy: Policy) -> PolicyPreview:
    """What would change if `policy` applied (to `domain_id`, or as the default) at the latest evaluation date.

    The valuation's set-based preview computes the recommendations and stores nothing; this compares
    them with the evaluations stored for that date. A fixed number of queries.
    """
    as_of = evaluation_latest_date()
    if as_of is None:
        return PolicyPreview(as_of=as_of, available=False, products=0, changes=[])
    valuations = valuations_preview(as_of=as_of, policy_overrides={domain_id: policy})
    stored = dict(Evaluation.objects.filter(as_of=as_of).values_list("data_product_id", "recommendation"))
    changed = [v for v in valuations if stored.get(v.product_id) != str(v.recommendation)]
    products = DataProduct.objects.in_bulk([v.product_id for v in changed])
    return PolicyPreview(
        as_of=as_of,
        available=True,
        products=len(valuations),
        changes=sorted(
            (
                PreviewChange(
                    product=products[v.product_id],
                    before=stored.get(v.product_id),
                    after=str(v.recommendation),
                    reasons=tuple(v.reasons),
                )
                for v in changed
                if v.product_id in products
            ),
            key=lambda c: c.product.name,
        ),
    )


@dataclass
class RetirementRow:
    product: DataProduct
    notices_sent: int
    notices_pending: int
    consumers: list[tuple[str, int]]
    late_cost: Decimal | None
    late_entries: int


def retirement_board(*, today: date) -> list[RetirementRow]:
    """Deprecated products by sunset date, with notices sent, recent consumers and late costs. Four queries."""
    products = list(
        DataProduct.objects.filter(lifecycle=Lifecycle.DEPRECATED)
        .select_related("domain", "owner")
        .order_by("sunset_on", "name")
    )
    ids = [p.pk for p in products]
    notices: dict[int, dict[str, int]] = {
        row["data_product_id"]: {"sent": row["sent"], "pending": row["pending"]}
        for row in Delivery.objects.filter(
            data_product_id__in=ids, event__in=[Event.RETIREMENT_NOTICE, Event.SUNSET_REMINDER]
        )
        .values("data_product_id")
        .annotate(
            sent=Count("id", filter=Q(status=DeliveryStatus.SENT)),
            pending=Count("id", filter=Q(status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING])),
        )
        .order_by()
    }
    consumers: dict[int, list[tuple[str, int]]] = {}
    for product_id, consumer, uses in (
        UsageRecord.objects.filter(
            data_product_id__in=ids, day__gte=today - timedelta(days=RETIREMENT_USAGE_DAYS), day__lte=today
        )
        .values_list("data_product_id", "consumer")
        .annotate(uses=Sum("count"))
        .order_by("data_product_id", "-uses", "consumer")
    ):
        consumers.setdefault(product_id, []).append((consumer, uses))
    late = late_costs_by_product(ids) if ids else {}
    return [
        RetirementRow(
            product=p,
            notices_sent=notices.get(p.pk, {}).get("sent", 0),
            notices_pending=notices.get(p.pk, {}).get("pending", 0),
            consumers=consumers.get(p.pk, []),
            late_cost=late[p.pk].total if p.pk in late else None,
            late_entries=late[p.pk].entries if p.pk in late else 0,
        )
        for p in products
    ]


RECOMMENDATION_LABELS = dict(Recommendation.choices)
