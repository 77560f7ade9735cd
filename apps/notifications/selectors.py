"""Reads for notifications: who hears about what, and the figures digests and notices show.

Every function here runs a fixed number of queries whatever the number of alerts, products
or users it is asked about.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, F, Max, Min, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.bets.models import ValueBet
from apps.catalog.models import DataProduct, Domain, Lifecycle
from apps.costs.models import CostEntry
from apps.governance.models import UNRESOLVED_STATUSES, Alert, Decision
from apps.notifications.models import DomainGovernanceLead, NotificationPreference, WebhookSubscription
from apps.usage.models import UsageRecord
from apps.valuation.models import Evaluation
from meshvalue.valuation import money

# Consumers of a product are those who used it in this many days (DESIGN.md, retirement).
CONSUMER_WINDOW_DAYS = 90


def role_members(role: Role) -> list[User]:
    """Active members of a role's group (staff are not members by virtue of being staff)."""
    return list(User.objects.filter(groups__name=role.value, is_active=True).distinct().order_by("pk"))


def governance_leads_by_domain(domain_ids: Iterable[int] | None = None) -> dict[int, list[User]]:
    """The governance leads of each domain.

    A domain's governance leads are the active members of the `governance_lead` group who own
    the domain (`Domain.owner`) or are tied to it by a `DomainGovernanceLead` row. A domain with
    none of them falls back to every governance lead, so an alert always reaches someone who can
    decide. Three queries, whatever the number of domains.
    """
    leads = {user.pk: user for user in role_members(Role.GOVERNANCE_LEAD)}
    domains = Domain.objects.all() if domain_ids is None else Domain.objects.filter(pk__in=list(domain_ids))
    tied: dict[int, set[int]] = {}
    for domain_id, owner_id in domains.values_list("pk", "owner_id"):
        tied[domain_id] = {owner_id} if owner_id in leads else set()
    links = DomainGovernanceLead.objects.filter(domain_id__in=list(tied), user_id__in=list(leads))
    for domain_id, user_id in links.values_list("domain_id", "user_id"):
        tied[domain_id].add(user_id)
    everyone = list(leads.values())
    return {
        domain_id: [leads[pk] for pk in sorted(user_ids)] if user_ids else everyone
        for domain_id, user_ids in tied.items()
    }


def email_opt_outs(*, user_ids: Iterable[int], topics: Iterable[str]) -> set[tuple[int, str]]:
    """(user id, topic) pairs for which the user turned e-mail off."""
    rows = NotificationPreference.objects.filter(
        user_id__in=list(user_ids), topic__in=list(topics), email_enabled=False
    ).values_list("user_id", "topic")
    return set(rows)


def email_preferences(*, user: User) -> dict[str, bool]:
    """The user's e-mail choice per topic (missing rows mean on)."""
    return dict(NotificationPreference.objects.filter(user=user).values_list("topic", "email_enabled"))


def webhook_subscriptions_active() -> list[WebhookSubscription]:
    """Active subscriptions with their domain ids prefetched (`domain_ids` attribute)."""
    subscriptions = list(WebhookSubscription.objects.filter(is_active=True).prefetch_related("domains"))
    for subscription in subscriptions:
        subscription.domain_ids = {domain.pk for domain in subscription.domains.all()}  # type: ignore[attr-defined]
    return subscriptions


def webhook_subscription_list() -> QuerySet[WebhookSubscription]:
    """Every subscription, for the API (governance leads and admins manage them all)."""
    return WebhookSubscription.objects.prefetch_related("domains").select_related("created_by").order_by("id")


@dataclass(frozen=True)
class ConsumerRecipients:
    """Who a product's consumers are as people: users by consumer name, and names nobody answers to."""

    users_by_name: dict[str, list[User]]
    unreachable: list[str]


