"""The admin says whether a source's variable is set and whether it answers, never the secret."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.sources.models import DataSource, SourceKind

pytestmark = pytest.mark.django_db


def test_admin_shows_variable_and_answer_but_no_secret(admin_user, duck_source, duckdb_file, monkeypatch):
    url = "postgresql://reader:hunter2-secret@127.0.0.1:1/analytics_h11"
    monkeypatch.setenv("MESHVALUE_SOURCE_DOWN_URL", url)
    down = DataSource.objects.create(name="down", kind=SourceKind.POSTGRESQL, statement_timeout_s=2)
    client = Client()
    client.force_login(admin_user)
    listing = client.get("/admin/sources/datasource/").content.decode()
    assert "MESHVALUE_SOURCE_LAKE_URL" in listing and duckdb_file not in listing
    lake = client.get(f"/admin/sources/datasource/{duck_source.pk}/change/").content.decode()
    assert "yes" in lake and duckdb_file not in lake
    page = client.get(f"/admin/sources/datasource/{down.pk}/change/").content.decode()
    assert "no (Could not connect to the source" in page
    for secret in ("hunter2-secret", "analytics_h11", url):
        assert secret not in page
