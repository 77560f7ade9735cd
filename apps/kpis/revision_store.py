"""Reading and writing measurement revisions many at a time: the database side of `_measurements_append`.

On PostgreSQL the current revisions of the periods a request touches are looked up by joining the
table against the (kpi, period_start) pairs passed as two array parameters (`unnest`), and the new
revisions are written with `COPY ... FROM STDIN`, their ids drawn from the table's sequence first so
that the answer can name them without a `RETURNING` round trip. Elsewhere (SQLite, the demo) the same
steps run through the ORM (`bulk_create`), which is fast enough at the demo's sizes.

Both paths keep the same rules: the caller has locked the KPIs, so revision numbers cannot race.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import connection

from apps.core.sql import copy_optional, copy_text, date_array, identity_ids, int_array
from apps.kpis.models import Measurement

PeriodKey = tuple[int, date]  # (kpi_id, period_start)

_COLUMNS = (
    "id",
    "kpi_id",
    "period_start",
    "value",
    "note",
    "source",
    "revision",
    "is_current",
    "recorded_by_id",
    "recorded_at",
)


@dataclass(frozen=True)
class StoredPeriod:
    """What is stored for one (KPI, period): its highest revision number and its current revision."""

    latest_revision: int
    current_id: int | None
    current_value: Decimal | None
    current_note: str | None


@dataclass(frozen=True)
class NewRevision:
    """One revision to write (its id comes from the database)."""

    kpi_id: int
    period_start: date
    value: Decimal
    note: str
    revision: int
    is_current: bool


def _on_postgresql() -> bool:
    return connection.vendor == "postgresql"


def stored_periods(keys: Sequence[PeriodKey]) -> dict[PeriodKey, StoredPeriod]:
    """The stored state of each of `keys` that has any revision, in one query."""
    if not keys:
        return {}
    if _on_postgresql():
        return _stored_periods_postgresql(keys)
    wanted = set(keys)
    latest: dict[PeriodKey, int] = {}
    current: dict[PeriodKey, tuple[int, Decimal, str]] = {}
    rows = Measurement.objects.filter(
        kpi_id__in=sorted({kpi_id for kpi_id, _ in keys}), period_start__in={start for _, start in keys}
    ).values_list("id", "kpi_id", "period_start", "revision", "is_current", "value", "note")
    for measurement_id, kpi_id, start, revision, is_current, value, note in rows:
        key = (kpi_id, start)
        if key not in wanted:  # the filter is a cross product of the KPIs and the periods
            continue
        latest[key] = max(latest.get(key, 0), revision)
        if is_current:
            current[key] = (measurement_id, value, note)
    return {
        key: StoredPeriod(key_latest, *(current.get(key) or (None, None, None))) for key, key_latest in latest.items()
    }


def _stored_periods_postgresql(keys: Sequence[PeriodKey]) -> dict[PeriodKey, StoredPeriod]:
    table = Measurement._meta.db_table
    # One row per requested period that has revisions; the join walks the (kpi, period_start, revision)
    # unique index, so the cost follows the rows asked for, not the size of the table.
    # One probe of the (kpi, period_start, revision) unique index per requested period (LATERAL), so the
    # cost follows the rows asked for, not the size of the table: a plain join let the planner sort the
    # whole table for a merge join (0.3 s at 200,000 rows, growing with it).
    sql = f"""
        SELECT wanted.kpi_id, wanted.period_start, found.latest, found.current_id, found.value, found.note
        FROM unnest(%s::bigint[], %s::date[]) AS wanted(kpi_id, period_start)
        CROSS JOIN LATERAL (
            SELECT max(m.revision) AS latest,
                   max(m.id) FILTER (WHERE m.is_current) AS current_id,
                   (array_agg(m.value) FILTER (WHERE m.is_current))[1] AS value,
                   (array_agg(m.note) FILTER (WHERE m.is_current))[1] AS note
            FROM {table} m
            WHERE m.kpi_id = wanted.kpi_id AND m.period_start = wanted.period_start
        ) AS found
        WHERE found.latest IS NOT NULL
    """  # noqa: S608 (the table name is the model's own, the values are parameters)
    with connection.cursor() as cursor:
        cursor.execute(sql, [int_array(kpi_id for kpi_id, _ in keys), date_array(start for _, start in keys)])
        return {
            (kpi_id, start): StoredPeriod(latest, current_id, value, note)
            for kpi_id, start, latest, current_id, value, note in cursor.fetchall()
        }


def revisions_insert(
    revisions: Sequence[NewRevision], *, source: str, recorded_by_id: int | None, recorded_at: datetime
) -> list[int]:
    """Write `revisions` and return their ids, in order."""
    if not revisions:
        return []
    if _on_postgresql():
        return _revisions_copy(revisions, source=source, recorded_by_id=recorded_by_id, recorded_at=recorded_at)
    created = Measurement.objects.bulk_create(
        [
            Measurement(
                kpi_id=revision.kpi_id,
                period_start=revision.period_start,
                value=revision.value,
                note=revision.note,
                source=source,
                revision=revision.revision,
                is_current=revision.is_current,
                recorded_by_id=recorded_by_id,
                recorded_at=recorded_at,
            )
            for revision in revisions
        ]
    )
    return [measurement.pk for measurement in created]


def _revisions_copy(
    revisions: Sequence[NewRevision], *, source: str, recorded_by_id: int | None, recorded_at: datetime
) -> list[int]:
    table = Measurement._meta.db_table
    ids = identity_ids(table, len(revisions))
    with connection.cursor() as cursor:
        # COPY's text format written directly, as psql sends it: psycopg's `write_row` dumps each
        # value in Python and was a tenth of a 10,000-row import. Values were checked before
        # (finite Decimals, dates, integers); only the note is free text and needs escaping.
        source_text = copy_text(source)
        rest = f"{copy_optional(recorded_by_id)}\t{recorded_at.isoformat()}"
        lines = [
            f"{measurement_id}\t{revision.kpi_id}\t{revision.period_start.isoformat()}\t{revision.value}\t"
            f"{copy_text(revision.note)}\t{source_text}\t{revision.revision}\t{'t' if revision.is_current else 'f'}"
            f"\t{rest}\n"
            for measurement_id, revision in zip(ids, revisions, strict=True)
        ]
        with cursor.cursor.copy(f"COPY {table} ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
            copy.write("".join(lines))
    return ids
