"""The product owner's workspace: my products and what needs attention, the outcome and cost forms."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.costs.models import CostEntry
from apps.kpis.models import Measurement
from tests import factories
from tests.apps.web.conftest import build_portfolio

# Session, user, roles; products with latest figures, policies, attributions, alerts; the two forms' choices.
WORKSPACE_QUERY_BUDGET = 9


@pytest.fixture
def mine(product_owner):
    return build_portfolio(products=2, owner=product_owner)


@pytest.mark.django_db
def test_workspace_lists_my_products_with_what_needs_attention(client, product_owner, mine):
    build_portfolio(products=1)  # someone else's
    stale_kpi = factories.KPIFactory(goal=mine.goal, name="Forgotten KPI")
    factories.AttributionFactory(kpi=stale_kpi, data_product=mine.products[1], weight=Decimal("0.5"))
    factories.MeasurementFactory(kpi=stale_kpi, period_start=date(2025, 12, 1))
    factories.AlertFactory(data_product=mine.products[0], kind="invest", status="resolved", message="Old news")
    client.force_login(product_owner)
    response = client.get("/workspace/")
    assert response.status_code == 200
    owned = {o.product.pk: o for o in response.context["owned"]}
    assert set(owned) == {p.pk for p in mine.products}
    messages_0 = [a.message for a in owned[mine.products[0].pk].attention]
    assert any(mine.alerts[0].message in m for m in messages_0)
    assert not any("Old news" in m for m in messages_0)
    stale = [a for a in owned[mine.products[1].pk].attention if a.kind == "stale_kpi"]
    assert [a.message for a in stale] == [
        "Forgotten KPI: last outcome for the period of 1 Dec 2025; log the monthly outcomes since."
    ]


@pytest.mark.django_db
def test_workspace_query_count_does_not_grow_with_my_products(client, product_owner):
    client.force_login(product_owner)
    counts = []
    for size in (5, 40):
        build_portfolio(products=size, owner=product_owner)
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/workspace/")
        assert response.status_code == 200
        counts.append(len(queries))
    assert len(response.context["owned"]) == 45
    assert counts[0] == counts[1] <= WORKSPACE_QUERY_BUDGET


@pytest.mark.django_db
def test_outcome_form_offers_only_my_kpis_and_periods_of_their_cadence(client, product_owner, mine):
    other = build_portfolio(products=1)
    weekly = factories.KPIFactory(goal=mine.goal, name="Weekly KPI", cadence="weekly")
    factories.AttributionFactory(kpi=weekly, data_product=mine.products[0], weight=Decimal("0.5"))
    factories.MeasurementFactory(kpi=weekly, period_start=date(2026, 3, 9), value=Decimal("104"))
    client.force_login(product_owner)
    form = client.get("/workspace/").context["outcome_form"]
    offered = set(form.fields["kpi"].queryset.values_list("pk", flat=True))
    assert offered == {mine.kpis[0].pk, mine.kpis[1].pk, weekly.pk}
    assert other.kpis[0].pk not in offered

    response = client.get(f"/workspace/outcome/periods/?kpi={weekly.pk}", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    choices = [value for value, _ in response.context["form"].fields["period_start"].choices if value]
    assert choices[:3] == ["2026-03-16", "2026-03-09", "2026-03-02"]
    assert len(choices) == 26
    labels = dict(response.context["form"].fields["period_start"].choices)
    assert "has a value (104)" in labels["2026-03-09"]

    monthly = client.get(f"/workspace/outcome/periods/?kpi={mine.kpis[0].pk}&period_start=2026-02-01")
    choices = [value for value, _ in monthly.context["form"].fields["period_start"].choices if value]
    assert choices[:2] == ["2026-03-01", "2026-02-01"] and len(choices) == 24
    html = monthly.content.decode()
    assert "Correction." in html and "already has 130" in html and "revision 2" in html

    # Another owner's KPI gets no periods at all.
    foreign = client.get(f"/workspace/outcome/periods/?kpi={other.kpis[0].pk}")
    assert foreign.context["form"].period_options == []


@pytest.mark.django_db
def test_logging_an_outcome_stores_it_through_the_service(client, product_owner, mine):
    client.force_login(product_owner)
    kpi = mine.kpis[0]
    response = client.post(
        "/workspace/outcome/", {"kpi": kpi.pk, "period_start": "2026-03-01", "value": "141.25", "note": "From BI"}
    )
    assert response.status_code == 302
    stored = Measurement.objects.get(kpi=kpi, period_start=date(2026, 3, 1))
    assert (stored.value, stored.note, stored.source, stored.recorded_by, stored.revision) == (
        Decimal("141.25"),
        "From BI",
        "form",
        product_owner,
        1,
    )
    page = client.get(response["Location"]).content.decode()
    assert "Logged 141.25 orders for KPI of product 0, March 2026." in page


@pytest.mark.django_db
def test_a_second_value_for_a_period_is_recorded_as_a_correction(client, product_owner, mine):
    client.force_login(product_owner)
    kpi = mine.kpis[0]
    response = client.post(
        "/workspace/outcome/", {"kpi": kpi.pk, "period_start": "2026-02-01", "value": "128"}, follow=True
    )
    assert "Corrected KPI of product 0 for February 2026: 128 orders replaces 130" in response.content.decode()
    revisions = list(
        Measurement.objects.filter(kpi=kpi, period_start=date(2026, 2, 1))
        .order_by("revision")
        .values_list("value", "is_current")
    )
    assert revisions == [(Decimal("130.0000"), False), (Decimal("128.0000"), True)]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"period_start": "2026-03-02", "value": "1"}, "period_start", "Select a valid choice."),
        ({"period_start": "2026-03-01", "value": "abc"}, "value", "Enter a number."),
        ({"period_start": "2026-03-01", "value": "NaN"}, "value", "Enter a number."),
        ({"period_start": "2026-03-01", "value": "1e40"}, "value", "at most 16 digits before the decimal point"),
        ({"period_start": "", "value": "1"}, "period_start", "This field is required."),
    ],
)
def test_bad_outcomes_are_refused_beside_their_field_and_store_nothing(
    client, product_owner, mine, data, field, message
):
    client.force_login(product_owner)
    before = Measurement.objects.count()
    response = client.post("/workspace/outcome/", {"kpi": mine.kpis[0].pk, **data})
    assert response.status_code == 200
    errors = response.context["outcome_form"].errors
    assert any(message in e for e in errors[field]), errors
    assert message in response.content.decode().replace("&#x27;", "'")
    assert Measurement.objects.count() == before


@pytest.mark.django_db
def test_an_outcome_for_someone_elses_kpi_is_refused(client, product_owner, mine):
    other = build_portfolio(products=1)
    client.force_login(product_owner)
    response = client.post("/workspace/outcome/", {"kpi": other.kpis[0].pk, "period_start": "2026-03-01", "value": "1"})
    assert response.status_code == 200
    assert "kpi" in response.context["outcome_form"].errors
    assert not Measurement.objects.filter(kpi=other.kpis[0], period_start=date(2026, 3, 1)).exists()


@pytest.mark.django_db
def test_recording_a_cost(client, product_owner, mine):
    client.force_login(product_owner)
    product = mine.products[0]
    response = client.post(
        "/workspace/cost/",
        {"data_product": product.pk, "period_start": "2026-03-01", "amount": "12500.50", "category": "people"},
    )
    assert response.status_code == 302
    entry = CostEntry.objects.get(data_product=product, period_start=date(2026, 3, 1))
    assert (entry.amount, entry.category, entry.currency, entry.recorded_by) == (
        Decimal("12500.50"),
        "people",
        "EUR",
        product_owner,
    )
    assert "Recorded 12,500.50 EUR of people cost" in client.get(response["Location"]).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"amount": "-5"}, "amount", "A cost cannot be negative."),
        ({"amount": "1.005"}, "amount", "at most 2 decimal places"),
        ({"amount": "ten"}, "amount", "Enter a number."),
        ({"amount": "1_000"}, "amount", "digits 0-9 only"),
        ({"amount": "\uff11\uff10\uff10\uff10"}, "amount", "digits 0-9 only"),
        ({"period_start": "2026-03-15"}, "period_start", "Select a valid choice."),
        ({"category": "snacks"}, "category", "Select a valid choice."),
    ],
)
def test_bad_costs_are_refused_beside_their_field_and_store_nothing(client, product_owner, mine, data, field, message):
    client.force_login(product_owner)
    before = CostEntry.objects.count()
    payload = {
        "data_product": mine.products[0].pk,
        "period_start": "2026-03-01",
        "amount": "10",
        "category": "other",
        **data,
    }
    response = client.post("/workspace/cost/", payload)
    assert response.status_code == 200
    errors = response.context["cost_form"].errors
    assert any(message in e for e in errors[field]), errors
    assert CostEntry.objects.count() == before


@pytest.mark.django_db
def test_costs_only_for_my_products_a_retired_one_included(client, product_owner, mine):
    # The API's rule: an owner records costs of their own products; an invoice may come after sunset.
    retired = factories.DataProductFactory(owner=product_owner, lifecycle="retired")
    other = build_portfolio(products=1)
    client.force_login(product_owner)
    form = client.get("/workspace/").context["cost_form"]
    offered = set(form.fields["data_product"].queryset.values_list("pk", flat=True))
    assert offered == {p.pk for p in mine.products} | {retired.pk}
    response = client.post(
        "/workspace/cost/",
        {"data_product": other.products[0].pk, "period_start": "2026-03-01", "amount": "10", "category": "other"},
    )
    assert "data_product" in response.context["cost_form"].errors
    assert not CostEntry.objects.filter(data_product=other.products[0], period_start=date(2026, 3, 1)).exists()
    response = client.post(
        "/workspace/cost/",
        {"data_product": retired.pk, "period_start": "2026-03-01", "amount": "10", "category": "licenses"},
    )
    assert response.status_code == 302
    assert CostEntry.objects.filter(data_product=retired).count() == 1


@pytest.mark.django_db
def test_without_javascript_a_get_with_the_kpi_offers_its_periods(client, product_owner, mine):
    weekly = factories.KPIFactory(goal=mine.goal, name="Weekly KPI", cadence="weekly")
    factories.AttributionFactory(kpi=weekly, data_product=mine.products[0], weight=Decimal("0.5"))
    client.force_login(product_owner)
    form = client.get(f"/workspace/?kpi={weekly.pk}").context["outcome_form"]
    assert form.selected_kpi == weekly
    assert form.period_options[0].start == date(2026, 3, 16)
    assert "Show its periods" in client.get("/workspace/").content.decode()
