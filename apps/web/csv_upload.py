"""The CSV upload of the workspace: check, preview, confirm, store; nothing stored until the file is clean.

Parsing and permissions are the API's (`apps.kpis.ingest`), so a file gets the same row errors in
the browser as through `POST /api/v1/measurements/import/`, including the rows for KPIs of other
people's products. The file waits in the session between the preview and the confirmation, and
is checked again when confirmed. Row 0 stands for the file as a whole (encoding, header, size).
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest

from apps.accounts.models import User
from apps.core.errors import BulkValidationError, RowError
from apps.core.memory import cyclic_gc_paused
from apps.kpis.ingest import measurement_inputs_from_csv
from apps.kpis.models import Measurement, MeasurementSource
from apps.kpis.services import CheckedMeasurementInputs, MeasurementInput, measurements_record_bulk
from apps.web.selectors.workspace import period_label

SESSION_KEY = "web_csv_uploads"
# At most this many previews wait in a session; older ones are dropped.
MAX_STASHED = 3
STASH_MAX_AGE_SECONDS = 24 * 60 * 60

COLUMNS_HELP = [
    ("kpi", "the KPI's id (shown beside each KPI in the outcome form)"),
    ("period_start", "the first day of the period, YYYY-MM-DD (a Monday, the 1st of a month or of a quarter)"),
    ("value", "the measured value, a plain number with a dot for decimals"),
    ("note", "optional"),
]


def currency() -> str:
    return settings.MESHVALUE_CURRENCY


@dataclass(frozen=True)
class PreviewRow:
    row: int
    kpi_name: str
    unit: str
    period: str
    value: Decimal
    note: str
    # The value this row replaces (a correction), or None for a first value.
    replaces: Decimal | None
    # The same value and note as the period's current revision: the import stores nothing for it.
    unchanged: bool = False


@dataclass
class CsvResult:
    """The outcome of checking (or storing) a file: its rows, or every bad row with its reasons."""

    rows: list[PreviewRow] = field(default_factory=list)
    errors: list[tuple[int, list[tuple[str, str]]]] = field(default_factory=list)

    @property
    def corrections(self) -> int:
        return sum(1 for row in self.rows if row.replaces is not None)

    @property
    def bad_rows(self) -> int:
        return len(self.errors)


def _grouped(errors: list[RowError]) -> list[tuple[int, list[tuple[str, str]]]]:
    by_row: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for error in errors:
        by_row[error.row].append((error.field, error.message))
    return sorted(by_row.items())


def _checked_entries(*, content: bytes, user: User) -> CheckedMeasurementInputs:
    """The file's rows, checked by the API's parser and the services' rules, for KPIs the user may log.

    Raises BulkValidationError (or its ForbiddenRowsError, for rows of KPIs of other people's
    products) listing every bad row, exactly as `POST /api/v1/measurements/import/` would.
    """
    return measurement_inputs_from_csv(content, user=user)


def _preview(entries: Sequence[MeasurementInput]) -> list[PreviewRow]:
    current: dict[tuple[int, date], tuple[Decimal, str]] = {}
    if entries:
        kpi_ids = {e.kpi.pk for e in entries}
        starts = {e.period_start for e in entries}
        for kpi_id, start, value, note in Measurement.objects.filter(
            kpi_id__in=kpi_ids, period_start__in=starts, is_current=True
        ).values_list("kpi_id", "period_start", "value", "note"):
            current[(kpi_id, start)] = (value, note)
    rows = []
    for index, entry in enumerate(entries, start=1):
        key = (entry.kpi.pk, entry.period_start)
        previous = current.get(key)
        # The service's rule (measurements_record_bulk): equal value and note store nothing.
        unchanged = previous is not None and previous == (entry.value, entry.note)
        rows.append(
            PreviewRow(
                row=index,
                kpi_name=entry.kpi.name,
                unit=entry.kpi.unit,
                period=period_label(entry.kpi.cadence, entry.period_start),
                value=entry.value,
                note=entry.note,
                replaces=None if previous is None or unchanged else previous[0],
                unchanged=unchanged,
            )
        )
        # A second row for the same period in one file corrects the first.
        current[key] = (entry.value, entry.note)
    return rows


@cyclic_gc_paused()
def check(*, content: bytes, user: User) -> CsvResult:
    """Check a file without storing anything: the preview rows, or every bad row with its reasons."""
    try:
        entries = _checked_entries(content=content, user=user)
    except BulkValidationError as error:
        return CsvResult(errors=_grouped(error.errors))
    if not entries:
        return CsvResult(errors=[(0, [("file", "The file has a header but no data rows.")])])
    return CsvResult(rows=_preview(entries))


@cyclic_gc_paused()
def store(*, content: bytes, user: User) -> CsvResult:
    """Check the file again and store every row, or none (the service is all or nothing)."""
    result = check(content=content, user=user)
    if result.errors:
        return result
    try:
        measurements_record_bulk(
            entries=_checked_entries(content=content, user=user), source=MeasurementSource.CSV, recorded_by=user
        )
    except BulkValidationError as error:
        return CsvResult(errors=_grouped(error.errors))
    return result


def _upload_folder() -> Path:
    folder = Path(settings.MESHVALUE_UPLOAD_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _upload_path(token: str) -> Path:
    return _upload_folder() / f"{token}.csv"


def _sweep_stale_uploads() -> None:
    """Delete previews nobody confirmed within a day (their sessions may be long gone)."""
    cutoff = time.time() - STASH_MAX_AGE_SECONDS
    for path in _upload_folder().glob("*.csv"):
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < cutoff:
                path.unlink()


def stash(request: HttpRequest, *, content: bytes, filename: str) -> str:
    """Keep a checked file until it is confirmed; returns the token naming it.

    The file goes to a temporary file named by a random token, not into the session row (three
    5 MB previews made a 13 MB session that every request of that user read and wrote). The
    session holds only the tokens it issued and the file names, so a token works for its session only.
    """
    _sweep_stale_uploads()
    token = secrets.token_urlsafe(16)
    stashed = dict(request.session.get(SESSION_KEY, {}))
    while len(stashed) >= MAX_STASHED:
        evicted = next(iter(stashed))
        stashed.pop(evicted)
        _upload_path(evicted).unlink(missing_ok=True)
    _upload_path(token).write_bytes(content)
    stashed[token] = {"filename": filename[:200]}
    request.session[SESSION_KEY] = stashed
    return token


def unstash(request: HttpRequest, *, token: str) -> tuple[bytes, str] | None:
    """Take a stashed file out (once): its content and name, or None if unknown to this session or expired."""
    stashed = dict(request.session.get(SESSION_KEY, {}))
    entry = stashed.pop(token, None)
    if entry is None or not isinstance(entry, dict) or "filename" not in entry:
        return None
    request.session[SESSION_KEY] = stashed
    path = _upload_path(token)
    try:
        content = path.read_bytes()
    except OSError:
        return None
    path.unlink(missing_ok=True)
    return content, entry["filename"]
