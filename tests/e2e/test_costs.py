"""The cloud-bill flow in a browser: upload a FOCUS export, watch its progress, read the result, then write an
allocation rule with a preview before saving it."""

from __future__ import annotations

import re
import threading
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.db import connections
from playwright.sync_api import expect

from apps.costs.imports import cost_import_run
from apps.costs.models import AllocationRule, CostImport, ExchangeRate
from tests.e2e.conftest import sign_in
from tests.workers import broker_reset

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "focus" / "focus_sample.csv"


def _run_import(import_id: int) -> None:
    """What the worker does (the upload queued it on the broker; no worker runs in this test)."""
    try:
        cost_import_run(import_id=import_id)
    finally:
        connections.close_all()


def test_upload_progress_result_and_rules_with_preview(
    page, live_server, demo, screenshot, redis_url, tmp_path, settings
):
    settings.MESHVALUE_COST_IMPORT_DIR = str(tmp_path)
    ExchangeRate.objects.create(currency="USD", month=date(2024, 9, 1), rate=Decimal("0.9"))
    broker_reset(redis_url)
    try:
        sign_in(page, live_server, "gov")
        page.get_by_role("link", name="Cloud bill").click()
        expect(page.get_by_role("heading", name="Costs from your cloud bill")).to_be_visible()
        page.get_by_label("FOCUS export").set_input_files(str(SAMPLE))
        page.get_by_role("button", name="Import").click()
        expect(page).to_have_url(re.compile(r"/costs/imports/\d+/$"))
        cost_import = CostImport.objects.get()
        expect(page.locator("#import-progress")).to_be_visible()
        screenshot(page, "costs-import-progress")

        worker = threading.Thread(target=_run_import, args=(cost_import.pk,))
        worker.start()
        worker.join(timeout=60)
        # htmx polls the progress every second and swaps in the result once the import is done.
        expect(page.get_by_test_id("rows-read")).to_have_text("1000", timeout=15_000)
        expect(page.get_by_test_id("zero-effective")).to_have_text("610")
        expect(page.get_by_test_id("warnings")).to_contain_text("EffectiveCost of 0")
        expect(page.get_by_role("cell", name="20209880").first).to_be_visible()  # an account no rule matched
        screenshot(page, "costs-import-result")

        page.get_by_role("link", name="Allocation rules").click()
        page.locator("#id_name").fill("Peoria data")
        page.locator("#id_tag_key").fill("business_unit")
        page.locator("#id_tag_value").fill("Peoria*")
        page.locator("#id_targets").fill(demo.product.slug)
        page.get_by_role("button", name="Preview").click()
        expect(page.get_by_test_id("preview-table")).to_contain_text(demo.product.name)
        expect(page.get_by_test_id("preview-table")).to_contain_text("14.40")
        assert not AllocationRule.objects.exists()  # previewed, not saved
        screenshot(page, "costs-rules-preview")

        page.get_by_role("button", name="Save rule").click()
        expect(page.get_by_test_id("rules-table")).to_contain_text("Peoria data")
        screenshot(page, "costs-rules-saved")
        assert AllocationRule.objects.get().targets.get().data_product == demo.product
    finally:
        broker_reset(redis_url)
