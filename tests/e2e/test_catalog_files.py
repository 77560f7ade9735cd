"""Browser: a governance lead previews an import (dry run), imports it, then downloads an export."""

from __future__ import annotations

import io
import zipfile

import pytest
import yaml
from playwright.sync_api import expect

from apps.catalog.models import DataProduct
from tests.apps.interchange.conftest import FIXTURES
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e


def test_a_governance_lead_previews_imports_and_exports_the_catalog(page, live_server, demo, screenshot, tmp_path):
    catalog = tmp_path / "catalog.zip"
    with zipfile.ZipFile(catalog, "w") as archive:
        text = (FIXTURES / "datahub/pet-of-the-week.yaml").read_text().replace("urn:li:corpuser:jdoe", "owner")
        archive.writestr("pet.yaml", text.replace("domain: Marketing", "domain: Retail"))
        archive.writestr("notes.txt", "not a product")
    sign_in(page, live_server, "gov")
    page.goto(f"{live_server.url}/catalog/")
    section = page.locator("#import")
    section.get_by_label("Catalog file").set_input_files(str(catalog))
    section.get_by_label("Format").select_option("datahub")
    section.get_by_role("button", name="Check file (dry run)").click()
    expect(page.locator("#import-summary")).to_contain_text("Dry run of catalog.zip")
    expect(page.locator("#import-preview")).to_contain_text("pet_of_the_week")
    expect(page.locator("#import-preview")).to_contain_text("not a .yaml or .yml file")
    assert not DataProduct.objects.filter(slug="pet_of_the_week").exists()
    screenshot(page, "12-catalog-import-dry-run")

    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator(".message-success")).to_contain_text("Imported catalog.zip: 1 created")
    assert DataProduct.objects.get(slug="pet_of_the_week").owner.username == "owner"
    screenshot(page, "12-catalog-imported")

    export = page.locator("#export")
    export.get_by_label("Format").select_option("odps4")
    with page.expect_download() as download_info:
        export.get_by_role("button", name="Download zip").click()
    path = download_info.value.path()
    archive = zipfile.ZipFile(io.BytesIO(open(path, "rb").read()))  # noqa: SIM115
    assert "pet_of_the_week.yaml" in archive.namelist()
    document = yaml.safe_load(archive.read("pet_of_the_week.yaml"))
    assert document["product"]["details"]["en"]["name"] == "Pet of the Week Campaign"


def test_a_product_owner_downloads_but_cannot_import(page, live_server, demo):
    sign_in(page, live_server, "owner")
    page.goto(f"{live_server.url}/catalog/")
    expect(page.locator("#export")).to_be_visible()
    expect(page.locator("#import")).to_have_count(0)
