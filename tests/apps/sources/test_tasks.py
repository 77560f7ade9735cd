"""The pull task and beat's entries per cadence."""

from __future__ import annotations

import pytest
from django.conf import settings

from apps.sources.models import PullRun, PullTrigger
from apps.sources.tasks import kpi_pull, kpis_pull_scheduled, query_timeout_on_worker
from tests import factories

pytestmark = pytest.mark.django_db


def test_beat_pulls_each_cadence_before_the_evaluation():
    schedule = settings.CELERY_BEAT_SCHEDULE
    entries = {name: entry for name, entry in schedule.items() if entry["task"].startswith("apps.sources.")}
    assert {entry["args"][0] for entry in entries.values()} == {"weekly", "monthly", "quarterly"}
    weekly = schedule["pull-weekly-kpis"]["schedule"]
    assert weekly.day_of_week == {1} and weekly.hour == {1}
    assert schedule["pull-monthly-kpis"]["schedule"].day_of_month == {2}
    quarterly = schedule["pull-quarterly-kpis"]["schedule"]
    assert quarterly.day_of_month == {2} and quarterly.month_of_year == {1, 4, 7, 10}


def test_the_task_pulls_within_the_task_budget(duck_source):
    kpi = factories.KPIFactory(
        cadence="monthly", source=duck_source, source_query="SELECT month, revenue FROM kpi_monthly"
    )
    result = kpi_pull(kpi.pk)
    assert result["status"] == "succeeded" and result["stored"] == 3
    assert PullRun.objects.get(kpi=kpi).trigger == PullTrigger.SCHEDULED
    assert query_timeout_on_worker() < settings.CELERY_TASK_SOFT_TIME_LIMIT
    assert kpi_pull(10**9) == {"kpi_id": 10**9, "status": "skipped"}


def test_the_scheduled_entry_queues_the_sourced_kpis_of_its_cadence(duck_source, redis_url):
    weekly = factories.KPIFactory(cadence="weekly", source=duck_source, source_query="SELECT 1, 2")
    factories.KPIFactory(cadence="monthly", source=duck_source, source_query="SELECT 1, 2")
    factories.KPIFactory(cadence="weekly")
    from tests.workers import broker_reset

    try:
        assert kpis_pull_scheduled("weekly") == {"cadence": "weekly", "queued": 1}
    finally:
        broker_reset(redis_url)
    assert weekly.pk
