"""The governance inbox: alerts with their evidence, and the log of decisions."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Aggregate, Count, DurationField, ExpressionWrapper, F, Q, QuerySet

from apps.accounts.roles import product_owner_candidates
from apps.catalog.models import DataProduct, Domain
from apps.governance.models import Alert, AlertKind, AlertStatus, Decision
from apps.web.selectors.common import monthly_value_cost
from apps.web.selectors.portfolio_table import compact_amount

ALERTS_PER_PAGE = 20
DECISIONS_PER_PAGE = 50
EVIDENCE_MONTHS = 12

# Filter values of the inbox. "todo" is the default: everything still waiting for someone.
STATUS_FILTERS: dict[str, str] = {
    "todo": "Needs action",
    AlertStatus.OPEN: "Open",
    AlertStatus.ACKNOWLEDGED: "Acknowledged",
    AlertStatus.SNOOZED: "Snoozed",
    AlertStatus.RESOLVED: "Resolved",
    "all": "All",
}
AGE_FILTERS: dict[str, tuple[str, int | None, int | None]] = {
    # key: (label, at least days, fewer than days)
    "": ("Any age", None, None),
    "new": ("Under a week", None, 7),
    "week": ("1 to 4 weeks", 7, 29),
    "month": ("Over 4 weeks", 29, None),
}


@dataclass(frozen=True)
class InboxFilters:
    kind: str = ""
    status: str = "todo"
    domain: str = ""
    age: str = ""
    product: str = ""


def alert_queryset(*, filters: InboxFilters, today: date) -> QuerySet[Alert]:
    """Alerts matching the inbox filters, newest first, with product, domain, owner and evaluation joined.

    "Needs action" means open or acknowledged, or snoozed until a day that has come.
    """
    alerts = Alert.objects.select_related("data_product__domain", "data_product__owner", "evaluation")
    if filters.kind in AlertKind.values:
        alerts = alerts.filter(kind=filters.kind)
    if filters.status == "todo":
        alerts = alerts.filter(
            Q(status__in=[AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED])
            | Q(status=AlertStatus.SNOOZED, snoozed_until__lte=today)
        )
    elif filters.status in AlertStatus.values:
        alerts = alerts.filter(status=filters.status)
    if filters.domain:
        alerts = alerts.filter(data_product__domain__slug=filters.domain)
    if filters.product:
        alerts = alerts.filter(data_product__slug=filters.product)
    _label, at_least, fewer_than = AGE_FILTERS.get(filters.age, AGE_FILTERS[""])
    if at_least is not None:
        alerts = alerts.filter(opened_on__lte=today - timedelta(days=at_least))
    if fewer_than is not None:
        alerts = alerts.filter(opened_on__gt=today - timedelta(days=fewer_than))
    return alerts.order_by("-opened_on", "-id")


@dataclass
class AlertItem:
    """An alert as the inbox shows it: with its evidence chart and its decision, if any."""

    alert: Alert
    chart_id: str
    # Compact: the first month and one number per month of each series; the page counts the months on.
    chart: dict
    age_days: int
    months: list[date]
    decision: Decision | None = None

    @property
    def extra_reasons(self) -> list[str]:
        """The evaluation's reasons that the alert's message does not already say."""
        if self.alert.evaluation is None:
            return []
        return [reason for reason in self.alert.evaluation.reasons if reason not in self.alert.message]

    @property
    def time_to_decision(self) -> timedelta | None:
        if self.decision is None:
            return None
        return self.decision.decided_at - self.alert.created_at


def alert_items(*, alerts: list[Alert], today: date) -> list[AlertItem]:
    """Evidence for a page of alerts: each product's value and cost per month, and the decisions taken.

    A fixed number of queries for the whole page (not one per alert).
    """
    currency = settings.MESHVALUE_CURRENCY
    product_ids = {a.data_product_id for a in alerts}
    monthly = monthly_value_cost(
        as_of=today + timedelta(days=1), months=EVIDENCE_MONTHS, products=DataProduct.objects.filter(pk__in=product_ids)
    )
    decisions: dict[int | None, Decision] = {}
    for decision in Decision.objects.filter(alert__in=[a.pk for a in alerts]).select_related("decided_by", "new_owner"):
        decisions.setdefault(decision.alert_id, decision)
    return [
        AlertItem(
            alert=alert,
            chart_id=f"chart-alert-{alert.pk}",
            chart={
                "start": monthly.months[0].isoformat(),
                "value": [compact_amount(v) for v in monthly.value_series(alert.data_product_id)],
                "cost": [compact_amount(c) for c in monthly.cost_series(alert.data_product_id)],
                "currency": currency,
            },
            age_days=(today - alert.opened_on).days,
            months=monthly.months,
            decision=decisions.get(alert.pk),
        )
        for alert in alerts
    ]


def inbox_counts(*, today: date) -> dict:
    """The alerts that need action, per kind and in total (one query): the inbox's tiles, redrawn after an action."""
    todo_counts = dict(
        Alert.objects.filter(
            Q(status__in=[AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED])
            | Q(status=AlertStatus.SNOOZED, snoozed_until__lte=today)
        )
        .values_list("kind")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {
        "todo_counts": [
            {"key": kind, "label": label, "count": todo_counts.get(kind, 0)} for kind, label in AlertKind.choices
        ],
        "todo_total": sum(todo_counts.values()),
    }


def inbox_page(*, filters: InboxFilters, today: date, page_number: str | int | None) -> dict:
    """The inbox: a page of filtered alerts with evidence, the counts that need action, the median time to decide."""
    paginator = Paginator(alert_queryset(filters=filters, today=today), ALERTS_PER_PAGE)
    page: Page = paginator.get_page(page_number)
    return {
        "page": page,
        "items": alert_items(alerts=list(page.object_list), today=today),
        **inbox_counts(today=today),
        "median_time_to_decision": median_time_to_decision(),
    }


def domain_choices() -> list[tuple[str, str]]:
    """(slug, name) of every domain, for the inbox filter. One query."""
    return list(Domain.objects.order_by("name").values_list("slug", "name"))


def owner_choices() -> list[tuple[int, str]]:
    """People a product can be reassigned to: active users holding the product-owner role. One query."""
    users = product_owner_candidates()
    return [(user.pk, f"{user} ({user.username})" if user.get_full_name() else user.username) for user in users]


def _decision_durations() -> QuerySet[Decision]:
    return Decision.objects.filter(alert__isnull=False).annotate(
        time_to_decision=ExpressionWrapper(F("decided_at") - F("alert__created_at"), output_field=DurationField())
    )


class _MedianDuration(Aggregate):
    """PostgreSQL's exact median (`percentile_cont(0.5)`) of an interval column."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


def median_time_to_decision() -> timedelta | None:
    """The median time from an alert being raised to the decision taken on it (None before any decision).

    One query. On PostgreSQL the database takes the median, so the page does not read every decision
    ever taken; SQLite (the demo) has no percentile function and reads the durations.
    """
    if connection.vendor == "postgresql":
        return _decision_durations().order_by().aggregate(median=_MedianDuration("time_to_decision"))["median"]
    # An annotation the django-stubs plugin cannot see through the helper's QuerySet[Decision] type.
    durations = list(_decision_durations().values_list("time_to_decision", flat=True))  # type: ignore[misc]
    durations = [d for d in durations if d is not None]
    if not durations:
        return None
    return statistics.median(durations)


def decision_log_page(*, page_number: str | int | None) -> dict:
    """Decisions, newest first, each with the time from its alert to the decision; and their median."""
    decisions = (
        Decision.objects.select_related("data_product", "decided_by", "new_owner", "previous_owner", "alert")
        .annotate(
            time_to_decision=ExpressionWrapper(F("decided_at") - F("alert__created_at"), output_field=DurationField())
        )
        .order_by("-decided_at", "-id")
    )
    page = Paginator(decisions, DECISIONS_PER_PAGE).get_page(page_number)
    return {"page": page, "median_time_to_decision": median_time_to_decision()}
