"""A client generated from the live schema by openapi-python-client works as generated.

The schema is the contract for generated clients (DESIGN.md, "Interfaces"): the generated package
must import (no `NameError: Unset`), and a product owner's writes must go through it against a
running server with token auth: a KPI with attributions, bulk outcomes, bulk costs, and a CSV
import of outcomes (multipart).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from rest_framework.authtoken.models import Token

from apps.costs.models import CostEntry
from apps.kpis.models import KPI, Attribution, Measurement, MeasurementSource
from tests import factories

pytestmark = [pytest.mark.django_db(transaction=True)]

GENERATOR = Path(sys.executable).with_name("openapi-python-client")

# Runs in its own interpreter with only the generated package on its path, as a client would.
CLIENT_SCRIPT = textwrap.dedent(
    """
    import datetime, io, json, sys

    from meshvalue_api_client import AuthenticatedClient
    from meshvalue_api_client.api.v1 import (
        v1_costs_bulk_create,
        v1_kpis_create,
        v1_measurements_bulk_create,
        v1_measurements_import_create,
    )
    from meshvalue_api_client.models import (
        AttributionRequest,
        CostRowRequest,
        CsvUploadRequest,
        KPIRequest,
        MeasurementRowRequest,
    )
    from meshvalue_api_client.types import File

    args = json.loads(sys.argv[1])
    client = AuthenticatedClient(base_url=args["base_url"], token=args["token"], prefix="Token")
    answers = {}

    kpi = v1_kpis_create.sync_detailed(
        client=client,
        body=KPIRequest(
            goal=args["goal"],
            name="Orders per month",
            unit="orders",
            baseline="100",
            target="150",
            value_per_unit="10.00",
            attributions=[AttributionRequest(data_product=args["product"], weight="0.6")],
        ),
    )
    answers["kpi"] = [kpi.status_code, kpi.parsed.id if kpi.status_code == 201 else kpi.content.decode()]
    kpi_id = kpi.parsed.id

    bulk = v1_measurements_bulk_create.sync_detailed(
        client=client,
        body=[
            MeasurementRowRequest(kpi=kpi_id, period_start=datetime.date(2026, 1, 1), value="110"),
            MeasurementRowRequest(kpi=kpi_id, period_start=datetime.date(2026, 2, 1), value=120),
        ],
    )
    answers["measurements_bulk"] = [bulk.status_code, bulk.content.decode()]

    costs = v1_costs_bulk_create.sync_detailed(
        client=client,
        body=[
            CostRowRequest(data_product=args["product"], period_start=datetime.date(2026, 1, 1), amount="400.00"),
            CostRowRequest(data_product=args["product"], period_start=datetime.date(2026, 2, 1), amount=450),
        ],
    )
    answers["costs_bulk"] = [costs.status_code, costs.content.decode()]

    csv_file = f"kpi,period_start,value,note\\n{kpi_id},2026-03-01,130,from the generated client\\n".encode()
    upload = v1_measurements_import_create.sync_detailed(
        client=client,
        body=CsvUploadRequest(file=File(payload=io.BytesIO(csv_file), file_name="outcomes.csv", mime_type="text/csv")),
    )
    answers["measurements_import"] = [upload.status_code, upload.content.decode()]
    print(json.dumps(answers))
    """
)


def _schema() -> dict:
    """The schema exactly as /api/schema/ serves it (same generator, same settings)."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


