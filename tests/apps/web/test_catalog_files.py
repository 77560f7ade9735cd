"""The catalog page: every role downloads an export; governance leads and admins import, dry run first."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.catalog.models import DataProduct
from tests import factories
from tests.apps.interchange.conftest import FIXTURES


def _upload() -> SimpleUploadedFile:
    return SimpleUploadedFile("pet.yaml", (FIXTURES / "datahub/pet-of-the-week.yaml").read_bytes())


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["executive", "product_owner", "governance_lead"])
def test_every_role_sees_the_page_and_downloads_an_export(client, request, role):
    factories.DataProductFactory(slug="orders")
    client.force_login(request.getfixturevalue(role))
    page = client.get(reverse("catalog_files"))
    assert page.status_code == 200
    assert ("Import catalog files" in page.content.decode()) is (role == "governance_lead")
    response = client.get(reverse("catalog_export"), {"format": "odps4"})
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert zipfile.ZipFile(io.BytesIO(response.content)).namelist() == ["orders.yaml"]


@pytest.mark.django_db
def test_a_bad_export_filter_redisplays_the_form(client, executive):
    client.force_login(executive)
    response = client.get(reverse("catalog_export"), {"format": "xml"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["executive", "product_owner"])
def test_others_may_not_import(client, request, role):
    client.force_login(request.getfixturevalue(role))
    response = client.post(reverse("catalog_import"), {"file": _upload(), "format": "datahub"})
    assert response.status_code == 403
    assert client.post(reverse("catalog_import_confirm"), {"token": "x"}).status_code == 403
    assert not DataProduct.objects.exists()


@pytest.mark.django_db
def test_dry_run_preview_then_import(client, governance_lead):
    factories.UserFactory(username="jdoe")
    client.force_login(governance_lead)
    preview = client.post(reverse("catalog_import"), {"file": _upload(), "format": "datahub", "create_domains": "on"})
    assert preview.status_code == 200
    html = preview.content.decode()
    assert "Dry run of pet.yaml" in html and "pet_of_the_week" in html
    assert not DataProduct.objects.exists()
    token = preview.context["preview"].token
    done = client.post(reverse("catalog_import_confirm"), {"token": token})
    assert "Imported pet.yaml: 1 created" in done.content.decode()
    assert DataProduct.objects.get(slug="pet_of_the_week").domain.name == "Marketing"
    # The token is used up.
    again = client.post(reverse("catalog_import_confirm"), {"token": token}, follow=True)
    assert "expired or was already imported" in again.content.decode()


@pytest.mark.django_db
def test_a_refused_file_lists_its_problems_and_stores_nothing(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("catalog_import"), {"file": _upload(), "format": "datahub"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was stored" in html and "No user has the username or e-mail" in html
    assert not DataProduct.objects.exists()
