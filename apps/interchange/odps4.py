"""ODPS 4.x (opendataproducts.org): `product.details.en` and `product.productStrategy`.

Read: `details.en.productID` is the product's slug; `name`; `description`; `status` (see
`apps.interchange.lifecycle`: `production` is active, `sunset` deprecated). meshvalue's own
fields are keys named `meshvalue.<field>` on `product`: `domain` (else
`dataHolder.en.businessDomain`), `owner` (a username or e-mail; else `dataHolder.en.email`),
`goal` (the goal the file's KPIs belong to), `goals`, `launchedOn`, `sunsetOn`, and, written by
exports only, `evaluation`. Each item of `productStrategy.productKPIs`, and
`productStrategy.contributesToKPI`, becomes a KPI of the goal with an attribution to the product:
`name`, `unit`, `target`, `direction` (`at_least` is increase, `at_most` decrease), `frequency`
(the cadence), `description`, and `meshvalue.goal`, `meshvalue.baseline`, `meshvalue.valuePerUnit`,
`meshvalue.targetDate`, `meshvalue.weight`, `meshvalue.startsOn`, `meshvalue.attributionBaseline`.
A KPI with no goal (neither its own `meshvalue.goal` nor the product's) is skipped, and said so.
"""

from __future__ import annotations

from typing import Any

from django.utils.text import slugify

from apps.interchange.bitol import evaluation_fields
from apps.interchange.files import Skipped
from apps.interchange.lifecycle import ODPS4, status_for_lifecycle
from apps.interchange.records import PREFIX, KpiRecord, ProductRecord, Reader, decimal_text
from apps.interchange.selectors import ProductExport

SCHEMA_URL = "https://opendataproducts.org/v4.1/schema/odps.yaml"
VERSION = 4.1
EXPORT_ONLY = frozenset({"evaluation"})
KNOWN = frozenset({"domain", "owner", "goal", "goals", "launchedOn", "sunsetOn"}) | EXPORT_ONLY
KPI_EXTRA = ("goal", "baseline", "valuePerUnit", "targetDate", "weight", "startsOn", "attributionBaseline")


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def parse(document: dict[str, Any], reader: Reader) -> ProductRecord | None:
    product = _mapping(document.get("product"))
    details = _mapping(_mapping(product.get("details")).get("en"))
    if not details:
        reader.problem("product.details.en", "meshvalue reads the English details (product.details.en).")
        return None
    base = "product.details.en"
    slug = reader.slug(details.get("productID"), f"{base}.productID")
    if slug is None:
        return None
    record = ProductRecord(file=reader.file, slug=slug)
    record.fields["name"] = reader.text(details.get("name"), f"{base}.name", max_length=200)
    if details.get("description") is not None:
        record.fields["description"] = reader.text(details["description"], f"{base}.description")
    record.fields["lifecycle"] = reader.lifecycle(ODPS4, details.get("status"), f"{base}.status")
    own = {key[len(PREFIX) :]: value for key, value in product.items() if key.startswith(PREFIX)}
    holder = _mapping(_mapping(product.get("dataHolder")).get("en"))
    record.domain = reader.text(own.get("domain", holder.get("businessDomain")), "product.meshvalue.domain")
    record.owner = reader.text(own.get("owner", holder.get("email")), "product.meshvalue.owner")
    for name, value in own.items():
        path = f"product.{PREFIX}{name}"
        if name in ("launchedOn", "sunsetOn"):
            record.fields["launched_on" if name == "launchedOn" else "sunset_on"] = reader.day(value, path)
        elif name == "goals":
            record.goals = reader.slugs(value, path)
        elif name not in KNOWN:
            record.skipped.append(Skipped(reader.file, path, "not a field meshvalue reads"))
    goal = reader.text(own.get("goal"), f"product.{PREFIX}goal", max_length=200) or None
    strategy = _mapping(product.get("productStrategy"))
    items: list[tuple[str, dict[str, Any]]] = []
    if isinstance(strategy.get("contributesToKPI"), dict):
        items.append(("product.productStrategy.contributesToKPI", strategy["contributesToKPI"]))
    for index, item in enumerate(strategy.get("productKPIs") or []):
        if isinstance(item, dict):
            items.append((f"product.productStrategy.productKPIs[{index}]", item))
    if items:
        record.kpis = []
        for path, item in items:
            kpi = _kpi(item, path, goal, reader, record)
            if kpi is not None:
                record.kpis.append(kpi)
    return record


def _kpi(item: dict[str, Any], path: str, goal: str | None, reader: Reader, record: ProductRecord) -> KpiRecord | None:
    values = {
        "name": item.get("name"),
        "unit": item.get("unit"),
        "target": item.get("target"),
        "direction": item.get("direction"),
        "cadence": item.get("frequency"),
        "description": item.get("description"),
        **{key: item.get(f"{PREFIX}{key}") for key in KPI_EXTRA},
    }
    if not (values["goal"] or goal):
        record.skipped.append(
            Skipped(
                reader.file,
                f"{path} ({item.get('name')})",
                f"no goal named: add {PREFIX}goal (a goal's slug) to the product or to the KPI to import it",
            )
        )
        return None
    return reader.kpi(values, path, default_goal=goal)


def render(product: ProductExport) -> dict[str, Any]:
    """The ODPS 4.1 document of one product (validates against the 4.1 schema)."""
    value_proposition = product.description.strip().splitlines()[0] if product.description.strip() else product.name
    kpis = []
    for kpi in product.kpis:
        item: dict[str, Any] = {
            "id": slugify(f"{kpi.goal}-{kpi.name}"),
            "name": kpi.name,
            "unit": kpi.unit,
            "target": decimal_text(kpi.target),
            "direction": kpi.direction,
            "frequency": kpi.cadence,
        }
        if kpi.description:
            item["description"] = kpi.description
        item[f"{PREFIX}goal"] = kpi.goal
        item[f"{PREFIX}baseline"] = decimal_text(kpi.baseline)
        item[f"{PREFIX}valuePerUnit"] = decimal_text(kpi.value_per_unit)
        item[f"{PREFIX}weight"] = decimal_text(kpi.weight)
        if kpi.target_date:
            item[f"{PREFIX}targetDate"] = kpi.target_date.isoformat()
        if kpi.starts_on:
            item[f"{PREFIX}startsOn"] = kpi.starts_on.isoformat()
        if kpi.attribution_baseline is not None:
            item[f"{PREFIX}attributionBaseline"] = decimal_text(kpi.attribution_baseline)
        kpis.append(item)
    body: dict[str, Any] = {
        "details": {
            "en": {
                "name": product.name,
                "productID": product.slug,
                "valueProposition": value_proposition,
                "description": product.description,
                "visibility": "organisation",
                "status": status_for_lifecycle(ODPS4, product.lifecycle),
                "productVersion": "1.0",
            }
        },
        "productStrategy": {"productKPIs": kpis},
        f"{PREFIX}domain": product.domain_slug,
        f"{PREFIX}owner": product.owner_username,
        f"{PREFIX}goals": list(product.goals),
    }
    if product.launched_on:
        body[f"{PREFIX}launchedOn"] = product.launched_on.isoformat()
    if product.sunset_on:
        body[f"{PREFIX}sunsetOn"] = product.sunset_on.isoformat()
    if product.evaluation is not None:
        body[f"{PREFIX}evaluation"] = evaluation_fields(product.evaluation)
    return {"schema": SCHEMA_URL, "version": VERSION, "product": body}
