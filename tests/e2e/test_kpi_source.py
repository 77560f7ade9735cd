"""The Test button in a real browser: the owner points a KPI at a DuckDB file, tests, sees the rows it
would store (a correction and refusals marked), saves, and the page shows the pull history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from apps.kpis.models import Measurement
from apps.sources.models import DataSource, SourceKind
from apps.sources.services import kpi_pull
from meshvalue.periods import add_months
from tests.e2e.conftest import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def lake(tmp_path, monkeypatch, demo):
    import duckdb

    this_month = demo.kpi.measurements.order_by("-period_start").first().period_start
    this_month = add_months(this_month, 1)
    rows = [
        (add_months(this_month, -1), 28),  # equal to the stored outcome: unchanged
        (add_months(this_month, -2), 99),  # stored 27: a correction
        (this_month, 29),  # new
        (add_months(this_month, -1) + timedelta(days=14), 30),  # not the 1st of a month: refused
        (add_months(this_month, 3), 31),  # in the future: refused
    ]
    path = tmp_path / "lake.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE repeat_rate (month DATE, rate DECIMAL(8, 2))")
        con.executemany("INSERT INTO repeat_rate VALUES (?, ?)", rows)
    monkeypatch.setenv("MESHVALUE_SOURCE_LAKE_URL", f"duckdb://{path}")
    return DataSource.objects.create(name="lake", kind=SourceKind.DUCKDB, description="The analytics lake")


def test_owner_tests_a_query_then_saves_it(page, live_server, demo, lake, screenshot):
    query = "SELECT month AS period_start, rate AS value FROM repeat_rate ORDER BY month"
    stored_before = Measurement.objects.count()
    sign_in(page, live_server, "owner")
    page.goto(f"{live_server.url}/goals/{demo.goal.slug}/")
    page.get_by_role("link", name="Repeat purchase rate").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Repeat purchase rate")

    page.get_by_label("Data source").select_option(label="lake")
    page.get_by_label("Query").fill(query)
    page.get_by_role("button", name="Test").click()
    table = page.get_by_test_id("preview-table")
    expect(table).to_be_visible()
    expect(table.locator('tr[data-status="new"]')).to_have_count(1)
    expect(table.locator('tr[data-status="unchanged"]')).to_have_count(1)
    expect(table.locator('tr[data-status="correction"]')).to_have_count(1)
    expect(table.locator('tr[data-status="correction"]')).to_contain_text("replaces 27")
    expect(table.locator('tr[data-status="refused"]')).to_have_count(2)
    expect(table.locator('tr[data-status="refused"]').nth(0)).to_contain_text("1st")
    expect(table.locator('tr[data-status="refused"]').nth(1)).to_contain_text("in the future")
    expect(page.get_by_test_id("preview-summary")).to_contain_text("Nothing is stored")
    assert page.url.endswith(f"/kpis/{demo.kpi.pk}/")  # htmx: the page itself did not change
    screenshot(page, "20-kpi-source-test")
    assert Measurement.objects.count() == stored_before

    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("is now pulled from lake")).to_be_visible()
    expect(page.get_by_test_id("current-query")).to_have_text(query)

    kpi_pull(kpi_id=demo.kpi.pk)
    page.reload()
    runs = page.get_by_test_id("pull-runs")
    expect(runs).to_contain_text("Succeeded")
    expect(runs.locator("tbody tr")).to_have_count(1)
    screenshot(page, "21-kpi-source-saved")
    assert Measurement.objects.count() == stored_before + 2  # the new month and the correction


def test_the_test_button_shows_a_query_error(page, live_server, demo, lake):
    sign_in(page, live_server, "owner")
    page.goto(f"{live_server.url}/kpis/{demo.kpi.pk}/")
    page.get_by_label("Data source").select_option(label="lake")
    page.get_by_label("Query").fill("SELECT * FROM no_such_table")
    page.get_by_role("button", name="Test").click()
    expect(page.get_by_test_id("preview-error")).to_contain_text("no_such_table")
    expect(page.get_by_test_id("preview-error")).not_to_contain_text("lake.duckdb")
