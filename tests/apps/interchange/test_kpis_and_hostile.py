"""ODPS 4 KPIs with a goal, and hostile files: each refused with its error, nothing stored."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal

import pytest

from apps.catalog.models import DataProduct, Domain
from apps.interchange.files import MAX_ZIP_ENTRIES, FilesRefused, sources_from_upload
from apps.interchange.lifecycle import BITOL, ODPS4
from apps.interchange.services import ImportFailed, products_import
from apps.kpis.models import KPI, Attribution
from tests import factories
from tests.apps.interchange.conftest import source, text_source
from tests.apps.interchange.test_round_trip import database_state

ODPS4_WITH_GOAL = """\
schema: https://opendataproducts.org/v4.1/schema/odps.yaml
version: 4.1
product:
  meshvalue.goal: retail-revenue
  meshvalue.domain: Retail
  meshvalue.owner: ana@example.com
  details:
    en:
      name: Customer Insights Dataset
      productID: customer-insights
      valueProposition: Provide insights into customer behavior
      description: Aggregated customer data
      visibility: organisation
      status: production
      productVersion: "1.0"
  productStrategy:
    contributesToKPI:
      id: KPI-OUT-001
      name: Retail Revenue Uplift
      unit: percent
      target: 5
      direction: increase
      frequency: quarterly
      meshvalue.baseline: "1.5"
      meshvalue.valuePerUnit: "20000"
      meshvalue.weight: "0.25"
    productKPIs:
      - id: KPI-OUT-001-A
        name: Time to segment
        unit: days
        target: "2"
        direction: at_most
        frequency: weekly
        meshvalue.baseline: 10
      - id: KPI-OUT-001-B
        name: Campaign churn
        unit: percent
        target: 3
        direction: decrease
        meshvalue.goal: churn-down
