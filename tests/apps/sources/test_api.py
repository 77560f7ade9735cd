"""The API of sources: KPIs' `source` and `source_query` (permission first), `data-sources/` with its
`test` action (a preview, nothing stored), and `pull-runs/`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from apps.kpis.models import Measurement
from apps.sources.models import DataSource, PullRun, SourceKind
from apps.sources.services import kpi_pull
from tests import factories
from tests.apps.api.conftest import client_for

pytestmark = pytest.mark.django_db

MONTHLY = "SELECT month AS period_start, revenue AS value FROM kpi_monthly ORDER BY month"


@pytest.fixture
def world(duck_source, product_owner, executive, governance_lead):
    own_product = factories.DataProductFactory(owner=product_owner)
    other_product = factories.DataProductFactory()
    own_kpi = factories.KPIFactory(cadence="monthly")
    factories.AttributionFactory(kpi=own_kpi, data_product=own_product)
    other_kpi = factories.KPIFactory(cadence="monthly")
    factories.AttributionFactory(kpi=other_kpi, data_product=other_product)
    return {"source": duck_source, "own_kpi": own_kpi, "other_kpi": other_kpi}


def test_data_sources_say_whether_the_variable_is_set_never_its_value(world, executive, monkeypatch, duckdb_file):
    DataSource.objects.create(name="unset_one", kind=SourceKind.POSTGRESQL)
    monkeypatch.delenv("MESHVALUE_SOURCE_UNSET_ONE_URL", raising=False)
    response = client_for(executive).get("/api/v1/data-sources/")
    assert response.status_code == 200
    by_name = {row["name"]: row for row in response.json()["results"]}
    assert by_name["lake"]["variable_set"] is True
    assert by_name["lake"]["env_var"] == "MESHVALUE_SOURCE_LAKE_URL"
    assert by_name["unset_one"]["variable_set"] is False
    assert duckdb_file not in response.content.decode()
    assert client_for(None).get("/api/v1/data-sources/").status_code == 401


def test_the_test_action_previews_without_storing(world, product_owner):
    kpi = world["own_kpi"]
    factories.MeasurementFactory(kpi=kpi, period_start=date(2025, 10, 1), value=Decimal("1000.5"))
    factories.MeasurementFactory(kpi=kpi, period_start=date(2025, 11, 1), value=Decimal("1"))
    query = MONTHLY.replace("ORDER BY month", "UNION ALL SELECT DATE '2025-12-15', 3 ORDER BY 1")
    response = client_for(product_owner).post(
        f"/api/v1/data-sources/{world['source'].pk}/test/", {"query": query, "kpi": kpi.pk}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["error"] == ""
    assert body["counts"] == {"new": 1, "unchanged": 1, "correction": 1, "refused": 1}
    statuses = [(row["period_start"], row["status"]) for row in body["rows"]]
    assert statuses == [
        ("2025-10-01", "unchanged"),
        ("2025-11-01", "correction"),
        ("2025-12-01", "new"),
        ("2025-12-15", "refused"),
    ]
    assert body["rows"][1]["previous"] == "1"
    assert "1st of a month" in body["rows"][3]["reason"] or "month" in body["rows"][3]["reason"]
    assert Measurement.objects.filter(kpi=kpi).count() == 2
    assert not PullRun.objects.exists()


def test_the_test_action_reports_a_query_error(world, governance_lead):
    response = client_for(governance_lead).post(
        f"/api/v1/data-sources/{world['source'].pk}/test/",
        {"query": "SELECT * FROM nope", "kpi": world["other_kpi"].pk},
        format="json",
    )
    assert response.status_code == 200
    assert "nope" in response.json()["error"] and response.json()["rows"] == []


@pytest.mark.parametrize("who", ["executive", "stranger"])
def test_the_test_action_is_refused_before_the_input_is_checked(world, who, executive, request):
    user = executive if who == "executive" else request.getfixturevalue("product_owner")
    kpi = world["own_kpi"] if who == "executive" else world["other_kpi"]
    response = client_for(user).post(
        f"/api/v1/data-sources/{world['source'].pk}/test/", {"kpi": kpi.pk, "query": ""}, format="json"
    )
    assert response.status_code == 403


def test_the_test_action_validates_for_those_allowed(world, product_owner):
    url = f"/api/v1/data-sources/{world['source'].pk}/test/"
    response = client_for(product_owner).post(url, {"kpi": world["own_kpi"].pk}, format="json")
    assert response.status_code == 400 and "query" in response.json()
    response = client_for(product_owner).post(url, {"kpi": 10**9, "query": "SELECT 1, 2"}, format="json")
    assert response.status_code == 400 and "kpi" in response.json()


def test_owner_sets_the_source_and_everyone_reads_the_query(world, product_owner, executive):
    kpi = world["own_kpi"]
    response = client_for(product_owner).patch(
        f"/api/v1/kpis/{kpi.pk}/", {"source": world["source"].pk, "source_query": MONTHLY}, format="json"
    )
    assert response.status_code == 200, response.content
    kpi.refresh_from_db()
    assert (kpi.source_id, kpi.source_query) == (world["source"].pk, MONTHLY)
    read = client_for(executive).get(f"/api/v1/kpis/{kpi.pk}/").json()
    assert (read["source"], read["source_query"]) == (world["source"].pk, MONTHLY)


def test_a_source_needs_its_query(world, product_owner):
    response = client_for(product_owner).patch(
        f"/api/v1/kpis/{world['own_kpi'].pk}/", {"source": world["source"].pk}, format="json"
    )
    assert response.status_code == 400
    assert "source_query" in response.json()


def test_an_executive_may_edit_a_kpi_but_not_its_source_403_before_400(world, executive):
    kpi = world["own_kpi"]
    client = client_for(executive)
    assert client.patch(f"/api/v1/kpis/{kpi.pk}/", {"source": 10**9}, format="json").status_code == 403
    assert client.patch(f"/api/v1/kpis/{kpi.pk}/", {"source_query": "x"}, format="json").status_code == 403
    # Its other fields stay theirs, and an unchanged source in a full body is no change.
    assert client.patch(f"/api/v1/kpis/{kpi.pk}/", {"unit": "EUR", "source": None}, format="json").status_code == 200


def test_another_products_owner_is_refused_before_validation(world, product_owner):
    response = client_for(product_owner).patch(
        f"/api/v1/kpis/{world['other_kpi'].pk}/", {"source": "not an id"}, format="json"
    )
    assert response.status_code == 403


def test_a_governance_lead_sets_any_source_but_edits_nothing_else(world, governance_lead):
    kpi = world["other_kpi"]
    client = client_for(governance_lead)
    body = {"source": world["source"].pk, "source_query": MONTHLY}
    assert client.patch(f"/api/v1/kpis/{kpi.pk}/", body, format="json").status_code == 200
    assert client.patch(f"/api/v1/kpis/{kpi.pk}/", {"unit": "x"}, format="json").status_code == 403


def test_creating_a_kpi_with_a_source(world, product_owner, executive):
    own_product = world["own_kpi"].attributions.get().data_product
    body = {
        "goal": world["own_kpi"].goal_id,
        "name": "Revenue from the lake",
        "unit": "EUR",
        "baseline": "1",
        "target": "2",
        "value_per_unit": "1",
        "source": world["source"].pk,
        "source_query": MONTHLY,
    }
    assert client_for(executive).post("/api/v1/kpis/", body, format="json").status_code == 403
    assert client_for(product_owner).post("/api/v1/kpis/", body, format="json").status_code == 403  # not theirs
    body["attributions"] = [{"data_product": own_product.pk, "weight": "0.5"}]
    response = client_for(product_owner).post("/api/v1/kpis/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["source_query"] == MONTHLY


def test_pull_runs_filtered_by_kpi(world, executive, django_assert_max_num_queries):
    kpi = world["own_kpi"]
    kpi.source, kpi.source_query = world["source"], MONTHLY
    kpi.save()
    for _ in range(3):
        kpi_pull(kpi_id=kpi.pk, today=date(2026, 1, 15))
    client = client_for(executive)
    client.get("/api/v1/pull-runs/")  # the token, the session: warm
    with django_assert_max_num_queries(6):
        response = client.get(f"/api/v1/pull-runs/?kpi={kpi.pk}")
    assert response.status_code == 200
    runs = response.json()["results"]
    assert [run["rows_stored"] for run in runs] == [0, 0, 3]
    assert runs[0]["source_name"] == "lake" and runs[0]["status"] == "succeeded"
    assert client.get(f"/api/v1/pull-runs/?kpi={world['other_kpi'].pk}").json()["results"] == []
