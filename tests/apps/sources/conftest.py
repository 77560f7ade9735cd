"""Real sources for the tests: a second PostgreSQL database and DuckDB files in tmp_path."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.db import connection

from apps.sources.models import DataSource, SourceKind

# A year of weekly values: 52 Mondays from 2025-01-06.
FIRST_MONDAY = date(2025, 1, 6)
WEEKS = 52
TODAY = date(2026, 1, 15)


def weekly_rows() -> list[tuple[date, Decimal]]:
    return [(FIRST_MONDAY + timedelta(weeks=i), Decimal(100 + i) + Decimal("0.25")) for i in range(WEEKS)]


def _server_url(dbname: str) -> str:
    settings_dict = connection.settings_dict
    credentials = quote(settings_dict["USER"] or "", safe="")
    if settings_dict.get("PASSWORD"):
        credentials += ":" + quote(settings_dict["PASSWORD"], safe="")
    host = f"{settings_dict['HOST'] or '127.0.0.1'}:{settings_dict['PORT'] or 5432}"
    return f"postgresql://{credentials}@{host}/{dbname}"


@pytest.fixture
def warehouse(postgres) -> Iterator[str]:
    """A PostgreSQL database of our own (created and dropped here) with a table `kpi_weekly` of a year
    of weekly values; yields its URL."""
    import psycopg

    name = f"test_src_h11_{secrets.token_hex(4)}"
    admin_url = _server_url(connection.settings_dict["NAME"])
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')  # our own generated name, not user input
    url = _server_url(name)
    try:
        with psycopg.connect(url, autocommit=True) as source:
            source.execute("CREATE TABLE kpi_weekly (week date PRIMARY KEY, orders numeric(12, 4) NOT NULL)")
            with source.cursor() as cursor:
                cursor.executemany("INSERT INTO kpi_weekly VALUES (%s, %s)", weekly_rows())
        yield url
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def warehouse_execute(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as source, source.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


@pytest.fixture
def pg_source(db, warehouse, monkeypatch) -> DataSource:
    monkeypatch.setenv("MESHVALUE_SOURCE_WAREHOUSE_URL", warehouse)
    return DataSource.objects.create(name="warehouse", kind=SourceKind.POSTGRESQL, statement_timeout_s=5)


@pytest.fixture
def duckdb_file(tmp_path) -> str:
    import duckdb

    path = tmp_path / "history.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE kpi_monthly (month DATE, revenue DECIMAL(12, 2), share DOUBLE)")
        con.execute(
            "INSERT INTO kpi_monthly VALUES ('2025-10-01', 1000.50, 0.5), ('2025-11-01', 1100, 0.55), "
            "('2025-12-01', 1200, 0.6)"
        )
    return str(path)


@pytest.fixture
def duck_source(db, duckdb_file, monkeypatch) -> DataSource:
    monkeypatch.setenv("MESHVALUE_SOURCE_LAKE_URL", f"duckdb://{duckdb_file}")
    return DataSource.objects.create(name="lake", kind=SourceKind.DUCKDB, statement_timeout_s=5)
