"""The costs API: revisions through every write path, billing imports, allocation rules, exchange rates, roles."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from apps.costs.imports import cost_import_run
from apps.costs.models import AllocationRule, CostEntry, CostImport, ExchangeRate
from tests.apps.api.conftest import client_for
from tests.factories import DataProductFactory

pytestmark = pytest.mark.django_db

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "focus" / "focus_sample.csv"


def _upload(name: str = "focus_sample.csv", content: bytes | None = None) -> dict:
    body = SAMPLE.read_bytes() if content is None else content
    return {"file": SimpleUploadedFile(name, body, content_type="text/csv")}


def _rule_body(product, **extra) -> dict:
    return {
        "name": "Peoria",
        "tag_key": "business_unit",
        "tag_value": "Peoria*",
        "split": "single",
        "targets": [{"data_product": product.pk}],
        **extra,
    }


@pytest.mark.parametrize("role", ["executive", "product_owner"])
def test_only_governance_leads_and_admins_write_billing_data_and_403_comes_before_400(role, request, tmp_path):
    client = client_for(request.getfixturevalue(role))
    with override_settings(MESHVALUE_COST_IMPORT_DIR=str(tmp_path)):
        # Bad bodies all round: a user who may not write gets 403 whatever else is wrong.
        assert client.post("/api/v1/cost-imports/", {"file": "not a file"}, format="multipart").status_code == 403
    assert client.post("/api/v1/allocation-rules/", {"name": ""}, format="json").status_code == 403
    assert client.post("/api/v1/allocation-rules/preview/", {"rules": "x"}, format="json").status_code == 403
    assert client.post("/api/v1/allocation-rules/reorder/", {}, format="json").status_code == 403
    assert client.post("/api/v1/exchange-rates/", {"currency": "usd!"}, format="json").status_code == 403
    for path in ("/api/v1/cost-imports/", "/api/v1/allocation-rules/", "/api/v1/exchange-rates/"):
        assert client.get(path).status_code == 200
    assert not CostImport.objects.exists() and not AllocationRule.objects.exists()
    assert not ExchangeRate.objects.exists()


def test_anonymous_gets_401():
    assert client_for(None).get("/api/v1/cost-imports/").status_code == 401


def test_governance_lead_bad_input_gets_400_per_field(governance_lead, tmp_path):
    client = client_for(governance_lead)
    with override_settings(MESHVALUE_COST_IMPORT_DIR=str(tmp_path)):
        answer = client.post("/api/v1/cost-imports/", _upload("bill.xlsx", b"x"), format="multipart")
    assert answer.status_code == 400 and "file" in answer.json()
    product = DataProductFactory()
    answer = client.post(
        "/api/v1/allocation-rules/",
        {"name": "x", "split": "fixed", "targets": [{"data_product": product.pk, "weight": "0.5"}]},
        format="json",
    )
    assert answer.status_code == 400
    assert set(answer.json()) == {"tag_key", "targets"}
    answer = client.post(
        "/api/v1/exchange-rates/", {"currency": "USD", "month": "2024-09-02", "rate": "0"}, format="json"
    )
    assert answer.status_code == 400 and {"month", "rate"} <= set(answer.json())


def test_upload_is_queued_with_202_and_the_worker_result_is_readable(
    governance_lead, tmp_path, django_capture_on_commit_callbacks
):
    ExchangeRate.objects.create(currency="USD", month=date(2024, 9, 1), rate=Decimal("0.9"))
    product = DataProductFactory()
    client = client_for(governance_lead)
    assert client.post("/api/v1/allocation-rules/", _rule_body(product), format="json").status_code == 201
    with override_settings(MESHVALUE_COST_IMPORT_DIR=str(tmp_path)):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            answer = client.post("/api/v1/cost-imports/", _upload(), format="multipart")
        assert answer.status_code == 202
        assert len(callbacks) == 1  # dispatched after commit, not before
        body = answer.json()
        assert (body["status"], body["file_name"]) == ("queued", "focus_sample.csv")
        cost_import_run(import_id=body["id"])  # what the worker does
        assert not list(tmp_path.iterdir())  # the uploaded file is gone: raw lines are never kept
    result = client.get(f"/api/v1/cost-imports/{body['id']}/").json()
    assert (result["status"], result["rows_read"], result["progress"]) == ("succeeded", 1000, 100)
    assert result["zero_effective_lines"] == 610
    assert [row["name"] for row in result["result"]["allocated"]] == [product.name]
    entry = CostEntry.objects.get(data_product=product)
    assert entry.amount == Decimal("14.40")  # 16.00 USD x 0.9
    assert client.get(f"/api/v1/costs/?cost_import={body['id']}").json()["count"] == 1

    # Preview with other rules writes nothing; reorder and reapply work on the stored import.
    preview = client.post(
        "/api/v1/allocation-rules/preview/",
        {"rules": [_rule_body(product, tag_key="env", tag_value="*")]},
        format="json",
    )
    assert preview.status_code == 200
    previewed = {(row["category"], Decimal(row["amount"])) for row in preview.json()["allocated"]}
    assert previewed and ("infrastructure", entry.amount) not in previewed
    assert CostEntry.objects.count() == 1
    second = client.post(
        "/api/v1/allocation-rules/",
        _rule_body(product, name="Azure", tag_key="env", tag_value="*"),
        format="json",
    ).json()
    first_id = AllocationRule.objects.get(name="Peoria").pk
    assert (
        client.post("/api/v1/allocation-rules/reorder/", {"rules": [second["id"], first_id]}, format="json").status_code
        == 200
    )
    assert client.post(f"/api/v1/cost-imports/{body['id']}/reapply/").status_code == 200
    # "Azure" now comes first; the PeoriaData lines have no env tag, so they still reach "Peoria".
    # Each billing account is its own key: the AWS figure is unchanged, the Azure one is new.
    current = CostEntry.objects.filter(data_product=product, is_current=True, category="infrastructure")
    assert {e.source_key.split(":")[1][:5]: e.amount for e in current} == {
        "12345": Decimal("14.40"),
        "/prov": dict(previewed)["infrastructure"],
    }
    assert current.get(amount=Decimal("14.40")).pk == entry.pk


def test_put_and_patch_of_a_cost_are_revisions_not_overwrites(product_owner):
    product = DataProductFactory(owner=product_owner)
    client = client_for(product_owner)
    created = client.post(
        "/api/v1/costs/", {"data_product": product.pk, "period_start": "2026-01-01", "amount": "10.00"}, format="json"
    ).json()
    # The same key again is a revision, not a 400 from a unique validator.
    again = client.post(
        "/api/v1/costs/", {"data_product": product.pk, "period_start": "2026-01-01", "amount": "11.00"}, format="json"
    )
    assert again.status_code == 201 and again.json()["revision"] == 2
    patched = client.patch(f"/api/v1/costs/{again.json()['id']}/", {"amount": "12.00"}, format="json")
    assert patched.status_code == 200
    assert (patched.json()["revision"], patched.json()["is_current"], patched.json()["source"]) == (3, True, "api")
    put = client.put(
        f"/api/v1/costs/{patched.json()['id']}/",
        {"data_product": product.pk, "period_start": "2026-01-01", "amount": "13.00", "category": "other"},
        format="json",
    )
    assert put.status_code == 200 and put.json()["revision"] == 4
    assert [e["amount"] for e in client.get("/api/v1/costs/").json()["results"]] == ["13.00"]
    history = client.get("/api/v1/costs/?is_current=false").json()["results"]
    assert sorted(e["amount"] for e in history) == ["10.00", "11.00", "12.00"]
    # A superseded revision cannot be edited.
    stale = client.patch(f"/api/v1/costs/{created['id']}/", {"amount": "1.00"}, format="json")
    assert stale.status_code == 400
    bulk = client.post(
        "/api/v1/costs/bulk/",
        [{"data_product": product.pk, "period_start": "2026-01-01", "amount": "13.00", "category": "other"}],
        format="json",
    )
    assert bulk.status_code == 201 and bulk.json()["ids"] == [put.json()["id"]]  # same figure: nothing changes
    assert (bulk.json()["stored"], bulk.json()["unchanged"]) == (0, 1)
