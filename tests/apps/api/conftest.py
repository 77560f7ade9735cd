"""Fixtures of the API tests: clients per role sending tokens, and a small portfolio to act on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.bets.models import ValueBet
from apps.catalog.models import BusinessGoal, DataProduct, Domain, Lifecycle
from apps.costs.models import AllocationRule, AllocationTarget, CostEntry, CostImport, ExchangeRate
from apps.governance.models import Alert, AlertKind, Decision
from apps.kpis.models import KPI, Attribution, Measurement
from apps.usage.models import UsageRecord
from apps.valuation.models import Evaluation, EvaluationPolicy, EvaluationRun
from tests import factories

# Every table the API writes to: a refused write must leave all of them as they were.
WRITABLE_MODELS = (
    Domain,
    BusinessGoal,
    DataProduct,
    KPI,
    Attribution,
    Measurement,
    CostEntry,
    ValueBet,
    UsageRecord,
    EvaluationPolicy,
    EvaluationRun,
    Evaluation,
    Alert,
    Decision,
    CostImport,
    AllocationRule,
    AllocationTarget,
    ExchangeRate,
)


def client_for(user) -> APIClient:
    """A client sending the user's token, as scripts do (no user: anonymous)."""
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def database_state() -> dict[str, list[dict[str, Any]]]:
    """Every row of every table the API writes to, for before/after comparisons."""
    return {model._meta.label: list(model.objects.order_by("pk").values()) for model in WRITABLE_MODELS} | {
        "goals of products": list(DataProduct.goals.through.objects.order_by("pk").values())
    }


@pytest.fixture
def as_executive(executive) -> APIClient:
    return client_for(executive)


@pytest.fixture
def as_owner(product_owner) -> APIClient:
    return client_for(product_owner)


@pytest.fixture
def as_governance(governance_lead) -> APIClient:
    return client_for(governance_lead)


@pytest.fixture
def as_admin(admin_user) -> APIClient:
    return client_for(admin_user)


@pytest.fixture
def without_role(db):
    return factories.UserFactory(username="nobody")


@pytest.fixture
def own_product(product_owner):
    """An active product of the product owner fixture."""
    return factories.DataProductFactory(owner=product_owner, name="Churn features", slug="churn-features")


@pytest.fixture
def other_product(db):
    """An active product owned by someone else."""
    return factories.DataProductFactory(name="Orders mart", slug="orders-mart")


@dataclass
class World:
    """A small portfolio: one domain, a goal, a product of the owner fixture and one of someone else."""

    domain: Domain
    spare_domain: Domain
    goal: BusinessGoal
    spare_goal: BusinessGoal
    own_product: DataProduct
    other_product: DataProduct
    proposed_own: DataProduct
    proposed_other: DataProduct
    own_kpi: KPI
    other_kpi: KPI
    spare_own_kpi: KPI
    spare_other_kpi: KPI
    own_measurement: Measurement
    own_cost: CostEntry
    other_cost: CostEntry
    own_usage: UsageRecord
    other_usage: UsageRecord
    bet: ValueBet
    alert: Alert
    decision: Decision
    domain_policy: EvaluationPolicy
    default_policy: EvaluationPolicy
    evaluation: Evaluation
    run: EvaluationRun


@pytest.fixture
def world(product_owner, executive, governance_lead) -> World:
    domain = factories.DomainFactory(name="Retail", slug="retail")
    spare_domain = factories.DomainFactory(name="Spare", slug="spare")
    goal = factories.BusinessGoalFactory(domain=domain, sponsor=executive, name="Grow retention", slug="retention")
    spare_goal = factories.BusinessGoalFactory(domain=domain, sponsor=executive, name="Spare goal", slug="spare-goal")
    own_product = factories.DataProductFactory(
        owner=product_owner, domain=domain, name="Churn features", slug="churn-features"
    )
    other_product = factories.DataProductFactory(domain=domain, name="Orders mart", slug="orders-mart")
    proposed_own = factories.DataProductFactory(
        owner=product_owner, domain=domain, lifecycle=Lifecycle.PROPOSED, launched_on=None, slug="draft-own"
    )
    proposed_other = factories.DataProductFactory(
        domain=domain, lifecycle=Lifecycle.PROPOSED, launched_on=None, slug="draft-other"
    )
    own_kpi = factories.KPIFactory(goal=goal, name="Retained customers")
    factories.AttributionFactory(kpi=own_kpi, data_product=own_product, weight=Decimal("0.6"))
    other_kpi = factories.KPIFactory(goal=goal, name="Orders per week")
    factories.AttributionFactory(kpi=other_kpi, data_product=other_product, weight=Decimal("1"))
    spare_own_kpi = factories.KPIFactory(goal=goal, name="Spare own KPI")
    factories.AttributionFactory(kpi=spare_own_kpi, data_product=own_product, weight=Decimal("0.5"))
    spare_other_kpi = factories.KPIFactory(goal=goal, name="Spare other KPI")
    factories.AttributionFactory(kpi=spare_other_kpi, data_product=other_product, weight=Decimal("0.5"))
    default_policy = EvaluationPolicy.objects.get(is_default=True)
    run = EvaluationRun.objects.create(as_of=date(2026, 3, 1), trigger="api")
    evaluation = Evaluation.objects.create(
        data_product=own_product,
        as_of=date(2026, 3, 1),
        run=run,
        value=Decimal("3000.00"),
        cost=Decimal("1000.00"),
        ratio=Decimal("3.0000"),
        net=Decimal("2000.00"),
        recent_value=Decimal("900.00"),
        recent_cost=Decimal("300.00"),
        recent_ratio=Decimal("3.0000"),
        recommendation="invest",
        reasons=["value/cost 3.00"],
        window_days=365,
        recent_days=90,
        grace_days=90,
        retire_below=Decimal("1"),
        invest_above=Decimal("3"),
        stale_periods=2,
    )
    return World(
        domain=domain,
        spare_domain=spare_domain,
        goal=goal,
        spare_goal=spare_goal,
        own_product=own_product,
        other_product=other_product,
        proposed_own=proposed_own,
        proposed_other=proposed_other,
        own_kpi=own_kpi,
        other_kpi=other_kpi,
        spare_own_kpi=spare_own_kpi,
        spare_other_kpi=spare_other_kpi,
        own_measurement=factories.MeasurementFactory(kpi=own_kpi, period_start=date(2026, 1, 1)),
        own_cost=factories.CostEntryFactory(data_product=own_product),
        other_cost=factories.CostEntryFactory(data_product=other_product),
        own_usage=factories.UsageRecordFactory(data_product=own_product),
        other_usage=factories.UsageRecordFactory(data_product=other_product),
        bet=factories.ValueBetFactory(data_product=own_product, goal=goal, created_by=executive),
        alert=factories.AlertFactory(data_product=own_product, kind=AlertKind.INVEST, evaluation=evaluation),
        decision=factories.DecisionFactory(data_product=own_product, decided_by=governance_lead),
        domain_policy=EvaluationPolicy.objects.create(domain=spare_domain, window_days=180),
        default_policy=default_policy,
        evaluation=evaluation,
        run=run,
    )
