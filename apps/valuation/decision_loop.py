"""The decision loop over a period, per domain and in total: the facts, gathered set-based.

Seven queries whatever the number of products, bets, alerts and decisions (domains, policies,
settled bets summed per domain and status, decisions on alerts in the period, alerts open past
the SLA, retire decisions whose sunset fell in the period, and those products' monthly costs
before the decision). `meshvalue.decision_loop` turns them into the figures. Periods are
inclusive at both ends: `from` and `to` are days. `to` is the date A the DESIGN's figures use.

Bets count by their settlement date (`settled_on`, the review date for bets settled before it
was recorded); decisions by their date, with the time from their alert's creation; alerts are
open past the SLA when they were unresolved at the end of `to` and raised (`opened_on`, the
evaluation date that raised them) more than their domain's SLA in days before `to`. A product
is retired in the period when the sunset of its latest retire decision falls in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.bets.models import BetStatus, ValueBet
from apps.catalog.models import Domain
from apps.governance.models import UNRESOLVED_STATUSES, Alert, Decision, DecisionAction
from apps.valuation.models import EvaluationPolicy
from apps.valuation.readiness import current_cost_entries
from meshvalue.decision_loop import (
    ZERO,
    BetTotals,
    DecisionLoopFigures,
    Retirement,
    avoided_cost,
    decision_loop_figures,
    median_days_per_quarter,
    months_before_decision,
    past_sla_cutoff,
)

DEFAULT_SLA_DAYS = 14


def sla_days_by_domain() -> tuple[int, dict[int, int]]:
    """The default policy's decision SLA in days and each domain override's. One query."""
    default, overrides = DEFAULT_SLA_DAYS, {}
    for domain_id, sla_days in EvaluationPolicy.objects.values_list("domain_id", "decision_sla_days"):
        if domain_id is None:
            default = sla_days
        else:
            overrides[domain_id] = sla_days
    return default, overrides


def _end_of(day: date) -> datetime:
    """The first instant after `day` in the current time zone."""
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


@dataclass(frozen=True)
class DecisionRow:
    decision_id: int
    alert_id: int
    alert_kind: str
    action: str
    product_id: int
    product: str
    slug: str
    domain_id: int
    decided_on: date
    time_to_decision: timedelta
    sla_days: int

    @property
    def within_sla(self) -> bool:
        return self.time_to_decision <= timedelta(days=self.sla_days)

    @property
    def days(self) -> float:
        return round(self.time_to_decision.total_seconds() / 86400, 1)


@dataclass(frozen=True)
class OverdueAlert:
    alert_id: int
    kind: str
    status: str
    product_id: int
    product: str
    slug: str
    domain_id: int
    raised_on: date
    days_open: int
    sla_days: int


@dataclass(frozen=True)
class RetirementRow:
    retirement: Retirement
    product: str
    slug: str
    domain_id: int
    decision_id: int
    avoided_cost: Decimal


@dataclass
class DomainLoop:
    domain_id: int
    name: str
    slug: str
    sla_days: int
    figures: DecisionLoopFigures | None = None
    bets: BetTotals = field(default_factory=BetTotals)
    retirements: list[Retirement] = field(default_factory=list)
    durations: list[tuple[timedelta, int]] = field(default_factory=list)
    past_sla: int = 0


@dataclass(frozen=True)
class DecisionLoop:
    """The decision-loop figures of a period per domain and in total, with the rows behind them."""

    date_from: date
    date_to: date
    currency: str
    default_sla_days: int
    total: DecisionLoopFigures
    domains: list[DomainLoop]
    decisions: list[DecisionRow]
    alerts_past_sla: list[OverdueAlert]
    retirements: list[RetirementRow]
    time_to_decision_per_quarter: list[tuple[str, Decimal, int]]


def _past_sla(date_to: date, default_sla: int, sla_overrides: dict[int, int]) -> Q:
    """Alerts raised long enough before `date_to` to be past their domain's SLA (`past_sla_cutoff`)."""
    condition = Q(opened_on__lt=past_sla_cutoff(date_to, default_sla)) & ~Q(
        data_product__domain_id__in=list(sla_overrides)
    )
    for overridden, sla_days in sla_overrides.items():
        condition |= Q(data_product__domain_id=overridden, opened_on__lt=past_sla_cutoff(date_to, sla_days))
    return condition