@pytest.fixture(scope="module")
def generated_client(tmp_path_factory, django_db_blocker) -> Path:
    """The package openapi-python-client generates from the schema (generated once for this module)."""
    if not GENERATOR.exists():
        pytest.fail(f"{GENERATOR} is missing: install requirements-dev.txt")
    directory = tmp_path_factory.mktemp("generated-client")
    with django_db_blocker.unblock():
        (directory / "schema.json").write_text(json.dumps(_schema()))
    # No post hooks: the package is used as generated, not as a formatter would leave it.
    # The export answers a zip: the generator reads unknown binary types as octet streams when told.
    (directory / "generator.yaml").write_text(
        "post_hooks: []\ncontent_type_overrides:\n  application/zip: application/octet-stream\n"
    )
    result = subprocess.run(
        [str(GENERATOR), "generate", "--path", "schema.json", "--meta", "none", "--config", "generator.yaml"],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # The generator warns about every part of a schema it cannot turn into code.
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    assert (directory / "meshvalue_api_client").is_dir()
    return directory


def test_the_client_is_generated_from_the_schema_the_server_serves(generated_client, live_server, admin_user):
    token, _ = Token.objects.get_or_create(user=admin_user)
    served = requests.get(
        f"{live_server.url}/api/schema/?format=json", headers={"Authorization": f"Token {token.key}"}, timeout=30
    )
    assert served.status_code == 200, served.text
    assert served.json() == json.loads((generated_client / "schema.json").read_text())


def _run_in_client(client_dir: Path, script: str, *args: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(client_dir)}
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=client_dir,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_module_of_the_generated_client_imports(generated_client):
    script = textwrap.dedent(
        """
        import importlib, pkgutil
        import meshvalue_api_client.api.v1 as operations
        import meshvalue_api_client.models  # noqa: F401
        names = [module.name for module in pkgutil.iter_modules(operations.__path__)]
        for name in names:
            importlib.import_module(f"meshvalue_api_client.api.v1.{name}")
        print(len(names))
        """
    )
    result = _run_in_client(generated_client, script)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) > 50


def test_generated_write_operations_send_json_and_imports_send_multipart(generated_client):
    operations = generated_client / "meshvalue_api_client" / "api" / "v1"
    for name in ("v1_kpis_create", "v1_measurements_bulk_create", "v1_costs_bulk_create", "v1_webhooks_create"):
        source = (operations / f"{name}.py").read_text()
        assert '_kwargs["json"]' in source, name
        assert "multipart" not in source and '_kwargs["data"]' not in source, name
    for name in ("v1_measurements_import_create", "v1_costs_import_create"):
        source = (operations / f"{name}.py").read_text()
        assert '_kwargs["files"]' in source and '_kwargs["json"]' not in source, name


def test_webhook_create_answer_declares_its_secret(generated_client):
    model = (generated_client / "meshvalue_api_client" / "models" / "webhook_subscription_created.py").read_text()
    assert "secret: str" in model


def test_a_product_owner_writes_through_the_generated_client(generated_client, live_server, product_owner):
    goal = factories.BusinessGoalFactory()
    product = factories.DataProductFactory(owner=product_owner)
    token, _ = Token.objects.get_or_create(user=product_owner)
    arguments = {"base_url": live_server.url, "token": token.key, "goal": goal.pk, "product": product.pk}

    result = _run_in_client(generated_client, CLIENT_SCRIPT, json.dumps(arguments))

    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout)
    assert {name: answer[0] for name, answer in answers.items()} == {
        "kpi": 201,
        "measurements_bulk": 201,
        "costs_bulk": 201,
        "measurements_import": 201,
    }, answers
    kpi = KPI.objects.get(pk=answers["kpi"][1])
    assert list(Attribution.objects.filter(kpi=kpi).values_list("data_product_id", "weight")) == [
        (product.pk, Decimal("0.6"))
    ]
    outcomes = Measurement.objects.filter(kpi=kpi, is_current=True).order_by("period_start")
    assert [(m.period_start, m.value, m.source) for m in outcomes] == [
        (date(2026, 1, 1), Decimal("110"), MeasurementSource.API),
        (date(2026, 2, 1), Decimal("120"), MeasurementSource.API),
        (date(2026, 3, 1), Decimal("130"), MeasurementSource.CSV),
    ]
    costs = CostEntry.objects.filter(data_product=product).order_by("period_start")
    assert [(c.period_start, c.amount) for c in costs] == [
        (date(2026, 1, 1), Decimal("400.00")),
        (date(2026, 2, 1), Decimal("450.00")),
    ]
