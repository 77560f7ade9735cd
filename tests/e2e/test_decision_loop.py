"""The decision loop and readiness in a real browser: the dashboard section, the page and its charts, readiness."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.accounts.roles import Role
from apps.governance.models import Alert, AlertKind, AlertStatus, Decision
from apps.valuation.services import readiness_record
from tests import factories
from tests.e2e.conftest import _user, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _at(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(9)))


@pytest.fixture
def loop_demo(transactional_db):
    today = date.today()
    _user("exec", Role.EXECUTIVE)
    _user("gov", Role.GOVERNANCE_LEAD)
    owner = _user("owner", Role.PRODUCT_OWNER)
    retail = factories.DomainFactory(name="Retail", slug="retail")
    finance = factories.DomainFactory(name="Finance", slug="finance")
    products = {}
    for name, domain in (("Churn", retail), ("Basket", retail), ("Ledger", finance), ("Old cube", finance)):
        product = factories.DataProductFactory(
            name=name, slug=name.lower().replace(" ", "-"), domain=domain, owner=owner
        )
        goal = factories.BusinessGoalFactory(domain=domain)
        product.goals.add(goal)
        kpi = factories.KPIFactory(goal=goal)
        factories.AttributionFactory(kpi=kpi, data_product=product)
        factories.MeasurementFactory(kpi=kpi, period_start=(today.replace(day=1) - timedelta(days=1)).replace(day=1))
        products[name] = product
    factories.UsageRecordFactory(data_product=products["Churn"], consumer="owner", day=today - timedelta(days=3))
    for name, status, expected, realised, days_ago in (
        ("Churn", "won", "100000", "140000", 40),
        ("Basket", "lost", "80000", "30000", 100),
        ("Ledger", "won", "60000", "65000", 200),
        ("Old cube", "lost", "90000", "10000", 250),
    ):
        factories.ValueBetFactory(
            data_product=products[name],
            status=status,
            expected_value=Decimal(expected),
            realised_value=Decimal(realised),
            realised_cost=Decimal("20000"),
            opens_on=today - timedelta(days=500),
            review_on=today - timedelta(days=days_ago),
            settled_on=today - timedelta(days=days_ago),
        )
    for name, raised_ago, days_to_decide, action in (
        ("Churn", 300, 4, "keep"),
        ("Basket", 200, 30, "keep"),
        ("Ledger", 100, 10, "invest"),
        ("Old cube", 160, 20, "retire"),
    ):
        raised = today - timedelta(days=raised_ago)
        alert = factories.AlertFactory(
            data_product=products[name], kind=AlertKind.REVIEW, status=AlertStatus.RESOLVED, resolution="decided"
        )
        Alert.objects.filter(pk=alert.pk).update(created_at=_at(raised), opened_on=raised)
        decision = factories.DecisionFactory(
            data_product=products[name],
            alert=alert,
            action=action,
            sunset_on=today - timedelta(days=100) if action == "retire" else None,
        )
        Decision.objects.filter(pk=decision.pk).update(decided_at=_at(raised + timedelta(days=days_to_decide)))
    for month in range(4, 8):
        first = (today.replace(day=1) - timedelta(days=30 * month)).replace(day=1)
        factories.CostEntryFactory(data_product=products["Old cube"], period_start=first, amount=Decimal("3000"))
    factories.AlertFactory(
        data_product=products["Basket"], kind=AlertKind.STALE_KPI, opened_on=today - timedelta(days=30)
    )
    readiness_record(as_of=today - timedelta(days=7))
    readiness_record(as_of=today)
    return products


def test_the_executive_reads_the_decision_loop(page, live_server, loop_demo, screenshot):
    sign_in(page, live_server, "exec")
    section = page.locator("#decision-loop")
    expect(section.get_by_role("heading", name="Decision loop")).to_be_visible()
    expect(section.locator('[data-figure="win_rate"]')).to_have_text("50%")
    expect(section.locator('[data-figure="decided_within_sla"]')).to_have_text("50%")
    expect(section.get_by_text("1 alert open past the SLA")).to_be_visible()
    section.scroll_into_view_if_needed()
    screenshot(page, "20-dashboard-decision-loop")

    section.get_by_role("link", name="Open the decision loop").click()
    expect(page).to_have_url(re.compile(r"/decision-loop/\?date_from="))
    expect(page.get_by_role("heading", level=1)).to_have_text("Decision loop")
    calibration = page.locator('[data-chart="calibration"]')
    # A dot per settled bet, plus the diagonal.
    expect(calibration.locator(".scatterlayer .trace .point")).to_have_count(4)
    expect(page.locator('[data-chart="time_to_decision"] .barlayer .point').first).to_be_attached()
    # Each figure's "?" says what it means, and its link goes to the rows behind it.
    hint = page.locator(".loop-figures .hint").first
    expect(hint).to_have_attribute("title", re.compile("Won / \\(won \\+ lost\\)"))
    page.locator(".loop-figures").get_by_role("link", name=re.compile("open past the SLA")).click()
    expect(page).to_have_url(re.compile("#alerts-past-sla$"))
    expect(page.locator("#alerts-past-sla")).to_contain_text("Basket")
    screenshot(page, "21-decision-loop")


def test_readiness_view_and_a_products_checks(page, live_server, loop_demo, screenshot):
    sign_in(page, live_server, "gov")
    page.goto(f"{live_server.url}/readiness/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Value-tracking readiness")
    retail = page.locator('tr[data-domain="Retail"]')
    expect(retail.locator('[data-check="has_goal"]')).to_have_text("100%")
    expect(retail.locator('[data-check="owner_uses"]')).to_have_text("50%")
    expect(page.locator('[data-chart="readiness_trend"] .scatterlayer .trace').first).to_be_attached()
    screenshot(page, "22-readiness")
    failing = page.locator('.check-failure[data-check="usage_recorded"]')
    failing.get_by_role("link", name="Basket").click()
    expect(page).to_have_url(re.compile("/products/basket/#readiness"))
    panel = page.locator("#readiness")
    expect(panel.locator('[data-check="usage_recorded"]')).to_have_class(re.compile("check-fail"))
    expect(panel).to_contain_text("Send usage records")
    panel.scroll_into_view_if_needed()
    screenshot(page, "23-product-readiness")
