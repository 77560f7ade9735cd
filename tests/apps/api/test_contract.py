"""The API as a contract (DESIGN.md, "Interfaces" v2): what the schema says is what the server does.

JSON bodies only for JSON writes and multipart only for imports; every parameter constraint the
server enforces is declared, and what it would have ignored is refused; filters, ordering and
format only on reads; errors are JSON whatever was asked for, unknown /api/ paths included.
"""

from __future__ import annotations

import secrets

import pytest
from django.test import Client
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from apps.core.api.pagination import ApiPagination

JSON = "application/json"


@pytest.fixture
def schema(as_executive) -> dict:
    return as_executive.get("/api/schema/?format=json").json()


def _operations(schema: dict):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


def test_json_writes_declare_json_only_and_imports_multipart_only(schema):
    bodies = {
        (path, method): list(op["requestBody"]["content"])
        for path, method, op in _operations(schema)
        if "requestBody" in op
    }
    assert bodies, "writes have bodies"
    for (path, method), content_types in bodies.items():
        # The imports, and the billing-file upload that starts a cost import.
        takes_a_file = path.endswith("/import/") or path == "/api/v1/cost-imports/"
        expected = ["multipart/form-data"] if takes_a_file else [JSON]
        assert content_types == expected, (method, path)


def test_filters_ordering_and_format_appear_only_on_reads(schema):
    for path, method, operation in _operations(schema):
        names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        if method != "get":
            # A bulk write or import takes one parameter of its own: `echo=rows` asks for the rows back.
            # `POST usage/` is the usage's bulk write (usage has no single-record POST).
            bulk_write = path.endswith(("/bulk/", "/import/")) or (path, method) == ("/api/v1/usage/", "post")
            answers_a_summary = bulk_write and not path.startswith("/api/v1/data-products/")
            assert names == ({"echo"} if answers_a_summary and names else set()), (method, path, names)
    bulk = schema["paths"]["/api/v1/measurements/bulk/"]["post"]
    assert [(p["name"], p["schema"]) for p in bulk["parameters"]] == [("echo", {"type": "string", "enum": ["rows"]})]
    listing = {p["name"] for p in schema["paths"]["/api/v1/measurements/"]["get"]["parameters"]}
    assert {"kpi", "ordering", "format", "page", "page_size"} <= listing


def test_every_query_parameter_declares_what_the_server_enforces(schema):
    parameters = {
        (path, p["name"]): p["schema"]
        for path, method, op in _operations(schema)
        for p in op.get("parameters", [])
        if p["in"] == "query"
    }
    assert parameters[("/api/v1/alerts/", "page")] == {"type": "integer", "minimum": 1}
    assert parameters[("/api/v1/alerts/", "page_size")] == {
        "type": "integer",
        "minimum": 1,
        "maximum": ApiPagination.max_page_size,
    }
    assert parameters[("/api/v1/alerts/", "data_product")]["minimum"] == 1
    assert parameters[("/api/v1/decisions/", "alert")].get("nullable") is None
    as_of = parameters[("/api/v1/evaluations/", "as_of")]
    assert as_of["format"] == "date" and as_of["pattern"].startswith("^(19")
    assert parameters[("/api/v1/portfolio/summary/", "as_of")]["pattern"] == as_of["pattern"]
    for (path, name), declared in parameters.items():
        if declared.get("type") == "string":
            assert declared.get("enum") or declared.get("pattern") or declared.get("minLength") == 1, (path, name)
        if "enum" in declared:
            assert declared["enum"] and "" not in declared["enum"], (path, name)


def test_the_webhook_create_answer_declares_its_secret(schema):
    answer = schema["paths"]["/api/v1/webhooks/"]["post"]["responses"]["201"]["content"][JSON]["schema"]
    component = schema["components"]["schemas"][answer["$ref"].rsplit("/", 1)[-1]]
    assert "secret" in component["properties"]


@pytest.mark.parametrize(
    "query",
    [
        "format=",
        "format=xml",
        "page_size=null",
        "page_size=0",
        "page_size=501",
        "page_size=abc",
        "kind=",
        "kind=nonsense",
        "status=open&status=resolved",
        "data_product=",
        "data_product=0",
        "data_product=abc",
        "ordering=nonsense",
        "ordering=",
    ],
)
def test_invalid_query_values_are_refused_with_json(as_admin, world, query):
    response = as_admin.get(f"/api/v1/alerts/?{query}")
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == JSON
    assert response.json()


