"""Load the demo portfolio: deterministic (fixed seed) and idempotent (natural keys, no duplicates)."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from apps.accounts.models import User
from apps.bets.models import BetStatus, ValueBet
from apps.catalog.models import BusinessGoal, DataProduct, Domain, GoalStatus, Lifecycle
from apps.costs.models import CostCategory, CostEntry, CostSource
from apps.demo import demo_data
from apps.governance.models import Alert, AlertStatus, Decision
from apps.kpis.models import KPI, Attribution, Measurement, MeasurementSource
from apps.usage.models import UsageRecord
from meshvalue.periods import add_months, period_starts

SEED = 20261121
HISTORY_DAYS = 730
FOUR_PLACES = Decimal("0.0001")
CENTS = Decimal("0.01")

# How each archetype sits in its lifecycle, relative to today (days).
LAUNCHED_DAYS_AGO = {"incubating": 45, "default": 760}
STALE_STOP_DAYS_AGO = 150  # stale products stopped logging KPIs this long ago
EVIDENCE_GAP_STOP_DAYS_AGO = 400  # beyond the 365-day window: the product needs a review
RETIRED_DAYS_AGO = 200
DEPRECATED_SUNSET_IN_DAYS = 45
COST_SPLIT = {CostCategory.INFRASTRUCTURE: Decimal("0.45"), CostCategory.PEOPLE: Decimal("0.45")}
LICENSE_SHARE = Decimal("0.10")


@dataclass
class SeedSummary:
    users: int
    domains: int
    goals: int
    products: int
    kpis: int
    measurements: int
    costs: int
    usage: int
    bets: int


def _round(value: Decimal, places: Decimal = FOUR_PLACES) -> Decimal:
    return value.quantize(places, rounding=ROUND_HALF_UP)


def _seed_users() -> dict[str, User]:
    groups = {g.name: g for g in Group.objects.filter(name__in=["executive", "product_owner", "governance_lead"])}
    users: dict[str, User] = {}
    for spec in demo_data.USERS:
        user, created = User.objects.get_or_create(
            username=spec.username,
            defaults={
                "first_name": spec.first_name,
                "last_name": spec.last_name,
                "email": f"{spec.username}@demo.meshvalue.example",
                "team": spec.team,
                "is_staff": spec.is_admin,
                "is_superuser": spec.is_admin,
            },
        )
        if created:
            user.set_password(spec.password)
            user.save(update_fields=["password"])
        if spec.role:
            user.groups.add(groups[spec.role])
        users[spec.username] = user
    return users


def _product_dates(archetype: str, today: date) -> tuple[str, date | None, date | None]:
    """(lifecycle, launched_on, sunset_on) for an archetype."""
    if archetype == "proposed":
        return Lifecycle.PROPOSED, None, None
    if archetype == "incubating":
        return Lifecycle.ACTIVE, today - timedelta(days=LAUNCHED_DAYS_AGO["incubating"]), None
    launched = today - timedelta(days=LAUNCHED_DAYS_AGO["default"])
    if archetype == "retired":
        return Lifecycle.RETIRED, launched, today - timedelta(days=RETIRED_DAYS_AGO)
    if archetype == "deprecated":
        return Lifecycle.DEPRECATED, launched, today + timedelta(days=DEPRECATED_SUNSET_IN_DAYS)
    return Lifecycle.ACTIVE, launched, None


def _last_logged_day(archetype: str, today: date, sunset_on: date | None) -> date:
    if archetype == "stale":
        return today - timedelta(days=STALE_STOP_DAYS_AGO)
    if archetype == "evidence_gap":
        return today - timedelta(days=EVIDENCE_GAP_STOP_DAYS_AGO)
    if archetype == "retired" and sunset_on:
        return sunset_on
    return today - timedelta(days=1)


@transaction.atomic
def seed_demo(*, today: date | None = None) -> SeedSummary:
    """Create the demo portfolio as of `today`. Running it again adds nothing."""
    today = today or timezone.localdate()
    rng = random.Random(SEED)
    counts_before = _row_counts()
    users = _seed_users()
    history_start = today - timedelta(days=HISTORY_DAYS)

    domains: dict[str, Domain] = {}
    for name, slug, owner, description in demo_data.DOMAINS:
        domains[slug], _ = Domain.objects.get_or_create(
            slug=slug, defaults={"name": name, "owner": users[owner], "description": description}
        )

    goals: dict[str, BusinessGoal] = {}
    for slug, name, domain, sponsor, description in demo_data.GOALS:
        goals[slug], _ = BusinessGoal.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "domain": domains[domain],
                "sponsor": users[sponsor],
                "description": description,
                "starts_on": history_start,
                "ends_on": date(today.year + 1, 12, 31),
                "status": GoalStatus.ACTIVE,
            },
        )

    kpis: dict[str, KPI] = {}
    for kpi_spec in demo_data.KPIS:
        kpis[kpi_spec.key], _ = KPI.objects.get_or_create(
            goal=goals[kpi_spec.goal],
            name=kpi_spec.name,
            defaults={
                "unit": kpi_spec.unit,
                "cadence": kpi_spec.cadence,
                "direction": kpi_spec.direction,
                "baseline": kpi_spec.baseline,
                "target": kpi_spec.target,
                "target_date": date(today.year + 1, 6, 30),
                "value_per_unit": kpi_spec.value_per_unit,
            },
        )

    products: dict[str, DataProduct] = {}
    for spec in demo_data.PRODUCTS:
        lifecycle, launched_on, sunset_on = _product_dates(spec.archetype, today)
        product, created = DataProduct.objects.get_or_create(
            slug=spec.slug,
            defaults={
                "name": spec.name,
                "domain": domains[spec.domain],
                "owner": users[spec.owner],
                "description": spec.description,
                "lifecycle": lifecycle,
                "launched_on": launched_on,
                "sunset_on": sunset_on,
            },
        )
        if created:
            product.goals.set([goals[g] for g in spec.goals])
        products[spec.slug] = product

    # Only the missing ones (the seed may run again), with their audit trail: bulk_create sends no signal.
    existing = set(Attribution.objects.values_list("kpi_id", "data_product_id"))
    bulk_create_with_history(
        [
            Attribution(kpi=kpis[key], data_product=products[spec.slug], weight=weight)
            for spec in demo_data.PRODUCTS
            for key, weight in spec.kpis
            if (kpis[key].pk, products[spec.slug].pk) not in existing
        ],
        Attribution,
    )

    # KPI outcomes follow the archetype of the product that carries most of the KPI's weight.
    kpi_archetype: dict[str, tuple[str, date, date]] = {}
    for spec in sorted(demo_data.PRODUCTS, key=lambda p: -max((w for _, w in p.kpis), default=Decimal(0))):
        product = products[spec.slug]
        for key, _weight in spec.kpis:
            if key in kpi_archetype:
                continue
            first = max(history_start, product.launched_on or today)
            kpi_archetype[key] = (spec.archetype, first, _last_logged_day(spec.archetype, today, product.sunset_on))

    kpi_specs = {spec.key: spec for spec in demo_data.KPIS}
    measurement_rows: list[Measurement] = []
    value_by_kpi_period: dict[str, list[tuple[date, Decimal]]] = defaultdict(list)
    for key in sorted(kpi_archetype):
        archetype, first, last = kpi_archetype[key]
        kpi_spec = kpi_specs[key]
        shape = demo_data.ARCHETYPES[archetype]
        start_share, end_share = shape["progress"]
        span = max((last - first).days, 1)
        gap = kpi_spec.target - kpi_spec.baseline
        for start in period_starts(kpi_spec.cadence, first, last):
            if start < first:
                continue
            elapsed = (start - first).days / span
            share = start_share + (end_share - start_share) * elapsed + rng.gauss(0, shape["noise"])
            value = _round(kpi_spec.baseline + gap * Decimal(str(round(share, 4))))
            measurement_rows.append(
                Measurement(kpi=kpis[key], period_start=start, value=value, source=MeasurementSource.CSV, revision=1)
            )
            value_by_kpi_period[key].append((start, value))
    Measurement.objects.bulk_create(measurement_rows, ignore_conflicts=True)
    _seed_corrections(kpis, value_by_kpi_period, users, rng)

    cost_rows = _cost_rows(products, kpis, kpi_specs, value_by_kpi_period, today, rng)
    CostEntry.objects.bulk_create(cost_rows, ignore_conflicts=True)

    usage_rows = _usage_rows(products, users, today, rng)
    UsageRecord.objects.bulk_create(usage_rows, ignore_conflicts=True)

    _seed_bets(products, goals, users, today)
    _link_late(products, kpis, value_by_kpi_period, today)
    _seed_decision_history(products, users, today)
    counts_after = _row_counts()
    return SeedSummary(**{name: counts_after[name] - counts_before[name] for name in counts_after})


# DESIGN.md v2: a product linked late to a KPI with history is credited only from its start, beyond
# the level the KPI had then. Basket analytics started serving the repeat-rate KPI 120 days ago.
LATE_LINK = ("basket-analytics", "repeat-rate", Decimal("0.3"), 120)


def _link_late(products, kpis, value_by_kpi_period, today: date) -> None:
    """Link one product to an existing KPI late, with the KPI's latest outcome before then as its baseline."""
    slug, key, weight, days = LATE_LINK
    starts_on = today - timedelta(days=days)
    before = [value for period, value in value_by_kpi_period.get(key, ()) if period < starts_on]
    Attribution.objects.get_or_create(
        kpi=kpis[key],
        data_product=products[slug],
        defaults={"weight": weight, "starts_on": starts_on, "baseline": before[-1] if before else None},
    )


