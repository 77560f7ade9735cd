"""Each role's whole job in a real browser, checked in the database afterwards (issue 13).

- the product owner registers a product, links a KPI with a start date and the proposed baseline,
  places a bet, corrects a cost and adds a conscious shortcut;
- the governance lead tunes the default policy (refused, previewed, saved), works the retirement
  board, and sees the inbox counts change without a reload;
- the executive opens a recommendation tile, reads the decision log, and gets a styled refusal.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from apps.bets.models import ValueBet
from apps.catalog.models import ConsciousDebt, DataProduct
from apps.costs.models import CostEntry
from apps.governance.models import Decision
from apps.kpis.models import Attribution
from apps.valuation.models import EvaluationPolicy
from meshvalue.periods import add_months
from tests import factories
from tests.e2e.conftest import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def in_viewport(page, locator) -> bool:
    """Whether the element is wholly inside the visible part of the page."""
    box = locator.bounding_box()
    size = page.viewport_size
    assert box is not None and size is not None
    return box["y"] >= 0 and box["y"] + box["height"] <= size["height"] and box["x"] + box["width"] <= size["width"]


def all_columns_visible(page, table) -> None:
    """Every header cell of `table` is within the window's width (no column cut off or scrolled away)."""
    width = page.viewport_size["width"]
    headers = table.locator("thead th")
    assert headers.count() > 0
    for index in range(headers.count()):
        box = headers.nth(index).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (
            headers.nth(index).inner_text(),
            box,
        )


def test_product_owner_does_the_whole_job_in_the_browser(page, live_server, demo, screenshot):
    today = date.today()
    loyalty = factories.KPIFactory(goal=demo.goal, name="Loyalty sign-ups", unit="users", baseline=Decimal("100"))
    for offset, value in ((2, "180"), (1, "212.5")):
        factories.MeasurementFactory(kpi=loyalty, period_start=add_months(today.replace(day=1), -offset), value=value)
    sign_in(page, live_server, "owner")

    # Register a product: the confirmation is on screen on the page that was opened.
    page.goto(f"{live_server.url}/products/new/")
    page.get_by_label("Name").fill("Churn Radar")
    page.get_by_label("Domain").select_option(label="Retail")
    page.get_by_label("Active: serving consumers").check()
    page.get_by_label("Grow repeat purchases").check()
    page.get_by_role("button", name="Register product").click()
    expect(page).to_have_url(f"{live_server.url}/products/churn-radar/")
    message = page.locator(".messages .message").first
    expect(message).to_contain_text("Registered Churn Radar as active")
    assert in_viewport(page, message)
    screenshot(page, "owner-01-registered")
    product = DataProduct.objects.get(slug="churn-radar")
    assert product.lifecycle == "active" and list(product.goals.values_list("name", flat=True)) == [
        "Grow repeat purchases"
    ]

    # Link a KPI with history: its latest outcome is proposed as the baseline (htmx).
    page.get_by_role("link", name="KPIs", exact=True).click()
    page.locator("#id_kpi").select_option(label=str(loyalty))
    expect(page.locator(".proposed-baseline")).to_contain_text("212.5")
    expect(page.locator("#id_baseline")).to_have_value("212.5")
    page.locator("#id_weight").fill("0.5")
    page.locator("#id_starts_on").fill(today.replace(day=1).isoformat())
    screenshot(page, "owner-02-link-kpi")
    page.get_by_role("button", name="Link KPI").click()
    expect(page.locator(".messages .message").first).to_contain_text("Linked Loyalty sign-ups")
    attribution = Attribution.objects.get(kpi=loyalty, data_product=product)
    assert (attribution.weight, attribution.starts_on, attribution.baseline) == (
        Decimal("0.5"),
        today.replace(day=1),
        Decimal("212.5"),
    )

    # Place a bet.
    page.get_by_role("link", name="Place a bet").first.click()
    page.get_by_label("Hypothesis").fill("Churn Radar saves two points of churn.")
    page.get_by_label("Goal").select_option(label="Grow repeat purchases")
    page.get_by_label("Expected value").fill("40000")
    page.get_by_label("Expected cost").fill("12000")
    page.get_by_role("button", name="Place bet").click()
    expect(page.locator(".messages .message").first).to_contain_text("Placed the bet on Churn Radar")
    expect(page.locator(".bets-table")).to_contain_text("Churn Radar saves two points of churn.")
    bet = ValueBet.objects.get(data_product=product)
    assert (bet.expected_value, bet.created_by.username) == (Decimal("40000.00"), "owner")

    # Correct a cost of Customer 360: the new figure shows, with the message on screen.
    page.goto(f"{live_server.url}/products/customer-360/costs/")
    row = page.locator(".cost-table tbody tr").first
    entry_id = int(row.get_attribute("id").split("-")[1])
    row.get_by_label("Corrected amount").fill("2150.00")
    row.get_by_label("Why").fill("Invoice restated")
    row.get_by_role("button", name="Correct").click()
    message = page.locator(".messages .message").first
    expect(message).to_contain_text("2,150.00 EUR replaces 2,000.00")
    assert in_viewport(page, message)
    screenshot(page, "owner-03-cost-corrected")
    # A new current revision; the corrected entry is kept as history, never overwritten.
    corrected = CostEntry.objects.get(data_product=demo.product, amount=Decimal("2150.00"))
    previous = CostEntry.objects.get(pk=entry_id)
    assert (corrected.is_current, corrected.revision, corrected.recorded_by.username) == (
        True,
        previous.revision + 1,
        "owner",
    )
    assert (previous.amount, previous.is_current) == (Decimal("2000.00"), False)

    # Add a conscious shortcut.
    page.goto(f"{live_server.url}/products/customer-360/shortcuts/")
    page.get_by_role("textbox", name="Shortcut").fill("Costs typed in by hand")
    page.get_by_label("Why").fill("No billing export for this account yet.")
    page.get_by_label("Revisit on").fill((today + timedelta(days=60)).isoformat())
    page.get_by_role("button", name="Add shortcut").click()
    expect(page.locator(".messages .message").first).to_contain_text("Added “Costs typed in by hand”")
    expect(page.get_by_role("row", name=re.compile("Costs typed in by hand"))).to_be_visible()
    screenshot(page, "owner-04-shortcut")
    debt = ConsciousDebt.objects.get(data_product=demo.product)
    assert (debt.title, debt.revisit_on, debt.resolved_at) == (
        "Costs typed in by hand",
        today + timedelta(days=60),
        None,
    )


