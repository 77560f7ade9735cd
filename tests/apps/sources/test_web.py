"""The KPI page: the query is shown to readers; the owner tests (nothing stored) and saves a source."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.test import Client

from apps.kpis.models import Measurement
from apps.sources.services import kpi_pull
from tests import factories

pytestmark = pytest.mark.django_db

MONTHLY = "SELECT month, revenue FROM kpi_monthly ORDER BY month"


@pytest.fixture
def kpi(product_owner):
    product = factories.DataProductFactory(owner=product_owner)
    kpi = factories.KPIFactory(cadence="monthly", name="Lake revenue")
    factories.AttributionFactory(kpi=kpi, data_product=product)
    return kpi


def client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_readers_see_the_query_and_the_pull_history_but_no_form(kpi, duck_source, executive, monkeypatch):
    kpi.source, kpi.source_query = duck_source, MONTHLY
    kpi.save()
    kpi_pull(kpi_id=kpi.pk, today=date(2026, 1, 15))
    monkeypatch.delenv("MESHVALUE_SOURCE_LAKE_URL")
    kpi_pull(kpi_id=kpi.pk, today=date(2026, 1, 15))
    page = client(executive).get(f"/kpis/{kpi.pk}/").content.decode()
    assert MONTHLY in page and "lake" in page
    assert "MESHVALUE_SOURCE_LAKE_URL is not set" in page  # the failed run's error
    assert 'name="source_query"' not in page
    assert "history.duckdb" not in page


def test_the_owner_tests_then_saves(kpi, duck_source, product_owner):
    factories.MeasurementFactory(kpi=kpi, period_start=date(2025, 11, 1), value=Decimal("5"))
    c = client(product_owner)
    assert 'name="source_query"' in c.get(f"/kpis/{kpi.pk}/").content.decode()
    body = {"source": duck_source.pk, "source_query": MONTHLY + " LIMIT 3"}
    response = c.post(f"/kpis/{kpi.pk}/source/test/", body, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert html.count('data-status="new"') == 2 and html.count('data-status="correction"') == 1
    assert "replaces 5" in html
    assert Measurement.objects.filter(kpi=kpi).count() == 1
    # Without JavaScript the same button posts the whole page.
    assert 'data-status="correction"' in c.post(f"/kpis/{kpi.pk}/source/test/", body).content.decode()
    response = c.post(f"/kpis/{kpi.pk}/source/", body)
    assert response.status_code == 302
    kpi.refresh_from_db()
    assert kpi.source == duck_source and kpi.source_query == body["source_query"]


def test_saving_a_source_without_query_redisplays_the_error(kpi, duck_source, product_owner):
    response = client(product_owner).post(f"/kpis/{kpi.pk}/source/", {"source": duck_source.pk, "source_query": ""})
    assert response.status_code == 400
    assert "Write the query" in response.content.decode()


def test_others_may_not_test_or_save(kpi, duck_source, executive):
    body = {"source": duck_source.pk, "source_query": MONTHLY}
    assert client(executive).post(f"/kpis/{kpi.pk}/source/test/", body).status_code == 403
    assert client(executive).post(f"/kpis/{kpi.pk}/source/", body).status_code == 403
    kpi.refresh_from_db()
    assert kpi.source is None


def test_a_governance_lead_may_set_any_source(kpi, duck_source, governance_lead):
    body = {"source": duck_source.pk, "source_query": MONTHLY}
    assert client(governance_lead).post(f"/kpis/{kpi.pk}/source/", body).status_code == 302
