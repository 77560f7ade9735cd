"""The KPI selectors the pages read at any size: each goal's first KPIs, and how many a goal has."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.catalog.models import BusinessGoal
from apps.kpis.selectors import first_kpis_of_goals, kpi_count_of_goal
from tests.factories import BusinessGoalFactory, KPIFactory

pytestmark = pytest.mark.django_db


def test_each_goal_shows_its_first_kpis_by_name_and_counts_them_all():
    big, small, empty = BusinessGoalFactory(), BusinessGoalFactory(), BusinessGoalFactory()
    for name in ["delta", "alpha", "echo", "charlie", "bravo"]:
        KPIFactory(goal=big, name=name)
    KPIFactory(goal=small, name="zulu")
    with CaptureQueriesContext(connection) as queries:
        shown = list(
            first_kpis_of_goals(goal_ids=[big.pk, small.pk, empty.pk], per_goal=3)
            .order_by("goal_id", "name")
            .values_list("goal_id", "name")
        )
    assert len(queries) == 1
    assert shown == [(big.pk, "alpha"), (big.pk, "bravo"), (big.pk, "charlie"), (small.pk, "zulu")]
    counts = dict(BusinessGoal.objects.annotate(n=kpi_count_of_goal()).values_list("pk", "n"))
    assert counts == {big.pk: 5, small.pk: 1, empty.pk: 0}
    assert not first_kpis_of_goals(goal_ids=[], per_goal=3).exists()
