"""Value-tracking readiness: can a product's value be measured yet (DESIGN.md v2)?

Six checks per active product as of a date A, and per domain the share of its products
passing each. Pure functions: the SQL side says what exists, these functions decide.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from meshvalue.periods import Cadence, add_months
from meshvalue.valuation import is_stale

USAGE_DAYS = 90
RATIO_PLACES = Decimal("0.0001")


class Check(StrEnum):
    HAS_GOAL = "has_goal"
    KPI_DEFINED = "kpi_defined"
    OUTCOMES_CURRENT = "outcomes_current"
    COST_LAST_MONTH = "cost_last_month"
    USAGE_RECORDED = "usage_recorded"
    OWNER_USES = "owner_uses"


CHECKS: tuple[Check, ...] = tuple(Check)

# What each check asks, and what to do to pass it (the product page and the readiness view show both).
CHECK_LABELS: Mapping[Check, str] = {
    Check.HAS_GOAL: "Has a goal",
    Check.KPI_DEFINED: "KPI with baseline, target and value",
    Check.OUTCOMES_CURRENT: "Outcomes current",
    Check.COST_LAST_MONTH: "Cost last month",
    Check.USAGE_RECORDED: "Usage recorded",
    Check.OWNER_USES: "Owner uses it",
}
CHECK_DEFINITIONS: Mapping[Check, str] = {
    Check.HAS_GOAL: "The product serves at least one business goal.",
    Check.KPI_DEFINED: (
        "At least one KPI is attributed to the product with a baseline, a target different from it "
        "and a value per unit above zero."
    ),
    Check.OUTCOMES_CURRENT: (
        "Every KPI attributed to the product has a current outcome within its stale window "
        "(the policy's stale periods times the cadence: 7, 31 or 92 days each)."
    ),
    Check.COST_LAST_MONTH: "A current cost entry exists for the last full month.",
    Check.USAGE_RECORDED: f"Usage was recorded in the last {USAGE_DAYS} days.",
    Check.OWNER_USES: f"The product's owner used it in the last {USAGE_DAYS} days.",
}
CHECK_REMEDIES: Mapping[Check, str] = {
    Check.HAS_GOAL: "Link the product to the business goal it serves.",
    Check.KPI_DEFINED: "Attribute a KPI of that goal, and give the KPI a target and a value per unit.",
    Check.OUTCOMES_CURRENT: "Log the latest outcome of each attributed KPI (form, CSV, API or a scheduled query).",
    Check.COST_LAST_MONTH: "Record last month's cost (form, CSV, API or a billing import).",
    Check.USAGE_RECORDED: "Send usage records (who used the product, each day).",
    Check.OWNER_USES: "The owner should use the product, or hand it to someone who does.",
}


def last_full_month(as_of: date) -> date:
    """The first day of the last calendar month that ended before `as_of`."""
    return add_months(as_of.replace(day=1), -1)


def outcome_fresh(*, cadence: Cadence | str, latest_period_start: date | None, as_of: date, stale_periods: int) -> bool:
    """Whether a KPI's latest current outcome is within its stale window: the core's `stale_kpi` rule."""
    return not is_stale(latest_period_start, Cadence(cadence), as_of, stale_periods)


@dataclass(frozen=True)
class AttributedKpiFacts:
    cadence: Cadence
    latest_period_start: date | None  # the latest current outcome before the date, or None


@dataclass(frozen=True)
class ReadinessFacts:
    """What exists for one active product as of a date.

    `kpis` holds every attributed KPI, or, when `kpi_count` says how many there are, only those
    that may be stale (a superset of the stale ones: an evaluation run's shared figures list the
    KPIs stale under the smallest `stale_periods` of any policy).
    """

    product_id: int
    domain_id: int
    has_goal: bool
    has_defined_kpi: bool
    kpis: tuple[AttributedKpiFacts, ...]
    has_cost_last_month: bool
    has_usage: bool
    owner_used: bool
    stale_periods: int = 2
    kpi_count: int | None = None  # None: `kpis` holds them all


@dataclass(frozen=True)
class ProductReadiness:
    product_id: int
    domain_id: int
    checks: Mapping[Check, bool]

    @property
    def passed(self) -> int:
        return sum(1 for ok in self.checks.values() if ok)

    @property
    def ready(self) -> bool:
        return all(self.checks.values())


def product_readiness(facts: ReadinessFacts, as_of: date) -> ProductReadiness:
    """The six checks of one product. A product with no attributed KPI has no current outcomes."""
    kpi_count = len(facts.kpis) if facts.kpi_count is None else facts.kpi_count
    outcomes_current = kpi_count > 0 and all(
        outcome_fresh(
            cadence=kpi.cadence,
            latest_period_start=kpi.latest_period_start,
            as_of=as_of,
            stale_periods=facts.stale_periods,
        )
        for kpi in facts.kpis
    )
    return ProductReadiness(
        product_id=facts.product_id,
        domain_id=facts.domain_id,
        checks={
            Check.HAS_GOAL: facts.has_goal,
            Check.KPI_DEFINED: facts.has_defined_kpi,
            Check.OUTCOMES_CURRENT: outcomes_current,
            Check.COST_LAST_MONTH: facts.has_cost_last_month,
            Check.USAGE_RECORDED: facts.has_usage,
            Check.OWNER_USES: facts.owner_used,
        },
    )


@dataclass(frozen=True)
class DomainReadiness:
    """Per check: how many of a domain's active products pass, and which fail."""

    domain_id: int
    products: int
    passing: Mapping[Check, int]
    failing: Mapping[Check, tuple[int, ...]] = field(default_factory=dict)
    ready: int = 0

    def share(self, check: Check) -> Decimal | None:
        """The share of products passing `check` (None for a domain with no active product)."""
        if not self.products:
            return None
        return (Decimal(self.passing[check]) / Decimal(self.products)).quantize(RATIO_PLACES, rounding=ROUND_HALF_UP)

    @property
    def ready_share(self) -> Decimal | None:
        if not self.products:
            return None
        return (Decimal(self.ready) / Decimal(self.products)).quantize(RATIO_PLACES, rounding=ROUND_HALF_UP)


