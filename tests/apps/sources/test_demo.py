"""The demo's warehouse: seed_demo writes a DuckDB file and pulls two KPIs from it, once."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from apps.kpis.models import KPI, Measurement, MeasurementSource
from apps.sources.demo import RESTATED_PERIODS
from apps.sources.models import PullRun, PullStatus

pytestmark = pytest.mark.django_db


def test_seed_demo_pulls_two_kpis_from_its_warehouse(tmp_path, monkeypatch, capsys):
    path = tmp_path / "demo-warehouse.duckdb"
    monkeypatch.setenv("MESHVALUE_SOURCE_DEMO_WAREHOUSE_URL", f"duckdb://{path}")
    call_command("seed_demo", today="2026-11-21")
    assert path.exists()
    sourced = KPI.objects.filter(source__name="demo_warehouse")
    assert sorted(sourced.values_list("name", flat=True)) == ["Average basket value", "Repeat purchase rate"]
    runs = list(PullRun.objects.order_by("kpi_id", "id"))
    assert [run.status for run in runs] == [PullStatus.SUCCEEDED] * 4
    assert [run.rows_corrected for run in runs] == [RESTATED_PERIODS, 0, RESTATED_PERIODS, 0]
    assert Measurement.objects.filter(source=MeasurementSource.SQL, is_current=True).count() == 2 * RESTATED_PERIODS
    call_command("seed_demo", today="2026-11-21")
    assert PullRun.objects.count() == 4
    assert "demo warehouse" in capsys.readouterr().out


def test_without_the_variable_the_step_says_so(monkeypatch, capsys):
    monkeypatch.delenv("MESHVALUE_SOURCE_DEMO_WAREHOUSE_URL", raising=False)
    from apps.sources.demo import demo_warehouse_seed

    result = demo_warehouse_seed()
    assert result.path is None and "not set" in result.message
    assert not PullRun.objects.exists()
