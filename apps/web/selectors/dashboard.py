"""The executive dashboard: the active portfolio as of a date, and how it got there."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.db.models import Case, Count, DecimalField, F, Q, Sum, Value, When
from django.db.models.functions import Coalesce

from apps.bets.models import BetStatus, ValueBet
from apps.catalog.models import BusinessGoal, GoalStatus
from apps.costs.selectors import bill_coverage_last_month
from apps.kpis.selectors import first_kpis_of_goals, kpi_count_of_goal
from apps.valuation.models import Recommendation
from apps.valuation.portfolio import Figures, portfolio_summary, portfolio_totals
from apps.web.selectors.common import (
    RECOMMENDATION_COLOURS,
    RECOMMENDATION_ORDER,
    ZERO,
    KpiProgress,
    change,
    kpis_with_progress,
    months_before,
    portfolio_monthly_value_cost,
)
from meshvalue.valuation import money

CHART_MONTHS = 24
KPIS_PER_GOAL = 6


def _recommendation_counts(figures: Figures) -> list[dict]:
    return [
        {
            "key": recommendation,
            "label": Recommendation(recommendation).label,
            "count": figures.recommendations.get(recommendation, 0),
            "colour": RECOMMENDATION_COLOURS[recommendation],
        }
        for recommendation in RECOMMENDATION_ORDER
    ]


@dataclass(frozen=True)
class GoalProgress:
    goal_id: int
    name: str
    slug: str
    domain: str
    status: str
    ends_on: date
    kpis: list[KpiProgress]
    # All the goal's KPIs, of which `kpis` are the first few.
    kpi_count: int = 0

    @property
    def more_kpis(self) -> int:
        return self.kpi_count - len(self.kpis)


def goals_progress(*, as_of: date) -> list[GoalProgress]:
    """Goals that are not abandoned, each with the progress of its first KPIs toward target. Two queries.

    A goal shows at most `KPIS_PER_GOAL` KPIs here (its page has them all): a goal measured by
    thousands of KPIs must not make the dashboard as long as the portfolio.
    """
    goals = list(
        BusinessGoal.objects.exclude(status=GoalStatus.ABANDONED)
        .annotate(kpi_count=kpi_count_of_goal())
        .order_by("domain__name", "name")
        .values_list("pk", "name", "slug", "domain__name", "status", "ends_on", "kpi_count")
    )
    shown = first_kpis_of_goals(goal_ids=[g[0] for g in goals], per_goal=KPIS_PER_GOAL)
    kpis = kpis_with_progress(kpis=shown.order_by("name", "pk"), as_of=as_of)
    by_goal: dict[int, list[KpiProgress]] = {}
    for kpi in kpis:
        by_goal.setdefault(kpi.goal_id, []).append(kpi)
    return [
        GoalProgress(
            goal_id=pk,
            name=name,
            slug=slug,
            domain=domain,
            status=status,
            ends_on=ends_on,
            kpis=by_goal.get(pk, []),
            kpi_count=kpi_count,
        )
        for pk, name, slug, domain, status, ends_on, kpi_count in goals
    ]


def bets_summary(*, as_of: date) -> dict:
    """Bets won, lost and open as of a date, with expected against realised value. Two queries.

    A bet settled after `as_of` was still open then; a bet opening after `as_of` is left out.
    """
    settled_by_then = Q(settled_on__isnull=False, settled_on__lte=as_of)
    money_field = DecimalField(max_digits=20, decimal_places=2)
    bets = ValueBet.objects.filter(opens_on__lte=as_of).annotate(
        # Not settled on or before `as_of` (still open, or settled later): it was open then.
        status_then=Case(When(settled_by_then, then=F("status")), default=Value(BetStatus.OPEN))
    )
    rows = {
        row["status_then"]: row
        for row in bets.values("status_then")
        .annotate(
            count=Count("pk"),
            expected_value=Coalesce(Sum("expected_value"), Value(ZERO), output_field=money_field),
            realised_value=Coalesce(
                Sum("realised_value", filter=settled_by_then), Value(ZERO), output_field=money_field
            ),
        )
        .order_by()
    }
    statuses = []
    for status in (BetStatus.WON, BetStatus.LOST, BetStatus.OPEN):
        row: Mapping[str, Any] = rows.get(status, {})
        statuses.append(
            {
                "key": status,
                "label": status.label,
                "count": row.get("count", 0),
                "expected_value": row.get("expected_value", ZERO),
                "realised_value": row.get("realised_value", ZERO) if status != BetStatus.OPEN else None,
            }
        )
    recent = list(
        bets.filter(status_then__in=[BetStatus.WON, BetStatus.LOST, BetStatus.OPEN])
        .select_related("data_product", "goal")
        .order_by(
            Case(When(status_then=BetStatus.OPEN, then=Value(1)), default=Value(0)),
            F("settled_on").desc(nulls_last=True),
            "review_on",
        )[:8]
    )
    chart = {
        "categories": [s["label"] for s in statuses if s["key"] != BetStatus.OPEN],
        "expected": [float(s["expected_value"]) for s in statuses if s["key"] != BetStatus.OPEN],
        "realised": [float(s["realised_value"] or 0) for s in statuses if s["key"] != BetStatus.OPEN],
    }
    has_settled = any(s["count"] for s in statuses if s["key"] != BetStatus.OPEN)
    return {"statuses": statuses, "recent": recent, "chart": chart if has_settled else None}


def dashboard(*, as_of: date) -> dict:
    """Everything the executive dashboard shows as of `as_of`, in a fixed number of queries.

    The portfolio and its totals are the API's (`apps.valuation.portfolio`): every product's
    latest evaluation on or before the date, leaving out products retired by then, so the
    dashboard and `GET /api/v1/portfolio/summary/` always agree. The change is against the
    same summary a quarter (three months) earlier.
    """
    currency = settings.MESHVALUE_CURRENCY
    previous_as_of = months_before(as_of, 3)
    summary = portfolio_summary(as_of=as_of)
    totals = summary.totals
    previous_totals = portfolio_totals(as_of=previous_as_of)
    previous = previous_totals if previous_totals.products else None
    changes = {
        name: change(getattr(totals, name), getattr(previous, name) if previous else None)
        for name in ("value", "cost", "net", "ratio", "roi")
    }
    monthly = portfolio_monthly_value_cost(as_of=as_of, months=CHART_MONTHS)
    monthly_value, monthly_cost = monthly.value_series(), monthly.cost_series()
    monthly_chart = {
        "months": [m.isoformat() for m in monthly.months],
        "value": [float(v) for v in monthly_value],
        "cost": [float(c) for c in monthly_cost],
        "currency": currency,
    }
    return {
        "as_of": as_of,
        "previous_as_of": previous_as_of,
        "currency": currency,
        "totals": totals,
        "previous": previous,
        "changes": changes,
        "evaluated_on": summary.evaluated_on,
        "recommendation_counts": _recommendation_counts(totals),
        "domains": summary.domains,
        "goals": goals_progress(as_of=as_of),
        "bets": bets_summary(as_of=as_of),
        "monthly_chart": monthly_chart,
        "monthly_has_data": any(monthly_chart["value"]) or any(monthly_chart["cost"]),
        "monthly_totals": {
            "value": money(sum(monthly_value, ZERO)),
            "cost": money(sum(monthly_cost, ZERO)),
        },
        "bill_coverage": bill_coverage_last_month(),
    }
