"""The product owner's pages: register and edit a product, link KPIs, place bets, correct costs, shortcuts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.bets.models import ValueBet
from apps.catalog.models import ConsciousDebt, DataProduct
from apps.costs.models import CostEntry
from apps.kpis.models import Attribution
from tests import factories
from tests.apps.web.conftest import build_portfolio

pytestmark = pytest.mark.django_db


@pytest.fixture
def mine(product_owner):
    return build_portfolio(products=1, owner=product_owner, with_alerts=False)


def test_owner_registers_a_proposed_product_and_lands_on_its_page_with_the_message(client, product_owner, mine):
    client.force_login(product_owner)
    response = client.post(
        "/products/new/",
        {"name": "Churn Radar", "slug": "", "domain": mine.domain.pk, "lifecycle": "proposed", "goals": [mine.goal.pk]},
        follow=True,
    )
    product = DataProduct.objects.get(slug="churn-radar")
    assert (product.owner, product.lifecycle, list(product.goals.all())) == (product_owner, "proposed", [mine.goal])
    assert response.redirect_chain[-1][0] == "/products/churn-radar/"
    assert "Registered Churn Radar as proposed" in response.content.decode()
    # Proposed products are in the owner's workspace and on the catalog page.
    assert "Churn Radar" in client.get("/workspace/").content.decode()
    assert "Churn Radar" in client.get("/products/?lifecycle=proposed").content.decode()


def test_registering_with_bad_input_redisplays_the_form_with_errors(client, product_owner, mine):
    client.force_login(product_owner)
    response = client.post("/products/new/", {"name": "", "domain": "", "lifecycle": "active"})
    assert response.status_code == 200
    assert response.context["form"].errors.keys() == {"name", "domain"}
    assert not DataProduct.objects.filter(name="").exists()


def test_owner_edits_the_product_and_its_goals(client, product_owner, mine):
    product = mine.products[0]
    other_goal = factories.BusinessGoalFactory(domain=mine.domain, name="Cut churn")
    client.force_login(product_owner)
    response = client.post(
        f"/products/{product.slug}/edit/",
        {"name": "Renamed", "slug": product.slug, "domain": mine.domain.pk, "goals": [other_goal.pk]},
    )
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.name == "Renamed" and list(product.goals.all()) == [other_goal]


def test_someone_elses_product_is_refused_with_the_styled_403_before_any_input_is_read(client, product_owner):
    other = build_portfolio(products=1, with_alerts=False).products[0]
    client.force_login(product_owner)
    for url in (
        f"/products/{other.slug}/edit/",
        f"/products/{other.slug}/kpis/link/",
        f"/products/{other.slug}/costs/correct/",
    ):
        response = client.post(url, {"garbage": "x"})
        assert response.status_code == 403
        assert "This page is not open to your role" in response.content.decode()
        assert "Go to my start page" in response.content.decode()


def test_linking_a_kpi_proposes_its_latest_outcome_and_stores_start_and_baseline(client, product_owner, mine):
    product = mine.products[0]
    other_kpi = factories.KPIFactory(goal=mine.goal, name="Shared KPI")
    factories.MeasurementFactory(kpi=other_kpi, period_start=date(2026, 1, 1), value=Decimal("140"))
    factories.MeasurementFactory(kpi=other_kpi, period_start=date(2026, 2, 1), value=Decimal("150.5"))
    client.force_login(product_owner)
    page = client.get(f"/products/{product.slug}/kpis/?kpi={other_kpi.pk}")
    assert page.context["link_form"]["baseline"].value() == "150.5"
    partial = client.get(f"/products/{product.slug}/kpis/baseline/?kpi={other_kpi.pk}")
    assert "Proposed: the latest outcome, 150.5" in partial.content.decode()
    response = client.post(
        f"/products/{product.slug}/kpis/link/",
        {"kpi": other_kpi.pk, "weight": "0.4", "starts_on": "2026-02-01", "baseline": "150.5"},
    )
    assert response.status_code == 302
    attribution = Attribution.objects.get(kpi=other_kpi, data_product=product)
    assert (attribution.weight, attribution.starts_on, attribution.baseline) == (
        Decimal("0.4"),
        date(2026, 2, 1),
        Decimal("150.5"),
    )


def test_a_weight_over_the_kpis_total_is_refused_beside_the_weight(client, product_owner, mine):
    product = mine.products[0]
    kpi = factories.KPIFactory(goal=mine.goal, name="Crowded KPI")
    factories.AttributionFactory(kpi=kpi, data_product=factories.DataProductFactory(), weight=Decimal("0.8"))
    client.force_login(product_owner)
    response = client.post(f"/products/{product.slug}/kpis/link/", {"kpi": kpi.pk, "weight": "0.5"})
    assert response.status_code == 400
    assert "sum to at most 1" in " ".join(response.context["link_form"].errors["weight"])
    assert not Attribution.objects.filter(kpi=kpi, data_product=product).exists()


def test_creating_a_kpi_credits_the_product(client, product_owner, mine):
    product = mine.products[0]
    client.force_login(product_owner)
    response = client.post(
        f"/products/{product.slug}/kpis/new/",
        {
            "new-goal": mine.goal.pk,
            "new-name": "Time to insight",
            "new-unit": "days",
            "new-direction": "decrease",
            "new-cadence": "monthly",
            "new-kpi_baseline": "20",
            "new-target": "5",
            "new-value_per_unit": "100",
            "new-weight": "1",
        },
    )
    assert response.status_code == 302
    assert Attribution.objects.get(kpi__name="Time to insight").data_product == product


def test_owner_places_a_bet_on_their_product(client, product_owner, mine):
    product = mine.products[0]
    client.force_login(product_owner)
    response = client.post(
        f"/products/{product.slug}/bets/new/",
        {
            "hypothesis": "Lifts retention",
            "goal": mine.goal.pk,
            "expected_value": "50000",
            "expected_cost": "10000",
            "opens_on": "2026-03-01",
            "review_on": "2027-03-01",
        },
    )
    assert response.status_code == 302
    bet = ValueBet.objects.get(hypothesis="Lifts retention")
    assert (bet.data_product, bet.created_by, bet.status) == (product, product_owner, "open")


def test_owner_corrects_a_cost_and_sees_the_history(client, product_owner, mine):
    product = mine.products[0]
    entry = CostEntry.objects.filter(data_product=product).order_by("period_start").first()
    client.force_login(product_owner)
    response = client.post(
        f"/products/{product.slug}/costs/correct/", {"entry": entry.pk, "amount": "1250.00", "note": "invoice fixed"}
    )
    assert response.status_code == 302
    page = client.get(f"/products/{product.slug}/costs/")
    body = page.content.decode()
    assert "Corrected" in body and "€1,250.00" in body
    current = CostEntry.objects.filter(data_product=product, period_start=entry.period_start)
    assert Decimal("1250.00") in {c.amount for c in current}


def test_owner_keeps_the_register_of_conscious_shortcuts(client, product_owner, mine):
    product = mine.products[0]
    client.force_login(product_owner)
    response = client.post(
        f"/products/{product.slug}/shortcuts/add/",
        {"title": "Costs typed by hand", "why": "No billing export yet", "revisit_on": "2026-06-01"},
    )
    assert response.status_code == 302
    debt = ConsciousDebt.objects.get(data_product=product)
    client.post(
        f"/products/{product.slug}/shortcuts/{debt.pk}/",
        {"title": "Costs typed by hand", "why": "Still no export", "revisit_on": "2026-07-01"},
    )
    debt.refresh_from_db()
    assert (debt.why, debt.revisit_on) == ("Still no export", date(2026, 7, 1))
    empty = client.post(f"/products/{product.slug}/shortcuts/{debt.pk}/resolve/", {"resolution": ""})
    assert empty.status_code == 400
    client.post(f"/products/{product.slug}/shortcuts/{debt.pk}/resolve/", {"resolution": "FOCUS import live"})
    debt.refresh_from_db()
    assert debt.resolved_at is not None and debt.resolution == "FOCUS import live"


@pytest.mark.parametrize("page", ["kpis/", "costs/", "shortcuts/"])
def test_owner_pages_query_counts_do_not_grow(client, product_owner, page):
    client.force_login(product_owner)
    counts = []
    for size in (2, 12):
        portfolio = build_portfolio(products=1, owner=product_owner, with_alerts=False)
        product = portfolio.products[0]
        for index in range(size):
            kpi = factories.KPIFactory(goal=portfolio.goal, name=f"Extra {size}-{index}")
            factories.AttributionFactory(kpi=kpi, data_product=product, weight=Decimal("0.01"))
            factories.MeasurementFactory(kpi=kpi, period_start=date(2026, 1, 1))
            factories.CostEntryFactory(
                data_product=product, period_start=date(2025, 1 + index % 12, 1), source_key=f"extra-{size}-{index}"
            )
            ConsciousDebt.objects.create(data_product=product, title=f"d{index}", why="w", revisit_on=date(2026, 5, 1))
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/products/{product.slug}/{page}")
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