def _row_counts() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "domains": Domain.objects.count(),
        "goals": BusinessGoal.objects.count(),
        "products": DataProduct.objects.count(),
        "kpis": KPI.objects.count(),
        "measurements": Measurement.objects.count(),
        "costs": CostEntry.objects.count(),
        "usage": UsageRecord.objects.count(),
        "bets": ValueBet.objects.count(),
    }


def _seed_corrections(kpis, value_by_kpi_period, users, rng) -> None:
    """A few outcomes were corrected after the fact: the history keeps both revisions."""
    for key in ("reco-orders", "stockout-rate", "monthly-churn"):
        periods = value_by_kpi_period.get(key)
        if not periods:
            continue
        start, value = periods[len(periods) // 2]
        kpi = kpis[key]
        if Measurement.objects.filter(kpi=kpi, period_start=start, revision=2).exists():
            continue
        corrected = _round(value * Decimal("1.01"))
        Measurement.objects.filter(kpi=kpi, period_start=start, is_current=True).update(is_current=False)
        Measurement.objects.create(
            kpi=kpi,
            period_start=start,
            value=corrected,
            revision=2,
            source=MeasurementSource.FORM,
            note="Corrected after the finance restatement.",
            recorded_by=users["owner"],
        )


def _annual_value(product: DataProduct, kpis, kpi_specs, value_by_kpi_period, spec, today: date) -> Decimal:
    """The value the product realised over the last 365 days, by DESIGN.md's rule."""
    window_start = today - timedelta(days=365)
    total = Decimal("0")
    for key, weight in spec.kpis:
        kpi_spec = kpi_specs[key]
        for start, value in value_by_kpi_period.get(key, []):
            if not (window_start <= start < today):
                continue
            improvement = value - kpi_spec.baseline if kpi_spec.direction == "increase" else kpi_spec.baseline - value
            total += weight * improvement * kpi_spec.value_per_unit
    return total


def _cost_rows(products, kpis, kpi_specs, value_by_kpi_period, today: date, rng) -> list[CostEntry]:
    rows: list[CostEntry] = []
    for spec in demo_data.PRODUCTS:
        product = products[spec.slug]
        if spec.archetype == "proposed" or product.launched_on is None:
            continue
        shape = demo_data.ARCHETYPES[spec.archetype]
        annual_value = _annual_value(product, kpis, kpi_specs, value_by_kpi_period, spec, today)
        if annual_value > Decimal("1000"):
            monthly = annual_value / Decimal(12) / Decimal(str(shape["target_ratio"]))
        else:
            monthly = Decimal(rng.randrange(6_000, 14_000))
        if spec.archetype == "incubating":
            monthly = Decimal(rng.randrange(9_000, 16_000))
        first_month = add_months(max(product.launched_on, today - timedelta(days=HISTORY_DAYS)), 0)
        last_day = product.sunset_on if spec.archetype == "retired" else today - timedelta(days=1)
        month = first_month
        while month <= last_day:
            drift = Decimal(str(round(rng.uniform(0.92, 1.08), 3)))
            for category, share in [*COST_SPLIT.items(), (CostCategory.LICENSES, LICENSE_SHARE)]:
                amount = _round(monthly * share * drift, CENTS)
                rows.append(
                    CostEntry(
                        data_product=product,
                        period_start=month,
                        amount=amount,
                        currency=settings.MESHVALUE_CURRENCY,
                        category=category,
                        external_id=f"demo:{spec.slug}:{month:%Y-%m}:{category}",
                        source_key=f"demo:{spec.slug}:{month:%Y-%m}:{category}",
                        source=CostSource.CSV,
                        note="Demo ledger line",
                    )
                )
            month = add_months(month, 1)
    # A cost booked after a product's sunset: the kind of thing governance must notice.
    retired = products["coupon-redemptions"]
    if retired.sunset_on:
        late_month = add_months(retired.sunset_on, 2)
        rows.append(
            CostEntry(
                data_product=retired,
                period_start=late_month,
                amount=Decimal("1250.00"),
                currency=settings.MESHVALUE_CURRENCY,
                category=CostCategory.LICENSES,
                external_id=f"demo:coupon-redemptions:{late_month:%Y-%m}:late-license",
                source_key=f"demo:coupon-redemptions:{late_month:%Y-%m}:late-license",
                source=CostSource.CSV,
                note="Licence renewal nobody cancelled",
            )
        )
    return rows


def _usage_rows(products, users, today: date, rng) -> list[UsageRecord]:
    """Daily usage over the last 180 days. The orphaned product's owner stopped using it 120 days ago."""
    rows: list[UsageRecord] = []
    for spec in demo_data.PRODUCTS:
        product = products[spec.slug]
        if product.launched_on is None:
            continue
        last_day = product.sunset_on if product.lifecycle == Lifecycle.RETIRED else today - timedelta(days=1)
        consumers = [spec.owner, *spec.consumers]
        for offset in range(180, 0, -1):
            day = today - timedelta(days=offset)
            if day < product.launched_on or (last_day and day > last_day):
                continue
            for consumer in consumers:
                if spec.archetype == "orphaned" and consumer == spec.owner and offset < 120:
                    continue
                if rng.random() < 0.35:
                    continue
                rows.append(UsageRecord(data_product=product, consumer=consumer, day=day, count=rng.randint(1, 40)))
    return rows


def _seed_bets(products, goals, users, today: date) -> None:
    for slug, goal, hypothesis, expected_value, expected_cost, opened_ago, review_in, outcome in demo_data.BETS:
        opens_on = today - timedelta(days=opened_ago)
        review_on = today + timedelta(days=review_in)
        settled = outcome in {"won", "lost"}
        realised_value = None
        realised_cost = None
        if settled:
            factor = Decimal("1.18") if outcome == "won" else Decimal("0.42")
            realised_value = _round(expected_value * factor, CENTS)
            realised_cost = _round(expected_cost * Decimal("1.05"), CENTS)
        ValueBet.objects.get_or_create(
            data_product=products[slug],
            hypothesis=hypothesis,
            defaults={
                "goal": goals[goal],
                "expected_value": expected_value,
                "expected_cost": expected_cost,
                "opens_on": opens_on,
                "review_on": review_on,
                "status": BetStatus(outcome) if settled else BetStatus.OPEN,
                "realised_value": realised_value,
                "realised_cost": realised_cost,
                "settled_on": review_on if settled else None,
                "created_by": users["exec"],
            },
        )


def _seed_decision_history(products, users, today: date) -> None:
    """Decided alerts inside and outside the SLA, retire decisions before the sunsets, and overdue alerts.

    Written directly (not through the governance services): this is history, with its own dates.
    Idempotent: a product that already has a decision of the action keeps it.
    """
    now = timezone.make_aware(datetime.combine(today, time(12)))
    for slug, kind, decided_ago, days_to_decide, action in demo_data.DECISION_HISTORY:
        product = products[slug]
        if Decision.objects.filter(data_product=product, action=action).exists():
            continue
        decided_at = now - timedelta(days=decided_ago)
        raised_at = decided_at - timedelta(days=days_to_decide)
        sunset_on = None
        if action == "retire":
            # The product's own sunset; a decision before it, with the costs of the months before it.
            sunset_on = product.sunset_on or (decided_at + timedelta(days=30)).date()
        alert = Alert.objects.create(
            data_product=product,
            kind=kind,
            status=AlertStatus.RESOLVED,
            message=f"{kind} alert raised by the evaluation of {raised_at.date().isoformat()}",
            opened_on=raised_at.date(),
            resolved_at=decided_at,
            resolution=f"Decided: {action}.",
        )
        Alert.objects.filter(pk=alert.pk).update(created_at=raised_at)
        decision = Decision.objects.create(
            alert=alert,
            data_product=product,
            action=action,
            rationale=f"Demo history: {action} after review of the {kind} alert.",
            sunset_on=sunset_on,
            decided_by=users["gov"],
        )
        Decision.objects.filter(pk=decision.pk).update(decided_at=decided_at)
    for slug, kind, raised_ago in demo_data.OVERDUE_ALERTS:
        product = products[slug]
        raised_on = today - timedelta(days=raised_ago)
        if Alert.objects.filter(data_product=product, kind=kind).exclude(status=AlertStatus.RESOLVED).exists():
            continue
        alert = Alert.objects.create(
            data_product=product, kind=kind, message=f"{kind} since {raised_on.isoformat()}", opened_on=raised_on
        )
        Alert.objects.filter(pk=alert.pk).update(created_at=now - timedelta(days=raised_ago))