def test_governance_lead_tunes_a_policy_works_the_retirement_board_and_the_inbox(page, live_server, demo, screenshot):
    today = date.today()
    old_feed = factories.DataProductFactory(
        name="Old Feed",
        slug="old-feed",
        domain=demo.product.domain,
        lifecycle="deprecated",
        launched_on=today - timedelta(days=900),
        sunset_on=today + timedelta(days=14),
    )
    factories.UsageRecordFactory(data_product=old_feed, consumer="finance", day=today - timedelta(days=2), count=9)
    factories.DataProductFactory(
        name="Stale Cube",
        slug="stale-cube",
        domain=demo.product.domain,
        lifecycle="deprecated",
        launched_on=today - timedelta(days=900),
        sunset_on=today + timedelta(days=30),
    )
    # Transactional tests flush the default policy the data migration made.
    EvaluationPolicy.objects.get_or_create(is_default=True)
    sign_in(page, live_server, "gov")

    # The policy: refused in the wrong order, previewed, then saved.
    page.get_by_role("link", name="Policies").click()
    page.get_by_role("link", name="Edit").first.click()
    page.get_by_label("Recent window (days)").fill("400")
    page.get_by_label("Invest from (value/cost)").fill("0.5")
    page.get_by_role("button", name="Save policy").click()
    expect(page.get_by_text("cannot be longer than the main window")).to_be_visible()
    expect(page.get_by_text("cannot be below the retire threshold")).to_be_visible()
    assert EvaluationPolicy.objects.get(is_default=True).recent_days == 90
    page.get_by_label("Recent window (days)").fill("120")
    page.get_by_label("Invest from (value/cost)").fill("2.5")
    page.get_by_role("button", name="Preview changes").click()
    expect(page.locator("#preview")).to_be_visible()
    screenshot(page, "gov-01-policy-preview")
    assert EvaluationPolicy.objects.get(is_default=True).recent_days == 90  # the preview stores nothing
    page.get_by_role("button", name="Save policy").click()
    expect(page.locator(".messages .message").first).to_contain_text("Saved the default policy")
    policy = EvaluationPolicy.objects.get(is_default=True)
    assert (policy.recent_days, policy.invest_above) == (120, Decimal("2.5"))

    # The retirement board: push a date, cancel one with a rationale, confirm another.
    page.get_by_role("link", name="Retirements").click()
    card = page.locator("#retire-old-feed")
    expect(card).to_contain_text("finance")
    screenshot(page, "gov-02-retirement-board")
    card.get_by_label("New sunset date").fill((today + timedelta(days=45)).isoformat())
    card.get_by_role("button", name="Push the sunset date").click()
    expect(page.locator(".messages .message").first).to_contain_text("Old Feed now retires on")
    old_feed.refresh_from_db()
    assert old_feed.sunset_on == today + timedelta(days=45)
    card = page.locator("#retire-old-feed")
    card.get_by_label("Why it stays").fill("Finance closes the year on it.")
    card.get_by_role("button", name="Cancel the retirement").click()
    expect(page.locator(".messages .message").first).to_contain_text("Cancelled the retirement of Old Feed")
    old_feed.refresh_from_db()
    assert old_feed.lifecycle == "active"
    assert Decision.objects.get(data_product=old_feed).rationale == "Finance closes the year on it."
    page.locator("#retire-stale-cube").get_by_role("button", name="Confirm retirement").click()
    expect(page.locator(".messages .message").first).to_contain_text("Retired Stale Cube today")
    assert DataProduct.objects.get(slug="stale-cube").lifecycle == "retired"

    # The inbox: deciding redraws the counts without a reload.
    page.get_by_role("link", name="Inbox").click()
    retire_count = page.locator('#inbox-counts .rec-count[data-kind="retire"]')
    expect(retire_count).to_have_text("1")
    page.evaluate("window.__not_reloaded = true")
    card = page.locator(f"#alert-{demo.alert.pk}")
    card.locator("summary", has_text="Decide").click()
    card.get_by_label("Keep").check()
    card.get_by_label("Rationale").fill("Still feeds the store forecast.")
    card.get_by_role("button", name="Record decision").click()
    expect(retire_count).to_have_text("0")
    assert page.evaluate("window.__not_reloaded") is True
    screenshot(page, "gov-03-inbox-after-decision")


