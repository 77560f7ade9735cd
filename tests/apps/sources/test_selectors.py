"""`kpi_sources_failing`: the KPIs whose last pull failed, in one query, with the error's first line."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from apps.sources.models import PullRun, PullStatus, PullTrigger
from apps.sources.selectors import kpi_sources_failing
from tests import factories

pytestmark = pytest.mark.django_db

DAY = date(2026, 2, 2)


def run(kpi, status, *, on: date, hour: int = 2, error: str = "") -> PullRun:
    started = timezone.make_aware(datetime(on.year, on.month, on.day, hour))
    return PullRun.objects.create(
        kpi=kpi,
        source=kpi.source,
        query=kpi.source_query or "SELECT 1, 2",
        trigger=PullTrigger.SCHEDULED,
        status=status,
        started_at=started,
        finished_at=started,
        error=error,
    )


def test_only_the_last_run_counts(duck_source, django_assert_num_queries):
    failing = factories.KPIFactory(name="Failing", source=duck_source, source_query="SELECT 1, 2")
    fixed = factories.KPIFactory(name="Fixed", source=duck_source, source_query="SELECT 1, 2")
    fine = factories.KPIFactory(name="Fine", source=duck_source, source_query="SELECT 1, 2")
    unsourced = factories.KPIFactory(name="Unsourced")
    run(failing, PullStatus.SUCCEEDED, on=DAY - timedelta(days=7))
    run(failing, PullStatus.FAILED, on=DAY, error="Catalog Error: Table kpi does not exist!\nLINE 1: ...")
    run(fixed, PullStatus.FAILED, on=DAY - timedelta(days=7), error="timeout")
    run(fixed, PullStatus.SUCCEEDED, on=DAY)
    run(fine, PullStatus.SUCCEEDED, on=DAY)
    run(unsourced, PullStatus.FAILED, on=DAY, error="old")  # its source was removed since
    with django_assert_num_queries(1):
        result = kpi_sources_failing(as_of=DAY)
    assert result == {failing.pk: ("Failing", "lake", "Catalog Error: Table kpi does not exist!")}
    # As of an earlier day, the runs after it do not count yet.
    assert kpi_sources_failing(as_of=DAY - timedelta(days=1)) == {fixed.pk: ("Fixed", "lake", "timeout")}
