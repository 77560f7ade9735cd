"""factory_boy factories for the domain model. Dates are fixed so figures are predictable."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import factory
from django.conf import settings

from apps.accounts.models import User
from apps.bets.models import ValueBet
from apps.catalog.models import BusinessGoal, ConsciousDebt, DataProduct, Domain, Lifecycle
from apps.costs.models import CostCategory, CostEntry
from apps.governance.models import Alert, AlertKind, Decision
from apps.kpis.models import KPI, Attribution, Measurement
from apps.usage.models import UsageRecord
from apps.valuation.models import Evaluation


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct horse battery staple")


class DomainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Domain

    name = factory.Sequence(lambda n: f"Domain {n}")
    slug = factory.Sequence(lambda n: f"domain-{n}")
    owner = factory.SubFactory(UserFactory)


class BusinessGoalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BusinessGoal

    name = factory.Sequence(lambda n: f"Goal {n}")
    slug = factory.Sequence(lambda n: f"goal-{n}")
    domain = factory.SubFactory(DomainFactory)
    sponsor = factory.SubFactory(UserFactory)
    starts_on = date(2024, 1, 1)
    ends_on = date(2027, 12, 31)


class DataProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DataProduct

    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.Sequence(lambda n: f"product-{n}")
    domain = factory.SubFactory(DomainFactory)
    owner = factory.SubFactory(UserFactory)
    lifecycle = Lifecycle.ACTIVE
    launched_on = date(2024, 1, 1)


class KPIFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KPI

    goal = factory.SubFactory(BusinessGoalFactory)
    name = factory.Sequence(lambda n: f"KPI {n}")
    unit = "orders"
    direction = "increase"
    cadence = "monthly"
    baseline = Decimal("100")
    target = Decimal("150")
    value_per_unit = Decimal("10")


class AttributionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Attribution

    kpi = factory.SubFactory(KPIFactory)
    data_product = factory.SubFactory(DataProductFactory)
    weight = Decimal("1")


class MeasurementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Measurement

    kpi = factory.SubFactory(KPIFactory)
    period_start = date(2026, 1, 1)
    value = Decimal("110")


class ConsciousDebtFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConsciousDebt

    data_product = factory.SubFactory(DataProductFactory)
    title = factory.Sequence(lambda n: f"Shortcut {n}")
    why = "Typed in by hand until the pipeline exists."
    revisit_on = date(2026, 9, 1)


class CostEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CostEntry

    data_product = factory.SubFactory(DataProductFactory)
    period_start = date(2026, 1, 1)
    amount = Decimal("1000.00")
    currency = factory.LazyFunction(lambda: settings.MESHVALUE_CURRENCY)
    category = CostCategory.INFRASTRUCTURE
    external_id = None
    # Finance's id is the revision key, as the costs service stores it.
    source_key = factory.LazyAttribute(lambda entry: entry.external_id or "")


class ValueBetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ValueBet

    hypothesis = "Better churn features save retention spend."
    data_product = factory.SubFactory(DataProductFactory)
    goal = factory.SubFactory(BusinessGoalFactory)
    expected_value = Decimal("50000.00")
    expected_cost = Decimal("20000.00")
    opens_on = date(2025, 1, 1)
    review_on = date(2025, 12, 31)


class UsageRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UsageRecord

    data_product = factory.SubFactory(DataProductFactory)
    consumer = "analytics-team"
    day = date(2026, 1, 15)
    count = 5


class AlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Alert

    data_product = factory.SubFactory(DataProductFactory)
    kind = AlertKind.RETIRE
    message = "value/cost 0.54 below 1.00 over 365 days and 0.81 over the last 90 days"
    opened_on = date(2026, 1, 1)


class DecisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Decision

    data_product = factory.SubFactory(DataProductFactory)
    action = "keep"
    rationale = "Still needed by finance."
    decided_by = factory.SubFactory(UserFactory)


class EvaluationFactory(factory.django.DjangoModelFactory):
    """An evaluation with consistent figures (net = value - cost, ratio = value / cost)."""

    class Meta:
        model = Evaluation

    data_product = factory.SubFactory(DataProductFactory)
    as_of = date(2026, 1, 1)
    value = Decimal("5000.00")
    cost = Decimal("2000.00")
    ratio = factory.LazyAttribute(lambda e: (e.value / e.cost).quantize(Decimal("0.0001")) if e.cost else None)
    net = factory.LazyAttribute(lambda e: e.value - e.cost)
    recent_value = Decimal("1250.00")
    recent_cost = Decimal("500.00")
    recent_ratio = factory.LazyAttribute(
        lambda e: (e.recent_value / e.recent_cost).quantize(Decimal("0.0001")) if e.recent_cost else None
    )
    recommendation = "hold"
    reasons = factory.LazyFunction(lambda: ["value/cost 2.50 between 1.00 and 3.00"])
    window_days = 365
    recent_days = 90
    grace_days = 90
    retire_below = Decimal("1.0")
    invest_above = Decimal("3.0")
    stale_periods = 2