"""


@pytest.mark.django_db
def test_odps4_kpis_with_a_goal_become_kpis_with_direction_cadence_and_target():
    ana = factories.UserFactory(username="ana", email="ana@example.com")
    retail = factories.DomainFactory(name="Retail", slug="retail")
    revenue = factories.BusinessGoalFactory(slug="retail-revenue", domain=retail)
    churn = factories.BusinessGoalFactory(slug="churn-down", domain=retail)
    result = products_import(sources=[text_source("insights.yaml", ODPS4_WITH_GOAL)], file_format=ODPS4)
    product = DataProduct.objects.get(slug="customer-insights")
    assert (product.owner, product.domain, product.lifecycle) == (ana, retail, "active")
    uplift = KPI.objects.get(goal=revenue, name="Retail Revenue Uplift")
    assert (uplift.direction, uplift.cadence, uplift.target, uplift.unit) == ("increase", "quarterly", 5, "percent")
    assert (uplift.baseline, uplift.value_per_unit) == (Decimal("1.5"), Decimal("20000"))
    segment = KPI.objects.get(goal=revenue, name="Time to segment")
    assert (segment.direction, segment.cadence, segment.target, segment.baseline) == ("decrease", "weekly", 2, 10)
    churn_kpi = KPI.objects.get(goal=churn, name="Campaign churn")
    assert (churn_kpi.direction, churn_kpi.cadence, churn_kpi.target) == ("decrease", "monthly", 3)
    weights = dict(Attribution.objects.filter(data_product=product).values_list("kpi__name", "weight"))
    assert weights == {"Retail Revenue Uplift": Decimal("0.25"), "Time to segment": 1, "Campaign churn": 1}
    assert set(product.goals.values_list("slug", flat=True)) == {"retail-revenue", "churn-down"}
    # Defaults the file left out are said, not hidden.
    assert {s.what for s in result.skipped} >= {
        "product.productStrategy.productKPIs[0].value_per_unit",
        "product.productStrategy.productKPIs[1].baseline",
    }
    again = products_import(sources=[text_source("insights.yaml", ODPS4_WITH_GOAL)], file_format=ODPS4)
    assert again.counts["unchanged"] == 1 and again.counts["updated"] == 0


@pytest.mark.django_db
def test_odps4_kpi_with_an_unknown_goal_or_equals_direction_is_an_error():
    factories.UserFactory(username="ana", email="ana@example.com")
    factories.DomainFactory(name="Retail", slug="retail")
    text = ODPS4_WITH_GOAL.replace("direction: decrease", "direction: equals")
    with pytest.raises(ImportFailed) as failed:
        products_import(sources=[text_source("insights.yaml", text)], file_format=ODPS4)
    paths = {problem.path for problem in failed.value.result.problems}
    assert "product.productStrategy.productKPIs[1].direction" in paths
    with pytest.raises(ImportFailed) as failed:
        products_import(sources=[text_source("insights.yaml", ODPS4_WITH_GOAL)], file_format=ODPS4)
    messages = [problem.message for problem in failed.value.result.problems]
    assert "No goal has the slug 'retail-revenue'." in messages
    assert not DataProduct.objects.exists() and not KPI.objects.exists()


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


GOOD = b"apiVersion: v1.0.0\nkind: DataProduct\nid: good\nstatus: active\ndomain: sales\n"
BOMB = """\
apiVersion: v1.0.0
kind: DataProduct
id: bomb
status: active
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: [*c, *c, *c, *c, *c, *c, *c, *c, *c]
"""
PYTHON_TAG = (
    'apiVersion: v1.0.0\nkind: DataProduct\nid: !!python/object/apply:os.system ["echo owned"]\nstatus: active\n'
)

HOSTILE_FILES = [
    ("over 1 MB", "big.yaml", GOOD + b"# " + b"x" * (1024 * 1024), "at most 1,048,576 (1 MB) are accepted"),
    ("YAML bomb", "bomb.yaml", BOMB.encode(), "YAML aliases (*a) are not accepted"),
    ("python tag", "tag.yaml", PYTHON_TAG.encode(), "tag:yaml.org,2002:python/object/apply:os.system is not accepted"),
    ("not UTF-8", "latin.yaml", "id: caf\xe9\n".encode("latin-1"), "Not UTF-8 text"),
    ("not a mapping", "list.yaml", b"- a\n- b\n", "must hold one YAML mapping"),
    ("broken YAML", "broken.yaml", b"id: [unclosed\n", "Not valid YAML"),
    ("schema", "schema.yaml", b"apiVersion: v3\nkind: DataProduct\nid: x\nstatus: active\n", "'v3' is not one of"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("label", "name", "content", "message"), HOSTILE_FILES, ids=[h[0] for h in HOSTILE_FILES])
def test_a_hostile_file_gets_its_error_and_nothing_is_stored(label, name, content, message):
    factories.UserFactory(username="ana")
    factories.DomainFactory(name="Sales", slug="sales")
    before = database_state()
    good = text_source("good.yaml", GOOD.decode())
    with pytest.raises((ImportFailed, FilesRefused)) as failed:
        sources, skipped = sources_from_upload(name, content)
        products_import(sources=[good, *sources], skipped=skipped, file_format=BITOL, default_owner="ana")
    problems = failed.value.problems if isinstance(failed.value, FilesRefused) else failed.value.result.problems
    assert any(problem.file == name and message in problem.message for problem in problems), problems
    assert database_state() == before


HOSTILE_ZIPS = [
    ("path traversal", {"ok.yaml": GOOD, "../../etc/evil.yaml": GOOD}, "leaves the archive"),
    ("absolute path", {"/etc/evil.yaml": GOOD}, "leaves the archive"),
    ("too many entries", {f"p{i}.yaml": GOOD for i in range(MAX_ZIP_ENTRIES + 1)}, "1,001 entries; at most 1,000"),
    ("big entry", {"big.yaml": GOOD + b"#" + b"x" * (1024 * 1024)}, "at most 1,048,576 (1 MB)"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("label", "entries", "message"), HOSTILE_ZIPS, ids=[h[0] for h in HOSTILE_ZIPS])
def test_a_hostile_zip_is_refused_whole(label, entries, message):
    with pytest.raises(FilesRefused) as refused:
        sources_from_upload("catalog.zip", _zip(entries))
    assert any(message in problem.message for problem in refused.value.problems), refused.value.problems


@pytest.mark.django_db
def test_a_zip_of_good_files_imports_and_other_entries_are_skipped_with_why():
    factories.UserFactory(username="ana")
    sources, skipped = sources_from_upload(
        "catalog.zip", _zip({"products/good.yaml": GOOD, "README.md": b"hello", "products/": b""})
    )
    result = products_import(
        sources=sources, skipped=skipped, file_format=BITOL, default_owner="ana", create_domains=True
    )
    assert [p.slug for p in result.of("created")] == ["good"]
    assert [(s.file, s.why) for s in result.skipped] == [("README.md", "not a .yaml or .yml file")]
    assert result.domains_created == ["sales"]
    assert Domain.objects.filter(slug="sales").exists()


@pytest.mark.django_db
def test_one_bad_file_among_good_ones_stores_nothing_and_every_problem_is_listed():
    factories.UserFactory(username="ana")
    factories.DomainFactory(name="Sales", slug="sales")
    bad = text_source("bad.yaml", "apiVersion: v1.0.0\nkind: DataProduct\nid: has space\nstatus: gone\n")
    with pytest.raises(ImportFailed) as failed:
        products_import(sources=[text_source("good.yaml", GOOD.decode()), bad], file_format=BITOL, default_owner="ana")
    assert {(p.file, p.path) for p in failed.value.result.problems} == {("bad.yaml", "id")}
    assert not DataProduct.objects.exists()


@pytest.mark.django_db
def test_dry_run_reports_and_stores_nothing():
    factories.UserFactory(username="ana")
    result = products_import(
        sources=[source("bitol/simple-data-product.odps.yaml")],
        file_format=BITOL,
        dry_run=True,
        create_domains=True,
        default_owner="ana",
        default_domain="Platform",
    )
    assert result.dry_run and result.counts["created"] == 1
    assert not DataProduct.objects.exists() and not Domain.objects.exists()
