"""Exports: valid against the published schemas, set-based, filtered; re-importing one changes nothing."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.utils import timezone

from apps.catalog.models import BusinessGoal, DataProduct, Domain, Lifecycle
from apps.catalog.services import data_products_retire_due
from apps.governance.services import decision_record
from apps.interchange.exports import products_export
from apps.interchange.files import SourceFile
from apps.interchange.lifecycle import BITOL, ODPS4
from apps.interchange.services import ImportFailed, products_import
from apps.interchange.validation import schema_problems
from apps.kpis.models import KPI, Attribution
from tests import factories

MODELS = (Domain, BusinessGoal, DataProduct, KPI, Attribution)


def database_state() -> dict[str, list[dict[str, Any]]]:
    """Every row an import may write, for before/after comparisons."""
    return {model._meta.label: list(model.objects.order_by("pk").values()) for model in MODELS} | {
        "goals of products": list(DataProduct.goals.through.objects.order_by("pk").values())
    }


def _sources(files: dict[str, bytes]) -> list[SourceFile]:
    return [SourceFile(name, content) for name, content in files.items()]


@pytest.fixture
def demo(db):
    call_command("seed_demo", today="2026-11-21", stdout=open("/dev/null", "w"))  # noqa: SIM115


@pytest.mark.slow
@pytest.mark.parametrize("file_format", [BITOL, ODPS4])
def test_demo_portfolio_exports_valid_files_and_reimporting_them_changes_nothing(demo, file_format):
    files = products_export(file_format=file_format)
    assert len(files) == DataProduct.objects.count() >= 30
    for name, content in files.items():
        assert schema_problems(file_format, name, yaml.safe_load(content)) == [], name
    before = database_state()
    result = products_import(sources=_sources(files), file_format=file_format)
    assert result.counts["unchanged"] == len(files), [p for p in result.products if p.outcome != "unchanged"]
    assert database_state() == before


@pytest.mark.slow
def test_demo_export_carries_kpis_attributions_and_the_latest_evaluation(demo):
    call_command("evaluate", as_of="2026-11-21", stdout=open("/dev/null", "w"))  # noqa: SIM115
    product = DataProduct.objects.filter(lifecycle=Lifecycle.ACTIVE, attributions__isnull=False).first()
    document = yaml.safe_load(products_export(file_format=BITOL)[f"{product.slug}.yaml"])
    properties = {item["property"]: item["value"] for item in document["customProperties"]}
    attribution = product.attributions.select_related("kpi__goal").first()
    kpi = next(k for k in properties["meshvalue.kpis"] if k["name"] == attribution.kpi.name)
    assert kpi["goal"] == attribution.kpi.goal.slug
    assert kpi["weight"] == format(attribution.weight.normalize(), "f")
    assert properties["meshvalue.evaluation"]["asOf"] == "2026-11-21"
    assert properties["meshvalue.evaluation"]["recommendation"] in {"incubating", "review", "hold", "retire", "invest"}
    assert document["team"]["members"][0] == {
        "username": product.owner.username,
        **({"name": product.owner.get_full_name()} if product.owner.get_full_name() else {}),
        "role": "owner",
    }
    odps = yaml.safe_load(products_export(file_format=ODPS4)[f"{product.slug}.yaml"])
    assert {k["name"] for k in odps["product"]["productStrategy"]["productKPIs"]} == set(
        product.attributions.values_list("kpi__name", flat=True)
    )


def _portfolio(count: int) -> None:
    domain = factories.DomainFactory()
    goal = factories.BusinessGoalFactory(domain=domain)
    for _ in range(count):
        product = factories.DataProductFactory(domain=domain)
        product.goals.add(goal)
        kpi = factories.KPIFactory(goal=goal)
        factories.AttributionFactory(
            kpi=kpi, data_product=product, weight="0.5", starts_on=date(2024, 3, 1), baseline=Decimal("120.5")
        )
        factories.EvaluationFactory(data_product=product, as_of=date(2026, 1, 1))
        factories.EvaluationFactory(data_product=product, as_of=date(2026, 2, 1))


@pytest.mark.django_db
def test_export_takes_a_fixed_number_of_queries_whatever_the_number_of_products(django_assert_num_queries):
    _portfolio(2)
    with django_assert_num_queries(4):
        small = products_export(file_format=BITOL)
    _portfolio(8)
    with django_assert_num_queries(4):
        large = products_export(file_format=BITOL)
    assert (len(small), len(large)) == (2, 10)
    document = yaml.safe_load(next(iter(large.values())))
    properties = {item["property"]: item["value"] for item in document["customProperties"]}
    assert properties["meshvalue.evaluation"]["asOf"] == "2026-02-01"  # the latest one
    (kpi,) = properties["meshvalue.kpis"]
    assert (kpi["weight"], kpi["startsOn"], kpi["attributionBaseline"]) == ("0.5", "2024-03-01", "120.5")


@pytest.mark.django_db
@pytest.mark.parametrize("file_format", [BITOL, ODPS4])
def test_attribution_credit_terms_travel_and_a_changed_one_is_updated(file_format):
    _portfolio(1)
    files = products_export(file_format=file_format)
    before = database_state()
    assert products_import(sources=_sources(files), file_format=file_format).counts["unchanged"] == 1
    assert database_state() == before
    ((name, content),) = files.items()
    changed = content.replace(b"2024-03-01", b"2024-06-01").replace(b"120.5", b"130")
    result = products_import(sources=[SourceFile(name, changed)], file_format=file_format)
    (outcome,) = result.of("updated")
    assert outcome.changes == [
        f"attribution to {Attribution.objects.get().kpi.goal.slug}/"
        f"{Attribution.objects.get().kpi.name}: starts on 2024-06-01, baseline 130"
    ]
    attribution = Attribution.objects.get()
    assert (attribution.starts_on, attribution.baseline) == (date(2024, 6, 1), Decimal("130"))


@pytest.mark.django_db
def test_a_retire_decision_exports_deprecated_with_its_sunset_then_retired():
    lead = factories.UserFactory(username="gov")
    product = factories.DataProductFactory(slug="old-report")
    other = factories.DataProductFactory(slug="kept")
    sunset = timezone.localdate() + timedelta(days=30)
    decision_record(data_product=product, user=lead, action="retire", rationale="Nobody reads it.", sunset_on=sunset)

    files = products_export(file_format=BITOL, decided_since=timezone.localdate())
    assert list(files) == ["old-report.yaml"]
    document = yaml.safe_load(files["old-report.yaml"])
    assert document["status"] == "deprecated"
    properties = {item["property"]: item["value"] for item in document["customProperties"]}
    assert properties["meshvalue.sunsetOn"] == sunset.isoformat()
    odps = yaml.safe_load(products_export(file_format=ODPS4, decided_since=timezone.localdate())["old-report.yaml"])
    assert odps["product"]["details"]["en"]["status"] == "sunset"
    assert odps["product"]["meshvalue.sunsetOn"] == sunset.isoformat()

    data_products_retire_due(as_of=sunset)
    document = yaml.safe_load(products_export(file_format=BITOL, lifecycle=Lifecycle.RETIRED)["old-report.yaml"])
    assert document["status"] == "retired"
    assert list(products_export(file_format=BITOL, domain_slug=other.domain.slug)) == ["kept.yaml"]


@pytest.mark.django_db
def test_export_filters_by_domain_and_lifecycle():
    a = factories.DataProductFactory(slug="a", lifecycle=Lifecycle.PROPOSED, launched_on=None)
    factories.DataProductFactory(slug="b")
    assert list(products_export(file_format=BITOL, domain_slug=a.domain.slug)) == ["a.yaml"]
    assert list(products_export(file_format=ODPS4, lifecycle=Lifecycle.ACTIVE)) == ["b.yaml"]


@pytest.mark.django_db
def test_import_moves_a_product_through_its_lifecycle_and_reports_the_change():
    product = factories.DataProductFactory(slug="old-report")
    files = products_export(file_format=BITOL)
    deprecated = files["old-report.yaml"].replace(b"status: active", b"status: deprecated")
    result = products_import(sources=[SourceFile("old-report.yaml", deprecated)], file_format=BITOL)
    assert result.of("updated")[0].changes == ["lifecycle: active → deprecated"]
    product.refresh_from_db()
    assert product.lifecycle == Lifecycle.DEPRECATED


@pytest.mark.django_db
def test_a_move_governance_may_not_make_is_refused_and_nothing_stored():
    factories.DataProductFactory(slug="gone", lifecycle=Lifecycle.RETIRED, sunset_on=date(2026, 1, 1))
    factories.DataProductFactory(slug="fine", lifecycle=Lifecycle.ACTIVE)
    files = products_export(file_format=BITOL)
    revived = files["gone.yaml"].replace(b"status: retired", b"status: active")
    renamed = files["fine.yaml"].replace(b"name: Product", b"name: Renamed product")
    before = database_state()
    with pytest.raises(ImportFailed) as failed:
        products_import(sources=[SourceFile("fine.yaml", renamed), SourceFile("gone.yaml", revived)], file_format=BITOL)
    (problem,) = failed.value.result.problems
    assert (problem.file, problem.path, problem.message) == (
        "gone.yaml",
        "lifecycle",
        "A retired product cannot become active.",
    )
    assert database_state() == before
