"""`POST data-products/import/` and `GET data-products/export/`: who may, what they answer."""

from __future__ import annotations

import io
import zipfile

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.catalog.models import DataProduct
from apps.interchange.validation import schema_problems
from tests import factories
from tests.apps.api.conftest import client_for
from tests.apps.interchange.conftest import FIXTURES
from tests.apps.interchange.test_round_trip import database_state

URL = "/api/v1/data-products/import/"
EXPORT_URL = "/api/v1/data-products/export/"


def _upload(path: str = "datahub/pet-of-the-week.yaml", content: bytes | None = None) -> SimpleUploadedFile:
    data = content if content is not None else (FIXTURES / path).read_bytes()
    return SimpleUploadedFile(path.rsplit("/", 1)[-1], data, content_type="application/x-yaml")


@pytest.fixture
def marketing(db):
    factories.UserFactory(username="jdoe")
    return factories.DomainFactory(name="Marketing", slug="marketing")


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["product_owner", "executive"])
def test_only_governance_leads_and_admins_import_403_before_400(request, role, marketing):
    client = client_for(request.getfixturevalue(role))
    before = database_state()
    # Even a request that is bad in every way is refused for permission first.
    assert client.post(URL, {"format": "nonsense"}, format="multipart").status_code == 403
    response = client.post(URL, {"file": _upload(), "format": "datahub"}, format="multipart")
    assert response.status_code == 403
    assert database_state() == before


@pytest.mark.django_db
def test_anonymous_gets_401(api_client):
    assert api_client.post(URL, {}, format="multipart").status_code == 401
    assert api_client.get(EXPORT_URL).status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["governance_lead", "admin_user"])
def test_governance_lead_and_admin_dry_run_then_import(request, role, marketing):
    client = client_for(request.getfixturevalue(role))
    response = client.post(URL, {"file": _upload(), "format": "datahub", "dry_run": "true"}, format="multipart")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["dry_run"] is True
    assert [p["slug"] for p in body["created"]] == ["pet_of_the_week"]
    assert not DataProduct.objects.exists()
    response = client.post(URL, {"file": _upload(), "format": "datahub"}, format="multipart")
    assert response.status_code == 200
    assert DataProduct.objects.get(slug="pet_of_the_week").domain == marketing
    again = client.post(URL, {"file": _upload(), "format": "datahub"}, format="multipart").json()
    assert [p["slug"] for p in again["unchanged"]] == ["pet_of_the_week"]


@pytest.mark.django_db
def test_import_errors_are_400_by_file_and_path(governance_lead):
    client = client_for(governance_lead)
    response = client.post(URL, {"file": _upload(), "format": "datahub"}, format="multipart")
    assert response.status_code == 400
    problems = response.json()["problems"]
    assert {(p["file"], p["path"]) for p in problems} == {
        ("pet-of-the-week.yaml", "owner"),
        ("pet-of-the-week.yaml", "domain"),
    }
    assert client.post(URL, {"format": "datahub"}, format="multipart").status_code == 400
    assert client.post(URL, {"file": _upload(), "format": "xml"}, format="multipart").status_code == 400


@pytest.mark.django_db
def test_import_takes_multipart_only(governance_lead):
    response = client_for(governance_lead).post(URL, {"format": "datahub"}, format="json")
    assert response.status_code == 415


@pytest.mark.django_db
def test_a_zip_with_create_domains(governance_lead):
    factories.UserFactory(username="jdoe")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("pet.yaml", (FIXTURES / "datahub/pet-of-the-week.yaml").read_bytes())
        archive.writestr("orders.yaml", (FIXTURES / "datahub/orders-full.yaml").read_bytes())
    upload = SimpleUploadedFile("catalog.zip", buffer.getvalue(), content_type="application/zip")
    response = client_for(governance_lead).post(
        URL, {"file": upload, "format": "datahub", "create_domains": "true"}, format="multipart"
    )
    assert response.status_code == 200, response.json()
    assert sorted(p["slug"] for p in response.json()["created"]) == ["orders_insights", "pet_of_the_week"]


@pytest.mark.django_db
def test_a_hostile_zip_is_400(governance_lead):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../evil.yaml", b"id: x\n")
    upload = SimpleUploadedFile("evil.zip", buffer.getvalue(), content_type="application/zip")
    response = client_for(governance_lead).post(URL, {"file": upload, "format": "bitol"}, format="multipart")
    assert response.status_code == 400
    assert "leaves the archive" in response.json()["problems"][0]["message"]


@pytest.mark.django_db
@pytest.mark.parametrize("file_format", ["bitol", "odps4"])
def test_every_role_downloads_an_export_zip(product_owner, executive, file_format):
    factories.DataProductFactory(slug="orders")
    factories.DataProductFactory(slug="deprecated-one", lifecycle="deprecated")
    for user in (product_owner, executive):
        response = client_for(user).get(EXPORT_URL, {"format": file_format, "lifecycle": "active"})
        assert response.status_code == 200
        assert response["Content-Type"] == "application/zip"
        archive = zipfile.ZipFile(io.BytesIO(response.content))
        assert archive.namelist() == ["orders.yaml"]
        assert schema_problems(file_format, "orders.yaml", yaml.safe_load(archive.read("orders.yaml"))) == []


@pytest.mark.django_db
def test_export_refuses_an_unknown_format_or_date(executive):
    client = client_for(executive)
    assert client.get(EXPORT_URL, {"format": "datahub"}).status_code == 400
    assert client.get(EXPORT_URL, {"decided_since": "yesterday"}).status_code == 400


@pytest.mark.django_db
def test_without_a_role_export_is_403(db):
    assert client_for(factories.UserFactory(username="nobody")).get(EXPORT_URL).status_code == 403
