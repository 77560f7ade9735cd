"""Pulling KPI outcomes from their data sources, and testing a query without storing anything.

A pull runs the KPI's query read-only (apps.sources.reading), checks every row
(apps.sources.checking), stores new outcomes and corrections through
`apps.kpis.services.measurements_record_bulk` with source `sql`, and records a `PullRun` — all in
one transaction under a per-KPI advisory lock, so a pull is all or nothing and two pulls of one
KPI never interleave. A value equal to the current one changes nothing; a different one becomes
the new current revision. A failing query stores nothing and records its error.

Outcomes pulled are recorded by the system user `meshvalue-sources` (README, "Outcomes from your
warehouse"): the pull is nobody's keystroke, and the query's author can change; the run history
tells which query produced each revision.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.core.errors import BulkValidationError
from apps.kpis.models import KPI, MeasurementSource
from apps.kpis.selectors import current_outcomes
from apps.kpis.services import MeasurementInput, measurements_record_bulk
from apps.sources.checking import RowStatus, RowVerdict, rows_check
from apps.sources.locks import kpi_pull_lock
from apps.sources.models import DataSource, PullRun, PullStatus, PullTrigger
from apps.sources.reading import SourceError, run_query

logger = logging.getLogger(__name__)

SYSTEM_USERNAME = "meshvalue-sources"
STORED = (RowStatus.NEW, RowStatus.CORRECTION)


def system_user() -> User:
    """The user pulled outcomes are recorded by: `meshvalue-sources`, inactive, created on demand."""
    user, created = User.objects.get_or_create(
        username=SYSTEM_USERNAME,
        defaults={"is_active": False, "first_name": "meshvalue", "last_name": "sources"},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


@dataclass(frozen=True)
class QueryPreview:
    """What a query would do to a KPI: a verdict per row, or the error that stopped it."""

    verdicts: list[RowVerdict]
    error: str = ""

    def count(self, status: RowStatus) -> int:
        return sum(1 for verdict in self.verdicts if verdict.status == status)


def query_preview(*, source: DataSource, kpi: KPI, query: str, today: date | None = None) -> QueryPreview:
    """Run `query` on `source` read-only and tell what it would store for `kpi`, storing nothing."""
    try:
        answer = run_query(source, query)
    except SourceError as error:
        return QueryPreview(verdicts=[], error=str(error))
    verdicts = rows_check(
        kpi=kpi, rows=answer.rows, current=current_outcomes(kpi_id=kpi.pk), today=today or timezone.localdate()
    )
    return QueryPreview(verdicts=verdicts)


def kpi_pull(
    *, kpi_id: int, trigger: str = PullTrigger.MANUAL, today: date | None = None, timeout_s: float | None = None
) -> PullRun | None:
    """Pull KPI `kpi_id` from its source; None when the KPI is gone or has no source any more.

    `timeout_s` caps the source's statement timeout (the Celery task passes what fits its time budget).
    Raises only for errors of meshvalue's own database (the task retries those); an error of the
    source is recorded on the run.
    """
    today = today or timezone.localdate()
    with transaction.atomic():
        kpi_pull_lock(kpi_id)
        kpi = KPI.objects.select_related("source").filter(pk=kpi_id).first()
        if kpi is None or kpi.source is None or not kpi.source_query:
            return None
        source = kpi.source
        started_at = timezone.now()
        timeout = source.statement_timeout_s if timeout_s is None else min(timeout_s, source.statement_timeout_s)
        run = PullRun(kpi=kpi, source=source, query=kpi.source_query, trigger=trigger, started_at=started_at)
        try:
            answer = run_query(source, kpi.source_query, timeout_s=timeout)
        except SourceError as error:
            return _run_save(run, status=PullStatus.FAILED, error=str(error))
        verdicts = rows_check(kpi=kpi, rows=answer.rows, current=current_outcomes(kpi_id=kpi.pk), today=today)
        to_store = [verdict for verdict in verdicts if verdict.status in STORED]
        entries = [
            MeasurementInput(
                kpi=kpi, period_start=verdict.period_start, value=verdict.value, note=f"From {source.name}"
            )
            for verdict in to_store
            if verdict.period_start is not None and verdict.value is not None
        ]
        try:
            measurements_record_bulk(entries=entries, source=MeasurementSource.SQL, recorded_by=system_user())
        except BulkValidationError as error:  # checked above; a rule of outcomes we did not foresee
            return _run_save(run, status=PullStatus.FAILED, error=f"Outcomes refused: {error}", rows_read=len(verdicts))
        return _run_save(
            run,
            status=PullStatus.SUCCEEDED,
            rows_read=len(verdicts),
            rows_stored=len(entries),
            rows_corrected=sum(1 for verdict in to_store if verdict.status == RowStatus.CORRECTION),
            rows_unchanged=sum(1 for verdict in verdicts if verdict.status == RowStatus.UNCHANGED),
            refused=[verdict.as_dict() for verdict in verdicts if verdict.status == RowStatus.REFUSED],
        )


def _run_save(run: PullRun, *, status: str, error: str = "", **counts: object) -> PullRun:
    run.status = status
    run.error = error
    for name, value in counts.items():
        setattr(run, name, value)
    run.finished_at = timezone.now()
    run.full_clean()
    run.save()
    if status == PullStatus.FAILED:
        logger.warning("pull of KPI %s from source %s failed: %s", run.kpi_id, run.source_id, error.splitlines()[0])
    return run
