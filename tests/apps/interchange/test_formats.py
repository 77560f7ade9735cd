"""Each format read from real example files (table-driven), and the one lifecycle mapping."""

from __future__ import annotations

from datetime import date

import pytest

from apps.catalog.models import DataProduct, Lifecycle
from apps.interchange.lifecycle import (
    BITOL,
    DATAHUB,
    ODPS4,
    UnknownStatus,
    lifecycle_from_status,
    status_for_lifecycle,
)
from apps.interchange.services import ImportFailed, products_import, records_read
from tests import factories
from tests.apps.interchange.conftest import source, text_source

# file, format, then what the record must say
EXAMPLES = [
    (
        "bitol/customer-data-product.odps.yaml",
        BITOL,
        {
            "slug": "fbe8d147-28db-4f1d-bedf-a3fe9f458427",
            "name": "Customer Data Product",
            "lifecycle": Lifecycle.PROPOSED,  # draft
            "domain": "seller",
            "owner": "john.doe@retailcorp.com",
            "description": "Enterprise view of a customer.",
        },
    ),
    (
        "bitol/simple-data-product.odps.yaml",
        BITOL,
        {
            "slug": "064c4630-8aad-4dc0-ba95-0f69940e6b18",
            "name": "Simple Data Product",
            "lifecycle": Lifecycle.ACTIVE,
            "domain": None,
            "owner": None,
            "description": "Simple test data product",
        },
    ),
    (
        "odps4/product-strategy.odps.yaml",
        ODPS4,
        {
            "slug": "CUST-001",
            "name": "Customer Insights Dataset",
            "lifecycle": Lifecycle.ACTIVE,  # production
            "domain": None,
            "owner": None,
            "description": "Aggregated customer data for segmentation and planning",
        },
    ),
    (
        "datahub/pet-of-the-week.yaml",
        DATAHUB,
        {
            "slug": "pet_of_the_week",
            "name": "Pet of the Week Campaign",
            "lifecycle": None,
            "domain": "Marketing",
            "owner": "jdoe",
            "description": "This campaign includes Pet of the Week data.",
        },
    ),
    (
        "datahub/orders-full.yaml",
        DATAHUB,
        {
            "slug": "orders_insights",
            "name": "Orders insights",
            "lifecycle": Lifecycle.ACTIVE,
            "domain": "marketing",
            "owner": "jdoe",
            "description": "Orders joined with campaigns.",
        },
    ),
]


