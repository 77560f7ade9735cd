"""The dashboard's product table in a real browser: sorted, paged and filtered on the server over htmx."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.e2e.conftest import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_product_table_sorts_pages_and_filters_without_a_reload(page, live_server, demo, screenshot):
    domain = demo.product.domain
    for _ in range(28):  # 30 products with the demo's two: two pages of 25
        factories.EvaluationFactory(data_product=factories.DataProductFactory(domain=domain), as_of=date.today())
    sign_in(page, live_server, "exec")
    table = page.locator("#portfolio-products")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(25)
    expect(table).to_contain_text("Page 1 of 2")
    page.evaluate("window.__not_reloaded = true")

    # The largest value first: the header link swaps the table alone and the URL keeps the state.
    table.get_by_role("link", name="Value", exact=True).click()
    expect(page).to_have_url(re.compile(r"/\?sort=-value$"))
    expect(rows.first).to_contain_text("Customer 360")
    table.get_by_role("link", name="Next").click()
    expect(page).to_have_url(re.compile(r"/\?sort=-value&page=2$"))
    expect(table).to_contain_text("Page 2 of 2")
    expect(rows).to_have_count(5)

    table.get_by_label("Recommendation").select_option("retire")
    table.get_by_role("button", name="Apply").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Footfall Forecast")
    assert page.evaluate("window.__not_reloaded") is True
    screenshot(page, "11-dashboard-table-filtered")

    # The link reproduces the state as a plain page.
    page.reload()
    expect(page.locator("#portfolio-products tbody tr")).to_have_count(1)
    expect(page.locator("#portfolio-products").get_by_label("Recommendation")).to_have_value("retire")
    table.get_by_role("link", name="Footfall Forecast").click()
    expect(page).to_have_url(re.compile(r"/products/footfall-forecast/$"))
