"""The row counts the triggers keep (apps.core.counts): exact after every kind of write, and used by the lists."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from apps.core.counts import maintained_count_differences
from apps.costs.models import CostEntry, CostEntryCount
from apps.costs.services import cost_record, cost_update
from apps.kpis.models import Measurement, MeasurementCount
from apps.kpis.services import MeasurementInput, measurement_record, measurements_record_bulk
from tests import factories
from tests.apps.api.conftest import client_for

pytestmark = pytest.mark.usefixtures("postgres")


def listed_count(user, path: str) -> int:
    response = client_for(user).get(path)
    assert response.status_code == 200, response.content
    return response.json()["count"]


def test_measurement_counts_stay_exact_through_every_kind_of_write(executive):
    first, second = factories.KPIFactory(), factories.KPIFactory()
    measurement_record(kpi=first, period_start=date(2026, 1, 1), value=Decimal("1"))
    measurement_record(kpi=first, period_start=date(2026, 1, 1), value=Decimal("2"))  # a correction: a revision
    measurements_record_bulk(
        entries=[MeasurementInput(second, date(2026, month, 1), Decimal(month)) for month in range(1, 7)],
        source="api",
        recorded_by=None,
    )
    with connection.cursor() as cursor:  # writes the services do not make: raw SQL, several rows a statement
        columns = "kpi_id, period_start, value, note, source, revision, is_current, recorded_at"
        cursor.execute(
            f"INSERT INTO kpis_measurement ({columns}) SELECT %s, d::date, 5, '', 'api', 1, true, now()"
            " FROM generate_series('2025-01-01'::date, '2025-06-01', interval '1 month') d",
            [first.pk],
        )
        cursor.execute("UPDATE kpis_measurement SET kpi_id = %s WHERE period_start = '2025-02-01'", [second.pk])
        cursor.execute("DELETE FROM kpis_measurement WHERE period_start = '2025-03-01'")
    assert maintained_count_differences(Measurement) == {}
    # first: 2 revisions + 6 raw rows - 1 moved - 1 deleted; second: 6 + 1 moved.
    assert dict(MeasurementCount.objects.values_list("kpi_id", "row_count")) == {first.pk: 6, second.pk: 7}
    assert listed_count(executive, "/api/v1/measurements/") == Measurement.objects.count() == 13

    Measurement.objects.filter(kpi=second).delete()
    assert maintained_count_differences(Measurement) == {}
    assert listed_count(executive, "/api/v1/measurements/") == 6


def test_the_unfiltered_list_counts_from_the_kept_counts_and_a_filtered_one_counts_rows(executive):
    kpi = factories.KPIFactory()
    for month in range(1, 4):
        factories.MeasurementFactory(kpi=kpi, period_start=date(2026, month, 1))
    factories.MeasurementFactory(period_start=date(2026, 1, 1))  # another KPI's, not the owner's
    MeasurementCount.objects.filter(kpi_id=kpi.pk).update(row_count=100)  # what the list reads, made visible

    assert maintained_count_differences(Measurement) == {kpi.pk: (100, 3)}
    assert listed_count(executive, "/api/v1/measurements/") == 101
    assert listed_count(executive, "/api/v1/measurements/?ordering=period_start") == 101  # the same rows
    # A filtered list is not the whole table: it counts its rows.
    assert listed_count(executive, f"/api/v1/measurements/?kpi={kpi.pk}") == 3


def test_current_cost_entry_counts_follow_restatements_and_deletes(executive):
    product = factories.DataProductFactory()
    january = cost_record(data_product=product, period_start=date(2026, 1, 1), amount=Decimal("10"))
    cost_record(data_product=product, period_start=date(2026, 2, 1), amount=Decimal("20"))
    cost_update(cost_entry=january, amount=Decimal("12"))  # the old revision stops being current
    factories.CostEntryFactory(data_product=product, period_start=date(2026, 3, 1))
    assert CostEntry.objects.count() == 4
    assert maintained_count_differences(CostEntry) == {}
    assert CostEntryCount.objects.get(data_product_id=product.pk).row_count == 3
    assert listed_count(executive, "/api/v1/costs/") == 3
    assert listed_count(executive, "/api/v1/costs/?is_current=false") == 1

    CostEntry.objects.filter(period_start=date(2026, 3, 1)).delete()
    assert maintained_count_differences(CostEntry) == {}
    assert listed_count(executive, "/api/v1/costs/") == 2


def test_a_truncated_table_leaves_no_count():
    factories.MeasurementFactory()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred check may be pending on a truncated table
        cursor.execute("TRUNCATE kpis_measurement")
    assert not MeasurementCount.objects.exists()
    assert maintained_count_differences(Measurement) == {}