def domain_readiness(
    products: Iterable[ProductReadiness], domain_ids: Sequence[int] = ()
) -> dict[int, DomainReadiness]:
    """Readiness per domain; every id in `domain_ids` is listed even with no active product."""
    grouped: dict[int, list[ProductReadiness]] = {domain_id: [] for domain_id in domain_ids}
    for product in products:
        grouped.setdefault(product.domain_id, []).append(product)
    return {domain_id: _domain(domain_id, members) for domain_id, members in grouped.items()}


def _domain(domain_id: int, members: list[ProductReadiness]) -> DomainReadiness:
    passing = dict.fromkeys(CHECKS, 0)
    failing: dict[Check, list[int]] = {check: [] for check in CHECKS}
    ready = 0
    # One pass over the products (a domain may hold thousands), in id order so the lists are stable.
    for product in sorted(members, key=lambda product: product.product_id):
        passed_all = True
        for check, ok in product.checks.items():
            if ok:
                passing[check] += 1
            else:
                failing[check].append(product.product_id)
                passed_all = False
        ready += passed_all
    return DomainReadiness(
        domain_id=domain_id,
        products=len(members),
        passing=passing,
        failing={check: tuple(ids) for check, ids in failing.items()},
        ready=ready,
    )


def total_readiness(domains: Iterable[DomainReadiness]) -> DomainReadiness:
    """The portfolio as one domain (id 0): sums of products and passes, failures joined."""
    rows = list(domains)
    return DomainReadiness(
        domain_id=0,
        products=sum(d.products for d in rows),
        passing={check: sum(d.passing[check] for d in rows) for check in CHECKS},
        failing={check: tuple(sorted(pid for d in rows for pid in d.failing.get(check, ()))) for check in CHECKS},
        ready=sum(d.ready for d in rows),
    )
