"""The API's answers read off a plan (`apps.core.api.representation`) are DRF's, byte for byte."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from rest_framework import serializers

from apps.catalog.models import DataProduct
from apps.core.api.related_ids import related_ids_attach
from apps.core.api.serializers import ApiModelSerializer
from apps.kpis.api.serializers import KPISerializer
from apps.kpis.models import KPI
from config.api_router import router
from tests import factories
from tests.apps.api.conftest import client_for

pytestmark = pytest.mark.django_db

# Every resource with a list, once (data-products has a second viewset for its files).
LIST_PATHS = sorted({f"/api/v1/{prefix}/" for prefix, viewset, _ in router.registry if hasattr(viewset, "list")})


def _answers(client, monkeypatch, *, drf: bool) -> dict[str, bytes]:
    with monkeypatch.context() as patch:
        if drf:
            patch.setattr(ApiModelSerializer, "to_representation", serializers.ModelSerializer.to_representation)
        answers = {}
        for path in LIST_PATHS:
            response = client.get(path, {"page_size": 500})
            assert response.status_code == 200, (path, response.content[:300])
            answers[path] = response.content
            for row in response.json()["results"][:3]:  # a few details too
                if "id" in row:
                    detail = client.get(f"{path}{row['id']}/")
                    assert detail.status_code == 200, (path, row["id"])
                    answers[f"{path}{row['id']}/"] = detail.content
        return answers


def test_every_list_and_detail_answers_as_drf_would(monkeypatch):
    # The demo portfolio with three months of evaluations, alerts and decisions: every kind of row.
    call_command("seed_demo", today="2026-11-21")
    call_command("demo_history", today="2026-11-21", months=3)
    client = client_for(factories.UserFactory(is_staff=True, is_superuser=True))
    planned = _answers(client, monkeypatch, drf=False)
    by_drf = _answers(client, monkeypatch, drf=True)
    assert planned.keys() == by_drf.keys()
    assert len(LIST_PATHS) >= 15
    for path, answer in planned.items():
        assert answer == by_drf[path], path
    # Not vacuous: the demo fills the lists the plan reads most.
    for path in ("/api/v1/kpis/", "/api/v1/data-products/", "/api/v1/evaluations/", "/api/v1/alerts/"):
        assert planned[path].count(b'"id"') >= 10, path


def test_the_plan_reads_foreign_keys_by_id_and_falls_back_to_drf_for_the_rest(django_assert_num_queries):
    kpi = factories.KPIFactory()
    factories.AttributionFactory(kpi=kpi)
    serializer = KPISerializer()
    instance = KPI.objects.prefetch_related("attributions").get(pk=kpi.pk)
    with django_assert_num_queries(0):  # the goal's id is on the row: no query for the goal
        planned = serializer.to_representation(instance)
    assert planned == serializers.ModelSerializer.to_representation(KPISerializer(), instance)
    assert planned["goal"] == kpi.goal_id
    assert list(planned) == list(KPISerializer().fields)


def test_a_list_page_reads_goal_ids_from_the_link_table_as_a_detail_does():
    # Goals named against their ids' order, so an order by name (the goals' default) would show.
    domain = factories.DomainFactory()
    zulu, alpha, mike = (factories.BusinessGoalFactory(domain=domain, name=name) for name in ("Zulu", "Alpha", "Mike"))
    linked = factories.DataProductFactory(domain=domain)
    linked.goals.add(mike, zulu, alpha)
    unlinked = factories.DataProductFactory(domain=domain)
    client = client_for(factories.UserFactory(is_staff=True, is_superuser=True))

    rows = {row["id"]: row for row in client.get("/api/v1/data-products/").json()["results"]}

    assert rows[linked.pk]["goals"] == sorted([zulu.pk, alpha.pk, mike.pk])
    assert rows[unlinked.pk]["goals"] == []
    for product in (linked, unlinked):
        assert client.get(f"/api/v1/data-products/{product.pk}/").json()["goals"] == rows[product.pk]["goals"]


def test_related_ids_attach_reads_one_query_and_refuses_a_field_that_is_no_many_to_many(django_assert_num_queries):
    products = [factories.DataProductFactory() for _ in range(3)]
    goal = factories.BusinessGoalFactory()
    products[1].goals.add(goal)
    page = list(DataProduct.objects.filter(pk__in=[p.pk for p in products]).order_by("pk"))
    with django_assert_num_queries(1):
        related_ids_attach(page, "goals")
    with django_assert_num_queries(0):
        related_ids_attach([], "goals")
    assert [product.__dict__["_related_ids"]["goals"] for product in page] == [[], [goal.pk], []]
    with pytest.raises(TypeError, match="domain is not a many-to-many field"):
        related_ids_attach(page, "domain")


@pytest.mark.django_db
def test_a_name_one_space_longer_than_its_schema_allows_is_refused(client):
    """The schema's maxLength counts what is sent; DRF counted it after trimming the spaces."""
    from apps.catalog.models import Domain

    admin = factories.UserFactory(is_superuser=True, is_staff=True)
    client.force_login(admin)
    limit = Domain._meta.get_field("name").max_length
    response = client.post(
        "/api/v1/domains/", {"name": " " + "d" * limit, "slug": "spaced"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["name"] == [f"Ensure this field has no more than {limit} characters."]
    assert not Domain.objects.filter(slug="spaced").exists()
