"""Bitol Open Data Product Standard v1 (`apiVersion`, `kind: DataProduct`, `id`, `status`, `domain`, `team`).

Read: `id` is the product's slug; `name`; `description.purpose`; `domain` (a domain's name or
slug); `status` (see `apps.interchange.lifecycle`); the owner is the `team.members` entry whose
`role` is `owner` (or the only member), matched by `username` (a username or an e-mail).
meshvalue's own fields are `customProperties` named `meshvalue.<field>`: `launchedOn`,
`sunsetOn`, `goals` (goal slugs), `kpis` (a list of KPI mappings with their attribution),
and, written by exports only, `evaluation`. Ports, support channels and tags are not stored.
"""

from __future__ import annotations

from typing import Any

from apps.interchange.files import Skipped
from apps.interchange.lifecycle import BITOL, status_for_lifecycle
from apps.interchange.records import PREFIX, ProductRecord, Reader, custom_properties, decimal_text
from apps.interchange.selectors import EvaluationExport, KpiExport, ProductExport

API_VERSION = "v1.0.0"
# `meshvalue.` properties an export writes for people to read; an import leaves them alone.
EXPORT_ONLY = frozenset({"evaluation"})
KNOWN = frozenset({"launchedOn", "sunsetOn", "goals", "kpis"}) | EXPORT_ONLY


def parse(document: dict[str, Any], reader: Reader) -> ProductRecord | None:
    slug = reader.slug(document.get("id"), "id")
    if slug is None:
        return None
    record = ProductRecord(file=reader.file, slug=slug)
    if document.get("name") is not None:
        record.fields["name"] = reader.text(document["name"], "name", max_length=200)
    description = document.get("description")
    if isinstance(description, dict) and description.get("purpose") is not None:
        record.fields["description"] = reader.text(description["purpose"], "description.purpose")
    record.fields["lifecycle"] = reader.lifecycle(BITOL, document.get("status"), "status")
    record.domain = reader.text(document.get("domain"), "domain")
    record.owner = _owner(document.get("team"), reader)
    properties = custom_properties(document.get("customProperties"))
    for name, (index, value) in properties.items():
        path = f"customProperties[{index}].value"
        if name in ("launchedOn", "sunsetOn"):
            record.fields["launched_on" if name == "launchedOn" else "sunset_on"] = reader.day(value, path)
        elif name == "goals":
            record.goals = reader.slugs(value, path)
        elif name == "kpis":
            record.kpis = _kpis(value, path, reader)
        elif name not in KNOWN:
            record.skipped.append(Skipped(reader.file, f"{PREFIX}{name}", "not a field meshvalue reads"))
    return record


def _owner(team: Any, reader: Reader) -> str | None:
    members = team.get("members") if isinstance(team, dict) else None
    if not members:
        return None
    owners = [
        (index, member)
        for index, member in enumerate(members)
        if str(member.get("role", "")).strip().lower() == "owner" and not member.get("dateOut")
    ]
    if not owners and len(members) == 1:
        owners = [(0, members[0])]
    if not owners:
        reader.problem("team.members", "No member has the role owner: name the product's owner with role: owner.")
        return None
    index, owner = owners[0]
    return reader.text(owner.get("username"), f"team.members[{index}].username")


def _kpis(value: Any, path: str, reader: Reader) -> list | None:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        reader.problem(path, "Give a list of KPIs (mappings with goal, name, unit, target, ...).")
        return None
    kpis = [reader.kpi(item, f"{path}[{index}]", default_goal=None) for index, item in enumerate(value)]
    return [kpi for kpi in kpis if kpi is not None]


def render(product: ProductExport) -> dict[str, Any]:
    """The Bitol ODPS v1 document of one product (validates against the v1.0.0 schema)."""
    document: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "kind": "DataProduct",
        "id": product.slug,
        "name": product.name,
        "status": status_for_lifecycle(BITOL, product.lifecycle),
        "domain": product.domain_slug,
        "description": {"purpose": product.description},
        "team": {
            "name": product.domain_name,
            "members": [
                {
                    "username": product.owner_username,
                    **({"name": product.owner_name} if product.owner_name else {}),
                    "role": "owner",
                }
            ],
        },
    }
    properties: list[dict[str, Any]] = []
    for name, value in meshvalue_fields(product).items():
        properties.append({"property": f"{PREFIX}{name}", "value": value})
    document["customProperties"] = properties
    return document


def meshvalue_fields(product: ProductExport) -> dict[str, Any]:
    """meshvalue's own fields of a product, by their camelCase name (shared with the ODPS 4 export)."""
    fields: dict[str, Any] = {}
    if product.launched_on:
        fields["launchedOn"] = product.launched_on.isoformat()
    if product.sunset_on:
        fields["sunsetOn"] = product.sunset_on.isoformat()
    fields["goals"] = list(product.goals)
    fields["kpis"] = [kpi_fields(kpi) for kpi in product.kpis]
    if product.evaluation is not None:
        fields["evaluation"] = evaluation_fields(product.evaluation)
    return fields


def kpi_fields(kpi: KpiExport) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "goal": kpi.goal,
        "name": kpi.name,
        "unit": kpi.unit,
        "direction": kpi.direction,
        "cadence": kpi.cadence,
        "baseline": decimal_text(kpi.baseline),
        "target": decimal_text(kpi.target),
        "valuePerUnit": decimal_text(kpi.value_per_unit),
        "weight": decimal_text(kpi.weight),
    }
    if kpi.description:
        fields["description"] = kpi.description
    if kpi.target_date:
        fields["targetDate"] = kpi.target_date.isoformat()
    if kpi.starts_on:
        fields["startsOn"] = kpi.starts_on.isoformat()
    if kpi.attribution_baseline is not None:
        fields["attributionBaseline"] = decimal_text(kpi.attribution_baseline)
    return fields


def evaluation_fields(evaluation: EvaluationExport) -> dict[str, Any]:
    return {
        "asOf": evaluation.as_of.isoformat(),
        "recommendation": evaluation.recommendation,
        "value": decimal_text(evaluation.value),
        "cost": decimal_text(evaluation.cost),
        "ratio": decimal_text(evaluation.ratio),
        "net": decimal_text(evaluation.net),
        "recentValue": decimal_text(evaluation.recent_value),
        "recentCost": decimal_text(evaluation.recent_cost),
        "recentRatio": decimal_text(evaluation.recent_ratio),
    }
