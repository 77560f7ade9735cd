"""Browser pages of cloud-bill imports and allocation rules, and the dashboard's coverage tile."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from apps.costs.imports import cost_import_run
from apps.costs.models import AllocationRule, CostImport, ExchangeRate
from tests.factories import DataProductFactory

pytestmark = pytest.mark.django_db
SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "focus" / "focus_sample.csv"


@pytest.mark.parametrize("path", ["/costs/imports/", "/costs/rules/"])
def test_pages_are_for_governance_leads(client, product_owner, executive, path):
    for user in (product_owner, executive):
        client.force_login(user)
        assert client.get(path).status_code == 403
        assert client.post(path, {}).status_code == 403


def test_upload_progress_and_result(client, governance_lead, tmp_path, django_capture_on_commit_callbacks):
    ExchangeRate.objects.create(currency="USD", month=date(2024, 9, 1), rate=Decimal("0.9"))
    client.force_login(governance_lead)
    with override_settings(MESHVALUE_COST_IMPORT_DIR=str(tmp_path)):
        bad = client.post("/costs/imports/", {"file": SimpleUploadedFile("bill.txt", b"x")})
        assert bad.status_code == 400 and b"FOCUS export ending in" in bad.content
        with django_capture_on_commit_callbacks(execute=False):  # the worker's part is run below
            response = client.post("/costs/imports/", {"file": SimpleUploadedFile("focus.csv", SAMPLE.read_bytes())})
        cost_import = CostImport.objects.get()
        assert response.status_code == 302 and response["Location"] == f"/costs/imports/{cost_import.pk}/"
        waiting = client.get(f"/costs/imports/{cost_import.pk}/progress/")
        assert b'hx-trigger="every 1s"' in waiting.content and b"<progress" in waiting.content
        cost_import_run(import_id=cost_import.pk)
    done = client.get(f"/costs/imports/{cost_import.pk}/progress/")
    assert b"hx-trigger" not in done.content
    assert b'data-testid="rows-read">1000<' in done.content
    assert b"610" in done.content and b"EffectiveCost of 0" in done.content
    page = client.get(f"/costs/imports/{cost_import.pk}/")
    assert b"20209880" in page.content  # the Oracle account matched no rule
    # The dashboard shows the unallocated share of the last month's bill (nothing allocated: 100%).
    dashboard = client.get("/")
    assert b'data-testid="bill-coverage"' in dashboard.content and b"100%" in dashboard.content


def test_rule_preview_then_save_then_order(client, governance_lead, tmp_path):
    ExchangeRate.objects.create(currency="USD", month=date(2024, 9, 1), rate=Decimal("0.9"))
    product = DataProductFactory(slug="peoria", name="Peoria")
    other = DataProductFactory(slug="other", name="Other")
    client.force_login(governance_lead)
    from apps.costs.imports import cost_import_create

    cost_import = cost_import_create(file_name="s.csv", file_path=SAMPLE, dispatch=False)
    cost_import_run(import_id=cost_import.pk, remove_file=False)
    form = {
        "name": "Peoria",
        "tag_key": "business_unit",
        "tag_value": "Peoria*",
        "split": "single",
        "targets": "peoria",
    }
    preview = client.post("/costs/rules/preview/", form, HTTP_HX_REQUEST="true")
    assert preview.status_code == 200
    assert b"Peoria" in preview.content and b"14.40" in preview.content
    assert not AllocationRule.objects.exists()  # a preview saves nothing
    bad = client.post("/costs/rules/", {**form, "targets": "nobody"})
    assert bad.status_code == 400 and b"No data product with the slug nobody" in bad.content
    assert client.post("/costs/rules/", form).status_code == 302
    second = {**form, "name": "Second", "targets": "other", "tag_value": "*"}
    assert client.post("/costs/rules/", second).status_code == 302
    first, last = AllocationRule.objects.order_by("position")
    assert (first.name, last.name) == ("Peoria", "Second")
    client.post(f"/costs/rules/{last.pk}/move/", {"direction": "up"})
    assert list(AllocationRule.objects.order_by("position").values_list("name", flat=True)) == ["Second", "Peoria"]
    assert b"Second" in client.get("/costs/rules/").content
    del product, other