@pytest.mark.parametrize(("path", "file_format", "expected"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_example_files_read_into_records(path, file_format, expected):
    records, problems = records_read(sources=[source(path)], file_format=file_format)
    assert problems == []
    (record,) = records
    assert record.slug == expected["slug"]
    assert record.fields.get("name") == expected["name"]
    assert record.fields.get("lifecycle") == expected["lifecycle"]
    assert record.fields.get("description") == expected["description"]
    assert record.domain == expected["domain"]
    assert record.owner == expected["owner"]


def test_odps4_example_kpis_without_a_goal_are_skipped_with_why():
    (record,), problems = records_read(sources=[source("odps4/product-strategy.odps.yaml")], file_format=ODPS4)
    assert problems == []
    assert record.kpis == []
    assert len(record.skipped) == 3  # contributesToKPI and two productKPIs
    assert all("meshvalue.goal" in skipped.why for skipped in record.skipped)


def test_datahub_group_owner_is_skipped_and_properties_read():
    (record,), _ = records_read(sources=[source("datahub/orders-full.yaml")], file_format=DATAHUB)
    assert record.fields["launched_on"] == date(2025, 3, 1)
    assert [s.what for s in record.skipped] == ["owners[1]"]


@pytest.mark.parametrize(
    ("file_format", "status", "lifecycle"),
    [
        (BITOL, "proposed", Lifecycle.PROPOSED),
        (BITOL, "draft", Lifecycle.PROPOSED),
        (BITOL, "Active", Lifecycle.ACTIVE),
        (BITOL, "deprecated", Lifecycle.DEPRECATED),
        (BITOL, "retired", Lifecycle.RETIRED),
        (ODPS4, "development", Lifecycle.PROPOSED),
        (ODPS4, "production", Lifecycle.ACTIVE),
        (ODPS4, "sunset", Lifecycle.DEPRECATED),
        (ODPS4, "retired", Lifecycle.RETIRED),
        (DATAHUB, "active", Lifecycle.ACTIVE),
    ],
)
def test_lifecycle_mapping(file_format, status, lifecycle):
    assert lifecycle_from_status(file_format, status) == lifecycle


@pytest.mark.parametrize("file_format", [BITOL, ODPS4])
@pytest.mark.parametrize("lifecycle", Lifecycle.values)
def test_every_lifecycle_exports_to_a_status_that_reads_back(file_format, lifecycle):
    assert lifecycle_from_status(file_format, status_for_lifecycle(file_format, lifecycle)) == lifecycle


def test_an_unknown_status_is_refused_with_the_accepted_list():
    with pytest.raises(UnknownStatus, match="accepted: proposed, draft, active, deprecated, retired"):
        lifecycle_from_status(BITOL, "beta")
    with pytest.raises(UnknownStatus, match="production"):
        lifecycle_from_status(ODPS4, "active")


@pytest.mark.django_db
def test_unknown_status_in_a_file_is_reported_at_its_path_and_nothing_stored():
    text = "apiVersion: v1.0.0\nkind: DataProduct\nid: orders\nstatus: beta\ndomain: sales\n"
    with pytest.raises(ImportFailed) as failed:
        products_import(sources=[text_source("orders.yaml", text)], file_format=BITOL)
    (problem,) = failed.value.result.problems
    assert (problem.file, problem.path) == ("orders.yaml", "status")
    assert "accepted: proposed, draft" in problem.message
    assert not DataProduct.objects.exists()


@pytest.mark.django_db
def test_bitol_examples_import_with_an_owner_mapping():
    john = factories.UserFactory(username="jdoe", email="John.Doe@retailcorp.com")
    default_owner = factories.UserFactory(username="platform")
    factories.DomainFactory(name="Seller", slug="seller")
    factories.DomainFactory(name="Platform", slug="platform")
    result = products_import(
        sources=[source("bitol/customer-data-product.odps.yaml"), source("bitol/simple-data-product.odps.yaml")],
        file_format=BITOL,
        default_owner="platform",
        default_domain="platform",
    )
    assert result.counts == {"created": 2, "updated": 0, "unchanged": 0, "skipped": 0}
    customer = DataProduct.objects.get(slug="fbe8d147-28db-4f1d-bedf-a3fe9f458427")
    assert (customer.owner, customer.domain.slug, customer.lifecycle) == (john, "seller", Lifecycle.PROPOSED)
    simple = DataProduct.objects.get(slug="064c4630-8aad-4dc0-ba95-0f69940e6b18")
    assert (simple.owner, simple.domain.slug, simple.lifecycle) == (default_owner, "platform", Lifecycle.ACTIVE)
    again = products_import(
        sources=[source("bitol/customer-data-product.odps.yaml"), source("bitol/simple-data-product.odps.yaml")],
        file_format=BITOL,
        default_owner="platform",
        default_domain="platform",
    )
    assert again.counts["unchanged"] == 2


@pytest.mark.django_db
def test_datahub_example_imports_and_needs_its_domain():
    factories.UserFactory(username="jdoe")
    with pytest.raises(ImportFailed) as failed:
        products_import(sources=[source("datahub/pet-of-the-week.yaml")], file_format=DATAHUB)
    (problem,) = failed.value.result.problems
    assert problem.path == "domain" and "--create-domains" in problem.message
    assert not DataProduct.objects.exists()
    result = products_import(sources=[source("datahub/pet-of-the-week.yaml")], file_format=DATAHUB, create_domains=True)
    product = DataProduct.objects.get(slug="pet_of_the_week")
    assert (product.name, product.domain.name, product.owner.username) == (
        "Pet of the Week Campaign",
        "Marketing",
        "jdoe",
    )
    assert product.lifecycle == Lifecycle.PROPOSED
    assert result.counts["created"] == 1


@pytest.mark.django_db
def test_an_unknown_owner_is_reported_not_invented():
    factories.DomainFactory(name="Marketing", slug="marketing")
    with pytest.raises(ImportFailed) as failed:
        products_import(sources=[source("datahub/pet-of-the-week.yaml")], file_format=DATAHUB)
    (problem,) = failed.value.result.problems
    assert problem.path == "owner" and "'jdoe'" in problem.message
    assert not DataProduct.objects.exists()