def test_executive_opens_a_tile_reads_the_log_and_is_refused_politely(page, live_server, demo, screenshot):
    factories.DecisionFactory(
        data_product=demo.losing_product,
        action="retire",
        rationale="Footfall is forecast by the stores now.",
        sunset_on=date.today() + timedelta(days=30),
    )
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server, "exec")
    expect(page.get_by_text("ROI").first).to_be_visible()
    page.locator(".rec-tile-retire").click()
    expect(page).to_have_url(re.compile(r"/products/\?recommendation=retire$"))
    expect(page.get_by_role("link", name="Footfall Forecast")).to_be_visible()
    expect(page.get_by_role("link", name="Customer 360")).to_have_count(0)
    screenshot(page, "exec-01-retire-tile")

    page.get_by_role("link", name="Decisions").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Decision log")
    expect(page.get_by_text("Footfall is forecast by the stores now.")).to_be_visible()
    all_columns_visible(page, page.locator("table.decision-table"))
    screenshot(page, "exec-02-decision-log")

    page.goto(f"{live_server.url}/products/customer-360/")
    all_columns_visible(page, page.locator("table.bets-table"))

    page.goto(f"{live_server.url}/governance/policies/")
    expect(page.get_by_role("heading", name="This page is not open to your role")).to_be_visible()
    screenshot(page, "exec-03-refused")
    page.get_by_role("link", name="Go to my start page").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Portfolio value")
