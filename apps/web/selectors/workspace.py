"""The product owner's workspace: my products, what needs attention, and the choices of the forms."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import OuterRef, QuerySet, Subquery

from apps.accounts.models import User
from apps.catalog.models import DataProduct, Lifecycle
from apps.core.api import access
from apps.governance.models import Alert, AlertKind, AlertStatus
from apps.kpis.models import KPI, Attribution, Measurement
from apps.valuation.models import Evaluation
from apps.valuation.selectors import policies_by_domain
from apps.web.access import owned_products
from meshvalue.periods import Cadence, add_months, recent_period_starts
from meshvalue.valuation import is_stale

# How many periods the outcome form offers, newest first: half a year of weeks, two years of months.
PERIODS_OFFERED: dict[str, int] = {Cadence.WEEKLY: 26, Cadence.MONTHLY: 24, Cadence.QUARTERLY: 8}
COST_MONTHS_OFFERED = 24


def workspace_product_list(user: User) -> QuerySet[DataProduct]:
    """The products shown in the workspace: the user's own (admins: every one) that are not retired."""
    return owned_products(user).exclude(lifecycle=Lifecycle.RETIRED)


def cost_products(user: User) -> QuerySet[DataProduct]:
    """Products `user` may record costs of, by the API's rule (a retired one too: invoices come late)."""
    return access.restrict(DataProduct.objects.all(), user, access.RECORD_COSTS).order_by("name")


def loggable_kpis(user: User) -> QuerySet[KPI]:
    """KPIs `user` may log outcomes for, by the API's rule: those attributed to one of their products."""
    return (
        access.restrict(KPI.objects.all(), user, access.RECORD_OUTCOMES)
        .select_related("goal")
        .order_by("goal__name", "name")
    )


@dataclass
class Attention:
    """Something about a product that its owner should act on."""

    kind: str  # "stale_kpi" or an alert kind
    message: str
    severe: bool = False


@dataclass
class OwnedProduct:
    product: DataProduct
    recommendation: str | None
    value: Decimal | None
    cost: Decimal | None
    ratio: Decimal | None
    evaluated_on: date | None
    attention: list[Attention] = field(default_factory=list)


def workspace_products(*, user: User, as_of: date) -> list[OwnedProduct]:
    """The user's products that are not retired, with their latest figures and attention items.

    Four queries whatever the number of products: products with their latest evaluation,
    policies, attributions with each KPI's latest outcome, and unresolved alerts.
    Staleness is computed live from the outcomes (not from the last evaluation), so an
    outcome logged a minute ago clears it at once.
    """
    newest = Evaluation.objects.filter(data_product=OuterRef("pk"), as_of__lte=as_of).order_by("-as_of")
    products = list(
        workspace_product_list(user)
        .select_related("domain")
        .annotate(
            latest_recommendation=Subquery(newest.values("recommendation")[:1]),
            latest_value=Subquery(newest.values("value")[:1]),
            latest_cost=Subquery(newest.values("cost")[:1]),
            latest_ratio=Subquery(newest.values("ratio")[:1]),
            latest_as_of=Subquery(newest.values("as_of")[:1]),
        )
        .order_by("name")
    )
    default_policy, domain_policies = policies_by_domain()

    result = {
        p.pk: OwnedProduct(
            product=p,
            recommendation=p.latest_recommendation,
            value=p.latest_value,
            cost=p.latest_cost,
            ratio=p.latest_ratio,
            evaluated_on=p.latest_as_of,
        )
        for p in products
    }
    latest_outcome = Measurement.objects.filter(kpi=OuterRef("kpi_id"), is_current=True).order_by("-period_start")
    for attribution in (
        Attribution.objects.filter(data_product_id__in=result.keys())
        .select_related("kpi", "data_product")
        .annotate(latest_period=Subquery(latest_outcome.values("period_start")[:1]))
        .order_by("kpi__name")
    ):
        owned = result[attribution.data_product_id]
        if owned.product.lifecycle != Lifecycle.ACTIVE:
            continue
        periods = domain_policies.get(owned.product.domain_id, default_policy).stale_periods
        if attribution.latest_period is None:
            owned.attention.append(Attention("stale_kpi", f"{attribution.kpi.name}: no outcome logged yet."))
        elif is_stale(attribution.latest_period, Cadence(attribution.kpi.cadence), as_of, periods):
            owned.attention.append(
                Attention(
                    "stale_kpi",
                    f"{attribution.kpi.name}: last outcome for the period of "
                    f"{attribution.latest_period:%-d %b %Y}; log the {attribution.kpi.cadence} outcomes since.",
                )
            )
    for alert in (
        Alert.objects.filter(data_product_id__in=result.keys())
        .exclude(status=AlertStatus.RESOLVED)
        # Stale KPIs were checked live above; the alert would repeat them, or outlive a fresh outcome.
        .exclude(kind=AlertKind.STALE_KPI)
        .order_by("data_product_id", "-opened_on")
    ):
        result[alert.data_product_id].attention.append(
            Attention(
                alert.kind,
                f"{alert.get_kind_display()} alert ({alert.get_status_display().lower()}): {alert.message}",
                severe=alert.kind in {"retire", "orphaned"},
            )
        )
    return list(result.values())


def period_label(cadence: str, start: date) -> str:
    """How a period reads in the picker: "Week of 2 Mar 2026", "March 2026", "Q1 2026"."""
    if cadence == Cadence.WEEKLY:
        return f"Week of {start:%-d %b %Y}"
    if cadence == Cadence.QUARTERLY:
        return f"Q{(start.month - 1) // 3 + 1} {start.year}"
    return f"{start:%B %Y}"


@dataclass(frozen=True)
class PeriodOption:
    start: date
    label: str
    current_value: Decimal | None
    current_revision: int | None
    recorded_at: object | None
    recorded_by: str | None

    @property
    def choice_label(self) -> str:
        if self.current_value is None:
            return self.label
        return f"{self.label} — has a value ({_plain(self.current_value)}): a new one is a correction"


def _plain(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def period_options(*, kpi: KPI | None, today: date) -> list[PeriodOption]:
    """The periods the outcome form offers for `kpi`, newest first, with the value each already has.

    Only periods aligned to the KPI's cadence that have started by `today`. One query.
    """
    if kpi is None:
        return []
    starts = recent_period_starts(kpi.cadence, today, PERIODS_OFFERED[kpi.cadence])
    current = {
        m.period_start: m
        for m in Measurement.objects.filter(kpi=kpi, is_current=True, period_start__in=starts).select_related(
            "recorded_by"
        )
    }
    return [
        PeriodOption(
            start=start,
            label=period_label(kpi.cadence, start),
            current_value=current[start].value if start in current else None,
            current_revision=current[start].revision if start in current else None,
            recorded_at=current[start].recorded_at if start in current else None,
            recorded_by=(str(current[start].recorded_by) if start in current and current[start].recorded_by else None),
        )
        for start in starts
    ]


def cost_months(*, today: date) -> list[date]:
    """The months the cost form offers, newest first: this month and the 23 before it."""
    first = today.replace(day=1)
    return [add_months(first, -offset) for offset in range(COST_MONTHS_OFFERED)]
