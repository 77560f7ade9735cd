"""Measurements: cadence alignment, append-only revisions and the database constraints behind them."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.errors import BulkValidationError
from apps.kpis import revision_store
from apps.kpis.models import Measurement
from apps.kpis.services import MeasurementInput, measurement_record, measurements_record_bulk
from tests.factories import KPIFactory, MeasurementFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_correction_is_a_new_current_revision_and_keeps_the_old_value():
    kpi = KPIFactory(cadence="monthly")
    recorder = UserFactory()
    first = measurement_record(kpi=kpi, period_start=date(2026, 3, 1), value=Decimal("120"), recorded_by=recorder)
    second = measurement_record(kpi=kpi, period_start=date(2026, 3, 1), value=Decimal("125.5"), note="restated")

    history = list(Measurement.objects.filter(kpi=kpi, period_start=date(2026, 3, 1)).order_by("revision"))
    assert [(m.revision, m.value, m.is_current) for m in history] == [
        (1, Decimal("120.0000"), False),
        (2, Decimal("125.5000"), True),
    ]
    assert history[0].pk == first.pk and history[1].pk == second.pk
    assert history[0].recorded_by == recorder


def test_misaligned_period_is_refused_with_a_clear_message_and_nothing_stored():
    kpi = KPIFactory(cadence="weekly")
    with pytest.raises(ValidationError) as raised:
        measurement_record(kpi=kpi, period_start=date(2026, 11, 18), value=Decimal("1"))
    message = raised.value.message_dict["period_start"][0]
    assert "must be a Monday" in message and "2026-11-16" in message
    assert not Measurement.objects.exists()


@pytest.mark.parametrize("bad_value", [Decimal("NaN"), Decimal("Infinity"), Decimal("1e30")])
def test_non_finite_or_huge_values_are_refused(bad_value):
    kpi = KPIFactory()
    with pytest.raises(ValidationError) as raised:
        measurement_record(kpi=kpi, period_start=date(2026, 3, 1), value=bad_value)
    assert "value" in raised.value.message_dict


def test_bulk_is_all_or_nothing_and_reports_every_bad_row():
    kpi = KPIFactory(cadence="monthly")
    entries = [
        MeasurementInput(kpi=kpi, period_start=date(2026, 1, 1), value=Decimal("1")),
        MeasurementInput(kpi=kpi, period_start=date(2026, 1, 2), value=Decimal("2")),
        MeasurementInput(kpi=kpi, period_start=date(2026, 3, 1), value=Decimal("NaN")),
    ]
    with pytest.raises(BulkValidationError) as raised:
        measurements_record_bulk(entries=entries, source="api")
    assert [(e.row, e.field) for e in raised.value.errors] == [(2, "period_start"), (3, "value")]
    assert raised.value.as_dict()["rows"][0]["row"] == 2
    assert not Measurement.objects.exists()


def test_bulk_with_two_values_for_one_period_keeps_the_later_one_current(django_assert_max_num_queries):
    kpi = KPIFactory(cadence="monthly")
    MeasurementFactory(kpi=kpi, period_start=date(2026, 1, 1), value=Decimal("5"))
    entries = [
        MeasurementInput(kpi=kpi, period_start=date(2026, 1, 1), value=Decimal("6")),
        MeasurementInput(kpi=kpi, period_start=date(2026, 1, 1), value=Decimal("7")),
        *[MeasurementInput(kpi=kpi, period_start=date(2025, m, 1), value=Decimal(m)) for m in range(1, 13)],
    ]
    with django_assert_max_num_queries(8):
        measurements_record_bulk(entries=entries, source="csv")
    rows = list(Measurement.objects.filter(kpi=kpi, period_start=date(2026, 1, 1)).order_by("revision"))
    assert [(m.revision, m.value, m.is_current) for m in rows] == [
        (1, Decimal("5.0000"), False),
        (2, Decimal("6.0000"), False),
        (3, Decimal("7.0000"), True),
    ]
    assert Measurement.objects.filter(kpi=kpi, is_current=True).count() == 13


def test_database_refuses_two_current_measurements_for_one_period():
    kpi = KPIFactory()
    MeasurementFactory(kpi=kpi, period_start=date(2026, 1, 1), revision=1, is_current=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        MeasurementFactory(kpi=kpi, period_start=date(2026, 1, 1), revision=2, is_current=True)


def test_database_refuses_a_repeated_revision_number():
    kpi = KPIFactory()
    MeasurementFactory(kpi=kpi, period_start=date(2026, 1, 1), revision=1, is_current=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        MeasurementFactory(kpi=kpi, period_start=date(2026, 1, 1), revision=1, is_current=True)


def test_old_revisions_of_one_period_may_coexist():
    kpi = KPIFactory()
    MeasurementFactory(kpi=kpi, period_start=date(2026, 1, 1), revision=1, is_current=False)
    MeasurementFactory(kpi=kpi, period_start=date(2026, 1, 1), revision=2, is_current=False)
    MeasurementFactory(kpi=kpi, period_start=date(2026, 1, 1), revision=3, is_current=True)
    assert Measurement.objects.filter(kpi=kpi).count() == 3


@pytest.fixture(params=["postgresql", "portable"])
def write_path(request, monkeypatch):
    """Run a test through the PostgreSQL path (unnest lookup, COPY) and the portable one (ORM, bulk_create)."""
    if request.param == "portable":
        monkeypatch.setattr(revision_store, "_on_postgresql", lambda: False)
    return request.param


def test_bulk_counts_new_corrections_and_unchanged_rows_on_either_path(write_path, django_assert_max_num_queries):
    kpi = KPIFactory(cadence="monthly")
    other = KPIFactory(cadence="monthly")
    same = MeasurementFactory(kpi=kpi, period_start=date(2026, 1, 1), value=Decimal("5"), note="n")
    replaced = MeasurementFactory(kpi=kpi, period_start=date(2026, 2, 1), value=Decimal("5"), note="")
    entries = [
        MeasurementInput(kpi=kpi, period_start=date(2026, 1, 1), value=Decimal("5.0000"), note="n"),  # unchanged
        MeasurementInput(kpi=kpi, period_start=date(2026, 2, 1), value=Decimal("6")),  # correction
        MeasurementInput(kpi=other, period_start=date(2026, 1, 1), value=Decimal("1")),  # new
        MeasurementInput(kpi=other, period_start=date(2026, 1, 1), value=Decimal("2")),  # corrects the row before
        MeasurementInput(kpi=kpi, period_start=date(2026, 1, 1), value=Decimal("5"), note="other note"),  # correction
    ]
    with django_assert_max_num_queries(8):
        recorded = measurements_record_bulk(entries=entries, source="api")
    assert (recorded.stored, recorded.corrections, recorded.unchanged) == (4, 3, 1)
    assert recorded.ids[0] == same.pk
    rows = {m.pk: m for m in Measurement.objects.all()}
    assert [(rows[pk].kpi_id, rows[pk].revision, rows[pk].is_current) for pk in recorded.ids[1:]] == [
        (kpi.pk, 2, True),
        (other.pk, 1, False),
        (other.pk, 2, True),
        (kpi.pk, 2, True),
    ]
    assert (rows[recorded.ids[1]].source, rows[recorded.ids[1]].value) == ("api", Decimal("6"))
    replaced.refresh_from_db()
    same.refresh_from_db()
    assert not replaced.is_current and not same.is_current
    assert Measurement.objects.filter(is_current=True).count() == 3


def test_recording_the_current_value_again_stores_nothing(write_path):
    kpi = KPIFactory(cadence="monthly")
    first = measurement_record(kpi=kpi, period_start=date(2026, 3, 1), value=Decimal("120"))
    again = measurement_record(kpi=kpi, period_start=date(2026, 3, 1), value=Decimal("120.0"))
    assert again.pk == first.pk
    assert Measurement.objects.count() == 1


def test_bulk_of_many_kpis_takes_a_fixed_number_of_queries(write_path, django_assert_max_num_queries):
    kpis = [KPIFactory(cadence="monthly") for _ in range(30)]
    entries = [
        MeasurementInput(kpi=kpi, period_start=date(2025, month, 1), value=Decimal(month))
        for kpi in kpis
        for month in range(1, 13)
    ]
    with django_assert_max_num_queries(8):
        recorded = measurements_record_bulk(entries=entries, source="csv")
    assert recorded.stored == 360 and len(set(recorded.ids)) == 360
    assert sorted(recorded.ids) == sorted(Measurement.objects.values_list("id", flat=True))
    # A second, corrected pass: every period gets revision 2.
    corrected = measurements_record_bulk(
        entries=[MeasurementInput(kpi=e.kpi, period_start=e.period_start, value=e.value + 1) for e in entries],
        source="csv",
    )
    assert (corrected.stored, corrected.corrections) == (360, 360)
    assert set(Measurement.objects.filter(is_current=True).values_list("revision", flat=True)) == {2}


def test_notes_and_values_are_stored_exactly_whatever_their_characters(write_path, product_owner):
    kpi = KPIFactory(cadence="monthly")
    notes = ["tab\there", "two\nlines", "back\\slash \\N", "carriage\rreturn", "", "ünïcode ✓ 'quoted' \"too\""]
    values = [Decimal("1E+3"), Decimal("-0.0001"), Decimal("123456789.1234"), Decimal("0"), Decimal("7"), Decimal("8")]
    entries = [
        MeasurementInput(kpi=kpi, period_start=date(2025, month, 1), value=value, note=note)
        for month, (value, note) in enumerate(zip(values, notes, strict=True), start=1)
    ]
    recorded = measurements_record_bulk(entries=entries, source="csv", recorded_by=product_owner)
    stored = Measurement.objects.in_bulk(recorded.ids)
    assert [(stored[pk].value, stored[pk].note) for pk in recorded.ids] == list(zip(values, notes, strict=True))
    assert {(m.source, m.recorded_by_id, m.is_current, m.revision) for m in stored.values()} == {
        ("csv", product_owner.pk, True, 1)
    }
    (recorded_at,) = {m.recorded_at for m in stored.values()}
    assert abs(timezone.now() - recorded_at) < timedelta(minutes=1)