def consumers_by_product(
    *, product_ids: Iterable[int], as_of: date, since: Mapping[int, date] | None = None
) -> dict[int, list[str]]:
    """Consumer names (usernames or team names) per product, from usage up to `as_of`.

    The window starts 90 days before `as_of`, or on the day given per product in `since`
    (a reminder also reaches those who used the product before its retirement was decided).
    One query.
    """
    ids = list(product_ids)
    default_start = as_of - timedelta(days=CONSUMER_WINDOW_DAYS)
    starts = {pk: (since or {}).get(pk, default_start) for pk in ids}
    if not starts:
        return {}
    rows = (
        UsageRecord.objects.filter(data_product_id__in=ids, day__gte=min(starts.values()), day__lte=as_of, count__gt=0)
        .values_list("data_product_id", "consumer")
        .annotate(last_used=Max("day"))
    )
    consumers: dict[int, set[str]] = defaultdict(set)
    for product_id, consumer, last_used in rows:
        if last_used >= starts[product_id]:
            consumers[product_id].add(consumer)
    return {product_id: sorted(names) for product_id, names in consumers.items()}


def consumer_recipients(names: Iterable[str]) -> ConsumerRecipients:
    """Resolve consumer names to active users with an e-mail address.

    A name is a user's username, or a team name that reaches every member of that team
    (`User.team`). A name nobody with an e-mail answers to is listed as unreachable.
    """
    wanted = sorted(set(names))
    users = list(
        User.objects.filter(Q(username__in=wanted) | Q(team__in=wanted), is_active=True)
        .exclude(email="")
        .order_by("pk")
    )
    by_name: dict[str, list[User]] = defaultdict(list)
    for user in users:
        if user.username in wanted:
            by_name[user.username].append(user)
        if user.team and user.team in wanted and user.team != user.username:
            by_name[user.team].append(user)
    return ConsumerRecipients(users_by_name=dict(by_name), unreachable=[name for name in wanted if name not in by_name])


@dataclass(frozen=True)
class LateCosts:
    """Money recorded for months that start on or after a product's sunset date."""

    data_product_id: int
    sunset_on: date
    total: Decimal
    entries: int
    first_period: date


def late_costs_by_product(product_ids: Iterable[int] | None = None) -> dict[int, LateCosts]:
    """Costs recorded after the sunset, per deprecated or retired product.

    A cost entry is late when its month (`period_start`) begins on or after the product's
    `sunset_on`: money still spent on something that should be gone. One query; pass
    `product_ids` to ask about a page's products only.
    """
    entries = CostEntry.objects.filter(
        is_current=True,
        data_product__lifecycle__in=[Lifecycle.DEPRECATED, Lifecycle.RETIRED],
        data_product__sunset_on__isnull=False,
        period_start__gte=F("data_product__sunset_on"),
    )
    if product_ids is not None:
        entries = entries.filter(data_product_id__in=list(product_ids))
    rows = entries.values("data_product_id", "data_product__sunset_on").annotate(
        total=Sum("amount"), entries=Count("pk"), first_period=Min("period_start")
    )
    return {
        row["data_product_id"]: LateCosts(
            data_product_id=row["data_product_id"],
            sunset_on=row["data_product__sunset_on"],  # type: ignore[arg-type]  # never None: filtered above
            total=money(row["total"]),
            entries=row["entries"],
            first_period=row["first_period"],
        )
        for row in rows
    }


def _latest_evaluations(as_of: date):
    """Each not-retired product's most recent evaluation on or before `as_of` (one subquery)."""
    latest = (
        Evaluation.objects.filter(data_product=OuterRef("data_product"), as_of__lte=as_of)
        .order_by("-as_of")
        .values("as_of")[:1]
    )
    return Evaluation.objects.filter(
        as_of__lte=as_of,
        data_product__lifecycle__in=[Lifecycle.ACTIVE, Lifecycle.DEPRECATED],
        as_of=Subquery(latest),
    )


def portfolio_totals(*, as_of: date) -> dict[str, Decimal]:
    """Value, cost and net of the portfolio from each product's latest evaluation on or before `as_of`."""
    totals = _latest_evaluations(as_of).aggregate(value=Sum("value"), cost=Sum("cost"), net=Sum("net"))
    # Quantized: SQLite's sums drop the scale of decimals.
    return {key: money(totals[key] or Decimal("0")) for key in ("value", "cost", "net")}


