"""The governance lead's and the executive's pages: policies with validation and preview, the retirement
board, running an evaluation, inbox counts out of band, the catalog behind the tiles, the decision log."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.catalog.models import DataProduct
from apps.governance.models import Decision
from apps.valuation.models import EvaluationPolicy, EvaluationRun
from tests import factories
from tests.apps.web.conftest import TODAY, build_portfolio

pytestmark = pytest.mark.django_db

POLICY = {
    "window_days": "365",
    "recent_days": "90",
    "grace_days": "90",
    "retire_below": "1.0",
    "invest_above": "3.0",
    "stale_periods": "2",
    "decision_quiet_days": "90",
    "decision_sla_days": "14",
}


def test_policy_edit_refuses_a_recent_window_longer_than_the_main_one_and_thresholds_in_the_wrong_order(
    client, governance_lead
):
    client.force_login(governance_lead)
    response = client.post(
        "/governance/policies/default/",
        {**POLICY, "recent_days": "400", "retire_below": "2.5", "invest_above": "1.5", "action": "save"},
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "cannot be longer than the main window" in errors["recent_days"][0]
    assert "cannot be below the retire threshold" in errors["invest_above"][0]
    assert EvaluationPolicy.objects.get(is_default=True).recent_days == 90


def test_policy_save_updates_the_default_and_creates_a_domains_own(client, governance_lead):
    domain = factories.DomainFactory(slug="retail")
    client.force_login(governance_lead)
    assert (
        client.post("/governance/policies/default/", {**POLICY, "grace_days": "60", "action": "save"}).status_code
        == 302
    )
    assert EvaluationPolicy.objects.get(is_default=True).grace_days == 60
    response = client.post("/governance/policies/retail/", {**POLICY, "invest_above": "4", "action": "save"})
    assert response.status_code == 302
    own = EvaluationPolicy.objects.get(domain=domain)
    assert (own.invest_above, own.decision_sla_days) == (Decimal("4"), 14)
    listing = client.get("/governance/policies/").content.decode()
    assert "Follows the default policy" not in listing.split(domain.name, 1)[1].split("</tr>", 1)[0]


def test_policy_preview_stores_nothing(client, governance_lead):
    build_portfolio(products=2, with_alerts=False)
    client.force_login(governance_lead)
    response = client.post("/governance/policies/default/", {**POLICY, "invest_above": "1.5", "action": "preview"})
    assert response.status_code == 200
    preview = response.context["preview"]
    # The stored evaluations say hold; the rules on the actual figures (600 value, 3000 cost) say retire.
    assert (preview.available, preview.as_of, preview.products) == (True, TODAY, 2)
    assert {(c.before, c.after) for c in preview.changes} == {("hold", "retire")}
    assert "would change recommendation" in response.content.decode()
    assert EvaluationPolicy.objects.get(is_default=True).invest_above == Decimal("3.0")


def test_only_governance_leads_tune_policies_and_the_refusal_is_a_styled_page(client, executive, product_owner):
    for user in (executive, product_owner):
        client.force_login(user)
        response = client.post("/governance/policies/default/", {**POLICY, "action": "save"})
        assert response.status_code == 403
        assert "Go to my start page" in response.content.decode()


def test_run_evaluation_from_the_page_queues_a_run(client, governance_lead, django_capture_on_commit_callbacks):
    client.force_login(governance_lead)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post("/governance/evaluate/")
    assert response.status_code == 302
    run = EvaluationRun.objects.get()
    assert (run.trigger, run.requested_by, run.as_of) == ("web", governance_lead, TODAY)


@pytest.fixture
def deprecated(product_owner):
    product = factories.DataProductFactory(
        name="Old Feed",
        slug="old-feed",
        lifecycle="deprecated",
        sunset_on=TODAY + timedelta(days=20),
        launched_on=date(2024, 1, 1),
        owner=product_owner,
    )
    factories.UsageRecordFactory(data_product=product, consumer="finance", day=TODAY - timedelta(days=3), count=7)
    factories.UsageRecordFactory(data_product=product, consumer="ancient", day=TODAY - timedelta(days=60), count=7)
    factories.CostEntryFactory(data_product=product, period_start=date(2026, 5, 1), amount=Decimal("500.00"))
    return product


def test_retirement_board_shows_consumers_of_the_last_30_days_and_late_costs(client, governance_lead, deprecated):
    client.force_login(governance_lead)
    response = client.get("/governance/retirements/")
    [card] = response.context["cards"]
    assert card["row"].consumers == [("finance", 7)]
    assert card["row"].late_cost == Decimal("500.00")
    assert "Old Feed" in response.content.decode()


def test_retirement_board_actions(client, governance_lead, deprecated):
    client.force_login(governance_lead)
    refused = client.post("/governance/retirements/old-feed/", {"action": "push", "sunset_on": TODAY.isoformat()})
    assert refused.status_code == 400
    client.post("/governance/retirements/old-feed/", {"action": "push", "sunset_on": "2026-06-30"})
    deprecated.refresh_from_db()
    assert deprecated.sunset_on == date(2026, 6, 30)
    assert client.post("/governance/retirements/old-feed/", {"action": "cancel", "rationale": ""}).status_code == 400
    client.post("/governance/retirements/old-feed/", {"action": "cancel", "rationale": "Finance still needs it"})
    deprecated.refresh_from_db()
    assert (deprecated.lifecycle, deprecated.sunset_on) == ("active", None)
    assert Decision.objects.get(data_product=deprecated).rationale == "Finance still needs it"


def test_confirming_a_retirement_retires_today(client, governance_lead, deprecated):
    client.force_login(governance_lead)
    client.post("/governance/retirements/old-feed/", {"action": "retire"})
    deprecated.refresh_from_db()
    assert (deprecated.lifecycle, deprecated.sunset_on) == ("retired", TODAY)


def test_an_htmx_action_redraws_the_inbox_counts_out_of_band(client, governance_lead):
    portfolio = build_portfolio(products=2)
    client.force_login(governance_lead)
    response = client.post(
        f"/inbox/alerts/{portfolio.alerts[0].pk}/decide/",
        {"action": "keep", "rationale": "Fine"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert 'id="inbox-counts" aria-label="Alerts needing action, by kind" hx-swap-oob="true"' in html
    assert '<span id="inbox-total" hx-swap-oob="true">1 alert needs a decision</span>' in html


def test_tiles_open_the_catalog_of_their_products(client, executive):
    portfolio = build_portfolio(products=3, with_alerts=False)
    portfolio.products[0].evaluations.filter(as_of=TODAY).update(recommendation="retire")
    client.force_login(executive)
    dashboard = client.get("/").content.decode()
    assert 'href="/products/?recommendation=retire"' in dashboard
    assert "ROI" in dashboard
    listed = client.get("/products/?recommendation=retire").context["rows"]
    assert [row.product_id for row in listed] == [portfolio.products[0].pk]
    assert listed[0].roi is not None


def test_executives_read_the_decision_log(client, executive):
    factories.DecisionFactory(rationale="Kept for the audit")
    client.force_login(executive)
    response = client.get("/inbox/decisions/")
    assert response.status_code == 200
    assert "Kept for the audit" in response.content.decode()
    assert "Back to the portfolio" in response.content.decode()


def test_a_missing_product_is_a_styled_404(client, executive):
    client.force_login(executive)
    response = client.get("/products/no-such-thing/")
    assert response.status_code == 404
    assert "There is nothing here" in response.content.decode()


def test_product_page_marks_stale_kpis_and_overdue_bets(client, executive):
    portfolio = build_portfolio(products=1, with_alerts=False)
    product = portfolio.products[0]
    stale = factories.KPIFactory(goal=portfolio.goal, name="Forgotten")
    factories.AttributionFactory(kpi=stale, data_product=product, weight=Decimal("0.1"))
    factories.MeasurementFactory(kpi=stale, period_start=date(2025, 1, 1))
    factories.ValueBetFactory(data_product=product, goal=portfolio.goal, review_on=TODAY - timedelta(days=7))
    client.force_login(executive)
    html = client.get(f"/products/{product.slug}/").content.decode()
    assert html.count('class="badge flag-stale"') == 1
    assert 'class="badge flag-overdue"' in html


@pytest.mark.parametrize("url", ["/products/", "/governance/retirements/", "/governance/policies/"])
def test_governance_and_catalog_query_counts_do_not_grow(client, governance_lead, url):
    client.force_login(governance_lead)
    counts = []
    for size in (3, 20):
        build_portfolio(products=size, with_alerts=False)
        for index in range(size):
            product = factories.DataProductFactory(lifecycle="deprecated", sunset_on=TODAY + timedelta(days=index + 1))
            factories.UsageRecordFactory(data_product=product, day=TODAY - timedelta(days=1))
            factories.DomainFactory()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert DataProduct.objects.filter(lifecycle="deprecated").count() == 23