@pytest.mark.parametrize("query", ["is_current=maybe", "is_current=", "period_start=1899-12-01", "period_start=20x6"])
def test_invalid_filter_values_are_refused(as_admin, world, query):
    response = as_admin.get(f"/api/v1/measurements/?{query}")
    assert response.status_code == 400, response.content


@pytest.mark.parametrize(
    "query", ["page_size=500", "page=1&page_size=1", "ordering=-opened_on,id", "kind=invest&status=open", "format=json"]
)
def test_valid_query_values_are_accepted(as_admin, world, query):
    assert as_admin.get(f"/api/v1/alerts/?{query}").status_code == 200


def test_a_csv_list_still_refuses_bad_paging(as_admin, world):
    assert as_admin.get("/api/v1/alerts/?format=csv&page_size=9999").status_code == 400
    ok = as_admin.get("/api/v1/alerts/?format=csv&page_size=10")
    assert ok.status_code == 200 and ok["Content-Type"].startswith("text/csv")


def test_errors_are_json_even_when_csv_is_asked_for(as_admin, as_executive, world):
    missing = as_admin.get("/api/v1/kpis/999999/?format=csv")
    assert missing.status_code == 404 and missing["Content-Type"] == JSON
    assert "detail" in missing.json()
    refused = as_executive.post("/api/v1/measurements/bulk/?format=csv", [], format="json")
    assert refused.status_code in (400, 403) and refused["Content-Type"] == JSON
    bad = as_admin.get("/api/v1/alerts/?format=csv&kind=nonsense")
    assert bad.status_code == 400 and bad["Content-Type"] == JSON
    anonymous = Client().get("/api/v1/kpis/?format=csv")
    assert anonymous.status_code == 401 and anonymous["Content-Type"] == JSON


@pytest.mark.parametrize("path", ["/api/v1/nothing-here/", "/api/v1/kpis/1.5/", "/api/nothing", "/api/v2/kpis/"])
def test_unknown_api_paths_answer_json_404(as_admin, path):
    response = as_admin.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == JSON
    assert "detail" in response.json()


def test_unknown_paths_outside_the_api_keep_the_html_page(client, db):
    response = client.get("/nothing-here/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_json_writes_refuse_form_and_multipart_bodies(as_admin, world):
    form = as_admin.post("/api/v1/domains/", {"name": "Finance", "slug": "finance"})  # multipart by default
    assert form.status_code == 415 and form["Content-Type"] == JSON
    encoded = as_admin.post(
        "/api/v1/domains/", "name=Finance&slug=finance", content_type="application/x-www-form-urlencoded"
    )
    assert encoded.status_code == 415


def test_imports_refuse_a_json_body(as_owner, world):
    response = as_owner.post("/api/v1/measurements/import/", {"file": "kpi,period_start,value"}, format="json")
    assert response.status_code == 415


@pytest.mark.parametrize(
    "body",
    [
        {"name": 5, "slug": "five"},
        {"name": "Five", "slug": 5},
        {"name": "Five", "slug": "five", "description": ["x"]},
        {"name": "Five", "slug": "five", "owner": "1"},
        {"name": "Five", "slug": "five", "owner": True},
    ],
)
def test_json_values_of_the_wrong_type_are_refused(as_admin, world, body):
    response = as_admin.post("/api/v1/domains/", body, format="json")
    assert response.status_code == 400, response.content
    wrong = next(name for name, value in body.items() if not isinstance(value, str) or name == "owner")
    assert wrong in response.json()


def test_decimals_may_be_strings_or_numbers(as_admin, world):
    for amount in ("12.50", 12.5, 12):
        response = as_admin.post(
            "/api/v1/costs/",
            {
                "data_product": world.own_product.pk,
                "period_start": "2025-06-01",
                "amount": amount,
                "external_id": f"x{amount}",
            },
            format="json",
        )
        assert response.status_code == 201, response.content
    assert (
        as_admin.post(
            "/api/v1/costs/",
            {"data_product": world.own_product.pk, "period_start": "2025-07-01", "amount": True},
            format="json",
        ).status_code
        == 400
    )


def test_the_token_throttle_ignores_a_made_up_forwarded_for(db, monkeypatch):
    # A client address of its own, so that no earlier count in the shared cache is in the way
    # (the cache is not cleared: on Redis that would flush the broker's database too).
    api_client = APIClient(REMOTE_ADDR=f"198.18.{secrets.randbelow(256)}.{secrets.randbelow(256)}")
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"token": "3/minute"})
    statuses = [
        api_client.post(
            "/api/v1/auth/token/",
            {"username": f"nobody-{n}", "password": "x"},
            format="json",
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
        ).status_code
        for n in range(5)
    ]
    assert statuses == [400, 400, 400, 429, 429]
