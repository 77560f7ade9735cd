"""Queries run read-only, within their time limit and row cap, on a real PostgreSQL and real DuckDB files."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal

import pytest

from apps.sources.models import DataSource, SourceKind
from apps.sources.reading import SCRUBBED, SourceError, run_query, source_answers

from .conftest import WEEKS, warehouse_execute

pytestmark = pytest.mark.django_db

WEEKLY = "SELECT week AS period_start, orders AS value FROM kpi_weekly ORDER BY week"


def test_postgresql_reads_the_rows(pg_source):
    answer = run_query(pg_source, WEEKLY)
    assert answer.columns == ["period_start", "value"]
    assert len(answer.rows) == WEEKS
    assert answer.rows[0] == (date(2025, 1, 6), Decimal("100.2500"))


def test_postgresql_timeout_cancels_the_query(pg_source):
    started = time.monotonic()
    with pytest.raises(SourceError, match="longer than 1 s and was cancelled"):
        run_query(pg_source, "SELECT pg_sleep(10), 1", timeout_s=1)
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM kpi_weekly",
        "WITH gone AS (DELETE FROM kpi_weekly RETURNING week) SELECT week, 1 FROM gone",
        "WITH x AS (INSERT INTO kpi_weekly VALUES ('2030-01-07', 1) RETURNING week, orders) SELECT * FROM x",
        "CREATE TABLE stolen AS SELECT * FROM kpi_weekly",
        "SELECT 1, 2; COMMIT; DELETE FROM kpi_weekly",
        "COMMIT; DELETE FROM kpi_weekly",
    ],
)
def test_postgresql_write_is_refused_and_changes_nothing(pg_source, warehouse, statement):
    with pytest.raises(SourceError):
        run_query(pg_source, statement)
    assert warehouse_execute(warehouse, "SELECT count(*) FROM kpi_weekly") == [(WEEKS,)]
    assert warehouse_execute(warehouse, "SELECT to_regclass('stolen')") == [(None,)]


def test_read_only_error_says_so(pg_source):
    with pytest.raises(SourceError, match="read-only"):
        run_query(pg_source, "DELETE FROM kpi_weekly")


def test_missing_variable_is_an_error_naming_it(db, monkeypatch):
    monkeypatch.delenv("MESHVALUE_SOURCE_NOWHERE_URL", raising=False)
    source = DataSource.objects.create(name="nowhere", kind=SourceKind.POSTGRESQL)
    with pytest.raises(SourceError, match="MESHVALUE_SOURCE_NOWHERE_URL is not set"):
        run_query(source, WEEKLY)
    assert source_answers(source)[0] is False


def test_connection_errors_never_show_the_connection_string(db, monkeypatch):
    url = "postgresql://reader:s3cr3t-pw@127.0.0.1:1/warehouse_db"
    monkeypatch.setenv("MESHVALUE_SOURCE_DOWN_URL", url)
    source = DataSource.objects.create(name="down", kind=SourceKind.POSTGRESQL, statement_timeout_s=2)
    with pytest.raises(SourceError) as caught:
        run_query(source, WEEKLY)
    message = str(caught.value)
    assert message.startswith("Could not connect to the source")
    for secret in ("s3cr3t-pw", "reader", "warehouse_db", url):
        assert secret not in message
    answers, error = source_answers(source)
    assert not answers and "s3cr3t" not in error


def test_an_unknown_database_name_is_scrubbed(pg_source, warehouse, monkeypatch):
    monkeypatch.setenv("MESHVALUE_SOURCE_WAREHOUSE_URL", warehouse.rsplit("/", 1)[0] + "/no_such_database_h11")
    with pytest.raises(SourceError) as caught:
        run_query(pg_source, WEEKLY)
    assert "no_such_database_h11" not in str(caught.value)
    assert SCRUBBED in str(caught.value)


def test_bad_sql_reports_the_database_message(pg_source):
    with pytest.raises(SourceError, match="no_such_table"):
        run_query(pg_source, "SELECT * FROM no_such_table")


def test_two_columns_and_the_row_cap(pg_source):
    with pytest.raises(SourceError, match="3 column"):
        run_query(pg_source, "SELECT week, orders, 1 FROM kpi_weekly")
    pg_source.row_cap = 10
    with pytest.raises(SourceError, match="more than 10 rows"):
        run_query(pg_source, WEEKLY)


def test_duckdb_database_file(duck_source):
    answer = run_query(duck_source, "SELECT month, revenue FROM kpi_monthly ORDER BY month")
    assert answer.rows[0] == (date(2025, 10, 1), Decimal("1000.50"))
    assert source_answers(duck_source) == (True, "")


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM kpi_monthly",
        "WITH x AS (INSERT INTO kpi_monthly VALUES ('2030-01-01', 1, 1) RETURNING month, revenue) SELECT * FROM x",
        "CREATE TABLE stolen AS SELECT * FROM kpi_monthly",
        "SELECT * FROM read_csv('/etc/passwd')",
        "COPY kpi_monthly TO '/tmp/h11-stolen.csv'",
    ],
)
def test_duckdb_refuses_writes_and_other_files(duck_source, duckdb_file, statement):
    import duckdb

    with pytest.raises(SourceError):
        run_query(duck_source, statement)
    with duckdb.connect(duckdb_file, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM kpi_monthly").fetchall() == [(3,)]


def test_duckdb_timeout_interrupts(duck_source):
    started = time.monotonic()
    with pytest.raises(SourceError, match="longer than 1 s"):
        run_query(duck_source, "SELECT count(*), 1 FROM range(100000000000) a, range(10) b", timeout_s=1)
    assert time.monotonic() - started < 5


def test_duckdb_csv_file_is_the_view_source(db, tmp_path, monkeypatch):
    path = tmp_path / "outcomes.csv"
    path.write_text("period_start,value\n2025-11-01,7.5\n2025-12-01,8\n")
    monkeypatch.setenv("MESHVALUE_SOURCE_CSVFILE_URL", f"duckdb://{path}")
    source = DataSource.objects.create(name="csvfile", kind=SourceKind.DUCKDB)
    answer = run_query(source, "SELECT period_start, value FROM source ORDER BY 1")
    assert [row[0] for row in answer.rows] == [date(2025, 11, 1), date(2025, 12, 1)]
    with pytest.raises(SourceError):
        run_query(source, "SELECT * FROM read_csv('/etc/hostname')")


def test_duckdb_missing_file(db, monkeypatch, tmp_path):
    monkeypatch.setenv("MESHVALUE_SOURCE_GONE_URL", f"duckdb://{tmp_path}/gone.duckdb")
    source = DataSource.objects.create(name="gone", kind=SourceKind.DUCKDB)
    with pytest.raises(SourceError, match="does not exist") as caught:
        run_query(source, "SELECT 1, 2")
    assert str(tmp_path) not in str(caught.value)
