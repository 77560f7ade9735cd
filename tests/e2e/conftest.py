"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

Playwright's sync API runs an event loop in the test thread, so Django's guard against
database calls from async code must be lifted for these tests (STACK.md).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from apps.accounts.roles import Role
from apps.catalog.models import BusinessGoal, DataProduct
from apps.governance.models import Alert
from apps.kpis.models import KPI
from meshvalue.periods import add_months
from tests import factories
from tests.conftest import service_unavailable

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Launch Debian's Chromium (Playwright cannot download its own browser here)."""
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1366, "height": 900}, "locale": "en-GB"}


@pytest.fixture(autouse=True)
def _needs_chromium():
    if not CHROMIUM.exists():
        service_unavailable(f"Chromium is not installed at {CHROMIUM}: apt-get install -y chromium")


@pytest.fixture
def screenshot():
    """Save a full-page screenshot under test-artifacts/ (gitignored) for a human to look at."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        # From the top: the sticky header would otherwise be drawn in the middle of a full-page shot.
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@dataclass
class Demo:
    """A small portfolio around today: what the browser tests look at."""

    goal: BusinessGoal
    kpi: KPI
    weekly_kpi: KPI
    product: DataProduct
    losing_product: DataProduct
    alert: Alert


def _user(username: str, role: Role | None, **extra):
    user = factories.UserFactory(username=username, first_name=username.capitalize(), **extra)
    if role is not None:
        # Transactional tests flush every table, the groups of the data migration included.
        user.groups.add(Group.objects.get_or_create(name=role.value)[0])
    return user


@pytest.fixture
def demo(transactional_db) -> Demo:
    today = date.today()
    _user("exec", Role.EXECUTIVE)
    owner = _user("owner", Role.PRODUCT_OWNER)
    _user("gov", Role.GOVERNANCE_LEAD)
    other_owner = _user("olga", Role.PRODUCT_OWNER)
    domain = factories.DomainFactory(name="Retail", slug="retail")
    goal = factories.BusinessGoalFactory(
        name="Grow repeat purchases",
        slug="grow-repeat-purchases",
        domain=domain,
        starts_on=today - timedelta(days=800),
        ends_on=today + timedelta(days=400),
    )
    kpi = factories.KPIFactory(
        goal=goal,
        name="Repeat purchase rate",
        unit="%",
        baseline=Decimal("20"),
        target=Decimal("30"),
        value_per_unit=Decimal("1500"),
    )
    weekly_kpi = factories.KPIFactory(
        goal=goal, name="Basket size", unit="EUR", cadence="weekly", baseline=Decimal("40"), target=Decimal("50")
    )
    product = factories.DataProductFactory(
        name="Customer 360", slug="customer-360", domain=domain, owner=owner, launched_on=today - timedelta(days=700)
    )
    losing_product = factories.DataProductFactory(
        name="Footfall Forecast",
        slug="footfall-forecast",
        domain=domain,
        owner=other_owner,
        launched_on=today - timedelta(days=700),
    )
    for item in (product, losing_product):
        item.goals.add(goal)
    factories.AttributionFactory(kpi=kpi, data_product=product, weight=Decimal("0.8"))
    factories.AttributionFactory(kpi=weekly_kpi, data_product=product, weight=Decimal("0.5"))
    factories.AttributionFactory(kpi=kpi, data_product=losing_product, weight=Decimal("0.2"))
    this_month = today.replace(day=1)
    for offset in range(1, 13):
        month = add_months(this_month, -offset)
        factories.MeasurementFactory(kpi=kpi, period_start=month, value=Decimal(28 - offset // 2))
        factories.CostEntryFactory(data_product=product, period_start=month, amount=Decimal("2000.00"))
        factories.CostEntryFactory(data_product=losing_product, period_start=month, amount=Decimal("3000.00"))
    factories.EvaluationFactory(
        data_product=product, as_of=today, value=Decimal("96000.00"), cost=Decimal("24000.00"), recommendation="invest"
    )
    factories.EvaluationFactory(
        data_product=losing_product,
        as_of=today,
        value=Decimal("9000.00"),
        cost=Decimal("36000.00"),
        recent_value=Decimal("1800.00"),
        recent_cost=Decimal("9000.00"),
        recommendation="retire",
        reasons=["value/cost 0.25 below 1.00 over 365 days and 0.20 over the last 90 days"],
    )
    for item in (product, losing_product):
        factories.EvaluationFactory(data_product=item, as_of=today - timedelta(days=100))
    alert = factories.AlertFactory(
        data_product=losing_product,
        evaluation=losing_product.evaluations.get(as_of=today),
        kind="retire",
        opened_on=today,
        message="Retire: value/cost 0.25 below 1.00 over 365 days and 0.20 over the last 90 days.",
    )
    factories.UsageRecordFactory(data_product=product, consumer="marketing", day=today - timedelta(days=3), count=12)
    factories.ValueBetFactory(
        data_product=product, goal=goal, opens_on=today - timedelta(days=300), review_on=today + timedelta(days=60)
    )
    factories.ValueBetFactory(
        data_product=product,
        goal=goal,
        hypothesis="A single customer view lifts repeat purchases by two points.",
        opens_on=today - timedelta(days=400),
        review_on=today - timedelta(days=40),
        status="won",
        realised_value=Decimal("61000.00"),
        settled_on=today - timedelta(days=30),
    )
    return Demo(goal=goal, kpi=kpi, weekly_kpi=weekly_kpi, product=product, losing_product=losing_product, alert=alert)


def sign_in(page, live_server, username: str) -> None:
    """Sign in through the login form, as a person would."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")
