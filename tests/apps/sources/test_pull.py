"""Pulls from a real PostgreSQL source: outcomes equal the query's rows, re-pulls change nothing,
a restated value becomes revision 2, bad rows are refused with their reason, failures store nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from apps.kpis.models import Measurement, MeasurementSource
from apps.sources.models import PullRun, PullStatus, PullTrigger
from apps.sources.services import SYSTEM_USERNAME, kpi_pull, query_preview
from tests import factories

from .conftest import TODAY, WEEKS, warehouse_execute, weekly_rows

pytestmark = pytest.mark.django_db

WEEKLY = "SELECT week AS period_start, orders AS value FROM kpi_weekly ORDER BY week"


@pytest.fixture
def kpi(pg_source):
    return factories.KPIFactory(cadence="weekly", source=pg_source, source_query=WEEKLY)


def current(kpi) -> dict[date, tuple[Decimal, int]]:
    return {m.period_start: (m.value, m.revision) for m in Measurement.objects.filter(kpi=kpi, is_current=True)}


def test_a_good_pull_stores_the_rows(kpi):
    run = kpi_pull(kpi_id=kpi.pk, trigger=PullTrigger.MANUAL, today=TODAY)
    assert run.status == PullStatus.SUCCEEDED, run.error
    assert (run.rows_read, run.rows_stored, run.rows_unchanged, run.refused) == (WEEKS, WEEKS, 0, [])
    assert current(kpi) == {start: (value, 1) for start, value in weekly_rows()}
    stored = Measurement.objects.filter(kpi=kpi)
    assert {m.source for m in stored} == {MeasurementSource.SQL}
    assert {m.recorded_by.username for m in stored} == {SYSTEM_USERNAME}
    assert run.query == WEEKLY and run.source.name == "warehouse"


def test_a_re_pull_changes_nothing(kpi):
    kpi_pull(kpi_id=kpi.pk, today=TODAY)
    before = list(Measurement.objects.filter(kpi=kpi).values_list("id", "value", "revision", "is_current"))
    run = kpi_pull(kpi_id=kpi.pk, today=TODAY)
    assert (run.rows_read, run.rows_stored, run.rows_unchanged) == (WEEKS, 0, WEEKS)
    assert list(Measurement.objects.filter(kpi=kpi).values_list("id", "value", "revision", "is_current")) == before
    assert PullRun.objects.filter(kpi=kpi).count() == 2


def test_a_restated_value_becomes_revision_2(kpi, warehouse):
    kpi_pull(kpi_id=kpi.pk, today=TODAY)
    warehouse_execute(warehouse, "UPDATE kpi_weekly SET orders = 999.5 WHERE week = %s", (date(2025, 3, 3),))
    run = kpi_pull(kpi_id=kpi.pk, today=TODAY)
    assert (run.rows_stored, run.rows_corrected, run.rows_unchanged) == (1, 1, WEEKS - 1)
    assert current(kpi)[date(2025, 3, 3)] == (Decimal("999.5000"), 2)
    old = Measurement.objects.get(kpi=kpi, period_start=date(2025, 3, 3), revision=1)
    assert not old.is_current and old.value == Decimal("108.25")


def test_a_manual_outcome_that_differs_is_corrected_and_an_equal_one_kept(kpi):
    factories.MeasurementFactory(kpi=kpi, period_start=date(2025, 1, 6), value=Decimal("100.25"))
    factories.MeasurementFactory(kpi=kpi, period_start=date(2025, 1, 13), value=Decimal("1"))
    preview = query_preview(source=kpi.source, kpi=kpi, query=WEEKLY, today=TODAY)
    statuses = {v.period_start: (v.status, v.previous) for v in preview.verdicts}
    assert statuses[date(2025, 1, 6)] == ("unchanged", None)
    assert statuses[date(2025, 1, 13)] == ("correction", Decimal("1.0000"))
    assert preview.count("new") == WEEKS - 2
    assert not Measurement.objects.filter(kpi=kpi, source=MeasurementSource.SQL).exists()  # a preview stores nothing
    run = kpi_pull(kpi_id=kpi.pk, today=TODAY)
    assert (run.rows_stored, run.rows_corrected, run.rows_unchanged) == (WEEKS - 1, 1, 1)
    assert current(kpi)[date(2025, 1, 13)] == (Decimal("101.2500"), 2)


REFUSALS = """
SELECT * FROM (VALUES
  ('2025-01-06'::text, '10'::text),
  ('2025-01-07', '11'),
  ('2025-01-13', 'lots'),
  ('2025-01-20', '1'),
  ('2025-01-20', '2'),
  ('2026-03-02', '5'),
  ('not a date', '5'),
  ('2025-01-27', NULL),
  ('2025-02-03', 'NaN')
) AS t(period_start, value)
"""


def test_each_refused_row_has_its_reason_and_the_good_rows_are_stored(kpi):
    kpi.source_query = REFUSALS
    kpi.save()
    run = kpi_pull(kpi_id=kpi.pk, today=TODAY)
    assert run.status == PullStatus.SUCCEEDED
    reasons = {(r["row"], r["period_start"]): r["reason"] for r in run.refused}
    assert "Monday" in reasons[(2, "2025-01-07")]
    assert "not a number" in reasons[(3, "2025-01-13")]
    assert "appears 2 times" in reasons[(4, "2025-01-20")] and "appears 2 times" in reasons[(5, "2025-01-20")]
    assert "in the future" in reasons[(6, "2026-03-02")]
    assert "not a date" in reasons[(7, "not a date")]
    assert "empty" in reasons[(8, "2025-01-27")]
    assert "not a finite number" in reasons[(9, "2025-02-03")]
    assert (run.rows_read, run.rows_stored, len(run.refused)) == (9, 1, 8)
    assert current(kpi) == {date(2025, 1, 6): (Decimal("10.0000"), 1)}


def test_a_failing_query_stores_nothing_and_records_the_error(kpi):
    kpi_pull(kpi_id=kpi.pk, today=TODAY)
    before = list(Measurement.objects.order_by("id").values_list("id", "value", "is_current"))
    kpi.source_query = "SELECT pg_sleep(5), 1"
    kpi.save()
    run = kpi_pull(kpi_id=kpi.pk, today=TODAY, timeout_s=1)
    assert run.status == PullStatus.FAILED
    assert "longer than 1 s" in run.error
    assert list(Measurement.objects.order_by("id").values_list("id", "value", "is_current")) == before


def test_a_write_in_the_query_stores_nothing_and_changes_nothing_in_the_source(kpi, warehouse):
    for statement in (
        "DELETE FROM kpi_weekly",
        "WITH x AS (INSERT INTO kpi_weekly VALUES ('2025-12-29', 1) RETURNING week, orders) SELECT * FROM x",
    ):
        kpi.source_query = statement
        kpi.save()
        run = kpi_pull(kpi_id=kpi.pk, today=TODAY)
        assert run.status == PullStatus.FAILED and "read-only" in run.error
    assert not Measurement.objects.filter(kpi=kpi).exists()
    assert warehouse_execute(warehouse, "SELECT count(*), max(week) FROM kpi_weekly") == [(WEEKS, date(2025, 12, 29))]


def test_a_source_whose_variable_is_missing(kpi, monkeypatch):
    monkeypatch.delenv("MESHVALUE_SOURCE_WAREHOUSE_URL")
    run = kpi_pull(kpi_id=kpi.pk, today=TODAY)
    assert run.status == PullStatus.FAILED
    assert "MESHVALUE_SOURCE_WAREHOUSE_URL is not set" in run.error
    assert not Measurement.objects.filter(kpi=kpi).exists()


def test_a_kpi_without_source_is_skipped(db):
    kpi = factories.KPIFactory()
    assert kpi_pull(kpi_id=kpi.pk) is None
    assert kpi_pull(kpi_id=10**9) is None


def test_duckdb_monthly_pull(duck_source):
    kpi = factories.KPIFactory(
        cadence="monthly", source=duck_source, source_query="SELECT month, revenue FROM kpi_monthly ORDER BY month"
    )
    run = kpi_pull(kpi_id=kpi.pk, today=TODAY)
    assert run.status == PullStatus.SUCCEEDED, run.error
    assert current(kpi) == {
        date(2025, 10, 1): (Decimal("1000.5000"), 1),
        date(2025, 11, 1): (Decimal("1100.0000"), 1),
        date(2025, 12, 1): (Decimal("1200.0000"), 1),
    }
    # Floats (DOUBLE) compare equal on a re-pull once rounded to the stored four places.
    kpi.source_query = "SELECT month, share / 3 FROM kpi_monthly"
    kpi.save()
    first = kpi_pull(kpi_id=kpi.pk, today=TODAY)
    again = kpi_pull(kpi_id=kpi.pk, today=TODAY)
    assert (first.rows_corrected, again.rows_stored, again.rows_unchanged) == (3, 0, 3)


def test_pull_kpis_command(kpi, monkeypatch, capsys):
    call_command("pull_kpis", "--kpi", str(kpi.pk))
    assert PullRun.objects.get(kpi=kpi).trigger == PullTrigger.COMMAND
    assert f"{WEEKS} read, {WEEKS} stored" in capsys.readouterr().out
    monkeypatch.delenv("MESHVALUE_SOURCE_WAREHOUSE_URL")
    with pytest.raises(CommandError, match="1 of 1 pull"):
        call_command("pull_kpis")
    with pytest.raises(CommandError, match="no data source"):
        call_command("pull_kpis", "--kpi", "999999")