def executive_digest_data(*, as_of: date) -> dict:
    """The executives' week: portfolio totals and their change, alerts, decisions, bets settled.

    The week is the seven days before `as_of`. Figures are strings so the result is JSON.
    """
    week_ago = as_of - timedelta(days=7)
    now, before = portfolio_totals(as_of=as_of), portfolio_totals(as_of=week_ago)
    alerts = dict(
        Alert.objects.filter(opened_on__gte=week_ago, opened_on__lt=as_of)
        .values_list("kind")
        .annotate(n=Count("pk"))
        .values_list("kind", "n")
    )
    # Decisions by the moment they were taken, in the local time zone, through the end of `as_of`:
    # the digest goes out on the morning of `as_of`, and decisions of that day already count.
    week_starts = timezone.make_aware(datetime.combine(week_ago, time.min))
    week_ends = timezone.make_aware(datetime.combine(as_of + timedelta(days=1), time.min))
    decisions = dict(
        Decision.objects.filter(decided_at__gte=week_starts, decided_at__lt=week_ends)
        .values_list("action")
        .annotate(n=Count("pk"))
        .values_list("action", "n")
    )
    bets = list(
        ValueBet.objects.filter(settled_on__gte=week_ago, settled_on__lt=as_of)
        .exclude(status="open")
        .select_related("data_product")
        .order_by("settled_on", "pk")
    )
    return {
        "as_of": as_of.isoformat(),
        "week_start": week_ago.isoformat(),
        "totals": {key: str(value) for key, value in now.items()},
        "changes": {key: str(now[key] - before[key]) for key in now},
        "alerts_opened": alerts,
        "decisions": decisions,
        "bets_settled": [
            {
                "data_product": bet.data_product.name,
                "hypothesis": bet.hypothesis[:200],
                "status": bet.status,
                "expected_value": str(bet.expected_value),
                "realised_value": None if bet.realised_value is None else str(bet.realised_value),
                "settled_on": bet.settled_on.isoformat() if bet.settled_on else None,
            }
            for bet in bets
        ],
    }


@dataclass(frozen=True)
class GovernanceWeek:
    """The rows behind the governance leads' digests, read once and split per lead."""

    open_alerts: list[Alert]
    upcoming_sunsets: list[DataProduct]
    late_costs: dict[int, LateCosts]
    late_cost_products: dict[int, DataProduct]


def governance_week(*, as_of: date, horizon_days: int) -> GovernanceWeek:
    """Unresolved alerts, sunsets within `horizon_days` of `as_of`, and costs recorded after a sunset."""
    open_alerts = list(
        Alert.objects.filter(status__in=UNRESOLVED_STATUSES)
        .select_related("data_product", "data_product__domain")
        .order_by("opened_on", "pk")
    )
    upcoming = list(
        DataProduct.objects.filter(
            lifecycle=Lifecycle.DEPRECATED, sunset_on__gte=as_of, sunset_on__lte=as_of + timedelta(days=horizon_days)
        )
        .select_related("domain", "owner")
        .order_by("sunset_on", "name")
    )
    late = late_costs_by_product()
    late_products = DataProduct.objects.filter(pk__in=list(late)).select_related("domain").in_bulk()
    return GovernanceWeek(
        open_alerts=open_alerts, upcoming_sunsets=upcoming, late_costs=late, late_cost_products=late_products
    )


@dataclass(frozen=True)
class FlaggedProduct:
    product: DataProduct
    late: LateCosts


def late_costs_list() -> list[FlaggedProduct]:
    """Every product with costs recorded after its sunset, largest amount first (two queries)."""
    late = late_costs_by_product()
    products = DataProduct.objects.filter(pk__in=list(late)).select_related("domain").in_bulk()
    flagged = [FlaggedProduct(product=products[pk], late=costs) for pk, costs in late.items() if pk in products]
    return sorted(flagged, key=lambda item: (-item.late.total, item.product.name))
