"""Reads of data sources and pull runs, and the `source_failing` facts the valuation asks for."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from apps.kpis.models import KPI
from apps.sources.models import DataSource, PullRun, PullStatus
from apps.sources.reading import first_line


def data_source_list() -> QuerySet[DataSource]:
    return DataSource.objects.order_by("name", "id")


def pull_run_list() -> QuerySet[PullRun]:
    """Every pull run, newest first, with its source's name at hand."""
    return PullRun.objects.select_related("source").order_by("-started_at", "-id")


def kpi_pull_runs(*, kpi_id: int, limit: int = 20) -> list[PullRun]:
    """The latest pull runs of one KPI (one query)."""
    return list(pull_run_list().filter(kpi_id=kpi_id)[:limit])


def kpi_sources_failing(*, as_of: date) -> dict[int, tuple[str, str, str]]:
    """KPI id -> (KPI name, source name, the error's first line) for each sourced KPI whose last pull
    that started by the end of `as_of` failed (one query).

    Only pulls count (scheduled, manual, or by the command); a Test stores no run. The error is the
    run's, already scrubbed of the connection string.
    """
    until = timezone.make_aware(datetime.combine(as_of + timedelta(days=1), time.min))
    last = PullRun.objects.filter(kpi_id=OuterRef("pk"), started_at__lt=until).order_by("-started_at", "-id")
    rows = (
        KPI.objects.filter(source__isnull=False)
        .annotate(last_status=Subquery(last.values("status")[:1]), last_error=Subquery(last.values("error")[:1]))
        .filter(last_status=PullStatus.FAILED)
        .values_list("id", "name", "source__name", "last_error")
        .order_by("id")
    )
    return {kpi_id: (name, source_name, first_line(error)) for kpi_id, name, source_name, error in rows}
