"""The OpenAPI schema is valid, and it and its docs are served from this server only."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command


def test_schema_validates_without_warnings(tmp_path):
    # drf-spectacular turns every warning into a failure: it catches views that break schema generation.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    text = (tmp_path / "schema.yml").read_text()
    for path in ("/api/v1/measurements/bulk/", "/api/v1/costs/import/", "/api/v1/portfolio/summary/"):
        assert f"{path}:" in text


def test_schema_and_docs_need_login(api_client):
    assert api_client.get("/api/schema/").status_code in (401, 403)
    assert api_client.get("/api/docs/").status_code in (401, 403)


def test_schema_describes_token_auth(as_executive):
    schema = as_executive.get("/api/schema/?format=json").json()
    assert schema["components"]["securitySchemes"]["tokenAuth"]["in"] == "header"
    assert schema["paths"]["/api/v1/domains/"]["get"]["security"][0] == {"tokenAuth": []}
    # The token endpoint is the one operation without authentication.
    assert schema["paths"]["/api/v1/auth/token/"]["post"].get("security", [{}]) == [{}]


@pytest.fixture
def docs_html(as_executive) -> str:
    response = as_executive.get("/api/docs/")
    assert response.status_code == 200
    return response.content.decode()


def test_docs_reference_no_other_host(docs_html):
    references = re.findall(r"""(?:src|href)=["']([^"']+)["']""", docs_html)
    assert references, "the page loads its scripts and styles"
    for reference in references:
        assert reference.startswith("/"), f"{reference} is not served by this server"
    assert "//" not in "".join(references)
    assert not re.search(r"https?://", docs_html), "an absolute URL in the page would load from another host"


def test_docs_assets_are_shipped(docs_html):
    for reference in re.findall(r"""(?:src|href)=["']/static/([^"']+)["']""", docs_html):
        assert finders.find(reference), f"{reference} is not among the static files"