def settled_bets(*, date_from: date, date_to: date, domain_id: int | None = None):
    """Won and lost bets settled in the period (void ones left out), as a queryset to list or sum."""
    bets = (
        ValueBet.objects.filter(status__in=[BetStatus.WON, BetStatus.LOST])
        .annotate(settled=Coalesce("settled_on", "review_on"))
        .filter(settled__gte=date_from, settled__lte=date_to)
    )
    if domain_id is not None:
        bets = bets.filter(data_product__domain_id=domain_id)
    return bets


def decision_loop(
    *, date_from: date, date_to: date, domain_id: int | None = None, overdue_limit: int | None = None
) -> DecisionLoop:
    """Every decision-loop figure of the period `[date_from, date_to]`, per domain and in total.

    The alerts past their SLA are counted in the database; `alerts_past_sla` lists the oldest
    `overdue_limit` of them (None: every one, 0: none). A page lists 50 and the dashboard none:
    at 10,000 products a row per overdue alert (7,676 in `make bench-web`) was most of the
    page's time.
    """
    domains_query = Domain.objects.order_by("name", "id")
    if domain_id is not None:
        domains_query = domains_query.filter(pk=domain_id)
    default_sla, sla_overrides = sla_days_by_domain()
    domains = {
        domain.pk: DomainLoop(domain.pk, domain.name, domain.slug, sla_overrides.get(domain.pk, default_sla))
        for domain in domains_query.only("id", "name", "slug")
    }

    def domain_of(pk: int) -> DomainLoop:
        # A domain created while this runs still counts, under its id.
        return domains.setdefault(pk, DomainLoop(pk, "", "", sla_overrides.get(pk, default_sla)))

    in_domain = Q() if domain_id is None else Q(data_product__domain_id=domain_id)
    for row in (
        settled_bets(date_from=date_from, date_to=date_to, domain_id=domain_id)
        .order_by()
        .values("data_product__domain_id", "status")
        .annotate(
            count=Count("id"),
            expected_value=Sum("expected_value"),
            realised_value=Sum("realised_value"),
            expected_cost=Sum("expected_cost", filter=Q(realised_cost__isnull=False)),
            realised_cost=Sum("realised_cost"),
        )
    ):
        won = row["status"] == BetStatus.WON
        loop = domain_of(row["data_product__domain_id"])
        loop.bets = loop.bets + BetTotals(
            won=row["count"] if won else 0,
            lost=0 if won else row["count"],
            expected_value=row["expected_value"] or ZERO,
            realised_value=row["realised_value"] or ZERO,
            expected_cost=row["expected_cost"] or ZERO,
            realised_cost=row["realised_cost"] or ZERO,
        )

    start, end = _end_of(date_from - timedelta(days=1)), _end_of(date_to)
    # Looked up once: `timezone.localdate` finds the current zone again on every call.
    zone = timezone.get_current_timezone()
    decisions: list[DecisionRow] = []
    for decision_values in (
        Decision.objects.filter(in_domain, alert__isnull=False, decided_at__gte=start, decided_at__lt=end)
        .annotate(
            time_to_decision=ExpressionWrapper(F("decided_at") - F("alert__created_at"), output_field=DurationField())
        )
        .order_by("decided_at", "id")
        .values_list(
            "id",
            "alert_id",
            "alert__kind",
            "action",
            "data_product_id",
            "data_product__name",
            "data_product__slug",
            "data_product__domain_id",
            "decided_at",
            "time_to_decision",
        )
    ):
        decision_id, alert_id, kind, action, product_id, name, slug, product_domain, decided_at, duration = (
            decision_values
        )
        loop = domain_of(product_domain)
        duration = max(duration, timedelta(0))
        decisions.append(
            DecisionRow(
                decision_id,
                alert_id,
                kind,
                action,
                product_id,
                name,
                slug,
                product_domain,
                decided_at.astimezone(zone).date(),
                duration,
                loop.sla_days,
            )
        )
        loop.durations.append((duration, loop.sla_days))

    past_sla = (
        Alert.objects.filter(in_domain, _past_sla(date_to, default_sla, sla_overrides))
        # Unresolved now, or resolved only after the period (a resolved alert with no time stays resolved).
        .filter(Q(status__in=UNRESOLVED_STATUSES) | Q(resolved_at__gte=end))
    )
    overdue_count = 0
    for product_domain, count in (
        past_sla.order_by()
        .values("data_product__domain_id")
        .annotate(count=Count("id"))
        .values_list("data_product__domain_id", "count")
    ):
        domain_of(product_domain).past_sla += count
        overdue_count += count
    overdue: list[OverdueAlert] = []
    if overdue_limit != 0:
        listed = past_sla.order_by("opened_on", "id")
        if overdue_limit is not None:
            listed = listed[:overdue_limit]
        for alert_values in listed.values_list(
            "id",
            "kind",
            "status",
            "data_product_id",
            "data_product__name",
            "data_product__slug",
            "data_product__domain_id",
            "opened_on",
        ):
            alert_id, kind, status, product_id, name, slug, product_domain, raised_on = alert_values
            sla_days = domain_of(product_domain).sla_days
            overdue.append(
                OverdueAlert(
                    alert_id,
                    kind,
                    status,
                    product_id,
                    name,
                    slug,
                    product_domain,
                    raised_on,
                    (date_to - raised_on).days,
                    sla_days,
                )
            )

    # The latest retire decision of each product, kept when its sunset fell in the period.
    latest_retire: dict[int, tuple] = {}
    for retire_values in (
        Decision.objects.filter(in_domain, action=DecisionAction.RETIRE, sunset_on__isnull=False)
        .order_by("data_product_id", "decided_at", "id")
        .values_list(
            "data_product_id",
            "id",
            "decided_at",
            "sunset_on",
            "data_product__name",
            "data_product__slug",
            "data_product__domain_id",
        )
    ):
        latest_retire[retire_values[0]] = retire_values
    retired = {pid: v for pid, v in latest_retire.items() if date_from <= v[3] <= date_to}
    costs: dict[int, dict[date, Decimal]] = {}
    if retired:
        months = {pid: set(months_before_decision(v[2].astimezone(zone).date())) for pid, v in retired.items()}
        first = min(min(m) for m in months.values())
        last = max(max(m) for m in months.values())
        for product_id, month, amount in (
            current_cost_entries()
            .filter(data_product_id__in=list(retired), period_start__gte=first, period_start__lte=last)
            .order_by()
            .values("data_product_id", "period_start")
            .annotate(amount=Sum("amount"))
            .values_list("data_product_id", "period_start", "amount")
        ):
            if month in months[product_id]:
                costs.setdefault(product_id, {})[month] = amount
    retirements: list[RetirementRow] = []
    for product_id, (_, decision_id, decided_at, sunset_on, name, slug, product_domain) in sorted(retired.items()):
        retirement = Retirement(
            product_id=product_id,
            decided_on=decided_at.astimezone(zone).date(),
            sunset_on=sunset_on,
            monthly_costs=tuple(sorted(costs.get(product_id, {}).items())),
        )
        domain_of(product_domain).retirements.append(retirement)
        retirements.append(
            RetirementRow(retirement, name, slug, product_domain, decision_id, avoided_cost(retirement, date_to))
        )

    total_bets = BetTotals()
    for loop in domains.values():
        loop.figures = decision_loop_figures(
            bets=loop.bets,
            retirements=loop.retirements,
            durations=loop.durations,
            alerts_past_sla=loop.past_sla,
            as_of=date_to,
        )
        total_bets = total_bets + loop.bets
    total = decision_loop_figures(
        bets=total_bets,
        retirements=[r for loop in domains.values() for r in loop.retirements],
        durations=[d for loop in domains.values() for d in loop.durations],
        alerts_past_sla=overdue_count,
        as_of=date_to,
    )
    return DecisionLoop(
        date_from=date_from,
        date_to=date_to,
        currency=settings.MESHVALUE_CURRENCY,
        default_sla_days=default_sla,
        total=total,
        domains=list(domains.values()),
        decisions=decisions,
        alerts_past_sla=overdue,
        retirements=retirements,
        time_to_decision_per_quarter=median_days_per_quarter(
            (row.decided_on, row.time_to_decision) for row in decisions
        ),
    )
