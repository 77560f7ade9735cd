"""The web app in a real browser: each workspace, the charts, logging outcomes, the CSV upload, deciding."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from apps.catalog.models import DataProduct
from apps.governance.models import Decision
from apps.kpis.models import Measurement
from tests.e2e.conftest import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_each_role_signs_in_and_lands_on_its_workspace(page, live_server, demo, screenshot):
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    screenshot(page, "00-login")
    for username, path, heading in (
        ("exec", "/", "Portfolio value"),
        ("owner", "/workspace/", "My data products"),
        ("gov", "/inbox/", "Governance inbox"),
    ):
        sign_in(page, live_server, username)
        expect(page).to_have_url(f"{live_server.url}{path}")
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        page.get_by_role("button", name="Log out").click()
        expect(page).to_have_url(re.compile(r"/accounts/login/"))


def test_dashboard_charts_render_with_data_points_and_a_dot_opens_its_product(page, live_server, demo, screenshot):
    sign_in(page, live_server, "exec")
    monthly = page.locator('[data-chart="monthly"]')
    scatter = page.locator('[data-chart="map"]')
    expect(monthly.locator(".main-svg").first).to_be_visible()
    # Plotly draws each bar and each marker as a path.point: the charts have data, not just axes.
    expect(monthly.locator(".barlayer .point")).to_have_count(24)
    expect(monthly.locator(".scatterlayer .trace .point")).to_have_count(24)
    expect(scatter.locator(".scatterlayer .trace .point")).to_have_count(2)
    expect(page.locator('[data-chart="bets"] .barlayer .point').first).to_be_attached()
    expect(page.get_by_text("€105,000").first).to_be_visible()  # total realised value
    screenshot(page, "01-dashboard")

    # Hovering a dot names the product and its figures; clicking it opens the product.
    # Plotly listens on its drag layer, not on the markers: move the mouse over a marker's centre.
    scatter.evaluate("element => element.scrollIntoView({block: 'center'})")
    box = scatter.locator(".scatterlayer .trace .point").first.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x - 20, y - 20)
    page.mouse.move(x, y, steps=5)
    expect(scatter.locator(".hovertext")).to_contain_text("€")
    page.mouse.click(x, y)
    expect(page).to_have_url(re.compile(r"/products/(customer-360|footfall-forecast)/"))
    expect(page.locator('[data-chart="kpi"] .scatterlayer .point').first).to_be_attached()
    screenshot(page, "02-product")

    page.goto(f"{live_server.url}/goals/{demo.goal.slug}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Grow repeat purchases")
    screenshot(page, "03-goal")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/")
    expect(page.locator('[data-chart="map"] .scatterlayer .trace .point')).to_have_count(2)
    screenshot(page, "01-dashboard-phone")


def test_a_product_owner_logs_an_outcome_and_sees_it_on_the_product_page(page, live_server, demo, screenshot):
    sign_in(page, live_server, "owner")
    form = page.locator("#log-outcome form")
    form.get_by_label("KPI").select_option(str(demo.weekly_kpi.pk))
    period = form.get_by_label("Period")
    # htmx swapped in the weekly periods: the newest is this week's Monday.
    monday = date.today() - timedelta(days=date.today().weekday())
    expect(period.locator(f'option[value="{monday.isoformat()}"]')).to_have_count(1)
    period.select_option(monday.isoformat())
    form.get_by_label("Value").fill("47.25")
    form.get_by_label("Note").fill("From the BI dashboard")
    screenshot(page, "04-workspace")
    form.get_by_role("button", name="Save outcome").click()
    expect(page.locator(".message-success")).to_contain_text("Logged 47.25 EUR for Basket size")

    # A second value for a period that has one is announced, then stored, as a correction.
    form = page.locator("#log-outcome form")
    form.get_by_label("KPI").select_option(str(demo.kpi.pk))
    last_month = (date.today().replace(day=1) - timedelta(days=1)).replace(day=1)
    form.get_by_label("Period").select_option(last_month.isoformat())
    expect(page.locator("#correction-notice")).to_contain_text("Correction.")
    form.get_by_label("Value").fill("29")
    form.get_by_role("button", name="Save outcome").click()
    expect(page.locator(".message-success")).to_contain_text("Corrected Repeat purchase rate")

    page.goto(f"{live_server.url}/products/{demo.product.slug}/")
    outcomes = page.locator("#recent-outcomes")
    expect(outcomes).to_contain_text("47.25")
    expect(outcomes).to_contain_text("From the BI dashboard")
    expect(outcomes).to_contain_text("correction 2")
    screenshot(page, "05-product-after-logging")
    assert Measurement.objects.filter(kpi=demo.weekly_kpi, period_start=monday, source="form").count() == 1


def test_a_csv_with_a_bad_row_is_refused_with_the_row_named_and_nothing_stored(
    page, live_server, demo, screenshot, tmp_path
):
    before = Measurement.objects.count()
    this_month = date.today().replace(day=1)
    csv_file = tmp_path / "outcomes.csv"
    csv_file.write_text(
        "kpi,period_start,value,note\n"
        f"{demo.kpi.pk},{this_month.isoformat()},29.5,good row\n"
        f"{demo.kpi.pk},{(this_month + timedelta(days=3)).isoformat()},30,not the 1st of a month\n"
    )
    sign_in(page, live_server, "owner")
    upload = page.locator("#upload")
    upload.get_by_label("CSV file").set_input_files(str(csv_file))
    upload.get_by_role("button", name="Check file").click()
    errors = page.locator("#upload .preview-table")
    expect(page.locator("#csv-errors")).to_contain_text("Nothing was stored")
    expect(errors).to_contain_text("Row 2")
    expect(errors).to_contain_text("does not start a monthly period")
    expect(errors).not_to_contain_text("Row 1")
    page.locator("#upload").scroll_into_view_if_needed()
    screenshot(page, "06-csv-refused")
    assert Measurement.objects.count() == before

    # The corrected file is previewed, and stored only on confirmation.
    csv_file.write_text(f"kpi,period_start,value,note\n{demo.kpi.pk},{this_month.isoformat()},29.5,good row\n")
    page.locator("#upload").get_by_label("CSV file").set_input_files(str(csv_file))
    page.locator("#upload").get_by_role("button", name="Check file").click()
    expect(page.locator("#csv-preview")).to_contain_text("29.5")
    assert Measurement.objects.count() == before
    page.get_by_role("button", name=re.compile(r"Confirm and store 1 row")).click()
    expect(page.locator(".message-success")).to_contain_text("Stored 1 outcome from outcomes.csv")
    assert Measurement.objects.count() == before + 1


def test_a_governance_lead_decides_retire_and_the_product_shows_as_deprecated(page, live_server, demo, screenshot):
    sign_in(page, live_server, "gov")
    card = page.locator(f"#alert-{demo.alert.pk}")
    expect(card.locator('[data-chart="spark"] .barlayer .point').first).to_be_attached()
    screenshot(page, "07-inbox")
    # Keyboard only: open the decision panel, choose retire, write why, pick a sunset date.
    summary = card.locator("summary", has_text="Decide")
    summary.focus()
    page.keyboard.press("Enter")
    card.get_by_label("Retire").check()
    card.get_by_label("Rationale").fill("Value below cost for a year; the forecast is no longer used.")
    sunset = date.today() + timedelta(days=60)
    card.get_by_label("Sunset date").fill(sunset.isoformat())
    screenshot(page, "08-inbox-deciding")
    card.get_by_role("button", name="Record decision").click()
    card = page.locator(f"#alert-{demo.alert.pk}")
    expect(card).to_contain_text("Decided in")
    expect(card.get_by_test_id("alert-status")).to_have_text("Resolved")

    page.goto(f"{live_server.url}/products/{demo.losing_product.slug}/")
    expect(page.locator("#lifecycle-badge")).to_have_text("Deprecated")
    expect(page.get_by_text(f"sunset {sunset:%-d %b %Y}").first).to_be_visible()
    screenshot(page, "09-product-deprecated")
    page.goto(f"{live_server.url}/inbox/decisions/")
    expect(page.locator("table")).to_contain_text("Value below cost for a year")
    screenshot(page, "10-decision-log")
    product = DataProduct.objects.get(pk=demo.losing_product.pk)
    assert (product.lifecycle, product.sunset_on) == ("deprecated", sunset)


def test_a_product_owner_cannot_open_the_inbox_actions(page, live_server, demo):
    sign_in(page, live_server, "owner")
    expect(page.get_by_role("link", name="Inbox")).to_have_count(0)
    response = page.goto(f"{live_server.url}/inbox/")
    assert response is not None and response.status == 403
    response = page.goto(f"{live_server.url}/inbox/alerts/{demo.alert.pk}/")
    assert response is not None and response.status == 403
    # A hand-made post with a valid session and CSRF token is refused too, and changes nothing.
    page.goto(f"{live_server.url}/workspace/")
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    answer = page.request.post(
        f"{live_server.url}/inbox/alerts/{demo.alert.pk}/decide/",
        form={"action": "keep", "rationale": "I like it", "csrfmiddlewaretoken": token},
        headers={"Referer": f"{live_server.url}/workspace/"},
    )
    assert answer.status == 403
    assert not Decision.objects.exists()
