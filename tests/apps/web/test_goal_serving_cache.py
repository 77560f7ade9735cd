"""The goal page's products serving a goal are cached, and never read stale after a write that changes them.

PostgreSQL only (the change log's triggers); each check makes the cache hold the ids first, then
writes through the ORM or raw SQL and reads again.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.catalog.models import DataProduct
from apps.kpis.models import KPI, Attribution
from apps.web.selectors.catalog import goal_serving_product_ids
from tests.factories import AttributionFactory, BusinessGoalFactory, DataProductFactory, KPIFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def goal(postgres):
    goal = BusinessGoalFactory()
    kpi = KPIFactory(goal=goal, name="Orders")
    for name in ("Bravo", "Alpha"):
        AttributionFactory(kpi=kpi, data_product=DataProductFactory(name=name))
    return goal


def serving_names(goal) -> list[str]:
    names = dict(DataProduct.objects.values_list("pk", "name"))
    return [names[pk] for pk in goal_serving_product_ids(goal.pk)]


def serving_queries(goal) -> int:
    """How many queries one read runs (1: the change log's key only, a cache hit)."""
    with CaptureQueriesContext(connection) as queries:
        goal_serving_product_ids(goal.pk)
    return len(queries.captured_queries)


def test_a_second_read_is_served_from_the_cache_in_name_order(goal):
    assert serving_names(goal) == ["Alpha", "Bravo"]
    assert serving_queries(goal) == 1
    # Another goal is its own entry.
    assert goal_serving_product_ids(BusinessGoalFactory().pk) == []


def test_attributions_added_moved_and_removed_show_at_once(goal):
    assert serving_names(goal) == ["Alpha", "Bravo"]
    charlie = AttributionFactory(kpi=KPI.objects.get(goal=goal), data_product=DataProductFactory(name="Charlie"))
    assert serving_names(goal) == ["Alpha", "Bravo", "Charlie"]
    elsewhere = KPIFactory(name="Elsewhere")
    with connection.cursor() as cursor:  # raw SQL: the triggers see every write path
        cursor.execute("UPDATE kpis_attribution SET kpi_id = %s WHERE id = %s", [elsewhere.pk, charlie.pk])
    assert serving_names(goal) == ["Alpha", "Bravo"]
    Attribution.objects.filter(data_product__name="Bravo").delete()
    assert serving_names(goal) == ["Alpha"]
    # A change of weight cannot change who serves the goal: the cache holds.
    Attribution.objects.update(weight=Decimal("0.5"))
    assert serving_queries(goal) == 1


def test_kpis_moved_links_and_renames_show_at_once(goal):
    assert serving_names(goal) == ["Alpha", "Bravo"]
    KPI.objects.filter(goal=goal).update(goal=BusinessGoalFactory())
    assert serving_names(goal) == []
    DataProductFactory(name="Direct").goals.add(goal)
    assert serving_names(goal) == ["Direct"]
    KPI.objects.update(goal=goal)
    DataProduct.objects.filter(name="Alpha").update(name="Zulu")
    assert serving_names(goal) == ["Bravo", "Direct", "Zulu"]
    # A change that cannot move the list keeps the cached one.
    KPI.objects.update(target=Decimal("999"))
    DataProduct.objects.update(description="Described.")
    assert serving_queries(goal) == 1
